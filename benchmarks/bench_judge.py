"""Figures for MM-Vet-sized judging (issue 14): 218 samples x 5 repeats asked of a local
OpenAI-protocol judge that answers each request after 200 ms (target: under 5 s wall),
then the same judging again from the response store (target: no judge call).

Run: uv run python benchmarks/bench_judge.py [--samples 218] [--repeats 5] [--latency 0.2] [--concurrency 256]
The judge is the local test server on 127.0.0.1; the store is a temporary file.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from lmms_eval.judge import JudgeSpec
from lmms_eval.judge.runner import Judge, JudgeQuestion
from lmms_eval.store.sqlite import ResponseStore
from lmms_eval.testing.server import OracleServer

TEMPLATE = "Compare the ground truth and prediction and give a correctness score from 0.0 to 1.0.\n{question} | {answer} | {prediction}"


def questions(samples: int, repeats: int) -> list[JudgeQuestion]:
    """One distinct prompt per sample; each repeat is its own stored answer."""
    prompts = [TEMPLATE.format(question=f"question {doc}", answer=f"answer {doc}", prediction=f"prediction {doc}") for doc in range(samples)]
    return [JudgeQuestion(doc, prompt, repeat) for doc, prompt in enumerate(prompts) for repeat in range(repeats)]


def judge_once(server: OracleServer, store: ResponseStore, asked: list[JudgeQuestion], concurrency: int) -> tuple[float, Judge]:
    spec = JudgeSpec("openai_compatible", {"model": "bench-judge", "base_url": server.base_url, "num_concurrent": concurrency})
    judge = Judge(spec, "bench_mmvet", TEMPLATE, max_tokens=8, store=store)
    started = time.perf_counter()
    judge.ask(asked)
    elapsed = time.perf_counter() - started
    judge.close()
    return elapsed, judge


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=218)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--concurrency", type=int, default=256)
    options = parser.parse_args()
    asked = questions(options.samples, options.repeats)
    with tempfile.TemporaryDirectory() as folder, OracleServer(latency=options.latency, model_name="bench-judge", canned={"correctness score": "0.5"}, record_bodies=False) as server:
        store = ResponseStore(str(Path(folder) / "judge.db"))
        try:
            live, first = judge_once(server, store, asked, options.concurrency)
            sent = server.chat_requests
            cached, second = judge_once(server, store, asked, options.concurrency)
        finally:
            store.close()
    print(f"judge questions: {len(asked)} ({options.samples} samples x {options.repeats} repeats), judge latency {options.latency * 1000:.0f} ms, {options.concurrency} in flight")
    print(f"live judging: {live:.2f} s wall, {first.stats.calls} calls, {first.stats.failures} failures (target < 5 s)")
    print(f"second run:   {cached:.2f} s wall, {second.stats.calls} calls, {second.stats.from_store} from the store, {server.chat_requests - sent} requests reached the judge (target 0)")


if __name__ == "__main__":
    main()
