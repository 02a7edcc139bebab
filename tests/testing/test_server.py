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

from lmms_eval.testing.server import PALETTE, FaultPlan, OracleServer, nearest_colour


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
