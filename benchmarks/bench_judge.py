"""Figures for MM-Vet-sized judging (issue 14): 218 samples judged 5 times (--judge_repeats 5)
through the judge stage with MM-Vet's own JudgeScoring (grader prompt, parsing, escalation),
against a local OpenAI-protocol judge that answers each request after 200 ms (target: under
5 s wall), then the same judging again from the response store (target: no judge call).

Run: uv run python benchmarks/bench_judge.py [--samples 218] [--repeats 5] [--latency 0.2] [--concurrency 256]
The judge is the local test server on 127.0.0.1; the store is a temporary file.
"""

from __future__ import annotations

import argparse
import importlib.util
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from lmms_eval.engine.aggregate import Score
from lmms_eval.engine.scoring import SampleResult
from lmms_eval.judge import JudgeSpec
from lmms_eval.judge.stage import JudgedTask, JudgeSetup, judge_task
from lmms_eval.store.sqlite import ResponseStore
from lmms_eval.taskdefs.library import BUILTIN_TASK_DIR
from lmms_eval.testing.server import OracleServer

CAPABILITIES = ("rec", "ocr", "know", "gen", "spat", "math")


def mmvet_code() -> Any:
    path = BUILTIN_TASK_DIR / "mmvet" / "utils.py"
    spec = importlib.util.spec_from_file_location("bench_mmvet_utils", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def docs(samples: int) -> dict[int, dict[str, Any]]:
    return {
        doc: {"question_id": f"v1_{doc}", "question": f"question {doc}", "answer": f"answer {doc}", "capability": CAPABILITIES[doc % 6]}
        for doc in range(samples)
    }


def answered(rows: dict[int, dict[str, Any]]) -> list[SampleResult]:
    return [SampleResult(doc, row["answer"], row["question"], [], filtered={"none": f"prediction {doc}"}, scores={"none": {}}) for doc, row in rows.items()]


def judge_once(mmvet: Any, server: OracleServer, store: ResponseStore, rows: dict[int, dict[str, Any]], repeats: int, concurrency: int) -> tuple[float, JudgedTask]:
    spec = JudgeSpec("openai_compatible", {"model": "bench-judge", "base_url": server.base_url, "num_concurrent": concurrency})
    task = SimpleNamespace(name="mmvet", judge_scoring=mmvet.judge_scoring)

    def aggregate(samples: list[SampleResult]) -> dict[tuple[str, str], Score]:
        items = [sample.scores["none"]["gpt_eval_score"] for sample in samples]
        return {("gpt_eval_score", "none"): Score(mmvet.overall_score(items), None, len(items))}

    started = time.perf_counter()
    judged = judge_task(task, answered(rows), rows, JudgeSetup(spec, store, repeats), aggregate)  # type: ignore[arg-type]
    return time.perf_counter() - started, judged


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=218)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--concurrency", type=int, default=256)
    options = parser.parse_args()
    mmvet, rows = mmvet_code(), docs(options.samples)
    with tempfile.TemporaryDirectory() as folder, OracleServer(latency=options.latency, model_name="bench-judge", canned={"| prediction": "0.5"}, record_bodies=False) as server:
        store = ResponseStore(str(Path(folder) / "judge.db"))
        try:
            live, first = judge_once(mmvet, server, store, rows, options.repeats, options.concurrency)
            sent = server.chat_requests
            cached, second = judge_once(mmvet, server, store, rows, options.repeats, options.concurrency)
        finally:
            store.close()
    spread = first.entry["spread"]["gpt_eval_score,none"]
    print(f"judge questions: {options.samples} samples x {options.repeats} repeats through the judge stage (mmvet's scoring), judge latency {options.latency * 1000:.0f} ms, {options.concurrency} in flight")
    print(f"live judging: {live:.2f} s wall, {first.entry['calls']} calls, {first.entry['failures']} failures (target < 5 s); score {spread['mean']:.1f}, std {spread['std']:.2f} over {options.repeats} repeats")
    print(f"second run:   {cached:.2f} s wall, {second.entry['calls']} calls, {second.entry['from_store']} from the store, {server.chat_requests - sent} requests reached the judge (target 0)")


if __name__ == "__main__":
    main()
