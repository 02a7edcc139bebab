"""Aggregations and standard errors: mean / median / perplexity, bootstrap, pooling."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lmms_eval.metrics import aggregation as agg
from lmms_eval.metrics.aggregation import (
    AGGREGATIONS,
    CUSTOM_BOOTSTRAP_CAP,
    mean,
    mean_stderr,
    median,
    perplexity,
    pooled_stderr,
    stderr_for,
)


def test_aggregations() -> None:
    assert mean([1, 2, 3, 4]) == 2.5
    assert median([3, 1, 2]) == 2.0
    assert median([4, 1, 3, 2]) == 2.5
    assert perplexity([-1.0, -3.0]) == pytest.approx(math.exp(2.0))
    assert perplexity([0.0]) == 1.0
    assert [AGGREGATIONS.get(name) for name in ("mean", "median", "perplexity")] == [mean, median, perplexity]


def test_mean_stderr_uses_sample_std() -> None:
    # mean 0.75; squared deviations 0.5625 + 3 * 0.0625 = 0.75; / (n-1) = 0.25; std 0.5; / sqrt(4) = 0.25
    assert mean_stderr([0, 1, 1, 1]) == pytest.approx(0.25)
    assert mean_stderr([2.0, 4.0]) == pytest.approx(1.0)  # std sqrt(2) / sqrt(2)
    assert mean_stderr([5.0]) is None
    assert mean_stderr([]) is None


def test_stderr_for_mean_is_analytic() -> None:
    assert stderr_for(mean, [0, 1, 1, 1], bootstrap_iters=0, seed=0) == pytest.approx(0.25)


def test_bootstrap_is_seeded() -> None:
    values = [0.1, 0.5, 0.9, 0.3, 0.7, 0.2, 0.8]
    first = stderr_for(median, values, 500, seed=1234)
    assert first == stderr_for(median, values, 500, seed=1234)
    assert first != stderr_for(median, values, 500, seed=4321)
    assert 0 < first < 0.5


def test_bootstrap_more_than_one_chunk() -> None:
    values = [float(v) for v in range(20)]
    many = stderr_for(median, values, 2500, seed=3)
    assert many == stderr_for(median, values, 2500, seed=3)
    assert many is not None and 0 < many < 5


def test_bootstrap_of_constants_is_zero() -> None:
    assert stderr_for(perplexity, [-1.0, -1.0, -1.0], 100, seed=0) == pytest.approx(0.0, abs=1e-12)
    assert stderr_for(median, [2, 2], 100, seed=0) == 0.0


def test_bootstrap_close_to_analytic_for_a_mean() -> None:
    values = [0.0, 1.0] * 50  # a mean's bootstrap std: population std / sqrt(n) = 0.5 / 10 = 0.05
    vectorised = stderr_for(perplexity, [-v for v in values], 2000, seed=0)
    assert stderr_for(lambda v: float(np.mean(v)), values, 2000, seed=0) == pytest.approx(0.05, rel=0.2)
    assert vectorised == pytest.approx(math.e**0.5 * 0.05, rel=0.2)  # delta method: exp(m) * se


def test_no_bootstrap_when_impossible_or_disabled() -> None:
    assert stderr_for(median, [1.0, 2.0, 3.0], 0, seed=0) is None
    assert stderr_for(median, [1.0], 100, seed=0) is None
    assert stderr_for(mean, [1.0], 100, seed=0) is None


def test_custom_aggregation_capped() -> None:
    calls: list[int] = []

    def custom(values: list[float]) -> float:
        calls.append(len(values))
        return sum(values) / len(values)

    assert stderr_for(custom, [1.0, 2.0, 3.0], 10_000, seed=0) is not None
    assert len(calls) == CUSTOM_BOOTSTRAP_CAP == 100
    assert set(calls) == {3}
    calls.clear()
    stderr_for(custom, [1.0, 2.0, 3.0], 7, seed=0)
    assert len(calls) == 7


def test_custom_aggregation_same_seed_same_value() -> None:
    def custom(values: list[float]) -> float:
        return max(values) - min(values)

    values = [1.0, 4.0, 2.0, 8.0, 5.0]
    assert stderr_for(custom, values, 50, seed=9) == stderr_for(custom, values, 50, seed=9)
    assert stderr_for(custom, values, 50, seed=9) != stderr_for(custom, values, 50, seed=10)


def test_custom_aggregation_numpy_scalars_count_as_numbers() -> None:
    assert stderr_for(lambda v: np.int64(sum(v)), [0, 1, 2], 20, seed=0) is not None
    assert stderr_for(lambda v: np.float32(sum(v)), [0, 1, 2], 20, seed=0) is not None


@pytest.mark.parametrize("result", [{"a": 1.0}, [1.0, 2.0], "0.5", True, None])
def test_non_numeric_custom_aggregation_has_no_stderr(result: object) -> None:
    assert stderr_for(lambda values: result, [1.0, 2.0, 3.0], 100, seed=0) is None


def test_pooled_stderr_equals_stderr_of_concatenation() -> None:
    first, second = [1, 0, 1, 1], [0, 0, 1, 0, 1, 1]
    pooled = pooled_stderr([4, 6], [0.75, 0.5], [mean_stderr(first), mean_stderr(second)])
    # 10 values, 6 ones: mean 0.6, squared deviations 6 * 0.16 + 4 * 0.36 = 2.4, / 9, / 10
    assert pooled == pytest.approx(math.sqrt(2.4 / 90), abs=1e-12)
    assert pooled == pytest.approx(mean_stderr(first + second), abs=1e-12)


def test_pooled_stderr_three_real_valued_parts() -> None:
    parts = [[0.2, 0.9, 0.4], [1.5, -0.5], [0.0, 0.3, 0.3, 2.0, 1.1]]
    pooled = pooled_stderr([len(p) for p in parts], [mean(p) for p in parts], [mean_stderr(p) for p in parts])
    assert pooled == pytest.approx(mean_stderr([v for p in parts for v in p]), abs=1e-12)


def test_vectorised_forms_match_plain_aggregations() -> None:
    table = np.array([[1.0, 2.0, 4.0], [-1.0, -2.0, -6.0]])
    for function in (mean, median, perplexity):
        assert list(agg._VECTORISED[function](table)) == pytest.approx([function(row) for row in table])
