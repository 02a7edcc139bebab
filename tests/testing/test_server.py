"""The colour-oracle server speaks the OpenAI protocol well enough for the real SDK."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import aiohttp
import openai
import pytest
from openai import OpenAI
from PIL import Image

from lmms_eval.testing.server import ECHO_SECRET_OFFSET, PALETTE, FaultPlan, Misbehaviour, MisbehaviourPlan, OracleServer, nearest_colour


def data_url(colour: str, size: tuple[int, int] = (16, 16), fmt: str = "PNG") -> str:
    """A solid-colour image as a data URL; PNGs are stored uncompressed so size tracks pixels."""
    buffer = io.BytesIO()
    options = {"compress_level": 0} if fmt == "PNG" else {}
    Image.new("RGB", size, PALETTE[colour]).save(buffer, format=fmt, **options)
    return f"data:image/{fmt.lower()};base64,{base64.b64encode(buffer.getvalue()).decode()}"


def user(text: str | None = None, *colours: str) -> dict:
    parts: list[dict] = [{"type": "image_url", "image_url": {"url": data_url(c)}} for c in colours]
    if text is not None:
        parts.append({"type": "text", "text": text})
    return {"role": "user", "content": parts}


def client_for(server: OracleServer) -> OpenAI:
    return OpenAI(base_url=server.base_url, api_key="test", max_retries=0)


def post_raw(server: OracleServer, body: bytes) -> tuple[int, dict]:
    request = urllib.request.Request(
        f"{server.base_url}/chat/completions", data=body, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


@pytest.fixture
def server() -> Iterator[OracleServer]:
    with OracleServer() as running:
        yield running


def ask(server: OracleServer, *messages: dict, **kwargs) -> str:
    client = client_for(server)
    completion = client.chat.completions.create(model="colour-oracle", messages=list(messages), **kwargs)
    return completion.choices[0].message.content


def test_nearest_colour_maps_palette_entries_to_themselves():
    assert all(nearest_colour(rgb) == name for name, rgb in PALETTE.items())
    assert nearest_colour((200.0, 50.0, 40.0)) == "red"


def test_models_list(server):
    models = client_for(server).models.list()
    assert [model.id for model in models.data] == ["colour-oracle"]
    assert models.data[0].owned_by == "lmms-eval"


def test_single_image_answers_its_colour(server):
    completion = client_for(server).chat.completions.create(
        model="any-name", messages=[user("What colour is this?", "red")]
    )
    assert completion.object == "chat.completion"
    assert completion.model == "any-name"
    assert completion.id.startswith("chatcmpl-")
    assert completion.choices[0].finish_reason == "stop"
    assert completion.choices[0].message.role == "assistant"
    assert completion.choices[0].message.content == "red"


def test_several_images_and_jpeg_and_no_image(server):
    assert ask(server, user("Colours?", "red", "blue")) == "red, blue"
    jpeg = {"type": "image_url", "image_url": {"url": data_url("purple", fmt="JPEG")}}
    assert ask(server, {"role": "user", "content": [jpeg]}) == "purple"
    assert ask(server, {"role": "user", "content": "Hello"}) == "no image"


def test_only_the_last_user_message_is_read(server):
    messages = [user("first", "green"), {"role": "assistant", "content": "green"}, user("second", "yellow")]
    assert ask(server, *messages) == "yellow"


def test_style_rules(server):
    assert ask(server, user("What colour? Answer in a sentence.", "red")) == "The answer is Red."
    assert ask(server, user("What colour? Answer in capitals.", "orange")) == "ORANGE"
    assert ask(server, user("Answer in a sentence.", "red", "blue")) == "The answer is Red, blue."


def test_stop_and_max_tokens(server):
    sentence = user("Answer in a sentence.", "red")
    assert ask(server, sentence, stop=" is") == "The answer"
    assert ask(server, sentence, stop=["Red", "answer"]) == "The "
    assert ask(server, sentence, max_tokens=2) == "The answer"
    assert ask(server, sentence, max_completion_tokens=3) == "The answer is"


def test_usage_counts_text_tokens_and_ten_per_image(server):
    system = {"role": "system", "content": "You are helpful."}
    messages = [system, user("What colour is this?", "red", "blue")]
    usage = client_for(server).chat.completions.create(model="m", messages=messages).usage
    assert usage.prompt_tokens == 3 + 4 + 2 * 10
    assert usage.completion_tokens == 2  # "red, blue"
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens


def test_bad_requests_get_openai_400(server):
    with pytest.raises(openai.BadRequestError):
        client_for(server).post("/chat/completions", body={"model": "m"}, cast_to=object)
    remote = {"type": "image_url", "image_url": {"url": "http://example.com/a.png"}}
    with pytest.raises(openai.BadRequestError, match="only data URLs are supported"):
        ask(server, {"role": "user", "content": [remote]})
    status, error = post_raw(server, b"{not json")
    assert status == 400
    assert error == {"error": {"message": error["error"]["message"], "type": "invalid_request_error",
                               "param": None, "code": None}}
    assert server.answered == 0 and server.chat_requests == 3


def test_large_image_passes_body_limit(server):
    big = {"type": "image_url", "image_url": {"url": data_url("green", size=(1200, 1200))}}
    assert len(big["image_url"]["url"]) > 4 * 1024 * 1024
    assert ask(server, {"role": "user", "content": [big]}) == "green"


def test_bodies_are_recorded():
    with OracleServer() as server:
        ask(server, user("hi", "white"))
        assert server.bodies[0]["messages"][0]["content"][1] == {"type": "text", "text": "hi"}
    with OracleServer(record_bodies=False) as server:
        ask(server, user("hi", "white"))
        assert server.bodies == [] and server.answered == 1


def test_rate_limit_fault_then_success():
    with OracleServer(fault=FaultPlan(status=429, every=1, failures=1, retry_after="0")) as server:
        with pytest.raises(openai.RateLimitError) as raised:
            ask(server, user("Colour?", "black"))
        assert raised.value.response.headers["Retry-After"] == "0"
        assert ask(server, user("Colour?", "black")) == "black"
        assert (server.chat_requests, server.answered) == (2, 1)


def test_server_error_fault():
    with OracleServer(fault=FaultPlan(status=500, every=1, failures=2)) as server:
        for _ in range(2):
            with pytest.raises(openai.InternalServerError) as raised:
                ask(server, user("Colour?", "blue"))
            assert "Retry-After" not in raised.value.response.headers
        assert ask(server, user("Colour?", "blue")) == "blue"
        assert (server.chat_requests, server.answered) == (3, 1)


def test_fault_selection_follows_body_hash():
    requests = [{"model": "m", "messages": [{"role": "user", "content": f"q{i}"}]} for i in range(12)]
    bodies = [json.dumps(request).encode() for request in requests]
    expected = [int(hashlib.sha256(body).hexdigest(), 16) % 3 == 0 for body in bodies]
    assert any(expected) and not all(expected)
    with OracleServer(fault=FaultPlan(status=503)) as server:
        assert [post_raw(server, body)[0] == 503 for body in bodies] == expected
        assert all(post_raw(server, body)[0] == 200 for body in bodies)


def test_concurrent_requests_overlap_their_latency():
    async def fire(url: str, count: int) -> list[int]:
        body = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:

            async def one() -> int:
                async with session.post(f"{url}/chat/completions", json=body) as response:
                    return response.status

            return await asyncio.gather(*(one() for _ in range(count)))

    with OracleServer(latency=0.3) as server:
        began = time.monotonic()
        statuses = asyncio.run(fire(server.base_url, 256))
        elapsed = time.monotonic() - began
        assert statuses == [200] * 256
        assert 0.3 <= elapsed < 3.0
        assert server.answered == 256


def test_stop_is_idempotent_and_releases_the_port():
    server = OracleServer().start()
    try:
        assert server.port > 0
        ask(server, user("hi", "red"))
    finally:
        server.stop()
    server.stop()
    with pytest.raises(openai.APIConnectionError):
        ask(server, user("hi", "red"))


def test_command_line_serves_until_terminated():
    process = subprocess.Popen(
        [sys.executable, "-m", "lmms_eval.testing.server", "--port", "0", "--model-name", "cli-oracle"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline().strip()
        assert line.startswith("listening on http://127.0.0.1:") and line.endswith("/v1")
        client = OpenAI(base_url=line.removeprefix("listening on "), api_key="test", max_retries=0)
        assert [model.id for model in client.models.list().data] == ["cli-oracle"]
        completion = client.chat.completions.create(model="cli-oracle", messages=[user("Colour?", "green")])
        assert completion.choices[0].message.content == "green"
        process.terminate()
        assert process.wait(timeout=10) == 0
        assert process.stdout.read() == ""
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()


def test_canned_replies_pick_the_longest_key_found():
    from openai import OpenAI

    with OracleServer(canned={"capital": "Paris", "capital of Italy": "Rome"}) as server:
        client = OpenAI(base_url=server.base_url, api_key="test", max_retries=0)

        def ask(text: str) -> str:
            reply = client.chat.completions.create(model="m", messages=[{"role": "user", "content": text}])
            return reply.choices[0].message.content

        assert ask("What is the capital of Italy?") == "Rome"
        assert ask("What is the capital of France?") == "Paris"
        assert ask("What colour?") == "no image"


# --- misbehaviour ----------------------------------------------------------------------

CHAT = json.dumps({"model": "m", "messages": [user("Colour?", "red")]}).encode()


def misbehaving(behaviour: Misbehaviour, **plan) -> OracleServer:
    return OracleServer(misbehaviour=MisbehaviourPlan(behaviour, **plan))


@pytest.mark.parametrize(
    "behaviour, content, usage",
    [
        (Misbehaviour.CONTENT_PARTS, [{"type": "text", "text": "red"}], None),
        (Misbehaviour.CONTENT_NUMBER, 42, None),
        (Misbehaviour.CONTENT_OBJECT, {"text": "red"}, None),
        (Misbehaviour.CONTENT_WITHOUT_TEXT, [{"type": "image_url", "image_url": {"url": "data:,"}}], None),
        (Misbehaviour.USAGE_NOT_A_COUNT, "red", {"prompt_tokens": "n/a", "completion_tokens": 1}),
        (Misbehaviour.USAGE_A_LIST, "red", [10, 1]),
    ],
)
def test_odd_reply_shapes(behaviour, content, usage):
    with misbehaving(behaviour) as server:
        status, reply = post_raw(server, CHAT)
        assert status == 200
        assert reply["choices"][0]["message"]["content"] == content
        if usage is not None:
            assert reply["usage"] == usage
        assert (server.misbehaved, server.answered) == (1, 0)


def test_a_cut_body_promises_more_than_it_sends():
    import http.client

    with misbehaving(Misbehaviour.CUT_BODY) as server:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
        connection.request("POST", "/v1/chat/completions", body=CHAT, headers={"Content-Type": "application/json"})
        reply = connection.getresponse()
        assert reply.status == 200
        with pytest.raises(http.client.IncompleteRead):
            reply.read()


def test_a_reset_closes_the_connection_unanswered():
    with misbehaving(Misbehaviour.RESET) as server:
        with pytest.raises((ConnectionResetError, urllib.error.URLError, ConnectionError)):
            post_raw(server, CHAT)
        assert server.misbehaved == 1


def test_a_silent_server_never_answers_and_still_stops_promptly():
    server = misbehaving(Misbehaviour.HANG).start()
    request = urllib.request.Request(f"{server.base_url}/chat/completions", data=CHAT, headers={"Content-Type": "application/json"})
    try:
        with pytest.raises((TimeoutError, urllib.error.URLError)):
            urllib.request.urlopen(request, timeout=0.3)
    finally:
        started = time.monotonic()
        server.stop()
    assert time.monotonic() - started < 3.0


def test_the_echoed_key_starts_where_a_cut_at_300_would_halve_it():
    with misbehaving(Misbehaviour.ECHO_AUTHORIZATION) as server:
        request = urllib.request.Request(
            f"{server.base_url}/chat/completions", data=CHAT, headers={"Content-Type": "application/json", "Authorization": "Bearer sk-abc123456789"}
        )
        with pytest.raises(urllib.error.HTTPError) as raised:
            urllib.request.urlopen(request, timeout=5)
        message = json.load(raised.value)["error"]["message"]
    assert raised.value.code == 400
    assert message.index("sk-abc123456789") == ECHO_SECRET_OFFSET and len(message) > 400


def test_misbehaviour_plans_select_by_body_and_limit_themselves():
    bodies = [json.dumps({"model": "m", "messages": [{"role": "user", "content": f"q{i}"}]}).encode() for i in range(12)]
    expected = [int(hashlib.sha256(body).hexdigest(), 16) % 3 == 0 for body in bodies]
    with misbehaving(Misbehaviour.CONTENT_NUMBER, every=3, times=1) as server:
        assert [post_raw(server, body)[1]["choices"][0]["message"]["content"] == 42 for body in bodies] == expected
        assert all(post_raw(server, body)[1]["choices"][0]["message"]["content"] == "no image" for body in bodies)  # once each
    with misbehaving(Misbehaviour.CONTENT_NUMBER, after=2, total=3) as server:
        contents = [post_raw(server, body)[1]["choices"][0]["message"]["content"] for body in bodies[:8]]
        assert contents == ["no image", "no image", 42, 42, 42, "no image", "no image", "no image"]


@pytest.mark.parametrize("plan", [{"every": 0}, {"times": -1}, {"after": -1}, {"total": -2}])
def test_bad_misbehaviour_plans_are_refused(plan):
    with pytest.raises(ValueError):
        MisbehaviourPlan(Misbehaviour.HANG, **plan)
