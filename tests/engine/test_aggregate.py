"""Stage 6: task scores with standard errors, and group scores (micro and macro averages)."""

from __future__ import annotations

import math

import pytest

from lmms_eval.engine.aggregate import Score, aggregate_group, aggregate_task
from lmms_eval.engine.scoring import MetricSpec, SampleResult
from lmms_eval.metrics.aggregation import mean, median, perplexity
from lmms_eval.taskdefs.config import AggregateMetric, GroupConfig
from lmms_eval.taskdefs.index import GroupNode

ACC = MetricSpec("acc", "mean", mean, True)
ACC_KEY = ("acc", "none")


def samples(values: list[float], metric: str = "acc", filter_name: str = "none") -> list[SampleResult]:
    return [SampleResult(doc_id, None, None, [], scores={filter_name: {metric: value}}) for doc_id, value in enumerate(values)]


def group(name: str, children: list, *entries: AggregateMetric) -> GroupNode:
    names = [child.name if isinstance(child, GroupNode) else child for child in children]
    return GroupNode(GroupConfig(group=name, task=names, aggregate_metric_list=list(entries)), children)


MICRO = AggregateMetric("acc", weight_by_size=True)
MACRO = AggregateMetric("acc", weight_by_size=False)


# --- tasks -----------------------------------------------------------------------------


def test_an_aggregation_taking_args_is_called_once_with_them_and_gets_no_stderr():
    calls = []

    def submission(results, args):
        calls.append((list(results), args))
        return sum(results) / len(results)

    spec = MetricSpec("acc", "!function utils.submission", submission, True, takes_args=True)
    settings = object()
    assert aggregate_task(samples([1, 0, 1, 1]), [spec], 100_000, 0, args=settings) == {ACC_KEY: Score(0.75, None, 4)}
    assert calls == [([1, 0, 1, 1], settings)]  # no resampled calls: they would rewrite its file


def test_args_go_by_keyword_whatever_their_position():
    def three(results, metric="acc", args=None):
        return (metric, args.output_path)

    spec = MetricSpec("acc", "x", three, True, takes_args=True)
    settings = type("Args", (), {"output_path": "out"})()
    assert aggregate_task(samples([1.0]), [spec], 0, 0, args=settings)[ACC_KEY].value == ("acc", "out")


def test_a_custom_aggregation_without_args_keeps_its_bootstrap():
    calls = []

    def spread(values):
        calls.append(1)
        return max(values) - min(values)

    score = aggregate_task(samples([1.0, 4.0, 2.0, 8.0]), [MetricSpec("acc", "x", spread, True)], 50, 0)[ACC_KEY]
    assert score.value == 7.0 and score.stderr is not None
    assert len(calls) == 51


def test_mean_and_its_standard_error():
    # mean 0.75; sample variance ((3 * 0.25**2) + 0.75**2) / 3 = 0.25, so stderr = 0.5 / 2
    assert aggregate_task(samples([1, 0, 1, 1]), [ACC], 1000, 0) == {ACC_KEY: Score(0.75, 0.25, 4)}


def test_one_sample_has_no_stderr():
    assert aggregate_task(samples([1.0]), [ACC], 1000, 0) == {ACC_KEY: Score(1.0, None, 1)}


def test_each_filter_and_metric_is_scored_separately():
    results = [
        SampleResult(0, None, None, [], scores={"none": {"acc": 1.0, "f1": 0.5}, "strict": {"acc": 0.0, "f1": 0.0}}),
        SampleResult(1, None, None, [], scores={"none": {"acc": 0.0, "f1": 1.0}, "strict": {"acc": 0.0, "f1": 0.25}}),
    ]
    f1 = MetricSpec("f1", "median", median, True)
    scores = aggregate_task(results, [ACC, f1], 0, 0)
    assert list(scores) == [("acc", "none"), ("f1", "none"), ("acc", "strict"), ("f1", "strict")]
    assert scores[("acc", "none")] == Score(0.5, 0.5, 2)
    assert scores[("acc", "strict")] == Score(0.0, 0.0, 2)
    assert scores[("f1", "none")] == Score(0.75, None, 2)  # median: bootstrap, and 0 iterations means none
    assert scores[("f1", "strict")] == Score(0.125, None, 2)


def test_samples_without_a_metric_are_left_out_of_it():
    results = samples([1.0, 0.0, 1.0]) + [SampleResult(3, None, None, [], scores={"none": {"other": 1.0}})]
    assert aggregate_task(results, [ACC], 0, 0)[ACC_KEY].count == 3


def test_unscored_samples_give_no_score():
    assert aggregate_task([SampleResult(0, None, None, [])], [ACC], 0, 0) == {}
    assert aggregate_task([], [ACC], 0, 0) == {}


def test_perplexity_with_a_seeded_bootstrap_stderr():
    spec = MetricSpec("perplexity", "perplexity", perplexity, False)
    results = samples([-1.0, -3.0, -2.0], metric="perplexity")
    first = aggregate_task(results, [spec], 200, seed=7)[("perplexity", "none")]
    again = aggregate_task(results, [spec], 200, seed=7)[("perplexity", "none")]
    assert first.value == pytest.approx(math.exp(2.0))
    assert first == again and first.stderr > 0
    assert aggregate_task(results, [spec], 0, seed=7)[("perplexity", "none")].stderr is None


def test_a_structured_aggregation_has_no_stderr():
    def histogram(values):
        return {"ones": sum(1 for value in values if value == 1)}

    spec = MetricSpec("acc", "histogram", histogram, True)
    assert aggregate_task(samples([1, 0, 1]), [spec], 100, 0) == {ACC_KEY: Score({"ones": 2}, None, 3)}


