"""Per-sample logs: one JSON line per evaluated doc."""

from __future__ import annotations

from typing import Any

from lmms_eval.api.response import LoglikelihoodScore, Response
from lmms_eval.engine.scoring import SampleResult
from lmms_eval.evaluator import TaskRun


def sample_rows(task_run: TaskRun, model: str, model_name: str) -> list[dict[str, Any]]:
    """Rows carry what `lmms-eval rescore` needs: task, version, prompt hash, model, raw answers."""
    config = task_run.task.config
    header = {"task": config.task, "task_version": config.version, "task_hash": config.prompt_hash(), "model": model, "model_name": model_name}
    return [{**header, **_row(sample)} for sample in task_run.samples]


def _row(sample: SampleResult) -> dict[str, Any]:
    return {**_answers(sample), **_endpoints(sample)}


def _endpoints(sample: SampleResult) -> dict[str, Any]:
    """Which server answered each response (aligned with `resps`; None: from the store or a
    failure), when the backend spread the run over several; absent otherwise."""
    endpoints = [response.endpoint for response in sample.responses]
    return {"endpoints": endpoints} if any(endpoints) else {}


def _answers(sample: SampleResult) -> dict[str, Any]:
    return {
        "doc_id": sample.doc_id,
        "target": sample.target,
        "prompt": sample.prompt,
        "request_keys": [response.key for response in sample.responses],
        "resps": [_raw(response) for response in sample.responses],
        "filtered_resps": {name: _plain(value) for name, value in sample.filtered.items()},
        "scores": sample.scores,
        "failures": [
            {"index": response.origin.index, "kind": response.failure.kind.value, "message": response.failure.message, "attempts": response.failure.attempts}
            for response in sample.responses
            if response.failure is not None
        ],
    }


def _raw(response: Response) -> Any:
    if response.failure is not None:
        return None
    return _plain(response.value)


def _plain(value: Any) -> Any:
    if isinstance(value, LoglikelihoodScore):
        return [value.logprob, value.is_greedy]
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value
