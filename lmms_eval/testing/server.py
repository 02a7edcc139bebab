"""An offline OpenAI-compatible chat server whose "model" reads the colours of images.

The end-to-end tests, the benchmark scripts and ``lmms-eval demo`` need a real HTTP peer
that speaks the OpenAI chat-completions protocol, answers deterministically and costs
nothing to run. This server answers with the palette colour nearest to each image's mean
pixel, so a right answer proves the image bytes crossed the wire intact; it can also add
latency, inject HTTP faults to exercise client concurrency and retry paths, and
misbehave (odd reply shapes, cut or reset connections, silence, leaky error text) to
exercise a client's handling of servers that do not keep to the protocol.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
import hashlib
import io
import itertools
import json
import re
import signal
import socket
import struct
import sys
import threading
import time
from dataclasses import dataclass
from collections.abc import Mapping
from enum import Enum
from typing import Any

from aiohttp import web
from PIL import Image, ImageStat

PALETTE: dict[str, tuple[int, int, int]] = {
    "red": (220, 30, 30),
    "green": (30, 160, 60),
    "blue": (30, 60, 220),
    "yellow": (240, 220, 40),
    "black": (10, 10, 10),
    "white": (245, 245, 245),
    "orange": (245, 140, 20),
    "purple": (130, 40, 160),
}

HOST = "127.0.0.1"
MAX_BODY_BYTES = 64 * 1024 * 1024  # base64 images of benchmark size must pass
IMAGE_PROMPT_TOKENS = 10
LISTEN_BACKLOG = 1024  # benchmarks open hundreds of connections at once
SHUTDOWN_GRACE_S = 1.0  # stop() must not hang for aiohttp's 60 s default on in-flight requests
ECHO_SECRET_OFFSET = 289  # where the echoed key starts in the echo error's message: a cut at 300 halves it
SENTENCE_CUE = "Answer in a sentence."
CAPITALS_CUE = "Answer in capitals."

Parts = list[dict[str, Any]]  # a message's content in OpenAI's list-of-parts form


def nearest_colour(rgb: tuple[float, float, float]) -> str:
    """Name the PALETTE colour nearest to ``rgb`` (Euclidean distance in RGB space)."""
    return min(PALETTE, key=lambda name: sum((c - p) ** 2 for c, p in zip(rgb, PALETTE[name])))


@dataclass(frozen=True)
class FaultPlan:
    """Which requests fail, and how, so clients' retry handling can be tested deterministically.

    Selection hashes the raw request body, so the same request is faulty on every try and
    a client that retries it sees ``failures`` errors and then an answer.
    """

    status: int
    every: int = 3
    failures: int = 1
    retry_after: str | None = None

    def __post_init__(self) -> None:
        if not 400 <= self.status <= 599:
            raise ValueError(f"fault status must be an HTTP error status, got {self.status}")
        if self.every < 1 or self.failures < 0:
            raise ValueError("fault 'every' must be >= 1 and 'failures' >= 0")

    def selects(self, digest: str) -> bool:
        """Whether a request whose body has this sha256 hex digest is a faulty one."""
        return int(digest, 16) % self.every == 0


class Misbehaviour(Enum):
    """A way of answering other than with a clean chat completion."""

    CONTENT_PARTS = "content_parts"  # content as [{"type": "text", "text": ...}] (valid: some servers send it)
    CONTENT_NUMBER = "content_number"  # content: 42
    CONTENT_OBJECT = "content_object"  # content: {"text": ...}
    CONTENT_WITHOUT_TEXT = "content_without_text"  # content: a list of parts, none of them text
    USAGE_NOT_A_COUNT = "usage_not_a_count"  # usage: {"prompt_tokens": "n/a", ...}
    USAGE_A_LIST = "usage_a_list"  # usage: [10, 1]
    CUT_BODY = "cut_body"  # the reply's headers promise a body that stops half-way
    RESET = "reset"  # the connection is reset (TCP RST) instead of answered
    HANG = "hang"  # the request is read and never answered
    ECHO_AUTHORIZATION = "echo_authorization"  # HTTP 400 whose long error text echoes the Authorization header
    PROMPT_BLOCKED = "prompt_blocked"  # Gemini: promptFeedback.blockReason SAFETY and no candidates
    ANSWER_BLOCKED = "answer_blocked"  # Gemini: a candidate with finishReason SAFETY and no parts
    NO_CANDIDATES = "no_candidates"  # Gemini: candidates: []


@dataclass(frozen=True)
class MisbehaviourPlan:
    """Which requests misbehave, selected by body hash as in FaultPlan (so deterministically).

    A selected body misbehaves `times` times (every time when None) and is then answered
    properly. Nothing misbehaves until `after` requests have been answered properly, and
    at most `total` requests misbehave in all (no limit when None).
    """

    behaviour: Misbehaviour
    every: int = 1
    times: int | None = None
    after: int = 0
    total: int | None = None

    def __post_init__(self) -> None:
        counts = (self.times, self.after, self.total)
        if self.every < 1 or any(count is not None and count < 0 for count in counts):
            raise ValueError("misbehaviour 'every' must be >= 1, 'times', 'after' and 'total' >= 0")

    def selects(self, digest: str) -> bool:
        return int(digest, 16) % self.every == 0


class _RequestError(Exception):
    """A client mistake, answered with HTTP 400 in the OpenAI error shape."""

    def __init__(self, message: str, param: str | None = None):
        super().__init__(message)
        self.param = param


def _error_type(status: int) -> str:
    if status == 429:
        return "rate_limit_error"
    return "server_error" if status >= 500 else "invalid_request_error"


def _error_response(
    status: int, message: str, *, param: str | None = None, headers: dict[str, str] | None = None
) -> web.Response:
    """An error in the shape the OpenAI SDK parses into its typed exceptions."""
    error = {"message": message, "type": _error_type(status), "param": param, "code": None}
    return web.json_response({"error": error}, status=status, headers=headers)


def _parse_request(raw: bytes) -> dict[str, Any]:
    """Decode and check the fields every chat request needs before any work is done."""
    body = _json_object(raw)
    if not isinstance(body.get("model"), str):
        raise _RequestError("'model' is required and must be a string", "model")
    messages = body.get("messages")
    if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
        raise _RequestError("'messages' is required and must be a list of objects", "messages")
    return body


def _content_parts(message: dict[str, Any]) -> Parts:
    """A message's content as a list of parts; a plain string is one text part."""
    content = message.get("content")
    if content is None:
        return []
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    if isinstance(content, list) and all(isinstance(part, dict) for part in content):
        return content
    raise _RequestError("message content must be a string or a list of parts", "messages")


