"""The `openai` backend against the local colour-oracle server (and tiny servers of our own)."""

from __future__ import annotations

import asyncio
import base64
import io
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from aiohttp import web
from PIL import Image

from lmms_eval.api.messages import ChatMessages
from lmms_eval.api.request import Origin, Request, RequestType
from lmms_eval.api.response import FailureKind, Usage
from lmms_eval.errors import ModelError, ServerUnreachableError
from lmms_eval.models import MODELS
from lmms_eval.models.api.openai_chat import OpenAIChat
from lmms_eval.testing.server import CAPITALS_CUE, PALETTE, SENTENCE_CUE, FaultPlan, Misbehaviour, MisbehaviourPlan, OracleServer

FAST = {"retry_base_delay": 0.01, "max_retry_delay": 0.05}
COLOURS = ["red", "green", "blue", "yellow", "black", "white", "orange", "purple"]


def image(colour: str, size: int = 8) -> Image.Image:
    return Image.new("RGB", (size, size), PALETTE[colour])


def ask(doc_id: int, colour: str | None = "red", text: str = "What colour?", **gen_kwargs) -> Request:
    """A simple-model style request: text with the image beside it."""
    visuals = (image(colour),) if colour else ()
    return Request(RequestType.GENERATE_UNTIL, Origin("colours", doc_id), text, visuals, gen_kwargs=gen_kwargs)


def ask_chat(doc_id: int, messages: ChatMessages, **gen_kwargs) -> Request:
    return Request(RequestType.GENERATE_UNTIL, Origin("colours", doc_id), messages, gen_kwargs=gen_kwargs)


def model_for(server: OracleServer, **args) -> OpenAIChat:
    return OpenAIChat(base_url=server.base_url, **{**FAST, **args})


def answers(model: OpenAIChat, requests: list[Request]) -> dict[int, object]:
    """doc id -> response, checking that each request got exactly one."""
    responses = list(model.generate_until(requests))
    by_doc = {response.origin.doc_id: response for response in responses}
    assert len(responses) == len(requests) == len(by_doc)
    return by_doc


def dead_port() -> int:
    """A port nothing listens on: bound, then released."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def tiny_server(routes: dict[tuple[str, str], object]) -> Iterator[str]:
    """An aiohttp app on 127.0.0.1 on its own thread; yields its /v1 base URL."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    app = web.Application()
    for (method, path), handler in routes.items():
        app.router.add_route(method, path, handler)
    runner = web.AppRunner(app, shutdown_timeout=0.5)

    async def start() -> int:
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        return runner.addresses[0][1]

    port = asyncio.run_coroutine_threadsafe(start(), loop).result(5)
    try:
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(5)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()


def completion(content: object, usage: dict | None = None) -> dict:
    body: dict = {"choices": [{"index": 0, "message": {"role": "assistant", "content": content}}]}
    if usage is not None:
        body["usage"] = usage
    return body


# --- construction --------------------------------------------------------------------


def test_registered_under_both_names():
    assert MODELS.get("openai") is OpenAIChat
    assert MODELS.get("openai_compatible") is OpenAIChat
    assert OpenAIChat.is_chat is True
    assert OpenAIChat.secret_args == ("api_key",)


def test_model_is_discovered_from_the_models_endpoint(start_oracle):
    server = start_oracle(model_name="served-model")
    model = model_for(server)
    assert model.model == "served-model"
    assert model.identity == "served-model"
    assert model.base_url == server.base_url  # no trailing slash kept


def test_given_model_wins_and_base_url_loses_its_trailing_slash(oracle):
    model = OpenAIChat(model="mine", base_url=oracle.base_url + "/")
    assert model.model == "mine"
    assert model.base_url == oracle.base_url
    assert OpenAIChat(model_version="v2", base_url=oracle.base_url).model == "v2"


def test_base_url_and_key_fall_back_to_the_environment(oracle, monkeypatch):
    monkeypatch.delenv("OPENAI_API_BASE", raising=False)
    monkeypatch.setenv("OPENAI_BASE_URL", oracle.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "env-key")
    model = OpenAIChat()
    assert (model.base_url, model.api_key, model.model) == (oracle.base_url, "env-key", "colour-oracle")


@pytest.mark.parametrize(
    "args, message",
    [
        ({"num_concurrent": 0}, "num_concurrent must be at least 1"),
        ({"image_format": "gif"}, "image_format must be PNG or JPEG, not gif"),
        ({"bogus": 1}, "OpenAIChat does not take model_args bogus"),
    ],
)
def test_bad_arguments_are_model_errors(args, message):
    with pytest.raises(ModelError, match=message):
        OpenAIChat(model="m", base_url=f"http://127.0.0.1:{dead_port()}/v1", **args)


