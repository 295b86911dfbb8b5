"""How well Wegwijs takes what women type, on the blind sets in tests/data/eval_blind (written by a helper who
had not seen the rules): form answers (validators), typed button labels, free text that asks for a flow, small talk, short messages in her own language (no offer to switch) and the first
language of the language menu for a short first message.

    .venv/bin/python bench/typing_bench.py            # dev and test split side by side
    .venv/bin/python bench/typing_bench.py --show dev # and the misses of the dev split (never look at test's)

Tune only on dev; test is for measuring."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.config import load_config  # noqa: E402
from bot.core.content import Content  # noqa: E402
from bot.flows.model import validate  # noqa: E402
from bot.flows.intents import wanted_flow  # noqa: E402
from bot.knowledge.retrieval import decide  # noqa: E402
from bot.flows.typed import typed_choice  # noqa: E402


def typed_answer(item: dict, content: Content) -> object:
    value = validate(item["step"], item["text"])
    return int(value) if item["step"] == "number" and value is not None else value


def button(item: dict, content: Content) -> object:
    return typed_choice(item["text"], item["labels"])


def flow_start(item: dict, content: Content) -> object:
    retriever = content.retriever
    evidence = retriever.evidence(item["text"])
    if evidence is None:
        return "none"
    decision = decide(evidence, retriever.thresholds)
    languages = [code for code in (content.detector.detect(item["text"]), item["lang"], "en") if code]
    wanted = wanted_flow(content.intents, content.flows, decision, item["text"], languages)
    if wanted is not None:
        return wanted.id
    return decision.entry[5:] if decision.action == "answer" and decision.entry and decision.entry.startswith("flow:") else "none"


KINDS = {"greeting": "greeting", "thanks": "thanks", "ok": "ok", "bye": "bye", "who": "who-are-you", "how": "how-are-you"}


def smalltalk(item: dict, content: Content) -> object:
    found = content.knowledge.smalltalk.match(item["text"])
    return KINDS[found.kind] if found is not None else "question"


def short_language(item: dict, content: Content) -> object:
    """A message in her chosen language: right unless it brings an offer to switch. A first message: the
    language the language menu shows first."""
    detector = content.detector
    if item["expect"] == "first-script":
        return item["lang"] if (detector.detect(item["text"]) or detector.by_script(item["text"]) or detector.by_known_words(item["text"])) == item["lang"] else "other"
    offered = detector.detect(item["text"], item["lang"])
    return item["lang"] if offered in (None, item["lang"]) else offered


SETS = {"typed_answers": typed_answer, "button_typos": button, "flow_start": flow_start, "smalltalk": smalltalk,
        "short_language": short_language}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=ROOT / "tests" / "data" / "eval_blind")
    parser.add_argument("--show", choices=["dev"], help="print the misses of the dev split")
    args = parser.parse_args()
    content = Content.load(load_config(ROOT / "config.yaml", env={}))
    print(f"{'set':15} {'split':5} {'right':>7} {'of':>4} {'share':>6}  negatives kept out")
    for name, run in SETS.items():
        data = yaml.safe_load((args.data / f"{name}.yaml").read_text(encoding="utf-8"))
        for split in ("dev", "test"):
            items = data[split]
            got = [run(item, content) for item in items]
            expected = [item["lang"] if item["expect"] == "first-script" else item["expect"] for item in items]
            right = sum(1 for want, value in zip(expected, got) if value == want)
            negatives = [(item, value) for item, value in zip(items, got) if item["expect"] in (None, "none", "question")]
            kept = sum(1 for item, value in negatives if value == item["expect"])
            print(f"{name:15} {split:5} {right:7} {len(items):4} {right / len(items):6.1%}  {kept}/{len(negatives)}")
            if args.show == split:
                for item, want, value in zip(items, expected, got):
                    if value != want:
                        print(f"    miss: {item['text']!r} ({item.get('lang', item.get('step'))}) expected {item['expect']!r}, got {value!r}")


if __name__ == "__main__":
    main()
