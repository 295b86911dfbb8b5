"""Emergency recognition: recall and false alarms per language and per kind, for the patterns of
knowledge/_emergency.yaml alone, the classifier alone, and both (what the bot does).

    .venv/bin/python bench/emergency_bench.py                       # both splits, summary
    .venv/bin/python bench/emergency_bench.py --split dev --misses  # what the dev split misses
    .venv/bin/python bench/emergency_bench.py --tune                # classifier threshold on dev

Data: tests/data/emergency/<lang>.yaml (written blind, see its README), split in halves by a hash
of the text. Tune on dev only; the test split is for the figures. The retrieval questions of
tests/data/eval are also counted as calm messages (questions about the bot's own topics)."""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.config import load_config  # noqa: E402
from bot.core.content import Content  # noqa: E402


@dataclass(frozen=True)
class Item:
    language: str
    text: str
    kind: str | None  # None: calm
    split: str


def split_of(text: str) -> str:
    return "dev" if int(hashlib.sha1(text.encode()).hexdigest(), 16) % 2 == 0 else "test"


def load(folder: Path) -> list[Item]:
    items = []
    for path in sorted(folder.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        language = data["language"]
        items += [Item(language, e["text"], e["kind"], split_of(e["text"])) for e in data.get("emergency", [])]
        items += [Item(language, c["text"], None, split_of(c["text"])) for c in data.get("calm", [])]
    return items


def retrieval_questions(folder: Path) -> list[Item]:
    """The retrieval eval's questions (in-scope and off-topic): none of them is an emergency, except
    perhaps those about the safety entries, which are left out."""
    items = []
    for path in sorted(folder.glob("*.yaml")):
        for row in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            if not str(row.get("entry") or "").startswith("safety/"):
                items.append(Item(str(row["lang"]), str(row["q"]), None, split_of(str(row["q"]))))
    return items


def signals(content: Content, items: list[Item]) -> list[tuple[Item, str | None, float, str | None]]:
    """Per item: the pattern's kind (or None), and the classifier's emergency probability and kind."""
    rules, retriever = content.knowledge.emergency, content.retriever
    out = []
    for item in items:
        found = rules.find(item.text) if rules is not None else []
        evidence = retriever.evidence(item.text)
        score, kind = (evidence.emergency, evidence.emergency_kind) if evidence is not None else (0.0, None)
        out.append((item, found[0].kind if found else None, score, kind))
    return out


def judged(rows, threshold: float, mode: str) -> list[tuple[Item, str | None]]:
    """(item, the kind the bot gives it or None) for one mode: patterns, classifier or both."""
    result = []
    for item, pattern, score, kind in rows:
        by_classifier = kind if score >= threshold else None
        said = {"patterns": pattern, "classifier": by_classifier, "both": pattern or by_classifier}[mode]
        result.append((item, said))
    return result


def rates(pairs: list[tuple[Item, str | None]]) -> tuple[int, int, int, int, int]:
    """(emergencies, recognised, right kind, calm, false alarms)."""
    emergencies = [(i, s) for i, s in pairs if i.kind is not None]
    calm = [(i, s) for i, s in pairs if i.kind is None]
    return (len(emergencies), sum(s is not None for _, s in emergencies), sum(s == i.kind for i, s in emergencies),
            len(calm), sum(s is not None for _, s in calm))


def percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:5.1f}%" if whole else "   - "


