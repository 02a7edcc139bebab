"""Scoring logged answers again with the current task code, without any model.

This is how a fixed answer parser reaches an old run: `lmms-eval rescore` reads the
samples logs, checks each was made with the same prompts as today's task, rebuilds the
responses and runs the same filters, metrics and aggregation as a live run.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from lmms_eval.api.model import Model
from lmms_eval.api.request import Origin
from lmms_eval.api.response import Failure, FailureKind, LoglikelihoodScore, Response
from lmms_eval.config import RunConfig
from lmms_eval.engine.inference import TaskResponses
from lmms_eval.engine.scoring import Scorer
from lmms_eval.errors import ConfigError
from lmms_eval.evaluator import Evaluation, score_task
from lmms_eval.taskdefs.index import Selection, TaskIndex
from lmms_eval.taskdefs.task import PromptSettings, Task


def find_sample_files(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(path.rglob("*_samples_*.jsonl")))
        elif path.is_file():
            files.append(path)
        else:
            raise ConfigError(f"rescore: {path} does not exist")
    if not files:
        raise ConfigError(f"rescore: no samples files (*_samples_*.jsonl) under {', '.join(map(str, paths))}")
    return files


def read_rows(files: list[Path]) -> dict[str, list[dict[str, Any]]]:
    """Rows by task; one file per task, since two runs' answers cannot be mixed."""
    rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
    origin: dict[str, Path] = {}
    for file in files:
        for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                task = row["task"]
            except (ValueError, KeyError, TypeError):
                raise ConfigError(f"rescore: {file}:{number} is not a samples row") from None
            if origin.setdefault(task, file) != file:
                raise ConfigError(f"rescore: task {task} is in both {origin[task]} and {file}; rescore one run at a time")
            rows[task].append(row)
    return dict(rows)


def rescore(paths: list[Path], include_paths: list[str], bootstrap_iters: int, seed: str) -> Evaluation:
    rows_by_task = read_rows(find_sample_files(paths))
    index = TaskIndex.build(include_paths)
    model_names = {row.get("model", "") for rows in rows_by_task.values() for row in rows}
    run = RunConfig(model=sorted(model_names)[0], tasks=sorted(rows_by_task), bootstrap_iters=bootstrap_iters, seed=seed)
    run.validate()
    for name in rows_by_task:
        if name not in index.tasks:
            raise ConfigError(f"rescore: task {name} is not defined here (pass its folder with --include_path)")
    selection = Selection(roots=list(rows_by_task), configs={name: index.task_config(name) for name in rows_by_task})
    model_name = next((row["model_name"] for rows in rows_by_task.values() for row in rows if row.get("model_name")), run.model)
    evaluation = Evaluation(run, Model, {}, model_name, selection, source="rescore")
    for name, rows in rows_by_task.items():
        task = Task(selection.configs[name], PromptSettings(model_name=rows[0].get("model", "")))
        _check_same_prompts(task, rows)
        docs = task.eval_docs()
        answered = _responses(name, rows)
        evaluation.task_runs[name] = score_task(task, Scorer(task), docs, [row["doc_id"] for row in rows], answered, run)
    return evaluation


def _check_same_prompts(task: Task, rows: list[dict[str, Any]]) -> None:
    current = task.config.prompt_hash()
    logged = {row.get("task_hash") for row in rows}
    if logged != {current}:
        shown = ", ".join(sorted(str(value) for value in logged))
        raise ConfigError(
            f"rescore: the samples of task {task.name} were made with other prompts (task hash {shown}, now {current}); "
            "answers to other questions cannot be rescored"
        )


def _responses(task: str, rows: list[dict[str, Any]]) -> TaskResponses:
    answered = TaskResponses()
    for row in rows:
        failures = {failure["index"]: failure for failure in row.get("failures", [])}
        answered.prompts[row["doc_id"]] = row.get("prompt")
        for index, (key, raw) in enumerate(zip(row["request_keys"], row["resps"])):
            origin = Origin(task, row["doc_id"], index)
            answered.add(_response(key, origin, raw, failures.get(index)))
    return answered


def _response(key: str, origin: Origin, raw: Any, failure: dict[str, Any] | None) -> Response:
    if failure is not None:
        return Response(key=key, origin=origin, failure=Failure(FailureKind(failure["kind"]), failure["message"], failure["attempts"]))
    if isinstance(raw, list):
        return Response(key=key, origin=origin, loglikelihood=LoglikelihoodScore(float(raw[0]), bool(raw[1])))
    return Response(key=key, origin=origin, text=str(raw))
