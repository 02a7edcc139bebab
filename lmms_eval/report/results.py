"""The results JSON, in lmms-eval's layout plus provenance (versions, seeds, hashes)."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from lmms_eval.engine.aggregate import MetricKey, Score
from lmms_eval.engine.inference import TaskResponses
from lmms_eval.evaluator import Evaluation, TaskRun
from lmms_eval.report.cost import throughput_entry
from lmms_eval.store.sqlite import is_empty_text

STDERR_UNKNOWN = "N/A"
_RECORDED_PACKAGES = ("lmms-eval", "datasets", "numpy", "aiohttp", "pillow", "torch", "transformers", "accelerate", "tokenizers", "gguf", "vllm", "sglang")


def build_results(evaluation: Evaluation, only_task: str | None = None) -> dict[str, Any]:
    """The whole run's results; with `only_task`, that task's alone (groups left out)."""
    runs = {only_task: evaluation.task_runs[only_task]} if only_task else evaluation.task_runs
    groups = [] if only_task else evaluation.selection.groups()
    real_groups = [node for node in groups if not node.is_tag]
    run = evaluation.run
    random_seed, numpy_seed, torch_seed, fewshot_seed = run.seeds()
    return {
        "results": {name: _score_entry(task_run.task.config.task_alias or name, task_run.scores) for name, task_run in runs.items()},
        "groups": {
            node.name: _score_entry(node.config.group_alias or node.name, evaluation.group_scores[node.name])
            for node in real_groups
            if node.name in evaluation.group_scores
        },
        "group_subtasks": {node.name: node.child_names() for node in real_groups},
        "configs": {name: task_run.task.config.to_dict() for name, task_run in runs.items()},
        "versions": {**{name: task_run.task.config.version for name, task_run in runs.items()}, **{node.name: node.config.metadata.get("version") for node in real_groups}},
        "n-shot": {name: task_run.task.num_fewshot for name, task_run in runs.items()},
        "higher_is_better": {name: {spec.name: spec.higher_is_better for spec in task_run.metrics} for name, task_run in runs.items()},
        "n-samples": {name: {"original": task_run.doc_count, "effective": len(task_run.doc_ids)} for name, task_run in runs.items()},
        "requests": {name: _request_summary(task_run) for name, task_run in runs.items()},
        "media_sampling": {name: task_run.answered.video_sampling for name, task_run in runs.items() if task_run.answered.video_sampling},
        "throughput": {name: throughput_entry(evaluation, task_run) for name, task_run in runs.items()},  # differs run to run, like date
        "judges": {name: _judge_entry(evaluation, name) for name in runs if name in evaluation.judges},
        "config": {
            "model": run.model,
            "model_args": evaluation.model_args,
            "batch_size": run.batch_size,
            "device": run.device,
            "limit": run.limit,
            "offset": run.offset,
            "bootstrap_iters": run.bootstrap_iters,
            "gen_kwargs": run.parsed_gen_kwargs(),
            "num_fewshot": run.num_fewshot,
            "apply_chat_template": run.apply_chat_template,
            "fewshot_as_multiturn": run.fewshot_as_multiturn,
            "system_instruction": run.system_instruction,
            "predict_only": run.predict_only,
            "judge_model": run.judge_model,
            "judge_repeats": run.judge_repeats,
            "random_seed": random_seed,
            "numpy_seed": numpy_seed,
            "torch_seed": torch_seed,
            "fewshot_seed": fewshot_seed,
        },
        "task_hashes": {name: task_run.task.config.prompt_hash() for name, task_run in runs.items()},
        "model_name": evaluation.model_identity,
        "model_name_sanitized": sanitize_model_name(evaluation.model_identity),
        "source": evaluation.source,
        "date": dt.datetime.fromtimestamp(evaluation.started_at, dt.timezone.utc).isoformat(),
        "total_evaluation_time_seconds": round(evaluation.duration or time.time() - evaluation.started_at, 3),
        "git_hash": _git_commit(),
        "python_version": sys.version.split()[0],
        "package_versions": _package_versions(),
    }


def _judge_entry(evaluation: Evaluation, task: str) -> dict[str, Any]:
    """The task's judge as configured (no secrets), then what judging it recorded."""
    spec = evaluation.judges[task]
    public = spec.public()
    configured = {"model": spec.model, "backend": spec.backend, "endpoint": public.get("base_url")}
    return {**configured, **evaluation.judge_entries.get(task, {})}


def _score_entry(alias: str, scores: dict[MetricKey, Score]) -> dict[str, Any]:
    entry: dict[str, Any] = {"alias": alias}
    for (metric, filter_name), score in scores.items():
        entry[f"{metric},{filter_name}"] = score.value
        entry[f"{metric}_stderr,{filter_name}"] = score.stderr if score.stderr is not None else STDERR_UNKNOWN
    return entry


def _request_summary(task_run: TaskRun) -> dict[str, Any]:
    answered = task_run.answered
    usage = answered.usage()
    return {
        "total": len(answered.responses),
        "failed": len(answered.failures),
        "failed_docs": task_run.failed_docs,
        "failure_kinds": answered.failure_kinds(),
        "empty": empty_answers(answered),
        "usage": {"prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens},
        **_endpoint_counts(answered),
    }


def _endpoint_counts(answered: TaskResponses) -> dict[str, Any]:
    """Answers per server, when the backend spread the task over several (docs/scaling.md)."""
    counts = Counter(response.endpoint for response in answered.responses.values() if response.endpoint)
    return {"endpoints": dict(sorted(counts.items()))} if counts else {}


def empty_answers(answered: TaskResponses) -> int:
    """Answers that are empty or only whitespace: scored as wrong, and worth a warning."""
    return sum(1 for response in answered.responses.values() if response.text is not None and is_empty_text(response.text))


def sanitize_model_name(name: str) -> str:
    """A model id as a folder name: `org/model` becomes `org__model`."""
    cleaned = name.strip().replace("/", "__").replace("\\", "__")
    return "".join(char if char.isalnum() or char in "._-" else "_" for char in cleaned) or "model"


def _git_commit() -> str | None:
    try:
        completed = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent, capture_output=True, text=True, timeout=5, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return completed.stdout.strip() or None if completed.returncode == 0 else None


def _package_versions() -> dict[str, str]:
    from importlib import metadata  # ~13 ms (it imports email): only where results are written

    versions = {}
    for name in _RECORDED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