def _text_of(parts: Parts) -> str:
    return "\n".join(str(part.get("text", "")) for part in parts if part.get("type") == "text")


def _image_parts(parts: Parts) -> Parts:
    return [part for part in parts if part.get("type") == "image_url"]


def _image_colour(part: dict[str, Any]) -> str:
    """Decode an ``image_url`` part's data URL and name the colour of its mean pixel."""
    image_url = part.get("image_url")
    url = image_url.get("url") if isinstance(image_url, dict) else None
    if not isinstance(url, str):
        raise _RequestError("an image_url part needs an 'image_url.url' string", "messages")
    if not url.startswith("data:"):
        raise _RequestError("only data URLs are supported", "messages")
    header, _, payload = url.partition(",")
    if not header.endswith(";base64"):
        raise _RequestError("image data URLs must be base64-encoded", "messages")
    return _COLOURS.colour(payload)


def _decoded_colour(payload: str) -> str:
    """The colour of a base64 image's mean pixel (exact integer sums, as ImageStat keeps them)."""
    try:
        with Image.open(io.BytesIO(base64.b64decode(payload))) as image:
            mean = ImageStat.Stat(image.convert("RGB")).mean
    except (binascii.Error, OSError) as exc:
        raise _RequestError(f"could not decode image: {exc}", "messages") from None
    return nearest_colour((mean[0], mean[1], mean[2]))


