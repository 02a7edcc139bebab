"""Per-sample metrics: exact_match, anls, levenshtein, multiple-choice and log-likelihood scores."""

from __future__ import annotations

import math

import pytest

from lmms_eval.api.response import LoglikelihoodScore
from lmms_eval.metrics.sample import (
    GENERATION_METRICS,
    anls,
    exact_match,
    levenshtein,
    loglikelihood_scores,
    multiple_choice_scores,
    normalise_for_exact_match,
)


@pytest.mark.parametrize(
    ("prediction", "golds", "options", "expected"),
    [
        ("Paris", ["Paris"], {}, 1.0),
        ("paris", ["Paris"], {}, 0.0),
        ("paris", ["Paris"], {"ignore_case": True}, 1.0),
        ("U.S.A.", ["USA"], {"ignore_punctuation": True}, 1.0),
        ("a-b", ["a b"], {"ignore_punctuation": True}, 0.0),  # deleted, not replaced by a space
        ("a-b", ["ab"], {"ignore_punctuation": True}, 1.0),
        ("room 101", ["room "], {"ignore_numbers": True}, 1.0),
        ("a  b", ["a b"], {}, 0.0),  # no whitespace collapsing
        (" a", ["a"], {}, 0.0),
        ("the cat", ["cat"], {"regexes_to_ignore": ["^the "]}, 1.0),
        ("The cat", ["cat"], {"regexes_to_ignore": ["^the "], "ignore_case": True}, 0.0),  # regexes run before lower-casing
        ("The cat!", ["cat"], {"regexes_to_ignore": ["^The "], "ignore_case": True, "ignore_punctuation": True}, 1.0),
        ("blue", ["red", "blue"], {}, 1.0),  # any gold
        ("green", ["red", "blue"], {}, 0.0),
        ("3", [3], {}, 1.0),
        ("x", [], {}, 0.0),
    ],
)
def test_exact_match(prediction: str, golds: list, options: dict, expected: float) -> None:
    assert exact_match(prediction, golds, **options) == expected


def test_normalisation_steps_in_order() -> None:
    text = "The 2 Cats, (x)!"
    assert normalise_for_exact_match(text, True, True, True, [r"\(x\)"]) == "the  cats "


@pytest.mark.parametrize(
    ("prediction", "golds", "expected"),
    [
        ("abcd", ["abcd"], 1.0),
        ("abcd", ["abce"], 0.75),  # 1 edit / 4
        ("abcd", ["abcdef"], 1 - 2 / 6),  # divides by the longer string
        ("abc", ["abcdef"], 0.0),  # NL exactly 0.5 scores 0
        ("ab", ["ac"], 0.0),  # NL exactly 0.5 again
        ("abcde", ["abxye"], 0.6),  # NL 0.4 keeps 0.6
        ("abcd", ["zzzz", "abce", "abcx"], 0.75),  # best over golds
        ("  Hello   WORLD ", ["hello world"], 1.0),  # lower-cased, whitespace collapsed
        ("", [""], 1.0),
        ("", ["a"], 0.0),
        ("x", [], 0.0),
    ],
)
def test_anls(prediction: str, golds: list[str], expected: float) -> None:
    assert anls(prediction, golds) == pytest.approx(expected, abs=1e-12)


def test_anls_threshold() -> None:
    assert anls("abcde", ["abxye"], threshold=0.4) == 0.0
    assert anls("ab", ["ac"], threshold=0.51) == 0.5


@pytest.mark.parametrize(
    ("first", "second", "distance"),
    [("kitten", "sitting", 3), ("sitting", "kitten", 3), ("", "abc", 3), ("abc", "", 3), ("flaw", "lawn", 2), ("same", "same", 0), ("ab", "ba", 2)],
)
def test_levenshtein(first: str, second: str, distance: int) -> None:
    assert levenshtein(first, second) == distance


def test_generation_metric_registry() -> None:
    assert GENERATION_METRICS.get("exact_match").score is exact_match
    assert GENERATION_METRICS.get("anls").aggregation == "mean"
    assert GENERATION_METRICS.get("anls").higher_is_better is True


def scores(*logprobs: float) -> list[LoglikelihoodScore]:
    return [LoglikelihoodScore(logprob, False) for logprob in logprobs]


def test_acc_and_acc_norm_differ() -> None:
    # raw: "a" (-2) beats "bbbb" (-4); per character: -2/1 = -2 loses to -4/4 = -1.
    choices = ["a", "bbbb"]
    assert multiple_choice_scores(scores(-2.0, -4.0), choices, [1]) == {"acc": 0.0, "acc_norm": 1.0}
    assert multiple_choice_scores(scores(-2.0, -4.0), choices, [0]) == {"acc": 1.0, "acc_norm": 0.0}
    assert multiple_choice_scores(scores(-2.0, -4.0), choices, [0, 1]) == {"acc": 1.0, "acc_norm": 1.0}


def test_acc_ties_go_to_first_and_nan_is_skipped() -> None:
    assert multiple_choice_scores(scores(-1.0, -1.0), ["x", "y"], [0]) == {"acc": 1.0, "acc_norm": 1.0}
    assert multiple_choice_scores(scores(math.nan, -3.0, -1.0), ["a", "b", "c"], [2]) == {"acc": 1.0, "acc_norm": 1.0}
    assert multiple_choice_scores(scores(math.nan, math.nan), ["a", "b"], [0]) == {"acc": 0.0, "acc_norm": 0.0}


def test_empty_choice_text_counts_as_length_one() -> None:
    assert multiple_choice_scores(scores(-2.0, -3.0), ["", "abc"], [0])  # -2/1 < -3/3 == {"acc": 1.0, "acc_norm": 0.0}


def test_loglikelihood_scores() -> None:
    assert loglikelihood_scores(LoglikelihoodScore(-1.5, True)) == {"perplexity": -1.5, "acc": 1.0}
    assert loglikelihood_scores(LoglikelihoodScore(-0.25, False)) == {"perplexity": -0.25, "acc": 0.0}
