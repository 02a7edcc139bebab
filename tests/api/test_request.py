"""Request keys (content hashes) and the Response constructors."""

from __future__ import annotations

import hashlib
import json

import pytest
from PIL import Image

from lmms_eval.api.media import media_digest
from lmms_eval.api.messages import ChatMessages
from lmms_eval.api.request import Origin, Request, RequestType
from lmms_eval.api.response import Failure, FailureKind, LoglikelihoodScore, Response, Usage

GEN = RequestType.GENERATE_UNTIL
LL = RequestType.LOGLIKELIHOOD


def image(rgb=(220, 30, 30)) -> Image.Image:
    return Image.new("RGB", (4, 4), rgb)


def simple(**changes) -> Request:
    fields = {
        "type": GEN,
        "origin": Origin("colours", 3, 0),
        "context": "What colour?",
        "visuals": (image(),),
        "gen_kwargs": {"until": ["\n\n"], "max_new_tokens": 16},
        "task_hash": "abc",
    }
    fields.update(changes)
    return Request(**fields)


def test_key_is_the_hash_of_the_canonical_payload():
    request = simple()
    payload = {
        "type": "generate_until",
        "task": "colours",
        "task_hash": "abc",
        "doc_id": 3,
        "index": 0,
        "context": "What colour?",
        "media": [media_digest(image())],
        "continuation": None,
        "gen_kwargs": {"until": ["\n\n"], "max_new_tokens": 16},
    }
    expected = hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    assert request.key == expected
    assert len(request.key) == 64


def test_equal_requests_have_equal_keys():
    assert simple().key == simple().key  # new image objects, same pixels
    assert simple(gen_kwargs={"max_new_tokens": 16, "until": ["\n\n"]}).key == simple().key  # kwarg order is not content


@pytest.mark.parametrize(
    "changes",
    [
        {"context": "What colour is it?"},
        {"visuals": (image((30, 60, 220)),)},
        {"visuals": ()},
        {"gen_kwargs": {"until": ["\n\n"], "max_new_tokens": 17}},
        {"origin": Origin("colours", 4, 0)},
        {"origin": Origin("colours", 3, 1)},
        {"origin": Origin("shapes", 3, 0)},
        {"task_hash": "abd"},
        {"type": LL, "continuation": " red"},
    ],
)
def test_any_content_change_changes_the_key(changes):
    assert simple(**changes).key != simple().key


def test_continuation_is_part_of_the_key():
    assert simple(type=LL, continuation=" red").key != simple(type=LL, continuation=" blue").key


def test_chat_requests_key_media_inside_the_messages():
    def chat(rgb) -> Request:
        return Request(GEN, Origin("colours", 0), ChatMessages.build("Which?", [image(rgb)], system="S"))

    first, same, other = chat((1, 2, 3)), chat((1, 2, 3)), chat((1, 2, 4))
    assert first.is_chat and not simple().is_chat
    assert first.key == same.key != other.key
    assert first.prompt == [
        {"role": "system", "content": [{"type": "text", "text": "S"}]},
        {"role": "user", "content": [{"type": "image", "digest": media_digest(image((1, 2, 3)))}, {"type": "text", "text": "Which?"}]},
    ]
    assert first.visuals == ()


def test_simple_prompt_is_the_context():
    assert simple().prompt == "What colour?"


def test_tuple_and_list_gen_kwargs_give_the_same_key():
    assert simple(gen_kwargs={"until": ("a", "b")}).key == simple(gen_kwargs={"until": ["a", "b"]}).key


def test_requests_are_frozen():
    with pytest.raises(AttributeError):
        simple().key = "x"  # type: ignore[misc]


def test_origin_defaults_to_the_first_answer():
    assert Origin("t", 5) == Origin("t", 5, 0)


# --- responses -------------------------------------------------------------------------


def test_generated_response():
    request = simple()
    response = Response.generated(request, "red", Usage(12, 1))
    assert (response.key, response.origin, response.text, response.usage) == (request.key, request.origin, "red", Usage(12, 1))
    assert response.ok and response.value == "red"
    assert response.loglikelihood is None and response.failure is None


def test_generated_empty_text_is_an_answer():
    response = Response.generated(simple(), "")
    assert response.ok and response.value == ""


def test_scored_response():
    request = simple(type=LL, continuation=" red")
    response = Response.scored(request, -1.25, True)
    assert response.loglikelihood == LoglikelihoodScore(-1.25, True)
    assert response.value == LoglikelihoodScore(logprob=-1.25, is_greedy=True)
    assert response.ok and response.text is None and response.key == request.key


def test_failed_response_has_no_value():
    request = simple()
    response = Response.failed(request, FailureKind.TIMEOUT, "no answer within 1 s", attempts=3)
    assert not response.ok
    assert response.failure == Failure(FailureKind.TIMEOUT, "no answer within 1 s", 3)
    assert Response.failed(request, FailureKind.BACKEND, "boom").failure.attempts == 1
    with pytest.raises(ValueError, match=f"request {request.key} failed: no answer within 1 s"):
        response.value


def test_usage_adds_up():
    assert Usage(3, 4) + Usage(10, 1) == Usage(13, 5)
    assert Usage() == Usage(0, 0)


def test_failure_kind_values():
    assert {kind.value for kind in FailureKind} == {
        "rate_limited", "server_error", "connection", "timeout", "rejected", "bad_response", "backend", "bad_input",
    }