class _ColourMemo:
    """Colours of images seen before, by a digest of their base64 data.

    Benchmarks send the same images run after run, and decoding each one again was about a
    third of the server's CPU per request: on a 2-core machine that CPU is taken from the
    client being measured. The answer depends on the bytes alone, so a remembered colour
    is the one a new decode would give. Undecodable images are not remembered (they raise).
    """

    def __init__(self, size: int):
        self._size = size
        self._colours: dict[bytes, str] = {}

    def colour(self, payload: str) -> str:
        key = hashlib.blake2b(payload.encode("utf-8", errors="surrogatepass"), digest_size=16).digest()
        colour = self._colours.get(key)
        if colour is None:
            colour = _decoded_colour(payload)
            if len(self._colours) >= self._size:
                self._colours.clear()  # bounded; a benchmark's images fit many times over
            self._colours[key] = colour
        return colour


_COLOURS = _ColourMemo(size=65536)  # shared by every server in the process (the bytes decide)


def _styled(word: str, text: str) -> str:
    """Apply the answer style the prompt asks for, so clients' answer filters have work to do."""
    if SENTENCE_CUE in text:
        return f"The answer is {word.capitalize()}."
    if CAPITALS_CUE in text:
        return word.upper()
    return word


def _stop_strings(body: dict[str, Any]) -> list[str]:
    stop = body.get("stop")
    if stop is None:
        return []
    stops = [stop] if isinstance(stop, str) else stop
    if not isinstance(stops, list) or not all(isinstance(s, str) for s in stops):
        raise _RequestError("'stop' must be a string or a list of strings", "stop")
    return [s for s in stops if s]


def _token_limit(body: dict[str, Any]) -> int | None:
    """The tightest of ``max_tokens`` and ``max_completion_tokens``, whichever are given."""
    limits = []
    for key in ("max_tokens", "max_completion_tokens"):
        value = body.get(key)
        if value is None:
            continue
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise _RequestError(f"'{key}' must be a positive integer", key)
        limits.append(value)
    return min(limits) if limits else None


def _truncated(reply: str, body: dict[str, Any]) -> str:
    """Cut the reply at the earliest stop string, then after the token limit's last word
    (only when the reply is longer; its own whitespace is kept)."""
    cuts = [reply.find(s) for s in _stop_strings(body)]
    cuts = [cut for cut in cuts if cut >= 0]
    if cuts:
        reply = reply[: min(cuts)]
    limit = _token_limit(body)
    words = list(re.finditer(r"\S+", reply))
    if limit is not None and len(words) > limit:
        reply = reply[: words[limit - 1].end()]
    return reply


def _prompt_tokens(all_parts: list[Parts]) -> int:
    texts = sum(len(_text_of(parts).split()) for parts in all_parts)
    images = sum(len(_image_parts(parts)) for parts in all_parts)
    return texts + IMAGE_PROMPT_TOKENS * images


def _last_user_parts(messages: list[dict[str, Any]], all_parts: list[Parts]) -> Parts:
    """The parts of the last user message; none when there is no user message (OpenAI accepts that)."""
    for message, parts in zip(reversed(messages), reversed(all_parts)):
        if message.get("role") == "user":
            return parts
    return []


def _canned_reply(text: str, canned: Mapping[str, str]) -> str | None:
    """The reply of the longest canned key found in the prompt text, if any."""
    found = [key for key in canned if key in text]
    return canned[max(found, key=len)] if found else None


