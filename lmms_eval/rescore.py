"""Scoring logged answers again with the current task code, without any model.

This is how a fixed answer parser reaches an old run: `lmms-eval rescore` reads the
samples logs, checks each was made with the same prompts as today's task, rebuilds the
responses and runs the same filters, metrics and aggregation as a live run.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lmms_eval.api.model import Model
from lmms_eval.api.request import Origin
from lmms_eval.api.response import Failure, FailureKind, LoglikelihoodScore, Response
from lmms_eval.api.reasoning import DEFAULT_REASONING_TAGS
from lmms_eval.config import RunConfig
from lmms_eval.engine.inference import TaskResponses
from lmms_eval.engine.scoring import Scorer
from lmms_eval.errors import ConfigError
from lmms_eval.evaluator import Evaluation, judge_setup, record_task_run, score_task
from lmms_eval.judge import resolve_judges
from lmms_eval.store.sqlite import ResponseStore
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
        for number, line in enumerate(_lines(file), 1):
            if not line.strip():
                continue
            row = _checked_row(line, f"{file}:{number}")
            task = row["task"]
            if origin.setdefault(task, file) != file:
                raise ConfigError(f"rescore: task {task} is in both {origin[task]} and {file}; rescore one run at a time")
            rows[task].append(row)
        if file not in origin.values():
            raise ConfigError(f"rescore: {file} has no samples rows (an empty file?)")
    return dict(rows)


def _lines(file: Path) -> list[str]:
    try:
        return file.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        raise ConfigError(f"rescore: {file} is not a samples log (not UTF-8 text)") from None
    except OSError as error:
        raise ConfigError(f"rescore: {file}: {error.strerror or error}") from None


def _checked_row(line: str, where: str) -> dict[str, Any]:
    """One samples row with the fields rescoring reads, each of its type."""
    try:
        row = json.loads(line)
    except ValueError:
        row = None
    if not isinstance(row, dict):
        raise ConfigError(f"rescore: {where} is not a samples row (not a JSON object)")
    checks = {
        "task": isinstance(row.get("task"), str),
        "doc_id": isinstance(row.get("doc_id"), int) and not isinstance(row.get("doc_id"), bool),
        "request_keys": isinstance(row.get("request_keys"), list) and all(isinstance(key, str) for key in row["request_keys"]),
        "resps": isinstance(row.get("resps"), list) and all(_is_answer(value) for value in row["resps"]),
        "failures": isinstance(row.get("failures", []), list) and all(_is_failure(value) for value in row.get("failures", [])),
    }
    wrong = [name for name, ok in checks.items() if not ok]
    if wrong:
        raise ConfigError(f"rescore: {where} is not a samples row (field {wrong[0]} is missing or of the wrong type)")
    return row


def _is_answer(value: Any) -> bool:
    """Text, a [logprob, is_greedy] pair, or None for a failed request."""
    if value is None or isinstance(value, str):
        return True
    return (
        isinstance(value, list) and len(value) == 2 and isinstance(value[0], (int, float)) and not isinstance(value[0], bool)
        and isinstance(value[1], bool)
    )


def _is_failure(value: Any) -> bool:
    kinds = {kind.value for kind in FailureKind}
    return (
        isinstance(value, dict) and isinstance(value.get("index"), int) and value.get("kind") in kinds
        and isinstance(value.get("message"), str) and isinstance(value.get("attempts"), int)
    )


@dataclass(frozen=True)
class JudgeChoice:
    """How `rescore` judges judged tasks: --judge_model/--judge_args/--judge_repeats as for an
    evaluation, and --use_cache, the store whose judge answers are reused (none asked twice)."""

    judge_model: str | None = None
    judge_args: str = ""
    judge_repeats: int = 1
    use_cache: str | None = None


def rescore(
    paths: list[Path], include_paths: list[str], bootstrap_iters: int, seed: str, output_path: Path | None = None,
    reasoning_tags: Any = DEFAULT_REASONING_TAGS, judging: JudgeChoice | None = None,
) -> Evaluation:
    """`output_path` is what aggregations that write submission files see as `args.output_path`.
    Judged tasks are judged again (by `judging`'s judge), without the evaluated model."""
    judging = judging or JudgeChoice()
    rows_by_task = read_rows(find_sample_files(paths))
    index = TaskIndex.build(include_paths)
    model_names = {row["model"] if isinstance(row.get("model"), str) else "" for rows in rows_by_task.values() for row in rows}
    run = RunConfig(
        model=sorted(model_names)[0], tasks=sorted(rows_by_task), bootstrap_iters=bootstrap_iters, seed=seed,
        output_path=None if output_path is None else str(output_path), reasoning_tags=reasoning_tags,
        judge_model=judging.judge_model, judge_args=judging.judge_args, judge_repeats=judging.judge_repeats, use_cache=judging.use_cache,
    )  # fmt: skip
    run.validate()
    for name in rows_by_task:
        if name not in index.tasks:
            raise ConfigError(f"rescore: task {name} is not defined here (pass its folder with --include_path)")
    selection = Selection(roots=list(rows_by_task), configs={name: index.task_config(name) for name in rows_by_task})
    model_name = next((row["model_name"] for rows in rows_by_task.values() for row in rows if row.get("model_name")), run.model)
    judged = {name: config for name, config in selection.configs.items() if config.judge_scoring is not None}
    judges = resolve_judges(judged, run.judge_model, run.parsed_judge_args())  # before anything is judged
    evaluation = Evaluation(run, Model, {}, model_name, selection, source="rescore", judges=judges)
    store = ResponseStore(run.use_cache) if run.use_cache else None
    try:
        for name, rows in rows_by_task.items():
            task = Task(selection.configs[name], PromptSettings(model_name=rows[0].get("model", "")))
            _check_same_prompts(task, rows)
            docs = task.eval_docs()
            answered = _responses(name, rows)
            scorer = Scorer(task, reasoning_tags=run.reasoning_tags)
            setup = judge_setup(task, scorer, evaluation, store)
            record_task_run(evaluation, score_task(task, scorer, docs, [row["doc_id"] for row in rows], answered, run, setup))
    finally:
        if store is not None:
            store.close()
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
        return Response(key=key, origin=origin, loglikelihood=LoglikelihoodScore(float(raw[0]), raw[1]))
    if raw is None:  # a failed request whose failure entry is missing: never scored as text
        return Response(key=key, origin=origin, failure=Failure(FailureKind.BAD_RESPONSE, "no answer in the samples log", 0))
    return Response(key=key, origin=origin, text=raw)
