"""A Response holds exactly one of text, a log-likelihood or a failure, each of its own type."""

from __future__ import annotations

import pytest

from lmms_eval.api.request import Origin, Request, RequestType
from lmms_eval.api.response import Failure, FailureKind, LoglikelihoodScore, Response, Usage

ORIGIN = Origin("colours", 3)


def request() -> Request:
    return Request(RequestType.GENERATE_UNTIL, ORIGIN, "What colour?")


@pytest.mark.parametrize("text", [42, 4.2, ["red"], [{"type": "text", "text": "red"}], {"text": "red"}, b"red", True])
def test_text_that_is_not_a_string_is_refused(text):
    with pytest.raises(TypeError, match="text must be str"):
        Response.generated(request(), text)


def test_every_way_of_building_a_response_checks_it():
    with pytest.raises(TypeError, match="text must be str"):
        Response(key="k", origin=ORIGIN, text=42)
    with pytest.raises(TypeError, match="loglikelihood must be LoglikelihoodScore"):
        Response(key="k", origin=ORIGIN, loglikelihood=(-1.0, True))
    with pytest.raises(TypeError, match="failure must be Failure"):
        Response(key="k", origin=ORIGIN, failure="timeout")
    with pytest.raises(TypeError, match="usage must be Usage"):
        Response(key="k", origin=ORIGIN, text="red", usage=[10, 1])


@pytest.mark.parametrize(
    "fields",
    [{}, {"text": "red", "loglikelihood": LoglikelihoodScore(-1.0, True)}, {"text": "red", "failure": Failure(FailureKind.TIMEOUT, "t", 1)}],
)
def test_exactly_one_answer_or_failure(fields):
    with pytest.raises(ValueError, match="exactly one of"):
        Response(key="k", origin=ORIGIN, **fields)


@pytest.mark.parametrize("counts", [("n/a", 1), (1, -1), (True, 0), (1.5, 0), (None, 0)])
def test_usage_is_counts_of_tokens(counts):
    with pytest.raises(TypeError, match="count of tokens"):
        Usage(*counts)


def test_valid_responses_still_build():
    assert Response.generated(request(), "", Usage(0, 0)).value == ""
    assert Response.scored(request(), -0.5, False).ok
    assert not Response.failed(request(), FailureKind.BAD_RESPONSE, "content is a number").ok