def test_create_builds_from_model_args(oracle):
    model = OpenAIChat.create({"base_url": oracle.base_url, "num_concurrent": 3, "max_retries": 2}, batch_size=8)
    assert (model.model, model.num_concurrent, model.retry.max_retries) == ("colour-oracle", 3, 2)


def test_unreachable_server_without_model_raises_quickly():
    started = time.monotonic()
    with pytest.raises(ServerUnreachableError, match="cannot reach http://127.0.0.1"):
        OpenAIChat(base_url=f"http://127.0.0.1:{dead_port()}/v1", **FAST)
    assert time.monotonic() - started < 2.0


def test_models_endpoint_problems_are_model_errors():
    async def refused(request):
        return web.json_response({"error": {"message": "no"}}, status=401)

    async def empty(request):
        return web.json_response({"object": "list", "data": []})

    async def broken(request):
        return web.Response(status=503, text="down")

    with tiny_server({("GET", "/v1/models"): refused}) as url:
        with pytest.raises(ModelError, match=r"refused the API key \(HTTP 401\)"):
            OpenAIChat(base_url=url)
    with tiny_server({("GET", "/v1/models"): empty}) as url:
        with pytest.raises(ModelError, match="lists no model; pass model=NAME"):
            OpenAIChat(base_url=url)
    with tiny_server({("GET", "/v1/models"): broken}) as url:
        with pytest.raises(ModelError, match="answered HTTP 503"):
            OpenAIChat(base_url=url)


def test_first_listed_model_is_used_when_several_are_served():
    async def two(request):
        return web.json_response({"data": [{"id": "first"}, {"id": "second"}, {"no-id": 1}]})

    with tiny_server({("GET", "/v1/models"): two}) as url:
        assert OpenAIChat(base_url=url).model == "first"


# --- payloads ------------------------------------------------------------------------


def test_payload_carries_a_png_data_url_and_the_text(oracle):
    model = model_for(oracle)
    response = answers(model, [ask(0, "blue", "What colour is this?")])[0]
    assert response.text == "blue"
    body = oracle.bodies[0]
    assert body["model"] == "colour-oracle"
    assert [message["role"] for message in body["messages"]] == ["user"]
    image_part, text_part = body["messages"][0]["content"]
    assert text_part == {"type": "text", "text": "What colour is this?"}
    url = image_part["image_url"]["url"]
    assert image_part["type"] == "image_url" and url.startswith("data:image/png;base64,")
    decoded = Image.open(io.BytesIO(base64.b64decode(url.partition(",")[2])))
    assert decoded.format == "PNG" and decoded.size == (8, 8)
    assert decoded.convert("RGB").getpixel((3, 3)) == PALETTE["blue"]


def test_jpeg_images_are_sent_as_jpeg(oracle):
    model = model_for(oracle, image_format="jpeg")
    assert answers(model, [ask(0, "orange")])[0].text == "orange"
    assert oracle.bodies[0]["messages"][0]["content"][0]["image_url"]["url"].startswith("data:image/jpeg;base64,")


def test_default_sampling_options(oracle):
    model = model_for(oracle, max_new_tokens=77)
    answers(model, [ask(0, until=["\n\n"]), ask(1, max_new_tokens=5, until=[])])
    by_tokens = {body["max_tokens"]: body for body in oracle.bodies}
    assert {key: value for key, value in by_tokens[77].items() if key != "messages"} == {
        "model": "colour-oracle",
        "max_tokens": 77,
        "temperature": 0.0,
        "stop": ["\n\n"],
    }
    assert {key: value for key, value in by_tokens[5].items() if key != "messages"} == {
        "model": "colour-oracle",
        "max_tokens": 5,
        "temperature": 0.0,
    }


@pytest.mark.parametrize(
    "gen_kwargs, sent",
    [
        ({"do_sample": False, "top_p": 0.5}, {"temperature": 0.0}),
        ({"do_sample": False, "temperature": 0, "top_p": 0.5}, {"temperature": 0.0}),
        ({"do_sample": True, "temperature": 0.7, "top_p": 0.9, "seed": 3}, {"temperature": 0.7, "top_p": 0.9, "seed": 3}),
        # a temperature above 0 means sampling even without do_sample
        ({"do_sample": False, "temperature": 0.3, "top_p": 0.5}, {"temperature": 0.3, "top_p": 0.5}),
        ({"do_sample": True}, {"temperature": 1.0}),
        ({"do_sample": True, "temperature": None}, {"temperature": 1.0}),
        ({"num_beams": 4, "top_k": 5}, {"temperature": 0.0}),
    ],
)
def test_sampling_options(oracle, gen_kwargs, sent):
    response = answers(model_for(oracle, max_new_tokens=10), [ask(0, **gen_kwargs)])[0]
    assert response.text == "red"
    body = oracle.bodies[0]
    assert {key: value for key, value in body.items() if key not in ("messages", "model")} == {"max_tokens": 10, **sent}