def report(rows, threshold: float, split: str, extra_calm) -> None:
    chosen = [row for row in rows if row[0].split == split or split == "all"]
    print(f"\n== split: {split} ({len(chosen)} messages), classifier threshold {threshold} ==")
    print(f"{'':10} {'patterns':>24} {'classifier':>24} {'both (the bot)':>30}")
    print(f"{'language':10} " + " ".join(f"{'recall':>8} {'false al.':>9} {'n':>5}" for _ in range(2)) + f" {'recall':>8} {'kind ok':>8} {'false al.':>9} {'n':>5}")
    by_language = defaultdict(list)
    for row in chosen:
        by_language[row[0].language].append(row)
    for language in sorted(by_language) + ["ALL"]:
        group = chosen if language == "ALL" else by_language[language]
        cells = []
        for mode in ("patterns", "classifier", "both"):
            n, hit, kind_ok, calm, alarms = rates(judged(group, threshold, mode))
            cells.append((n, hit, kind_ok, calm, alarms))
        line = f"{language:10} "
        for n, hit, _, calm, alarms in cells[:2]:
            line += f"{percent(hit, n):>8} {percent(alarms, calm):>9} {n:>2}/{calm:<3}"
        n, hit, kind_ok, calm, alarms = cells[2]
        line += f" {percent(hit, n):>8} {percent(kind_ok, n):>8} {percent(alarms, calm):>9} {n:>2}/{calm:<3}"
        print(line)
    print(f"\n{'kind':16} {'patterns':>8} {'classif.':>8} {'both':>8} {'kind ok':>8} {'n':>4}")
    kinds = sorted({row[0].kind for row in chosen if row[0].kind})
    for kind in kinds:
        group = [row for row in chosen if row[0].kind == kind]
        cells = [rates(judged(group, threshold, mode)) for mode in ("patterns", "classifier", "both")]
        print(f"{kind:16} {percent(cells[0][1], cells[0][0]):>8} {percent(cells[1][1], cells[1][0]):>8} "
              f"{percent(cells[2][1], cells[2][0]):>8} {percent(cells[2][2], cells[2][0]):>8} {cells[2][0]:>4}")
    if extra_calm:
        chosen_calm = [row for row in extra_calm if row[0].split == split or split == "all"]
        for mode in ("patterns", "classifier", "both"):
            _, _, _, calm, alarms = rates(judged(chosen_calm, threshold, mode))
            print(f"retrieval questions (calm), {mode:10}: {percent(alarms, calm)} false alarms of {calm}")


def misses(rows, threshold: float, split: str) -> None:
    print(f"\n== misses and false alarms on {split} (both signals) ==")
    for item, pattern, score, kind in rows:
        if item.split != split:
            continue
        said = pattern or (kind if score >= threshold else None)
        if item.kind is not None and said is None:
            print(f"MISS  {item.language} {item.kind:15} p={score:.2f} ({kind}) {item.text}")
        elif item.kind is not None and said != item.kind:
            print(f"KIND  {item.language} {item.kind:15} got {said:15} {item.text}")
        elif item.kind is None and said is not None:
            print(f"ALARM {item.language} {said:15} p={score:.2f} pattern={pattern} {item.text}")


def tune(rows, extra) -> None:
    print("\n== classifier threshold on dev: recall (both) and false alarms (both) ==")
    dev = [row for row in rows if row[0].split == "dev"]
    dev_extra = [row for row in extra if row[0].split == "dev"]
    for threshold in (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.01):
        n, hit, kind_ok, calm, alarms = rates(judged(dev, threshold, "both"))
        worst = max((rates(judged([r for r in dev if r[0].language == lang], threshold, "both")) for lang in {r[0].language for r in dev}),
                    key=lambda r: r[4] / r[3] if r[3] else 0)
        _, _, _, extra_calm, extra_alarms = rates(judged(dev_extra, threshold, "both"))
        print(f"{threshold:5.2f}: recall {percent(hit, n)}, kind {percent(kind_ok, n)}, false alarms {percent(alarms, calm)} "
              f"(worst language {percent(worst[4], worst[3])}), retrieval questions {percent(extra_alarms, extra_calm)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=ROOT / "tests/data/emergency")
    parser.add_argument("--eval", type=Path, default=ROOT / "tests/data/eval", help="retrieval questions, counted as calm")
    parser.add_argument("--split", choices=["dev", "test", "all", "both"], default="both")
    parser.add_argument("--threshold", type=float, default=None, help="classifier threshold (default: the bot's)")
    parser.add_argument("--misses", action="store_true", help="list misses (dev split only: the test split stays unseen)")
    parser.add_argument("--tune", action="store_true")
    args = parser.parse_args()
    config = load_config(ROOT / "config.yaml")
    started = time.perf_counter()
    content = Content.load(config)
    print(f"content loaded in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    threshold = args.threshold if args.threshold is not None else content.retriever.thresholds.emergency
    items = load(args.data)
    started = time.perf_counter()
    rows = signals(content, items)
    extra = signals(content, retrieval_questions(args.eval)) if args.eval.is_dir() else []
    elapsed = time.perf_counter() - started
    print(f"{len(items) + len(extra)} messages in {elapsed:.1f} s ({1000 * elapsed / max(1, len(items) + len(extra)):.1f} ms each, embedding included)",
          file=sys.stderr)
    if args.tune:
        tune(rows, extra)
        return 0
    for split in (("dev", "test") if args.split == "both" else (args.split,)):
        report(rows, threshold, split, extra)
    if args.misses:
        misses(rows, threshold, "dev")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
