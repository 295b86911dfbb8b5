"""Language detection over real sentences: per-language accuracy and the confusion matrix.

    .venv/bin/python bench/langid_bench.py                                   # tests/data/langid (samples)
    .venv/bin/python bench/langid_bench.py --data ../shared/conformance/langid  # the full sets

Only lines of 20+ characters count. For supported languages: the share detected correctly (None
counts as wrong). For other languages (es, pt, pl, ro, ku): the share that would wrongly trigger
an offer to switch (anything but None). Also prints detector build time, time per call and the
process's peak memory.
"""

from __future__ import annotations

import argparse
import collections
import platform
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.language.detection import LanguageDetector  # noqa: E402

SUPPORTED = ["nl", "en", "fr", "ar", "tr", "fa", "ps", "ti", "so", "uk", "ru"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=ROOT / "tests" / "data" / "langid", help="folder of <code>.txt files")
    parser.add_argument("--min-chars", type=int, default=20)
    args = parser.parse_args()

    start = time.perf_counter()
    detector = LanguageDetector(SUPPORTED)
    detector.detect("warm up the models with a sentence in english")
    built = time.perf_counter() - start

    confusion: dict[str, collections.Counter[str | None]] = {}
    calls, elapsed = 0, 0.0
    for path in sorted(args.data.glob("*.txt")):
        lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if len(line.strip()) >= args.min_chars]
        counts: collections.Counter[str | None] = collections.Counter()
        for line in lines:
            t0 = time.perf_counter()
            counts[detector.detect(line)] += 1
            elapsed += time.perf_counter() - t0
            calls += 1
        confusion[path.stem] = counts

    print(f"# {time.strftime('%Y-%m-%d')} {platform.machine()}, Python {platform.python_version()}, data {args.data}, lines >= {args.min_chars} chars")
    print(f"{'lang':<6}{'lines':>6}{'result':>9}  detected as")
    for lang, counts in confusion.items():
        total = sum(counts.values())
        if lang in SUPPORTED:
            result = f"{counts[lang] / total:8.1%}"
        else:
            result = f"{1 - counts[None] / total:7.1%}*"
        top = ", ".join(f"{code or 'none'} {n}" for code, n in counts.most_common(4))
        print(f"{lang:<6}{total:>6}{result:>9}  {top}")
    print("* share of lines in an unsupported language that would trigger a wrong switch offer")

    langs = [lang for lang in SUPPORTED if lang in confusion]
    print("\nconfusion among supported languages (rows: true, columns: detected)")
    print("      " + "".join(f"{code:>5}" for code in [*langs, "none"]))
    for lang in langs:
        row = confusion[lang]
        print(f"{lang:<6}" + "".join(f"{row[code]:>5}" for code in [*langs, None]))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nbuild + first call {built * 1000:.0f} ms; {elapsed / calls * 1000:.3f} ms per call over {calls} lines; peak RSS {peak_mb:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