# --- groups ----------------------------------------------------------------------------


def test_micro_average_weights_by_size_with_pooled_stderr():
    node = group("g", ["a", "b"], MICRO)
    children = {"a": {ACC_KEY: Score(0.5, 0.1, 10)}, "b": {ACC_KEY: Score(0.8, 0.2, 30)}}
    combined = aggregate_group(node, children)[ACC_KEY]
    # mean (10 * 0.5 + 30 * 0.8) / 40; within-task sums of squares (n - 1) * n * se**2,
    # between-task n * (mean - grand mean)**2, over 39 degrees of freedom, then / 40
    within = 9 * 10 * 0.1**2 + 29 * 30 * 0.2**2
    between = 10 * (0.5 - 0.725) ** 2 + 30 * (0.8 - 0.725) ** 2
    assert combined.value == pytest.approx(0.725)
    assert combined.stderr == pytest.approx(math.sqrt((within + between) / 39 / 40))
    assert combined.count == 40


def test_macro_average_is_the_plain_mean_of_children():
    node = group("g", ["a", "b"], MACRO)
    children = {"a": {ACC_KEY: Score(0.5, 0.1, 10)}, "b": {ACC_KEY: Score(0.8, 0.2, 30)}}
    assert aggregate_group(node, children) == {ACC_KEY: Score(pytest.approx(0.65), pytest.approx(math.sqrt(0.05) / 2), 40)}


def test_micro_average_equals_scoring_the_pooled_samples():
    a, b = [1, 0, 1, 1, 0], [0, 0, 1, 0, 0, 0, 1, 1, 1]
    children = {"a": aggregate_task(samples(a), [ACC], 0, 0), "b": aggregate_task(samples(b), [ACC], 0, 0)}
    combined = aggregate_group(group("g", ["a", "b"], MICRO), children)[ACC_KEY]
    pooled = aggregate_task(samples(a + b), [ACC], 0, 0)[ACC_KEY]
    assert combined.value == pytest.approx(pooled.value)
    assert combined.stderr == pytest.approx(pooled.stderr)
    assert combined.count == pooled.count == 14


def test_nested_groups():
    a, b, c = [1, 1, 0, 1], [0, 1], [0, 0, 0, 1, 1, 1]
    tasks = {name: aggregate_task(samples(values), [ACC], 0, 0) for name, values in {"a": a, "b": b, "c": c}.items()}

    inner = group("inner", ["a", "b"], MICRO)
    outer = group("outer", [inner, "c"], MICRO)
    known = {**tasks, "inner": aggregate_group(inner, tasks)}
    nested = aggregate_group(outer, known)[ACC_KEY]
    pooled = aggregate_task(samples(a + b + c), [ACC], 0, 0)[ACC_KEY]
    assert (nested.value, nested.count) == (pytest.approx(7 / 12), 12)
    assert nested.stderr == pytest.approx(pooled.stderr)

    inner_macro = group("inner", ["a", "b"], MACRO)
    outer_macro = group("outer", [inner_macro, "c"], MACRO)
    known = {**tasks, "inner": aggregate_group(inner_macro, tasks)}
    assert known["inner"][ACC_KEY].value == pytest.approx((0.75 + 0.5) / 2)
    macro = aggregate_group(outer_macro, known)[ACC_KEY]
    assert macro.value == pytest.approx(((0.75 + 0.5) / 2 + 0.5) / 2)
    se_inner = math.sqrt(tasks["a"][ACC_KEY].stderr ** 2 + tasks["b"][ACC_KEY].stderr ** 2) / 2
    assert macro.stderr == pytest.approx(math.sqrt(se_inner**2 + tasks["c"][ACC_KEY].stderr ** 2) / 2)
    assert macro.count == 12


def test_children_without_the_metric_or_a_number_are_skipped():
    node = group("g", ["a", "b", "c", "d"], MACRO)
    children = {
        "a": {ACC_KEY: Score(0.5, 0.1, 10)},
        "b": {("f1", "none"): Score(0.9, 0.1, 10)},
        "c": {ACC_KEY: Score({"not": "a number"}, None, 10)},
    }
    assert aggregate_group(node, children) == {ACC_KEY: Score(0.5, pytest.approx(0.1), 10)}


def test_no_combined_score_when_no_child_has_it():
    assert aggregate_group(group("g", ["a"], MICRO), {"a": {("f1", "none"): Score(1.0, 0.0, 3)}}) == {}


@pytest.mark.parametrize("entry", [MICRO, MACRO])
def test_an_unknown_child_stderr_makes_the_group_stderr_unknown(entry):
    children = {"a": {ACC_KEY: Score(1.0, None, 1)}, "b": {ACC_KEY: Score(0.0, 0.1, 20)}}
    combined = aggregate_group(group("g", ["a", "b"], entry), children)[ACC_KEY]
    assert combined.stderr is None
    assert combined.value == pytest.approx(1 / 21 if entry.weight_by_size else 0.5)


def test_group_filters_are_combined_separately():
    entry = AggregateMetric("acc", weight_by_size=False, filter_list=("none", "strict"))
    children = {
        "a": {("acc", "none"): Score(1.0, 0.0, 2), ("acc", "strict"): Score(0.5, 0.5, 2)},
        "b": {("acc", "none"): Score(0.0, 0.0, 2)},
    }
    assert aggregate_group(group("g", ["a", "b"], entry), children) == {
        ("acc", "none"): Score(0.5, 0.0, 4),
        ("acc", "strict"): Score(0.5, 0.5, 2),
    }
