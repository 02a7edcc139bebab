"""Aggregations (many per-sample values -> one score) and their standard errors."""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from lmms_eval.registry import Registry

Aggregation = Callable[[Sequence[Any]], Any]

AGGREGATIONS: Registry[Aggregation] = Registry("aggregation", entry_point_group="lmms_eval.aggregations")


@AGGREGATIONS.register("mean")
def mean(values: Sequence[float]) -> float:
    return float(np.mean(np.asarray(values, dtype=float)))


@AGGREGATIONS.register("median")
def median(values: Sequence[float]) -> float:
    return float(np.median(np.asarray(values, dtype=float)))


@AGGREGATIONS.register("bypass")
def bypass(values: Sequence[Any]) -> int:
    """No aggregate: lmms-eval task files use it for per-sample values kept only for the
    samples log (extracted answers). Reports lmms-eval's placeholder, 999."""
    return 999


@AGGREGATIONS.register("perplexity")
def perplexity(values: Sequence[float]) -> float:
    """exp of the negative mean log-likelihood."""
    return float(math.exp(-np.mean(np.asarray(values, dtype=float))))


# Vectorised forms for the bootstrap: (resamples, n) -> (resamples,).
_VECTORISED: dict[Aggregation, Callable[[np.ndarray], np.ndarray]] = {
    median: lambda table: np.median(table, axis=1),
    perplexity: lambda table: np.exp(-table.mean(axis=1)),
    mean: lambda table: table.mean(axis=1),
}

# Custom aggregations are plain Python and may be slow: they get fewer resamples.
CUSTOM_BOOTSTRAP_CAP = 100
_CHUNK = 1000


def mean_stderr(values: Sequence[float]) -> float | None:
    """Sample standard deviation over sqrt(n): the analytic standard error of a mean."""
    if len(values) < 2:
        return None
    array = np.asarray(values, dtype=float)
    return float(array.std(ddof=1) / math.sqrt(len(array)))


def stderr_for(aggregation: Aggregation, values: Sequence[Any], bootstrap_iters: int, seed: int) -> float | None:
    """Analytic for means; a seeded bootstrap for anything else (None when impossible)."""
    if aggregation is mean:
        return mean_stderr(values)
    if aggregation is bypass:
        return None
    if bootstrap_iters <= 0 or len(values) < 2:
        return None
    rng = np.random.default_rng(seed)
    vectorised = _VECTORISED.get(aggregation)
    if vectorised is not None:
        statistics = _bootstrap_vectorised(vectorised, np.asarray(values, dtype=float), bootstrap_iters, rng)
    else:
        statistics = _bootstrap_python(aggregation, list(values), min(bootstrap_iters, CUSTOM_BOOTSTRAP_CAP), rng)
    if statistics is None or len(statistics) < 2:
        return None
    return float(np.std(statistics, ddof=1))


def _bootstrap_vectorised(vectorised: Callable[[np.ndarray], np.ndarray], values: np.ndarray, iters: int, rng: np.random.Generator) -> np.ndarray:
    results = []
    for start in range(0, iters, _CHUNK):
        rows = min(_CHUNK, iters - start)
        indices = rng.integers(0, len(values), size=(rows, len(values)))
        results.append(vectorised(values[indices]))
    return np.concatenate(results)


def _bootstrap_python(aggregation: Aggregation, values: list[Any], iters: int, rng: np.random.Generator) -> np.ndarray | None:
    statistics = []
    for _ in range(iters):
        indices = rng.integers(0, len(values), size=len(values))
        try:
            statistic = aggregation([values[i] for i in indices])
        except Exception:  # noqa: BLE001 - some aggregations need structure a resample breaks (pairs)
            return None
        if not isinstance(statistic, numbers.Real) or isinstance(statistic, bool):  # Real: numpy scalars too
            return None  # a custom aggregation that returns a structure has no single stderr
        statistics.append(float(statistic))
    return np.asarray(statistics)


def pooled_stderr(sizes: Sequence[int], means: Sequence[float], stderrs: Sequence[float]) -> float:
    """Standard error of the mean of all samples of several subtasks pooled together,
    from each subtask's size, mean and standard error alone."""
    total = sum(sizes)
    grand_mean = sum(n * m for n, m in zip(sizes, means)) / total
    within = sum((n - 1) * (se * math.sqrt(n)) ** 2 for n, se in zip(sizes, stderrs))
    between = sum(n * (m - grand_mean) ** 2 for n, m in zip(sizes, means))
    variance = (within + between) / (total - 1)
    return math.sqrt(variance / total)