def test_stop_list_is_capped_at_four_and_applied_client_side(oracle):
    model = model_for(oracle)
    until = ["#1", "", "#2", "#3", "#4", " is", "#5"]
    response = answers(model, [ask(0, "red", f"Name it. {SENTENCE_CUE}", until=until)])[0]
    assert oracle.bodies[0]["stop"] == ["#1", "#2", "#3", "#4"]
    # The oracle said "The answer is Red."; the fifth stop, never sent, still cuts it.
    assert response.text == "The answer"


def test_earliest_stop_wins_whatever_its_position_in_the_list(oracle):
    model = model_for(oracle)
    until = ["#1", "#2", "#3", "#4", "Red", "answer"]
    response = answers(model, [ask(0, "red", SENTENCE_CUE, until=until)])[0]
    assert response.text == "The "


def test_server_side_stop_is_honoured(oracle):
    model = model_for(oracle)
    response = answers(model, [ask(0, "yellow", SENTENCE_CUE, until=["is"])])[0]
    assert oracle.bodies[0]["stop"] == ["is"]
    assert response.text == "The answer "  # cut at the stop; the raw text keeps its space


def test_system_message_comes_first_when_the_conversation_has_one(oracle):
    model = model_for(oracle)
    messages = ChatMessages.build(f"Which colour? {CAPITALS_CUE}", [image("purple")], system="You see colours.")
    response = answers(model, [ask_chat(0, messages)])[0]
    assert response.text == "PURPLE"
    sent = oracle.bodies[0]["messages"]
    assert sent[0] == {"role": "system", "content": [{"type": "text", "text": "You see colours."}]}
    assert [message["role"] for message in sent] == ["system", "user"]
    assert [part["type"] for part in sent[1]["content"]] == ["image_url", "text"]
    # 3 system words + 5 user words + 10 per image
    assert response.usage == Usage(prompt_tokens=18, completion_tokens=1)


def test_no_system_message_without_one(oracle):
    model = model_for(oracle)
    answers(model, [ask_chat(0, ChatMessages.build("Hi", [image("red")]))])
    assert [message["role"] for message in oracle.bodies[0]["messages"]] == ["user"]


def test_responses_are_parsed_with_usage(oracle):
    model = model_for(oracle)
    by_doc = answers(model, [ask(0, "green", "What colour is it?"), ask(1, None, "Hello")])
    assert by_doc[0].text == "green" and by_doc[0].ok
    assert by_doc[0].usage == Usage(prompt_tokens=4 + 10, completion_tokens=1)
    assert by_doc[1].text == "no image"
    assert by_doc[1].usage == Usage(prompt_tokens=1, completion_tokens=2)
    assert by_doc[0].key == ask(0, "green", "What colour is it?").key


def test_an_undecodable_video_is_rejected_without_being_sent(oracle, tmp_path):
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"not really a video")
    model = model_for(oracle, use_frame_cache=False)
    request = Request(RequestType.GENERATE_UNTIL, Origin("colours", 0), "Describe", (str(clip),))
    response = answers(model, [request, ask(1, "red")])
    assert response[0].failure.kind is FailureKind.REJECTED
    assert response[0].failure.attempts == 0
    assert "cannot decode video" in response[0].failure.message
    assert response[1].text == "red"
    assert oracle.chat_requests == 1


def test_an_image_part_that_is_not_a_pil_image_is_rejected_not_raised(oracle, tmp_path):
    # doc_to_messages may name an image by path; the request is refused, the run goes on.
    path = tmp_path / "red.png"
    image("red").save(path)
    messages = ChatMessages.from_dicts([{"role": "user", "content": [{"type": "image", "url": str(path)}, {"type": "text", "text": "Hi"}]}])
    by_doc = answers(model_for(oracle), [ask_chat(0, messages), ask(1, "green")])
    assert by_doc[0].failure.kind is FailureKind.REJECTED
    assert by_doc[0].failure.attempts == 0
    assert by_doc[1].text == "green"
    assert oracle.chat_requests == 1


# --- concurrency -----------------------------------------------------------------------


