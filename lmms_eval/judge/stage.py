"""The judge stage: after inference (the evaluated model already closed), a judged task's
answers go to its JudgeScoring with the task's Judge, and the values the judge decides join
each sample's scores before aggregation.

With --judge_repeats N the task is judged N times (rounds 0..N-1, each stored under its own
keys), each round is aggregated on its own, the task's scores are the mean over rounds, and
the judge entry reports each numeric metric's spread over the rounds (MM-Vet's protocol).
A live run and `rescore` go through the same function (evaluator.score_task).
"""

from __future__ import annotations

import logging
import statistics
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from lmms_eval.judge import JudgeSpec
from lmms_eval.judge.runner import Judge
from lmms_eval.judge.scoring import JudgedSample, JudgedValues, JudgeScoring

if TYPE_CHECKING:
    from lmms_eval.engine.aggregate import MetricKey, Score
    from lmms_eval.engine.scoring import SampleResult
    from lmms_eval.taskdefs.task import Task

logger = logging.getLogger(__name__)

Aggregate = Callable[[list["SampleResult"]], dict["MetricKey", "Score"]]


@dataclass(frozen=True)
class JudgeSetup:
    """What the stage needs from the run: the task's judge, the run's ResponseStore (or
    None) and --judge_repeats."""

    spec: JudgeSpec
    store: Any = None
    repeats: int = 1


@dataclass
class JudgedTask:
    scores: dict[MetricKey, Score]
    entry: dict[str, Any]  # the results JSON's judge entry: Judge.entry(), repeats, spread


def judge_task(task: Task, samples: list[SampleResult], rows: Mapping[int, Any], setup: JudgeSetup, aggregate: Aggregate) -> JudgedTask:
    """Judge the scorable `samples` (no failed request) of one task, round by round, and
    aggregate. Round 0's values are left in each sample's scores (the samples log)."""
    scoring: JudgeScoring = task.judge_scoring
    judge = Judge(
        setup.spec, task.name, scoring.template, temperature=scoring.temperature, max_tokens=scoring.max_tokens,
        store=setup.store, repeats=setup.repeats,
    )  # fmt: skip
    try:
        rounds = [_judge_round(scoring, judge, round_index, samples, rows) for round_index in range(setup.repeats)]
    finally:
        judge.close()
    if judge.stats.failures:
        logger.warning(
            "%s: %d judge calls failed after retries; the benchmark's failure value stands for them (judge entry 'failures')",
            task.name, judge.stats.failures,
        )  # fmt: skip
    round_scores = [aggregate(with_values(samples, values)) for values in rounds]
    for sample, judged in zip(samples, with_values(samples, rounds[0])):
        sample.scores = judged.scores
    entry = {**judge.entry(), "repeats": setup.repeats, "spread": spread(round_scores)}
    return JudgedTask(mean_scores(round_scores), entry)


def _judge_round(scoring: JudgeScoring, judge: Judge, round_index: int, samples: list[SampleResult], rows: Mapping[int, Any]) -> dict[str, JudgedValues]:
    """One round's values by filter pipeline: each pipeline's answers judged as one batch."""
    judge.round = round_index
    pipelines = list(dict.fromkeys(name for sample in samples for name in sample.filtered))
    values: dict[str, JudgedValues] = {}
    for pipeline in pipelines:
        judged = judged_samples(samples, pipeline, rows)
        values[pipeline] = scoring.score(judged, judge) if judged else {}
    return values


def judged_samples(samples: list[SampleResult], pipeline: str, rows: Mapping[int, Any]) -> list[JudgedSample]:
    """The pipeline's answers as the JudgeScoring gets them; a generate_until task's single
    answer is handed over as its string, not a one-element list."""
    return [
        JudgedSample(sample.doc_id, rows[sample.doc_id], _single(sample.filtered[pipeline]), sample.target)
        for sample in samples
        if pipeline in sample.filtered
    ]


def _single(value: Any) -> Any:
    return value[0] if isinstance(value, list) and len(value) == 1 else value


def with_values(samples: list[SampleResult], values: Mapping[str, JudgedValues]) -> list[SampleResult]:
    """Copies of the samples with the judge's values joined to their rule-based scores."""
    merged = []
    for sample in samples:
        scores = {name: dict(metrics) for name, metrics in sample.scores.items()}
        for pipeline, by_doc in values.items():
            scores.setdefault(pipeline, {}).update(by_doc.get(sample.doc_id, {}))
        merged.append(replace(sample, scores=scores))
    return merged


def mean_scores(round_scores: list[dict[MetricKey, Score]]) -> dict[MetricKey, Score]:
    """Each metric's mean over the rounds (numbers, and mappings of numbers key by key);
    anything else is round 0's. One round is returned as it is."""
    from lmms_eval.engine.aggregate import Score

    first = round_scores[0]
    if len(round_scores) == 1:
        return first
    combined = {}
    for key, score in first.items():
        present = [scores[key] for scores in round_scores if key in scores]
        stderrs = [item.stderr for item in present]
        stderr = statistics.fmean(stderrs) if all(isinstance(value, (int, float)) for value in stderrs) else None  # type: ignore[arg-type]
        combined[key] = Score(_mean_value([item.value for item in present]), stderr, score.count)
    return combined


def _mean_value(values: list[Any]) -> Any:
    if all(_is_number(value) for value in values):
        return statistics.fmean(values)
    if all(isinstance(value, dict) for value in values) and all(value.keys() == values[0].keys() for value in values):
        return {key: _mean_value([value[key] for value in values]) for key in values[0]}
    return values[0]


def spread(round_scores: list[dict[MetricKey, Score]]) -> dict[str, dict[str, Any]]:
    """Per numeric metric (`metric,filter`): its value in each round, their mean, sample
    standard deviation (0 for one round), min and max."""
    entries: dict[str, dict[str, Any]] = {}
    for key in round_scores[0]:
        values = [scores[key].value for scores in round_scores if key in scores]
        if not all(_is_number(value) for value in values):
            continue
        entries[f"{key[0]},{key[1]}"] = {
            "values": values,
            "mean": statistics.fmean(values),
            "std": statistics.stdev(values) if len(values) > 1 else 0.0,
            "min": min(values),
            "max": max(values),
        }
    return entries


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
