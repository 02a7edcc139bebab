"""Per-sample metrics: one number for one document."""

from __future__ import annotations

import math
import re
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from lmms_eval.api.response import LoglikelihoodScore
from lmms_eval.registry import Registry


@dataclass(frozen=True)
class GenerationMetric:
    """Scores one generated answer against the gold answer(s)."""

    score: Callable[..., float]
    aggregation: str = "mean"
    higher_is_better: bool = True


GENERATION_METRICS: Registry[GenerationMetric] = Registry("metric", entry_point_group="lmms_eval.metrics")

_PUNCTUATION = str.maketrans("", "", string.punctuation)


def normalise_for_exact_match(
    text: str,
    ignore_case: bool = False,
    ignore_punctuation: bool = False,
    ignore_numbers: bool = False,
    regexes_to_ignore: Sequence[str] | None = None,
) -> str:
    """The HF-evaluate steps, in order: regex removal, case, punctuation (deleted, not
    replaced by a space), digits. No article removal, no whitespace collapsing."""
    for pattern in regexes_to_ignore or ():
        text = re.sub(pattern, "", text)
    if ignore_case:
        text = text.lower()
    if ignore_punctuation:
        text = text.translate(_PUNCTUATION)
    if ignore_numbers:
        text = text.translate(str.maketrans("", "", string.digits))
    return text


def exact_match(
    prediction: str,
    references: Sequence[str],
    ignore_case: bool = False,
    ignore_punctuation: bool = False,
    ignore_numbers: bool = False,
    regexes_to_ignore: Sequence[str] | None = None,
) -> float:
    """1.0 when the prediction equals any gold answer after the same normalisation."""
    options = {"ignore_case": ignore_case, "ignore_punctuation": ignore_punctuation, "ignore_numbers": ignore_numbers, "regexes_to_ignore": regexes_to_ignore}
    predicted = normalise_for_exact_match(str(prediction), **options)
    return float(any(predicted == normalise_for_exact_match(str(gold), **options) for gold in references))


def anls(prediction: str, references: Sequence[str], threshold: float = 0.5) -> float:
    """Average Normalized Levenshtein Similarity of one answer (best over golds).

    Strings are lower-cased, stripped and whitespace-collapsed; the normalised distance
    divides by the longer string; a distance of `threshold` or more scores 0.
    """
    predicted = _anls_normalise(str(prediction))
    best = 0.0
    for gold in references:
        target = _anls_normalise(str(gold))
        longest = max(len(predicted), len(target))
        distance = levenshtein(predicted, target) / longest if longest else 0.0
        best = max(best, 1.0 - distance if distance < threshold else 0.0)
    return best


def _anls_normalise(text: str) -> str:
    return " ".join(text.lower().split())


def levenshtein(first: str, second: str) -> int:
    if len(first) < len(second):
        first, second = second, first
    previous = list(range(len(second) + 1))
    for i, char_a in enumerate(first, 1):
        current = [i]
        for j, char_b in enumerate(second, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b)))
        previous = current
    return previous[-1]


GENERATION_METRICS.add("exact_match", GenerationMetric(exact_match))
GENERATION_METRICS.add("anls", GenerationMetric(anls))

# Metrics computed from log-likelihoods, by output type; their default aggregations.
LOGLIKELIHOOD_METRICS = {"acc": "mean", "perplexity": "perplexity"}
MULTIPLE_CHOICE_METRICS = {"acc": "mean", "acc_norm": "mean"}
LOWER_IS_BETTER = {"perplexity"}


def multiple_choice_scores(scores: Sequence[LoglikelihoodScore], choices: Sequence[str], golds: Sequence[int]) -> dict[str, float]:
    """acc: the most likely choice is a gold one. acc_norm: the same after dividing each
    log-likelihood by the choice's length in characters (longer choices are not penalised)."""
    logprobs = [score.logprob for score in scores]
    normalised = [logprob / max(len(choice), 1) for logprob, choice in zip(logprobs, choices)]
    return {
        "acc": float(_argmax(logprobs) in golds),
        "acc_norm": float(_argmax(normalised) in golds),
    }


def loglikelihood_scores(score: LoglikelihoodScore) -> dict[str, float]:
    """perplexity carries the log-likelihood; its aggregation exponentiates the mean."""
    return {"perplexity": score.logprob, "acc": float(score.is_greedy)}


def _argmax(values: Sequence[float]) -> int:
    """The first highest value's index, NaN skipped (max() over a leading NaN returns NaN);
    -1, no choice, when every value is NaN."""
    numbers = [(value, -i) for i, value in enumerate(values) if not math.isnan(value)]
    return -max(numbers)[1] if numbers else -1
