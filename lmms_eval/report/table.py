"""The table printed at the end of a run: rich tables in a terminal, lmms-eval's markdown
layout elsewhere (scripts parse it); the cells are computed once for both."""

from __future__ import annotations

from typing import Any, TextIO

from lmms_eval.engine.aggregate import MetricKey, Score
from lmms_eval.evaluator import Evaluation
from lmms_eval.report.cost import footer_blocks
from lmms_eval.report.grid import Block, Grid, print_blocks
from lmms_eval.report.results import empty_answers

_HEADER = ("Task", "Version", "Filter", "n-shot", "Metric", "Value", "Stderr", "n")


def print_table(evaluation: Evaluation, stream: TextIO | None = None) -> None:
    """Print the run's tables to `stream` (stdout): rich in a terminal, markdown elsewhere."""
    print_blocks(table_blocks(evaluation), stream)


def table_blocks(evaluation: Evaluation) -> list[Block]:
    rows = []
    for name, task_run in evaluation.task_runs.items():
        config = task_run.task.config
        higher = {spec.name: spec.higher_is_better for spec in task_run.metrics}
        rows.extend(_rows(config.task_alias or name, config.version, task_run.task.num_fewshot, task_run.scores, higher))
    blocks: list[Block] = [Grid(_HEADER, tuple(rows))] if rows else ["(no scores: predictions only)" if evaluation.run.predict_only else "(no scores)"]
    group_rows = []
    aliases = {node.name: node.config.group_alias or node.name for node in evaluation.selection.groups()}
    for group, scores in evaluation.group_scores.items():
        group_rows.extend(_rows(aliases.get(group, group), None, None, scores, {}))
    if group_rows:
        blocks += ["", Grid(_HEADER, tuple(group_rows))]
    blocks += footer_blocks(evaluation)  # cost and throughput per task
    blocks += _failure_lines(evaluation)
    return blocks


def _rows(name: str, version: Any, shots: int | None, scores: dict[MetricKey, Score], higher: dict[str, bool]) -> list[tuple[str, ...]]:
    rows = []
    for (metric, filter_name), score in scores.items():
        arrow = {True: " ↑", False: " ↓"}.get(higher.get(metric), "")
        prefix = (name, "" if version is None else str(version), filter_name, "" if shots is None else str(shots))
        if isinstance(score.value, dict):  # an aggregation that reports named sub-scores: one row each
            rows.extend((*prefix, f"{metric}/{sub}", _number(value), "", str(score.count)) for sub, value in score.value.items())
            continue
        stderr = "±" + _number(score.stderr) if score.stderr is not None else "N/A"
        rows.append((*prefix, metric + arrow, _number(score.value), stderr, str(score.count)))
    return rows


def _number(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def _failure_lines(evaluation: Evaluation) -> list[str]:
    lines = []
    for name, task_run in evaluation.task_runs.items():
        failed = task_run.answered.failures
        if failed:
            kinds = ", ".join(f"{kind}: {count}" for kind, count in sorted(task_run.answered.failure_kinds().items()))
            lines.append(
                f"WARNING {name}: {len(failed)} of {len(task_run.answered.responses)} requests failed ({kinds}); "
                f"{task_run.failed_docs} docs were not scored"
            )
        empty = empty_answers(task_run.answered)
        if empty:
            lines.append(f"WARNING {name}: {empty} of {len(task_run.answered.responses)} answers were empty (scored by the task's rule)")
    return ([""] + lines) if lines else []
