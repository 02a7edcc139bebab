"""Shared by the judged-benchmark tests: a task's judge against a local oracle server, and
JudgedSamples built from fixture docs, so that a benchmark's `score` runs exactly as the
judge stage runs it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lmms_eval.judge import JudgeSpec
from lmms_eval.judge.runner import Judge
from lmms_eval.judge.scoring import JudgedSample, JudgedValues, JudgeScoring
from lmms_eval.testing.server import FaultPlan, OracleServer

JUDGE_MODEL = "judge-model"
#: Every request fails (HTTP 500) and the judge does not retry: each call is a failure.
ALWAYS_FAILS = FaultPlan(status=500, every=1, failures=1_000_000)


def judge_server(start_oracle: Any, canned: Mapping[str, str] | None = None, fault: FaultPlan | None = None) -> OracleServer:
    return start_oracle(model_name=JUDGE_MODEL, canned=dict(canned or {}), fault=fault)


def make_judge(server: OracleServer, task: str, scoring: JudgeScoring, store: Any = None) -> Judge:
    spec = JudgeSpec("openai_compatible", {"model": JUDGE_MODEL, "base_url": server.base_url, "max_retries": 0, "num_concurrent": 8})
    return Judge(spec, task, scoring.template, temperature=scoring.temperature, max_tokens=scoring.max_tokens, store=store)


def samples_of(docs: Sequence[dict[str, Any]], answers: Sequence[str], target: str = "answer") -> list[JudgedSample]:
    return [JudgedSample(doc_id, doc, answer, doc.get(target)) for doc_id, (doc, answer) in enumerate(zip(docs, answers))]


def judged(scoring: JudgeScoring, server: OracleServer, task: str, samples: list[JudgedSample]) -> tuple[JudgedValues, Judge]:
    """The values `scoring.score` returns for `samples`, and the judge it asked."""
    judge = make_judge(server, task, scoring)
    try:
        return scoring.score(samples, judge), judge
    finally:
        judge.close()


def judge_prompts(server: OracleServer) -> list[str]:
    """The user texts of the judge requests the server received."""
    texts = []
    for body in server.bodies:
        content = body["messages"][-1]["content"]
        texts.append(content if isinstance(content, str) else "".join(part.get("text", "") for part in content))
    return texts


# --- one CLI run with a judge ----------------------------------------------------------------


@dataclass
class JudgedRun:
    code: int
    results: dict[str, Any] | None  # None when the run wrote no results
    output: Path
    judge: OracleServer  # stopped; its counters and bodies stay readable
    bodies: list[dict[str, Any]]  # the evaluated model's requests

    def samples(self, task: str) -> list[dict[str, Any]]:
        from benchmark_helpers import read_samples

        return read_samples(self.output, task)

    def scores(self, task: str) -> dict[str, Any]:
        assert self.results is not None
        return self.results["results"][task]


def run_judged(
    tmp_path: Path,
    task: str,
    folder: Path,
    model_canned: Mapping[str, str],
    judge_canned: Mapping[str, str],
    *extra: str,
    judge_fault: FaultPlan | None = None,
    output_name: str = "out",
) -> JudgedRun:
    """The CLI with one local oracle server as the evaluated model (`m`) and another as the
    judge (`judge-model`, no retries)."""
    from benchmark_helpers import read_results

    from lmms_eval.cli.main import main

    output = tmp_path / output_name
    judge = OracleServer(model_name=JUDGE_MODEL, canned=dict(judge_canned), fault=judge_fault).start()
    try:
        with OracleServer(canned=dict(model_canned)) as server:
            code = main(
                [
                    "--model", "openai",
                    "--model_args", f"base_url={server.base_url},model=m,retry_base_delay=0.01",
                    "--tasks", task,
                    "--include_path", str(folder),
                    "--output_path", str(output),
                    "--log_samples",
                    "--judge_model", "openai_compatible",
                    "--judge_args", f"base_url={judge.base_url},model={JUDGE_MODEL},max_retries=0,retry_base_delay=0.01",
                    *extra,
                ]
            )  # fmt: skip
            bodies = list(server.bodies)
    finally:
        judge.stop()
    found = list(output.glob("*/*_results.json"))
    return JudgedRun(code, read_results(output) if found else None, output, judge, bodies)