def _completion(body: dict[str, Any], number: int, canned: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Answer a validated chat request with the OpenAI ``chat.completion`` object."""
    all_parts = [_content_parts(message) for message in body["messages"]]
    user_parts = _last_user_parts(body["messages"], all_parts)
    colours = [_image_colour(part) for part in _image_parts(user_parts)]
    text = _text_of(user_parts)
    reply = _canned_reply(text, canned) if canned else None
    if reply is None:
        reply = _styled(", ".join(colours) if colours else "no image", text)
    reply = _truncated(reply, body)
    prompt_tokens = _prompt_tokens(all_parts)
    completion_tokens = len(reply.split())
    return {
        "id": f"chatcmpl-{number}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body["model"],
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": reply},
                "finish_reason": "stop",
                "logprobs": None,
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


class OracleServer:
    """The colour-oracle chat server, run on a background thread or (via ``main``) in the foreground.

    Counters and ``bodies`` are only written on the server's event loop; read them from
    another thread once the requests you care about have been answered.
    """

    def __init__(
        self,
        *,
        latency: float = 0.0,
        fault: FaultPlan | None = None,
        model_name: str = "colour-oracle",
        record_bodies: bool = True,
        port: int = 0,
        canned: Mapping[str, str] | None = None,
        misbehaviour: MisbehaviourPlan | None = None,
    ):
        """`canned` maps prompt substrings to fixed replies (the longest key found in the
        last user message wins), so benchmark tests can script answers that hit every
        parsing rule; prompts matching no key get the colour answer."""
        if latency < 0:
            raise ValueError(f"latency must be >= 0, got {latency}")
        self.latency = latency
        self.fault = fault
        self.model_name = model_name
        self.record_bodies = record_bodies
        self.port = port
        self.canned = dict(canned or {})
        self.misbehaviour = misbehaviour
        self.chat_requests = 0
        self.answered = 0
        self.misbehaved = 0
        self._misbehaved: dict[str, int] = {}
        self._stopping = asyncio.Event()  # set when the server stops: silent handlers end then
        self.bodies: list[dict[str, Any]] = []
        self._failures: dict[str, int] = {}
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self._in_flight: set[asyncio.Transport] = set()  # connections of requests not yet answered
        self._crashed = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}/v1"

    def start(self) -> OracleServer:
        """Serve on a daemon thread with its own event loop; return once the socket listens."""
        if self._thread is not None:
            raise RuntimeError("server is already running")
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="oracle-server", daemon=True)
        self._thread.start()
        try:
            asyncio.run_coroutine_threadsafe(self._open(), self._loop).result()
        except BaseException:
            self._halt_loop()
            raise
        return self

    def stop(self) -> None:
        """Close the listener and connections, then end the thread; a no-op when not running."""
        if self._thread is None or self._loop is None:
            return
        try:
            asyncio.run_coroutine_threadsafe(self._close(), self._loop).result()
        finally:
            self._halt_loop()

    def kill(self) -> None:
        """Stop as a crashed server does: requests in flight get their connections reset and
        never an answer (stop() lets them finish)."""
        if self._thread is None or self._loop is None:
            return
        try:
            asyncio.run_coroutine_threadsafe(self._crash(), self._loop).result()
        finally:
            self._halt_loop()

    async def _crash(self) -> None:
        self._crashed = True
        for transport in list(self._in_flight):
            transport.abort()
        await self._close()

    def __enter__(self) -> OracleServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _halt_loop(self) -> None:
        assert self._loop is not None and self._thread is not None
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()
        self._loop = None
        self._thread = None

    async def _open(self) -> None:
        """Bind and listen on the current event loop; sets ``port`` to the bound port."""
        self._stopping = asyncio.Event()
        self._crashed = False
        app = web.Application(client_max_size=MAX_BODY_BYTES)
        app.router.add_get("/v1/models", self._models)
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_post("/v1/messages", self._anthropic_messages)
        app.router.add_get("/v1beta/models", self._gemini_models)
        app.router.add_post("/v1beta/models/{model}:generateContent", self._gemini_generate)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=SHUTDOWN_GRACE_S)
        await self._runner.setup()
        site = web.TCPSite(self._runner, HOST, self.port, backlog=LISTEN_BACKLOG)
        try:
            await site.start()
        except BaseException:
            await self._close()
            raise
        self.port = self._runner.addresses[0][1]

    async def _close(self) -> None:
        self._stopping.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _models(self, request: web.Request) -> web.Response:
        model = {"id": self.model_name, "object": "model", "owned_by": "lmms-eval"}
        return web.json_response({"object": "list", "data": [model]})

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        return await self._serve(request, _OPENAI)

    async def _anthropic_messages(self, request: web.Request) -> web.StreamResponse:
        return await self._serve(request, _ANTHROPIC)

    async def _gemini_generate(self, request: web.Request) -> web.StreamResponse:
        return await self._serve(request, _GEMINI)

    async def _gemini_models(self, request: web.Request) -> web.Response:
        return web.json_response({"models": [{"name": f"models/{self.model_name}", "displayName": self.model_name}]})

    async def _serve(self, request: web.Request, protocol: _Protocol) -> web.StreamResponse:
        """Every protocol is answered by the same oracle: its request is read into the
        OpenAI shape, answered, and the completion written back in the protocol's shape."""
        self.chat_requests += 1
        transport = request.transport
        if transport is not None:
            self._in_flight.add(transport)
        try:
            return await self._answer(request, protocol)
        finally:
            self._in_flight.discard(transport)

    async def _answer(self, request: web.Request, protocol: _Protocol) -> web.StreamResponse:
        raw = await request.read()
        try:
            body = protocol.read(raw, request)
            if self._take_fault(raw):
                return self._fault_response(protocol)
            misbehaviour = self._take_misbehaviour(raw)
            if misbehaviour in _WITHOUT_COMPLETION:
                return await _misbehave_without_completion(misbehaviour, request, self._stopping)
            if self.latency > 0:
                await asyncio.sleep(self.latency)
            completion = _completion(body, next(self._ids), self.canned)
        except _RequestError as exc:
            return protocol.error(400, str(exc), exc.param, None)
        if self._crashed:
            _reset(request)
            return web.Response()  # never reaches the client
        if misbehaviour is not None and misbehaviour not in protocol.misbehaviours:
            return await _misbehave_with_completion(misbehaviour, completion, request)
        self.answered += 1
        if self.record_bodies:
            self.bodies.append(body)
        return web.json_response(protocol.write(completion, misbehaviour))

    def _take_fault(self, raw: bytes) -> bool:
        """Whether to fail this request now; failures are counted per distinct body."""
        if self.fault is None:
            return False
        digest = hashlib.sha256(raw).hexdigest()
        failed = self._failures.get(digest, 0)
        if not self.fault.selects(digest) or failed >= self.fault.failures:
            return False
        self._failures[digest] = failed + 1
        return True

    def _take_misbehaviour(self, raw: bytes) -> Misbehaviour | None:
        """How to misbehave on this request, if at all; counted per distinct body."""
        plan = self.misbehaviour
        if plan is None or self.answered < plan.after or (plan.total is not None and self.misbehaved >= plan.total):
            return None
        digest = hashlib.sha256(raw).hexdigest()
        done = self._misbehaved.get(digest, 0)
        if not plan.selects(digest) or (plan.times is not None and done >= plan.times):
            return None
        self._misbehaved[digest] = done + 1
        self.misbehaved += 1
        return plan.behaviour

    def _fault_response(self, protocol: _Protocol) -> web.Response:
        assert self.fault is not None
        headers = {"Retry-After": self.fault.retry_after} if self.fault.retry_after is not None else None
        message = f"injected fault (HTTP {self.fault.status})"
        return protocol.error(self.fault.status, message, None, headers)


@dataclass(frozen=True)
class _Protocol:
    """How one API's requests are read into the OpenAI shape and its replies written."""

    read: Any  # (raw body, request) -> OpenAI-shaped chat request
    write: Any  # (completion, misbehaviour or None) -> reply object
    error: Any  # (status, message, param, headers) -> error response
    misbehaviours: frozenset[Misbehaviour] = frozenset()  # those `write` carries out itself


def _openai_error(status: int, message: str, param: str | None, headers: dict[str, str] | None) -> web.Response:
    return _error_response(status, message, param=param, headers=headers)


_OPENAI = _Protocol(lambda raw, request: _parse_request(raw), lambda completion, misbehaviour: completion, _openai_error)


def _json_object(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise _RequestError(f"request body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise _RequestError("request body must be a JSON object")
    return body


def _anthropic_request(raw: bytes, request: web.Request) -> dict[str, Any]:
    """A Messages API request in the OpenAI shape; the fields the API requires are checked."""
    body = _json_object(raw)
    if request.headers.get("anthropic-version") is None:
        raise _RequestError("the anthropic-version header is required")
    if not isinstance(body.get("model"), str) or not isinstance(body.get("max_tokens"), int):
        raise _RequestError("'model' and 'max_tokens' are required", "model")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages or not all(isinstance(m, dict) and m.get("role") in ("user", "assistant") for m in messages):
        raise _RequestError("'messages' must be a non-empty list of user/assistant turns", "messages")
    system = body.get("system")
    turns = [{"role": "system", "content": system}] if isinstance(system, str) else []
    turns += [{"role": m["role"], "content": _anthropic_parts(m.get("content"))} for m in messages]
    return {"model": body["model"], "messages": turns, "max_tokens": body["max_tokens"], "stop": body.get("stop_sequences")}


def _anthropic_parts(content: Any) -> Any:
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        raise _RequestError("message content must be a string or a list of blocks", "messages")
    parts = []
    for block in content:
        if isinstance(block, dict) and block.get("type") == "image":
            source = block.get("source") or {}
            if source.get("type") != "base64":
                raise _RequestError("only base64 image sources are supported", "messages")
            parts.append({"type": "image_url", "image_url": {"url": f"data:{source.get('media_type')};base64,{source.get('data')}"}})
        else:
            parts.append(block)
    return parts


def _anthropic_reply(completion: dict[str, Any], misbehaviour: Misbehaviour | None) -> dict[str, Any]:
    usage = completion["usage"]
    return {
        "id": f"msg_{completion['id']}",
        "type": "message",
        "role": "assistant",
        "model": completion["model"],
        "content": [{"type": "text", "text": completion["choices"][0]["message"]["content"]}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": usage["prompt_tokens"], "output_tokens": usage["completion_tokens"]},
    }


_ANTHROPIC_ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error", 429: "rate_limit_error", 529: "overloaded_error"}


def _anthropic_error(status: int, message: str, param: str | None, headers: dict[str, str] | None) -> web.Response:
    kind = _ANTHROPIC_ERROR_TYPES.get(status, "api_error" if status >= 500 else "invalid_request_error")
    return web.json_response({"type": "error", "error": {"type": kind, "message": message}}, status=status, headers=headers)


_ANTHROPIC = _Protocol(_anthropic_request, _anthropic_reply, _anthropic_error)


def _gemini_request(raw: bytes, request: web.Request) -> dict[str, Any]:
    """A generateContent request in the OpenAI shape (camelCase or snake_case fields, as the API accepts)."""
    body = _json_object(raw)
    contents = body.get("contents")
    if not isinstance(contents, list) or not contents or not all(isinstance(c, dict) for c in contents):
        raise _RequestError("'contents' must be a non-empty list of objects", "contents")
    system = body.get("systemInstruction") or body.get("system_instruction")
    turns = [{"role": "system", "content": _gemini_parts(system)}] if isinstance(system, dict) else []
    turns += [{"role": "assistant" if c.get("role") == "model" else "user", "content": _gemini_parts(c)} for c in contents]
    config = body.get("generationConfig") or body.get("generation_config") or {}
    limit = config.get("maxOutputTokens", config.get("max_output_tokens"))
    return {"model": request.match_info["model"], "messages": turns, "max_tokens": limit, "stop": config.get("stopSequences", config.get("stop_sequences"))}


def _gemini_parts(content: dict[str, Any]) -> Parts:
    parts = content.get("parts")
    if not isinstance(parts, list):
        raise _RequestError("a content needs a list of 'parts'", "contents")
    converted: Parts = []
    for part in parts:
        inline = part.get("inlineData") or part.get("inline_data") if isinstance(part, dict) else None
        if isinstance(inline, dict):
            converted.append(_inline_part(inline.get("mimeType") or inline.get("mime_type"), inline.get("data")))
        elif isinstance(part, dict) and isinstance(part.get("text"), str):
            converted.append({"type": "text", "text": part["text"]})
        else:
            raise _RequestError("a part must hold text or inlineData", "contents")
    return converted


def _inline_part(mime: Any, data: Any) -> dict[str, Any]:
    """Gemini's inline data as the OpenAI part of its kind (the MIME type says which)."""
    kind = str(mime).partition("/")[0]
    if kind == "video":
        return {"type": "video_url", "video_url": {"url": f"data:{mime};base64,{data}"}}
    if kind == "audio":
        return {"type": "input_audio", "input_audio": {"data": data, "format": str(mime).partition("/")[2]}}
    return {"type": "image_url", "image_url": {"url": f"data:{mime};base64,{data}"}}


def _gemini_reply(completion: dict[str, Any], misbehaviour: Misbehaviour | None) -> dict[str, Any]:
    usage = completion["usage"]
    metadata = {"promptTokenCount": usage["prompt_tokens"], "candidatesTokenCount": usage["completion_tokens"], "totalTokenCount": usage["total_tokens"]}
    candidate: dict[str, Any] = {
        "content": {"role": "model", "parts": [{"text": completion["choices"][0]["message"]["content"]}]},
        "finishReason": "STOP",
        "index": 0,
    }
    if misbehaviour is Misbehaviour.PROMPT_BLOCKED:
        return {"promptFeedback": {"blockReason": "SAFETY"}, "usageMetadata": metadata}
    if misbehaviour is Misbehaviour.ANSWER_BLOCKED:
        candidate = {"finishReason": "SAFETY", "index": 0, "safetyRatings": [{"category": "HARM_CATEGORY_HARASSMENT", "probability": "HIGH", "blocked": True}]}
    candidates = [] if misbehaviour is Misbehaviour.NO_CANDIDATES else [candidate]
    return {"candidates": candidates, "usageMetadata": metadata, "modelVersion": completion["model"]}


_GEMINI_STATUSES = {400: "INVALID_ARGUMENT", 403: "PERMISSION_DENIED", 429: "RESOURCE_EXHAUSTED", 503: "UNAVAILABLE"}


def _gemini_error(status: int, message: str, param: str | None, headers: dict[str, str] | None) -> web.Response:
    name = _GEMINI_STATUSES.get(status, "INTERNAL" if status >= 500 else "FAILED_PRECONDITION")
    return web.json_response({"error": {"code": status, "message": message, "status": name}}, status=status, headers=headers)


_GEMINI_OWN = frozenset({Misbehaviour.PROMPT_BLOCKED, Misbehaviour.ANSWER_BLOCKED, Misbehaviour.NO_CANDIDATES})
_GEMINI = _Protocol(_gemini_request, _gemini_reply, _gemini_error, _GEMINI_OWN)


_WITHOUT_COMPLETION = frozenset({Misbehaviour.RESET, Misbehaviour.HANG, Misbehaviour.ECHO_AUTHORIZATION})


async def _misbehave_without_completion(misbehaviour: Misbehaviour, request: web.Request, stopping: asyncio.Event) -> web.StreamResponse:
    if misbehaviour is Misbehaviour.HANG:
        await stopping.wait()  # a handler left pending would outlive the server's loop
    if misbehaviour in (Misbehaviour.HANG, Misbehaviour.RESET):
        _reset(request)
        return web.Response()  # never reaches the client
    return _error_response(400, _echo_message(request.headers.get("Authorization", "(none)")))


def _echo_message(authorization: str) -> str:
    """A long error text with the Authorization header's value inside it, the key starting
    at ECHO_SECRET_OFFSET (as servers that echo request headers in their errors do)."""
    label = "received Authorization: "
    scheme = "Bearer " if authorization.startswith("Bearer ") else ""
    padding = ("request refused. " * 20)[: ECHO_SECRET_OFFSET - len(label) - len(scheme) - 1] + " "
    return f"{padding}{label}{authorization}; check the key and try again. " + "details: none. " * 10


def _reset(request: web.Request) -> None:
    """Close the connection with a TCP RST (linger 0), as a crashed proxy would."""
    transport = request.transport
    sock = transport.get_extra_info("socket") if transport is not None else None
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    if transport is not None:
        transport.abort()


async def _misbehave_with_completion(misbehaviour: Misbehaviour, completion: dict[str, Any], request: web.Request) -> web.StreamResponse:
    message = completion["choices"][0]["message"]
    text = message["content"]
    if misbehaviour is Misbehaviour.CONTENT_PARTS:
        message["content"] = [{"type": "text", "text": text}]
    elif misbehaviour is Misbehaviour.CONTENT_NUMBER:
        message["content"] = 42
    elif misbehaviour is Misbehaviour.CONTENT_OBJECT:
        message["content"] = {"text": text}
    elif misbehaviour is Misbehaviour.CONTENT_WITHOUT_TEXT:
        message["content"] = [{"type": "image_url", "image_url": {"url": "data:,"}}]
    elif misbehaviour is Misbehaviour.USAGE_NOT_A_COUNT:
        completion["usage"] = {"prompt_tokens": "n/a", "completion_tokens": 1}
    elif misbehaviour is Misbehaviour.USAGE_A_LIST:
        completion["usage"] = [10, 1]
    elif misbehaviour is Misbehaviour.CUT_BODY:
        return await _cut_reply(json.dumps(completion).encode(), request)
    return web.json_response(completion)


async def _cut_reply(data: bytes, request: web.Request) -> web.StreamResponse:
    """Headers for the whole body, then half of it, then the connection closes."""
    response = web.StreamResponse(status=200, headers={"Content-Type": "application/json"})
    response.content_length = len(data)
    await response.prepare(request)
    await response.write(data[: len(data) // 2])
    if request.transport is not None:
        request.transport.close()
    return response


async def _serve_until_signalled(server: OracleServer) -> None:
    """Serve on the running loop until SIGINT or SIGTERM asks to stop."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await server._open()
    try:
        print(f"listening on {server.base_url}", flush=True)
        await stop.wait()
    finally:
        await server._close()


def main(argv: list[str] | None = None) -> int:
    """Run the server in the foreground; it does not keep request bodies, so memory stays flat."""
    parser = argparse.ArgumentParser(description="Serve the offline colour-oracle chat model.")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0 picks a free one)")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds to wait before each answer")
    parser.add_argument("--model-name", default="colour-oracle", help="model id listed by /v1/models")
    args = parser.parse_args(argv)
    server = OracleServer(
        latency=args.latency, model_name=args.model_name, port=args.port, record_bodies=False
    )
    asyncio.run(_serve_until_signalled(server))
    return 0


if __name__ == "__main__":
    sys.exit(main())
