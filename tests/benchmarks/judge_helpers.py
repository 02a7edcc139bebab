"""Shared by the judged-benchmark tests: a task's judge against a local oracle server, and
JudgedSamples built from fixture docs, so that a benchmark's `score` runs exactly as the
judge stage runs it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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