class CountingOracle(OracleServer):
    """Counts how many chat requests are being handled at once."""

    def __init__(self, **options):
        super().__init__(**options)
        self.in_flight = 0
        self.most_in_flight = 0

    async def _chat(self, request):
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            return await super()._chat(request)
        finally:
            self.in_flight -= 1


@pytest.fixture
def counting_oracle() -> Iterator[CountingOracle]:
    with CountingOracle(latency=0.1) as server:
        yield server


def test_every_request_is_answered_with_fewer_slots_than_requests(oracle):
    requests = [ask(doc_id, COLOURS[doc_id % len(COLOURS)]) for doc_id in range(11)]
    by_doc = answers(model_for(oracle, num_concurrent=3), requests)
    assert {doc_id: response.text for doc_id, response in by_doc.items()} == {
        doc_id: COLOURS[doc_id % len(COLOURS)] for doc_id in range(11)
    }
    assert all(response.key == request.key for request, response in zip(requests, (by_doc[i] for i in range(11))))
    assert (oracle.chat_requests, oracle.answered) == (11, 11)


def test_concurrency_is_bounded_by_num_concurrent(counting_oracle):
    model = model_for(counting_oracle, num_concurrent=3)
    started = time.monotonic()
    answers(model, [ask(doc_id) for doc_id in range(9)])
    elapsed = time.monotonic() - started
    assert counting_oracle.most_in_flight == 3
    assert elapsed >= 3 * 0.1  # three waves of 100 ms at least


def test_requests_run_concurrently_up_to_the_limit(counting_oracle):
    model = model_for(counting_oracle, num_concurrent=8)
    started = time.monotonic()
    answers(model, [ask(doc_id) for doc_id in range(8)])
    assert counting_oracle.most_in_flight == 8
    assert time.monotonic() - started < 8 * 0.1  # far faster than one at a time


def test_requests_are_pulled_lazily(start_oracle):
    server = start_oracle(latency=0.02)
    pulled = []

    def requests() -> Iterator[Request]:
        for doc_id in range(10):
            pulled.append(doc_id)
            yield ask(doc_id)

    stream = model_for(server, num_concurrent=2).generate_until(requests())
    first = next(stream)
    assert first.ok
    assert len(pulled) <= 4  # two in flight, and each worker's next one at most
    assert len([first, *stream]) == 10
    assert len(pulled) == 10


def test_stopping_early_cancels_what_is_in_flight(start_oracle):
    server = start_oracle(latency=0.05)
    stream = model_for(server, num_concurrent=4).generate_until(ask(doc_id) for doc_id in range(20))
    assert next(stream).ok
    stream.close()  # must neither raise nor hang
    assert server.chat_requests <= 5 + 3


# --- retries and failures --------------------------------------------------------------


def _texts(by_doc: dict) -> dict:
    return {doc_id: (response.key, response.text, response.usage) for doc_id, response in by_doc.items()}


@pytest.mark.parametrize(
    "fault",
    [
        FaultPlan(status=429, every=1, failures=2, retry_after="0"),
        FaultPlan(status=500, every=1, failures=2),
        FaultPlan(status=503, every=1, failures=1, retry_after="0"),
    ],
)
def test_faults_are_retried_until_the_answer_matches_a_clean_run(start_oracle, fault):
    requests = [ask(doc_id, COLOURS[doc_id]) for doc_id in range(4)]
    clean_server = start_oracle()
    clean = answers(model_for(clean_server, num_concurrent=2), requests)
    faulty_server = start_oracle(fault=fault)
    recovered = answers(model_for(faulty_server, num_concurrent=2, max_retries=3), requests)
    assert _texts(recovered) == _texts(clean)
    assert all(response.ok for response in recovered.values())
    assert faulty_server.answered == 4
    assert faulty_server.chat_requests == 4 * (1 + fault.failures)
    assert clean_server.chat_requests == 4


def test_only_selected_requests_are_retried(start_oracle):
    server = start_oracle(fault=FaultPlan(status=500, every=2, failures=1))
    requests = [ask(doc_id, COLOURS[doc_id % 8], f"Question {doc_id}?") for doc_id in range(12)]
    by_doc = answers(model_for(server, num_concurrent=4), requests)
    assert all(response.ok for response in by_doc.values())
    faulted = server.chat_requests - server.answered
    assert server.answered == 12
    assert faulted == len(server._failures)  # each selected body failed exactly once


