"""Paired comparison of two runs' samples, and the sample count a paired comparison needs.

Samples pair by task and doc id; a pair whose request keys (the prompt as sent, media
digests included) or task versions differ is not comparable and is left out of the test.
Binary scores get an exact McNemar test; other scores a seeded paired bootstrap.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from statistics import NormalDist
from typing import Any

BOOTSTRAP_ITERS = 10_000
BOOTSTRAP_SEED = 1234
CONFIDENCE = 0.95


@dataclass
class ChangedSample:
    doc_id: int
    prompt: Any
    answer_a: Any
    answer_b: Any
    score_a: float
    score_b: float


@dataclass
class TaskComparison:
    task: str
    metric: str  # "metric,filter"
    test: str  # "mcnemar_exact" or "paired_bootstrap"
    paired: int
    mean_a: float
    mean_b: float
    difference: float  # mean_b - mean_a
    ci_low: float
    ci_high: float
    p_value: float
    better: int  # samples whose score went up from A to B
    worse: int
    not_comparable: list[dict[str, Any]] = field(default_factory=list)  # doc id and why
    unpaired: int = 0  # samples only one run has, or unscored (failed) in one of them
    changed: list[ChangedSample] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# --- tests -------------------------------------------------------------------------------


def mcnemar_exact_p(better: int, worse: int) -> float:
    """Two-sided exact McNemar p-value: a binomial test of the discordant pairs at 1/2."""
    discordant = better + worse
    if discordant == 0:
        return 1.0
    tail = sum(math.comb(discordant, i) for i in range(min(better, worse) + 1)) / 2**discordant
    return min(1.0, 2 * tail)


def paired_binary_ci(better: int, worse: int, n: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Normal interval for the difference of paired proportions, (better - worse) / n."""
    difference = (better - worse) / n
    variance = max((better + worse) / n - difference**2, 0.0) / n
    half = NormalDist().inv_cdf(0.5 + confidence / 2) * math.sqrt(variance)
    return difference - half, difference + half


