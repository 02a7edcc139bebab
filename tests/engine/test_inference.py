"""Stage 4: run_inference keeps every answer, and records the ones a backend never gave."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import pytest

from lmms_eval.api.messages import ChatMessages
from lmms_eval.api.model import Model
from lmms_eval.api.request import Origin, Request, RequestType
from lmms_eval.api.response import FailureKind, LoglikelihoodScore, Response, Usage
from lmms_eval.engine.inference import TaskResponses, run_inference
from lmms_eval.errors import ModelError


def request(doc_id: int, index: int = 0, kind: RequestType = RequestType.GENERATE_UNTIL, context="Q") -> Request:
    return Request(kind, Origin("t", doc_id, index), context, continuation=" a" if kind is RequestType.LOGLIKELIHOOD else None)


class Echo(Model):
    """Answers `doc:index` in reverse order of arrival, with one token of usage each."""

    def generate_until(self, requests: Iterable[Request]) -> Iterator[Response]:
        answers = [Response.generated(r, f"{r.origin.doc_id}:{r.origin.index}", Usage(2, 1)) for r in requests]
        yield from reversed(answers)

    def loglikelihood(self, requests: Iterable[Request]) -> Iterator[Response]:
        for r in requests:
            yield Response.scored(r, -float(r.origin.index), r.origin.index == 0)


class DropsOne(Model):
    """Reads every request but never answers doc 1."""

    def generate_until(self, requests: Iterable[Request]) -> Iterator[Response]:
        for r in requests:
            if r.origin.doc_id != 1:
                yield Response.generated(r, "ok")


class StopsEarly(Model):
    """Answers the first two requests and never looks at the rest."""

    def generate_until(self, requests: Iterable[Request]) -> Iterator[Response]:
        for count, r in enumerate(requests):
            if count == 2:
                return
            yield Response.generated(r, "ok")


class Progress:
    def __init__(self) -> None:
        self.count = 0

    def update(self, n: int) -> None:
        self.count += n


def test_collects_every_response_by_doc_and_index():
    requests = [request(0), request(1), request(1, 1), request(2)]
    progress = Progress()
    collected = run_inference(Echo(), RequestType.GENERATE_UNTIL, requests, progress)
    assert {key: response.text for key, response in collected.responses.items()} == {
        (0, 0): "0:0", (1, 0): "1:0", (1, 1): "1:1", (2, 0): "2:0",
    }
    assert [response.key for response in collected.by_doc()[1]] == [requests[1].key, requests[2].key]
    assert list(collected.by_doc()) == [0, 1, 2]
    assert collected.failures == [] and collected.failure_kinds() == {}
    assert collected.usage() == Usage(8, 4)
    assert progress.count == 4


def test_prompts_are_kept_for_the_first_answer_of_each_doc():
    chat = ChatMessages.build("Chat?")
    requests = [request(0, context="First"), request(0, 1, context="Second"), Request(RequestType.GENERATE_UNTIL, Origin("t", 1), chat)]
    collected = run_inference(Echo(), RequestType.GENERATE_UNTIL, requests)
    assert collected.prompts == {0: "First", 1: [{"role": "user", "content": [{"type": "text", "text": "Chat?"}]}]}


def test_dispatches_loglikelihood_requests():
    requests = [request(0, index, RequestType.LOGLIKELIHOOD) for index in range(3)]
    collected = run_inference(Echo(), RequestType.LOGLIKELIHOOD, requests)
    assert [response.value for response in collected.by_doc()[0]] == [
        LoglikelihoodScore(0.0, True), LoglikelihoodScore(-1.0, False), LoglikelihoodScore(-2.0, False),
    ]
    assert collected.usage() == Usage()


def test_a_request_the_backend_never_answered_is_a_backend_failure():
    requests = [request(0), request(1), request(2)]
    collected = run_inference(DropsOne(), RequestType.GENERATE_UNTIL, requests)
    assert sorted(collected.responses) == [(0, 0), (1, 0), (2, 0)]
    missing = collected.responses[(1, 0)]
    assert missing.key == requests[1].key and missing.origin == requests[1].origin
    assert missing.failure.kind is FailureKind.BACKEND
    assert missing.failure.message == "the backend returned no response"
    assert collected.failures == [missing]
    assert collected.failure_kinds() == {"backend": 1}


def test_requests_a_backend_never_read_are_failures_too():
    requests = [request(doc_id) for doc_id in range(5)]
    collected = run_inference(StopsEarly(), RequestType.GENERATE_UNTIL, requests)
    assert sorted(collected.responses) == [(doc_id, 0) for doc_id in range(5)]
    assert [doc_id for (doc_id, _), response in sorted(collected.responses.items()) if response.ok] == [0, 1]
    assert collected.failure_kinds() == {"backend": 3}
    assert collected.responses[(4, 0)].key == requests[4].key


def test_failures_are_counted_by_kind():
    class Flaky(Model):
        def generate_until(self, requests):
            for r in requests:
                kind = FailureKind.TIMEOUT if r.origin.doc_id % 2 else FailureKind.RATE_LIMITED
                yield Response.failed(r, kind, "no", attempts=2) if r.origin.doc_id else Response.generated(r, "ok")

    collected = run_inference(Flaky(), RequestType.GENERATE_UNTIL, [request(doc_id) for doc_id in range(5)])
    assert collected.failure_kinds() == {"timeout": 2, "rate_limited": 2}
    assert len(collected.failures) == 4


def test_a_backend_without_the_method_says_so():
    class GenerateOnly(Model):
        def generate_until(self, requests):
            return iter(())

    model = GenerateOnly()
    assert model.supports(RequestType.GENERATE_UNTIL) and not model.supports(RequestType.LOGLIKELIHOOD)
    with pytest.raises(ModelError, match="cannot answer loglikelihood requests"):
        run_inference(model, RequestType.LOGLIKELIHOOD, [request(0, kind=RequestType.LOGLIKELIHOOD)])


def test_task_responses_add_replaces_the_same_origin():
    answered = TaskResponses()
    first = request(0)
    answered.add(Response.failed(first, FailureKind.TIMEOUT, "slow"))
    answered.add(Response.generated(first, "late"))
    assert [response.text for response in answered.by_doc()[0]] == ["late"]
