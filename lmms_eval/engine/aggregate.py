"""Stage 6: per-sample scores -> task scores with standard errors -> group scores."""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any

from lmms_eval.engine.scoring import MetricSpec, SampleResult
from lmms_eval.metrics.aggregation import pooled_stderr, stderr_for
from lmms_eval.taskdefs.index import GroupNode


@dataclass(frozen=True)
class Score:
    value: Any
    stderr: float | None
    count: int  # samples behind the value


MetricKey = tuple[str, str]  # (metric, filter)


def aggregate_task(
    samples: list[SampleResult], metrics: list[MetricSpec], bootstrap_iters: int, seed: int, args: Any = None
) -> dict[MetricKey, Score]:
    """Each (metric, filter) aggregated over the samples, with its standard error.

    `args` is what aggregations that take an `args` parameter receive (the run's settings,
    lmms-eval's CLI namespace). Task code from users' folders, and any aggregation that
    takes `args`, is called exactly once, on the full results: it may write a submission
    file, and resampled calls must not overwrite it. It gets no standard error, as in
    lmms-eval (compat.md 4.7); see MetricSpec.resampled.
    """
    scores: dict[MetricKey, Score] = {}
    filters = list(dict.fromkeys(name for sample in samples for name in sample.scores))
    for filter_name in filters:
        for spec in metrics:
            values = [sample.scores[filter_name][spec.name] for sample in samples if spec.name in sample.scores.get(filter_name, {})]
            if not values:
                continue
            value = spec.aggregate(values, args)
            resampled = _is_number(value) and spec.resampled
            stderr = stderr_for(spec.aggregation, values, bootstrap_iters, seed) if resampled else None
            scores[(spec.name, filter_name)] = Score(value, stderr, len(values))
    return scores


def aggregate_group(node: GroupNode, child_scores: dict[str, dict[MetricKey, Score]]) -> dict[MetricKey, Score]:
    """Combine the direct children's scores for each `aggregate_metric_list` entry.

    weight_by_size: the mean over all samples pooled (a micro average); otherwise the
    plain mean of the children's scores (a macro average).
    """
    combined: dict[MetricKey, Score] = {}
    children = node.child_names()
    for entry in node.config.aggregate_metric_list:
        for filter_name in entry.filter_list:
            key = (entry.metric, filter_name)
            parts = [child_scores[name][key] for name in children if key in child_scores.get(name, {}) and _is_number(child_scores[name][key].value)]
            if parts:
                combined[key] = _combine(parts, entry.weight_by_size)
    return combined


def _combine(parts: list[Score], weight_by_size: bool) -> Score:
    sizes = [part.count for part in parts]
    values = [float(part.value) for part in parts]
    stderrs = [part.stderr for part in parts]
    total = sum(sizes)
    if weight_by_size:
        value = sum(n * v for n, v in zip(sizes, values)) / total
        known = all(se is not None for se in stderrs) and total > 1
        stderr = pooled_stderr(sizes, values, stderrs) if known else None  # type: ignore[arg-type]
    else:
        value = sum(values) / len(values)
        known = all(se is not None for se in stderrs)
        stderr = (sum(se**2 for se in stderrs) ** 0.5) / len(stderrs) if known else None  # type: ignore[operator]
    return Score(value, stderr, total)


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)