def paired_bootstrap(a: list[float], b: list[float], iters: int = BOOTSTRAP_ITERS, seed: int = BOOTSTRAP_SEED,
                     confidence: float = CONFIDENCE) -> tuple[float, float, float]:
    """Percentile interval of mean(b - a) over resampled pairs, and a two-sided p-value
    (twice the smaller share of resampled differences on either side of zero)."""
    import numpy as np

    differences = np.asarray(b, dtype=float) - np.asarray(a, dtype=float)
    n = len(differences)
    rng = np.random.default_rng(seed)
    chunk = max(1, 2_000_000 // n)  # resample in blocks: bounded memory for large tasks
    means = np.concatenate([differences[rng.integers(0, n, (min(chunk, iters - done), n))].mean(axis=1) for done in range(0, iters, chunk)])
    low, high = np.quantile(means, [(1 - confidence) / 2, (1 + confidence) / 2])
    if not differences.any():
        return float(low), float(high), 1.0
    below, above = float((means <= 0).mean()), float((means >= 0).mean())
    return float(low), float(high), min(1.0, 2 * min(below, above))


def power_sample_size(effect: float, alpha: float = 0.05, power: float = 0.8, sd_a: float = 0.5, sd_b: float = 0.5,
                      correlation: float = 0.5) -> int:
    """Pairs needed for a two-sided paired z-test to detect `effect` (difference of means)."""
    sd_difference = math.sqrt(sd_a**2 + sd_b**2 - 2 * correlation * sd_a * sd_b)
    z = NormalDist().inv_cdf(1 - alpha / 2) + NormalDist().inv_cdf(power)
    return math.ceil((z * sd_difference / effect) ** 2)


# --- pairing ------------------------------------------------------------------------------


def first_metric(rows: list[dict[str, Any]]) -> str | None:
    for row in rows:
        for filter_name, metrics in (row.get("scores") or {}).items():
            for metric in metrics:
                return f"{metric},{filter_name}"
    return None


def _score(row: dict[str, Any], metric_key: str) -> float | None:
    metric, _, filter_name = metric_key.partition(",")
    value = (row.get("scores") or {}).get(filter_name, {}).get(metric)
    if isinstance(value, bool):
        return float(value)
    return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else None


def compare_task(task: str, rows_a: list[dict[str, Any]], rows_b: list[dict[str, Any]], metric_key: str | None = None,
                 seed: int = BOOTSTRAP_SEED) -> TaskComparison | None:
    """None when neither run scored the task."""
    metric_key = metric_key or first_metric(rows_a) or first_metric(rows_b)
    if metric_key is None:
        return None
    by_doc_b = {row.get("doc_id"): row for row in rows_b}
    pairs, not_comparable, unpaired = [], [], 0
    for row_a in rows_a:
        row_b = by_doc_b.pop(row_a.get("doc_id"), None)
        if row_b is None:
            unpaired += 1
            continue
        reason = _not_comparable_reason(row_a, row_b)
        if reason:
            not_comparable.append({"doc_id": row_a.get("doc_id"), "reason": reason})
            continue
        score_a, score_b = _score(row_a, metric_key), _score(row_b, metric_key)
        if score_a is None or score_b is None:
            unpaired += 1
            continue
        pairs.append((row_a, row_b, score_a, score_b))
    unpaired += len(by_doc_b)
    return _summarise(task, metric_key, pairs, not_comparable, unpaired, seed)


def _not_comparable_reason(row_a: dict[str, Any], row_b: dict[str, Any]) -> str | None:
    if row_a.get("request_keys") != row_b.get("request_keys"):
        return "prompts differ (request keys)"
    if row_a.get("task_version") != row_b.get("task_version"):
        return f"task versions differ ({row_a.get('task_version')} vs {row_b.get('task_version')})"
    return None


def _summarise(task: str, metric_key: str, pairs: list[tuple], not_comparable: list[dict[str, Any]], unpaired: int,
               seed: int) -> TaskComparison:
    a = [pair[2] for pair in pairs]
    b = [pair[3] for pair in pairs]
    n = len(pairs)
    better = sum(1 for x, y in zip(a, b) if y > x)
    worse = sum(1 for x, y in zip(a, b) if y < x)
    changed = [ChangedSample(ra.get("doc_id"), ra.get("prompt"), ra.get("filtered_resps"), rb.get("filtered_resps"), x, y)
               for ra, rb, x, y in pairs if x != y]
    if n == 0:
        nan = float("nan")
        return TaskComparison(task, metric_key, "none", 0, nan, nan, nan, nan, nan, 1.0, 0, 0, not_comparable, unpaired, [])
    binary = all(value in (0.0, 1.0) for value in a + b)
    if binary:
        low, high = paired_binary_ci(better, worse, n)
        p_value, test = mcnemar_exact_p(better, worse), "mcnemar_exact"
    else:
        low, high, p_value = paired_bootstrap(a, b, seed=seed)
        test = "paired_bootstrap"
    mean_a, mean_b = sum(a) / n, sum(b) / n
    return TaskComparison(task, metric_key, test, n, mean_a, mean_b, mean_b - mean_a, low, high, p_value, better, worse,
                          not_comparable, unpaired, changed)


def format_comparison(result: TaskComparison, show_changed: int = 20) -> str:
    lines = [
        f"{result.task} {result.metric}: A {result.mean_a:.4f}  B {result.mean_b:.4f}  difference {result.difference:+.4f} "
        f"[{result.ci_low:+.4f}, {result.ci_high:+.4f}] {int(CONFIDENCE * 100)}% CI, p = {result.p_value:.4g} ({result.test}); "
        f"{result.paired} pairs, {result.better} better in B, {result.worse} worse"
    ]
    if result.not_comparable:
        lines.append(f"  WARNING {len(result.not_comparable)} pairs not comparable, left out: "
                     + "; ".join(f"doc {item['doc_id']}: {item['reason']}" for item in result.not_comparable[:5]))
    if result.unpaired:
        lines.append(f"  {result.unpaired} samples without a scored partner in the other run, left out")
    for sample in result.changed[:show_changed]:
        lines.append(f"  doc {sample.doc_id}: {sample.score_a:g} -> {sample.score_b:g}  A {_brief(sample.answer_a)}  B {_brief(sample.answer_b)}  "
                     f"prompt {_brief(_prompt_text(sample.prompt))}")
    if len(result.changed) > show_changed:
        lines.append(f"  ... {len(result.changed) - show_changed} more changed samples (--json lists all)")
    return "\n".join(lines)


def _prompt_text(prompt: Any) -> str:
    if isinstance(prompt, list):
        from lmms_eval.report.html import _content_parts  # a message's content as parts, plain text included

        texts = [part.get("text", "") for message in prompt for part in _content_parts(message) if part.get("type") == "text"]
        return " ".join(texts)
    return str(prompt)


def _brief(value: Any, limit: int = 60) -> str:
    import json

    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return repr(text if len(text) <= limit else text[:limit] + "...")


# --- power per task ----------------------------------------------------------------------


@dataclass
class PowerPlan:
    """What a paired comparison of one task needs, and what its size can detect."""

    task: str
    needed: int  # pairs for the effect at the asked power
    sd_a: float
    sd_b: float
    correlation: float
    sources: dict[str, str]  # for sd and correlation: "observed" or "default" or "given"
    size: int | None = None  # the task's sample count, when a results file gives it
    detectable: float | None = None  # the smallest effect its size detects at the asked power

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def power_plan(task: str, effect: float, alpha: float, power: float, sd_a: float, sd_b: float, correlation: float,
               sources: dict[str, str], size: int | None = None) -> PowerPlan:
    needed = power_sample_size(effect, alpha, power, sd_a, sd_b, correlation)
    detectable = None
    if size:
        z = NormalDist().inv_cdf(1 - alpha / 2) + NormalDist().inv_cdf(power)
        detectable = z * math.sqrt(sd_a**2 + sd_b**2 - 2 * correlation * sd_a * sd_b) / math.sqrt(size)
    return PowerPlan(task, needed, sd_a, sd_b, correlation, sources, size, detectable)


def observed_sd(rows: list[dict[str, Any]], metric_key: str | None = None) -> float | None:
    """Sample standard deviation (n - 1) of a task's per-sample scores; None with fewer than
    two scores or none that differ (a zero spread says nothing about the next run)."""
    metric_key = metric_key or first_metric(rows)
    values = [value for row in rows if metric_key and (value := _score(row, metric_key)) is not None]
    if len(values) < 2:
        return None
    mean = sum(values) / len(values)
    sd = math.sqrt(sum((value - mean) ** 2 for value in values) / (len(values) - 1))
    return sd if sd > 0 else None


def observed_correlation(rows_a: list[dict[str, Any]], rows_b: list[dict[str, Any]], metric_key: str | None = None) -> float | None:
    """Pearson correlation of the paired scores (pairs by doc id, comparable pairs only);
    None when it is undefined (under two pairs, or one run's scores all equal)."""
    metric_key = metric_key or first_metric(rows_a) or first_metric(rows_b)
    if metric_key is None:
        return None
    by_doc = {row.get("doc_id"): row for row in rows_b}
    pairs = []
    for row_a in rows_a:
        row_b = by_doc.get(row_a.get("doc_id"))
        if row_b is None or _not_comparable_reason(row_a, row_b):
            continue
        score_a, score_b = _score(row_a, metric_key), _score(row_b, metric_key)
        if score_a is not None and score_b is not None:
            pairs.append((score_a, score_b))
    if len(pairs) < 2:
        return None
    mean_a = sum(a for a, _ in pairs) / len(pairs)
    mean_b = sum(b for _, b in pairs) / len(pairs)
    cov = sum((a - mean_a) * (b - mean_b) for a, b in pairs)
    var_a = sum((a - mean_a) ** 2 for a, _ in pairs)
    var_b = sum((b - mean_b) ** 2 for _, b in pairs)
    return cov / math.sqrt(var_a * var_b) if var_a > 0 and var_b > 0 else None


def format_power_plan(plan: PowerPlan) -> str:
    same = plan.sd_a == plan.sd_b and plan.sources["sd_a"] == plan.sources["sd_b"]
    spread = (f"sd {plan.sd_a:.4g} ({plan.sources['sd_a']})" if same
              else f"sd A {plan.sd_a:.4g} ({plan.sources['sd_a']}), B {plan.sd_b:.4g} ({plan.sources['sd_b']})")
    line = f"{plan.task}: {plan.needed} pairs needed ({spread}, correlation {plan.correlation:.4g} ({plan.sources['correlation']}))"
    if plan.size is None:
        return line + "; task size unknown (give --results)"
    verdict = "enough" if plan.size >= plan.needed else "not enough"
    return line + f"; the task has {plan.size}: {verdict}, it detects {plan.detectable:.4f} at this power"
