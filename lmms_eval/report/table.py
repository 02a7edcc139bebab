"""The table printed at the end of a run."""

from __future__ import annotations

from typing import Any

from lmms_eval.engine.aggregate import MetricKey, Score
from lmms_eval.evaluator import Evaluation
from lmms_eval.report.cost import footer_lines
from lmms_eval.report.results import empty_answers

_HEADER = ("Task", "Version", "Filter", "n-shot", "Metric", "Value", "Stderr", "n")


def render_table(evaluation: Evaluation) -> str:
    rows = []
    for name, task_run in evaluation.task_runs.items():
        config = task_run.task.config
        higher = {spec.name: spec.higher_is_better for spec in task_run.metrics}
        rows.extend(_rows(config.task_alias or name, config.version, task_run.task.num_fewshot, task_run.scores, higher))
    lines = [_format(rows)] if rows else ["(no scores: predictions only)" if evaluation.run.predict_only else "(no scores)"]
    group_rows = []
    aliases = {node.name: node.config.group_alias or node.name for node in evaluation.selection.groups()}
    for group, scores in evaluation.group_scores.items():
        group_rows.extend(_rows(aliases.get(group, group), None, None, scores, {}))
    if group_rows:
        lines += ["", _format(group_rows)]
    lines += footer_lines(evaluation)  # cost and throughput per task
    lines += _failure_lines(evaluation)
    return "\n".join(lines)


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


def _format(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(row[i]) for row in (_HEADER, *rows)) for i in range(len(_HEADER))]

    def line(cells: tuple[str, ...]) -> str:
        return "| " + " | ".join(cell.ljust(width) for cell, width in zip(cells, widths)) + " |"

    separator = "|" + "|".join("-" * (width + 2) for width in widths) + "|"
    return "\n".join([line(_HEADER), separator, *(line(row) for row in rows)])


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