@pytest.mark.parametrize("status, kind", [(429, FailureKind.RATE_LIMITED), (500, FailureKind.SERVER_ERROR), (408, FailureKind.SERVER_ERROR)])
def test_exhausted_retries_become_a_failure(start_oracle, status, kind):
    server = start_oracle(fault=FaultPlan(status=status, every=1, failures=10, retry_after="0"))
    by_doc = answers(model_for(server, max_retries=2, num_concurrent=2), [ask(0), ask(1, "blue")])
    for response in by_doc.values():
        assert response.failure.kind is kind
        assert response.failure.attempts == 3
        assert response.failure.message == f"HTTP {status}: injected fault (HTTP {status})"
        assert response.text is None
        with pytest.raises(ValueError, match="failed"):
            response.value
    assert (server.chat_requests, server.answered) == (6, 0)


def test_zero_retries_means_one_attempt(start_oracle):
    server = start_oracle(fault=FaultPlan(status=502, every=1, failures=1))
    response = answers(model_for(server, max_retries=0), [ask(0)])[0]
    assert (response.failure.kind, response.failure.attempts) == (FailureKind.SERVER_ERROR, 1)
    assert server.chat_requests == 1


def test_a_bad_request_is_rejected_and_not_retried(oracle):
    by_doc = answers(model_for(oracle, max_retries=3), [ask(0, max_new_tokens=-1), ask(1, "green")])
    failure = by_doc[0].failure
    assert failure.kind is FailureKind.REJECTED
    assert failure.attempts == 1
    assert failure.message == "HTTP 400: 'max_tokens' must be a positive integer"
    assert by_doc[1].text == "green"
    assert (oracle.chat_requests, oracle.answered) == (2, 1)


def test_other_client_errors_are_not_retried(start_oracle):
    server = start_oracle(fault=FaultPlan(status=404, every=1, failures=5))
    response = answers(model_for(server, max_retries=3), [ask(0)])[0]
    assert (response.failure.kind, response.failure.attempts) == (FailureKind.REJECTED, 1)
    assert response.failure.message == "HTTP 404: injected fault (HTTP 404)"
    assert server.chat_requests == 1


def test_unreachable_server_with_a_model_raises_before_the_first_request():
    model = OpenAIChat(model="m", base_url=f"http://127.0.0.1:{dead_port()}/v1", max_retries=5, **FAST)
    started = time.monotonic()
    with pytest.raises(ServerUnreachableError, match="cannot reach"):
        list(model.generate_until([ask(0)]))
    assert time.monotonic() - started < 2.0  # one check, not five retries


def gone_away(start_oracle, **args) -> OpenAIChat:
    """A model whose server answered its first request and has stopped since (its port is dead)."""
    server = start_oracle()
    model = model_for(server, model="colour-oracle", **args)
    assert answers(model, [ask(99)])[99].ok  # the server has been reached: later failures are the breaker's
    server.stop()
    return model


BREAKER_FAST = {"probe_interval": 0.05, "give_up_after": 0.4}


def given_up(response, model: OpenAIChat) -> bool:
    return response.failure.message.endswith(f"{model.base_url} gave no answer for 0.4 s, so the request was given up")


def test_a_dead_server_is_probed_then_given_up_on(start_oracle):
    model = gone_away(start_oracle, max_retries=2, num_concurrent=1, down_after=2, **BREAKER_FAST)
    started = time.monotonic()
    responses = list(model.generate_until([ask(doc_id) for doc_id in range(8)]))
    assert 0.4 <= time.monotonic() - started < 5.0
    assert [response.origin.doc_id for response in responses] == list(range(8))
    assert all(response.failure.kind is FailureKind.CONNECTION for response in responses)
    # The first used its retries (as probes once the breaker opened); later ones went one at a time as probes.
    assert responses[0].failure.attempts == 3
    assert all(response.failure.attempts <= 3 for response in responses)
    assert responses[0].failure.message.startswith("cannot connect to 127.0.0.1:")
    unsent = [response for response in responses if response.failure.attempts == 0]
    assert unsent and all(given_up(response, model) for response in unsent)
    assert unsent[0].failure.message.startswith("not sent: ")


def test_a_dead_server_with_requests_in_flight(start_oracle):
    model = gone_away(start_oracle, max_retries=3, num_concurrent=4, down_after=3, **BREAKER_FAST)
    started = time.monotonic()
    responses = list(model.generate_until([ask(doc_id) for doc_id in range(20)]))
    assert time.monotonic() - started < 5.0
    assert sorted(response.origin.doc_id for response in responses) == list(range(20))
    assert {response.failure.kind for response in responses} == {FailureKind.CONNECTION}
    tried = [response for response in responses if response.failure.attempts > 0]
    assert 4 <= len(tried) <= 10  # what was in flight when it opened, and a few probes
    assert sum(given_up(response, model) for response in responses) >= 10


def test_one_connection_reset_fails_only_its_own_request(start_oracle):
    server = start_oracle(misbehaviour=MisbehaviourPlan(Misbehaviour.RESET, total=1))
    by_doc = answers(model_for(server, max_retries=0, num_concurrent=4), [ask(doc_id, COLOURS[doc_id % 8]) for doc_id in range(24)])
    failed = [response for response in by_doc.values() if not response.ok]
    assert len(failed) == 1 and failed[0].failure.kind is FailureKind.CONNECTION
    assert failed[0].failure.attempts == 1
    assert server.answered == 23


@pytest.mark.parametrize("max_retries, failed", [(0, 1), (1, 0)])
def test_a_reply_cut_mid_body_fails_only_its_own_request_and_is_retried(start_oracle, max_retries, failed):
    server = start_oracle(misbehaviour=MisbehaviourPlan(Misbehaviour.CUT_BODY, total=1))
    by_doc = answers(model_for(server, max_retries=max_retries, num_concurrent=4), [ask(doc_id, COLOURS[doc_id % 8]) for doc_id in range(24)])
    failures = [response.failure for response in by_doc.values() if not response.ok]
    assert len(failures) == failed
    assert all(failure.message.startswith("the reply was cut off") for failure in failures)
    assert server.answered == 24 - failed


def test_a_silent_server_is_given_up_on_quickly(start_oracle):
    server = start_oracle(misbehaviour=MisbehaviourPlan(Misbehaviour.HANG))
    model = model_for(server, timeout=0.2, max_retries=1, num_concurrent=4, down_after=4, **BREAKER_FAST)
    started = time.monotonic()
    responses = list(model.generate_until([ask(doc_id) for doc_id in range(30)]))
    assert time.monotonic() - started < 5.0
    assert len(responses) == 30 and not any(response.ok for response in responses)
    assert server.chat_requests <= 4 + 4 + 3  # one wave, its retries and a probe or few, not 60 attempts
    sent = [response for response in responses if response.failure.attempts]
    assert all(response.failure.kind is FailureKind.TIMEOUT for response in sent)
    assert sum(given_up(response, model) for response in responses) >= 20


def test_answers_before_the_silence_are_kept(start_oracle):
    server = start_oracle(misbehaviour=MisbehaviourPlan(Misbehaviour.HANG, after=6))
    model = model_for(server, timeout=0.2, max_retries=0, num_concurrent=2, down_after=2, **BREAKER_FAST)
    responses = list(model.generate_until([ask(doc_id, COLOURS[doc_id % 8]) for doc_id in range(20)]))
    assert len(responses) == 20
    answered = [response for response in responses if response.ok]
    assert len(answered) == server.answered >= 6
    assert all(response.text == COLOURS[response.origin.doc_id % 8] for response in answered)


class AlternatingResets(OracleServer):
    """Resets every other connection, in order of arrival."""

    def _take_misbehaviour(self, raw):
        return Misbehaviour.RESET if self.chat_requests % 2 == 0 else None


def test_a_success_between_failures_keeps_the_breaker_closed():
    with AlternatingResets() as server:
        model = model_for(server, max_retries=0, num_concurrent=1, down_after=2, **BREAKER_FAST)
        responses = list(model.generate_until([ask(doc_id) for doc_id in range(16)]))
    assert [response.ok for response in responses] == [True, False] * 8
    assert server.chat_requests == 16  # every request was sent: none waited or was given up


def test_a_timeout_is_a_timeout_failure(start_oracle):
    server = start_oracle(latency=0.5)
    started = time.monotonic()
    response = answers(model_for(server, timeout=0.1, max_retries=1), [ask(0)])[0]
    assert time.monotonic() - started < 0.45
    assert response.failure.kind is FailureKind.TIMEOUT
    assert response.failure.attempts == 2
    assert response.failure.message == "no answer within 0.1 s"


def test_api_key_is_sent_as_a_bearer_header():
    seen: list[tuple[str, str | None]] = []

    async def models(request):
        seen.append(("models", request.headers.get("Authorization")))
        return web.json_response({"data": [{"id": "keyed"}]})

    async def chat(request):
        seen.append(("chat", request.headers.get("Authorization")))
        return web.json_response(completion("ok", {"prompt_tokens": 3, "completion_tokens": 1}))

    routes = {("GET", "/v1/models"): models, ("POST", "/v1/chat/completions"): chat}
    with tiny_server(routes) as url:
        model = OpenAIChat(base_url=url, api_key="sk-test", **FAST)
        response = answers(model, [ask(0)])[0]
    assert response.text == "ok" and response.usage == Usage(3, 1)
    assert seen == [("models", "Bearer sk-test"), ("chat", "Bearer sk-test")]


def test_an_api_key_with_a_line_break_is_refused_before_any_request(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test\r\nX-Injected: 1")
    with pytest.raises(ModelError, match="OPENAI_API_KEY.*line break"):
        OpenAIChat(base_url="http://127.0.0.1:9/v1", model="m")


def test_no_authorization_header_without_a_key(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    seen = []

    async def chat(request):
        seen.append(request.headers.get("Authorization"))
        return web.json_response(completion("ok"))

    with tiny_server({("POST", "/v1/chat/completions"): chat}) as url:
        response = answers(OpenAIChat(model="m", base_url=url, **FAST), [ask(0)])[0]
    assert seen == [None]
    assert (response.text, response.usage) == ("ok", None)


@pytest.mark.parametrize(
    "reply, message",
    [
        (web.Response(text="<html>oops</html>"), "not a chat completion: <html>oops</html>"),
        (web.json_response({"choices": []}), "not a chat completion"),
        (web.json_response({"choices": {"0": {}}}), "not a chat completion"),
        (web.json_response({"choices": [{"message": "red"}]}), "not a chat completion"),
        (web.json_response(completion(None)), "the completion has no text content (refusal or tool call)"),
        (web.json_response(completion(42)), "the completion's content is a number, not text"),
        (web.json_response(completion({"text": "red"})), "the completion's content is an object, not text"),
        (web.json_response(completion([{"type": "image_url"}, "red", {"type": "text", "text": 7}])), "the completion's content is a list without text parts"),
        (web.json_response({"error": {"message": "overloaded"}}), 'an error instead of a completion: {"message": "overloaded"}'),
    ],
)
def test_unreadable_completions_are_bad_responses(reply, message):
    calls = []

    async def chat(request):
        calls.append(1)
        return reply

    with tiny_server({("POST", "/v1/chat/completions"): chat}) as url:
        response = answers(OpenAIChat(model="m", base_url=url, max_retries=3, **FAST), [ask(0)])[0]
    assert response.failure.kind is FailureKind.BAD_RESPONSE
    assert response.failure.message.startswith(message)
    assert (response.failure.attempts, len(calls)) == (1, 1)


def test_error_messages_fall_back_to_the_body_text():
    async def chat(request):
        return web.Response(status=422, text="  unprocessable  ")

    with tiny_server({("POST", "/v1/chat/completions"): chat}) as url:
        response = answers(OpenAIChat(model="m", base_url=url, **FAST), [ask(0)])[0]
    assert response.failure.message == "HTTP 422: unprocessable"


def test_a_later_call_tries_a_server_that_was_down_again(start_oracle):
    model = gone_away(start_oracle, max_retries=0, num_concurrent=1, down_after=1, **BREAKER_FAST)
    down = list(model.generate_until([ask(doc_id) for doc_id in range(20)]))
    assert [response.failure.attempts for response in down][:2] == [1, 1]  # the first, then a probe
    assert down[-1].failure.attempts == 0
    again = list(model.generate_until([ask(0), ask(1)]))  # still down: one probe, then given up at once
    assert [response.failure.attempts for response in again] == [1, 0]
    model.base_url = start_oracle().base_url  # the server is back (here: at another address)
    assert [response.text for response in model.generate_until([ask(0)])] == ["red"]


def test_no_requests_no_responses(oracle):
    assert list(model_for(oracle).generate_until([])) == []
    assert oracle.chat_requests == 0


def test_a_server_without_a_model_list_serves_a_named_model():
    async def chat(request):
        return web.json_response(completion("fine"))

    with tiny_server({("POST", "/v1/chat/completions"): chat}) as url:  # /v1/models answers 404
        model = OpenAIChat(model="named", base_url=url, **FAST)
        assert [response.text for response in model.generate_until([ask(0)])] == ["fine"]
        with pytest.raises(ModelError, match="answered HTTP 404; pass model=NAME"):
            OpenAIChat(base_url=url, **FAST)


def test_an_unreadable_model_list_needs_a_named_model():
    async def models(request):
        return web.Response(text="not json")

    with tiny_server({("GET", "/v1/models"): models}) as url:
        assert OpenAIChat(model="named", base_url=url).model == "named"
        with pytest.raises(ModelError, match="lists no model"):
            OpenAIChat(base_url=url)


def test_proxy_comes_from_the_environment(monkeypatch):
    from lmms_eval.models.api.openai_chat import proxy_for

    for name in ("http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    assert proxy_for("http://10.0.0.1:8000/v1") is None
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    assert proxy_for("https://api.openai.com/v1") == "http://proxy.internal:3128"
    assert proxy_for("http://10.0.0.1:8000/v1") is None  # no proxy for plain http
    monkeypatch.setenv("NO_PROXY", "api.openai.com")
    assert proxy_for("https://api.openai.com/v1") is None


def test_close_releases_the_workers(oracle):
    model = model_for(oracle)
    assert [response.text for response in model.generate_until([ask(0)])] == ["red"]
    model.close()
    model.close()  # twice is harmless


def test_task_code_that_raises_stops_the_run_with_its_error(oracle):
    from lmms_eval.errors import DocumentError

    def requests() -> Iterator[Request]:
        yield ask(0)
        yield ask(1)
        raise DocumentError("task colours doc 2: doc_to_text raised KeyError: 'q'")

    with pytest.raises(DocumentError, match="doc 2"):
        list(model_for(oracle, num_concurrent=2).generate_until(requests()))


# --- reply shapes and secrets ------------------------------------------------------------


def test_content_given_as_parts_is_read_as_text():
    async def chat(request):
        parts = [{"type": "text", "text": "re"}, {"type": "image_url", "image_url": {"url": "data:,"}}, {"type": "text", "text": "d"}]
        return web.json_response(completion(parts, {"prompt_tokens": 4, "completion_tokens": 1}))

    with tiny_server({("POST", "/v1/chat/completions"): chat}) as url:
        response = answers(OpenAIChat(model="m", base_url=url, **FAST), [ask(0)])[0]
    assert (response.text, response.usage) == ("red", Usage(4, 1))


@pytest.mark.parametrize("usage", [{"prompt_tokens": "n/a"}, [10, 1], {"prompt_tokens": 3, "completion_tokens": -1}, {"prompt_tokens": True}, "12"])
def test_malformed_usage_is_logged_once_and_ignored(usage, caplog):
    async def chat(request):
        return web.json_response(completion("red", usage))

    with tiny_server({("POST", "/v1/chat/completions"): chat}) as url:
        by_doc = answers(OpenAIChat(model="m", base_url=url, num_concurrent=2, **FAST), [ask(doc_id) for doc_id in range(5)])
    assert [(response.text, response.usage) for response in by_doc.values()] == [("red", None)] * 5
    warnings = [record for record in caplog.records if "malformed token usage" in record.getMessage()]
    assert len(warnings) == 1


def test_usage_with_missing_or_integral_counts_is_kept():
    replies = iter([{"prompt_tokens": 5}, {"prompt_tokens": 5.0, "completion_tokens": None}, {}])

    async def chat(request):
        return web.json_response(completion("red", next(replies)))

    with tiny_server({("POST", "/v1/chat/completions"): chat}) as url:
        model = OpenAIChat(model="m", base_url=url, num_concurrent=1, **FAST)
        usages = [response.usage for response in model.generate_until([ask(doc_id) for doc_id in range(3)])]
    assert usages == [Usage(5, 0), Usage(5, 0), None]


SECRET_KEY = "sk-secret1234567890abcdef"


def test_a_key_echoed_in_a_long_error_text_is_blanked_before_the_text_is_cut(start_oracle):
    server = start_oracle(misbehaviour=MisbehaviourPlan(Misbehaviour.ECHO_AUTHORIZATION))
    response = answers(model_for(server, api_key=SECRET_KEY), [ask(0)])[0]
    message = response.failure.message
    assert response.failure.kind is FailureKind.REJECTED
    assert "Authorization: Bearer <redacted>" in message and message.endswith(" ...")
    assert "sk-" not in message and "secret" not in message


def test_a_key_in_an_unreadable_reply_is_blanked_too():
    async def chat(request):
        return web.Response(text="x" * 150 + request.headers["Authorization"] + "y" * 100)

    with tiny_server({("POST", "/v1/chat/completions"): chat}) as url:
        response = answers(OpenAIChat(model="m", base_url=url, api_key=SECRET_KEY, **FAST), [ask(0)])[0]
    assert response.failure.kind is FailureKind.BAD_RESPONSE
    assert "sk-" not in response.failure.message and "<redacted>" in response.failure.message


@pytest.mark.parametrize("args, message", [({"down_after": 0}, "down_after"), ({"probe_interval": 0}, "probe_interval"), ({"give_up_after": -1}, "give_up_after")])
def test_bad_breaker_arguments_are_model_errors(oracle, args, message):
    with pytest.raises(ModelError, match=message):
        model_for(oracle, **args)
