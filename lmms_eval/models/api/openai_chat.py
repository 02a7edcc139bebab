"""`openai` / `openai_compatible`: any server that speaks OpenAI chat completions.

That is OpenAI itself and the servers people run locally (vLLM, SGLang, Ollama,
`transformers serve`). Requests go out concurrently over keep-alive connections of a
small HTTP/1.1 client (http_client.py). On a 2-core machine it needs about a quarter of
the CPU per request of aiohttp's client, which itself sustained several times the request
rate of the openai SDK's default transport: that matters when a local server answers 256
requests at a time.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import os
import threading
import urllib.parse
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from lmms_eval.api.messages import ChatMessages, to_openai
from lmms_eval.media.frame_cache import backend_video_media
from lmms_eval.media.parts import frames_as_images
from lmms_eval.media.sampling import DEFAULT_DECODER, DEFAULT_MAX_FRAMES
from lmms_eval.api.model import Model
from lmms_eval.api.request import Request
from lmms_eval.api.response import FailureKind, Response, Usage
from lmms_eval.errors import ModelError, ServerUnreachableError
from lmms_eval.models.api.endpoints import checked_url, endpoint_source, url_on
from lmms_eval.models.api.http_client import ConnectionLost, HttpClient, HttpError
from lmms_eval.models.api.prepare import PREPARED_AHEAD, PreparingPool, Room, build_all
from lmms_eval.models.api.retry import RETRYABLE_STATUSES, Admission, BreakerEvent, CircuitBreaker, Contact, RetryPolicy, Ticket
from lmms_eval.models.api.spread import Endpoints, SpreadPool, none_answered
from lmms_eval.models.common import truncate_at_stops
from lmms_eval.redaction import Redactor

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.openai.com/v1"
MAX_STOP_SEQUENCES = 4  # the OpenAI API's limit; longer lists are also applied client-side
ERROR_EXCERPT = 300  # characters of a server's error text kept in a failure's message
BODY_EXCERPT = 200  # characters of an unreadable reply kept in a failure's message
MAX_ERROR_BYTES = 64 * 1024  # of an error reply's body read at all
MIN_PROBE_SECONDS = 1.0  # a probe's timeout is cut to the time left before giving up, but not below this
SERVER_CHECK_TIMEOUT = 30.0  # seconds the start-up check waits for the model list (less if `timeout` is less)


class _Retryable(Exception):
    def __init__(self, kind: FailureKind, message: str, retry_after: str | None = None, contact: Contact = Contact.ANSWERED):
        super().__init__(message)
        self.kind = kind
        self.retry_after = retry_after
        self.contact = contact  # what the attempt tells the circuit breaker


class _Final(Exception):
    def __init__(self, kind: FailureKind, message: str):
        super().__init__(message)
        self.kind = kind


def _breaker(down_after: int, num_concurrent: int, probe_interval: float, give_up_after: float, notify: Any) -> CircuitBreaker:
    if down_after < 1:
        raise ModelError(f"down_after must be at least 1, not {down_after}")
    if probe_interval <= 0 or give_up_after < 0:
        raise ModelError(f"probe_interval must be positive and give_up_after not negative (got {probe_interval:g}, {give_up_after:g})")
    # With fewer workers than down_after, that many distinct requests would each use up
    # all their retries before the breaker could open; opening only holds requests back.
    return CircuitBreaker(min(down_after, num_concurrent), probe_interval, give_up_after, notify=notify)


class OpenAIChat(Model):
    """The engine every HTTP API backend shares (workers, retries, circuit breaker, start-up
    check); a subclass for another protocol overrides the `protocol hooks` below only."""

    is_chat = True
    default_base_url = DEFAULT_BASE_URL
    base_url_env: tuple[str, ...] = ("OPENAI_BASE_URL", "OPENAI_API_BASE")
    api_key_env: tuple[str, ...] = ("OPENAI_API_KEY",)
    secret_args = ("api_key",)
    provider = "openai"  # list prices apply by model id (lmms_eval/pricing.py)
    transport_args = (
        "base_url", "base_urls", "base_url_file", "num_concurrent", "max_retries", "timeout", "retry_base_delay", "max_retry_delay", "down_after", "probe_interval", "give_up_after",
    )

    def __init__(
        self,
        model: str | None = None,
        model_version: str | None = None,
        base_url: str | None = None,
        api_key: str | None = None,
        num_concurrent: int = 16,
        max_retries: int = 5,
        timeout: float = 120.0,
        retry_base_delay: float = 1.0,
        max_retry_delay: float = 60.0,
        max_new_tokens: int = 1024,
        image_format: str = "PNG",
        send_stop: bool = True,
        down_after: int = 5,
        probe_interval: float = 5.0,
        give_up_after: float = 60.0,
        max_frames_num: int = DEFAULT_MAX_FRAMES,
        fps: float | None = None,
        max_pixels: int | None = None,
        pass_video_url: bool = False,
        use_frame_cache: bool = True,
        video_decoder: str = DEFAULT_DECODER,
        base_urls: list[str] | None = None,
        base_url_file: str | None = None,
        **unused: Any,
    ) -> None:
        super().__init__(**unused)
        # Videos go as sampled frames (any server) unless the server decodes them (vLLM).
        self.video_sampling, self.frame_cache = backend_video_media(max_frames_num, fps, max_pixels, video_decoder, use_frame_cache)
        self.pass_video_url = bool(pass_video_url)
        if num_concurrent < 1:
            raise ModelError("num_concurrent must be at least 1")
        if image_format.upper() not in ("PNG", "JPEG"):
            raise ModelError(f"image_format must be PNG or JPEG, not {image_format}")
        # Several servers (`URL1|URL2`, base_urls, base_url_file) are spread over by spread.SpreadPool.
        source = endpoint_source(base_url or _first_env(self.base_url_env), base_urls, base_url_file)
        self.base_url = source.current()[0] if source else checked_url(base_url or _first_env(self.base_url_env) or self.default_base_url)
        self.api_key = api_key or _first_env(self.api_key_env)
        if self.api_key and ("\n" in self.api_key or "\r" in self.api_key):  # it goes into a header line
            raise ModelError(f"the API key (api_key or {self.api_key_env[0]}) holds a line break")
        self.num_concurrent = int(num_concurrent)
        self.timeout = float(timeout)
        self.retry = RetryPolicy(int(max_retries), float(retry_base_delay), float(max_retry_delay))
        self.max_new_tokens = int(max_new_tokens)
        self.image_format = image_format.upper()
        # Stop strings are applied client-side in any case; some servers fail on the field
        # (transformers serve with a multimodal processor answers HTTP 500).
        self.send_stop = bool(send_stop)
        # Error text is redacted where it is made, since this backend knows its own key.
        self._redact = Redactor([self.api_key])
        self._breaker = _breaker(int(down_after), self.num_concurrent, float(probe_interval), float(give_up_after), self._announce)
        self._usage_warned = False
        self._endpoints = Endpoints(source, self._breaker) if source else None
        # With a model name the server is first contacted by the first request actually
        # sent, so a run answered entirely from the store needs no server at all; without
        # one, the server's model list names the model (part of the answers' identity).
        named = model or model_version
        self._server_checked = not named
        self.model = named or self._check_server(None)

    @property
    def identity(self) -> str:
        return self.model

    @functools.cached_property
    def proxy(self) -> str | None:
        """The proxy for base_url, looked up once, when the first request is sent (a run
        answered from the store never reads the proxy settings, nor imports urllib.request)."""
        return proxy_for(self.base_url)

    # --- protocol hooks (what differs between HTTP APIs) ---------------------------------

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}

    def _models_url(self) -> str:
        return f"{self.base_url}/models"

    def _listed_models(self, body: Any) -> list[str]:
        entries = body.get("data", []) if isinstance(body, dict) else []
        return [entry["id"] for entry in entries if isinstance(entry, dict) and "id" in entry]

    def _generate_url(self) -> str:
        return f"{self.base_url}/chat/completions"

    def _parse_reply(self, body: bytes) -> _Completion:
        return parse_completion(body, self._redact)

    # --- connection checks ----------------------------------------------------------

    def _check_server(self, model: str | None) -> str:
        """Ask the server for its models before any work starts: an unreachable server or
        a refused key fails the run now, in one line, not after every request's retries.
        Without a `model` arg the server's (first) listed model is used."""
        if self._endpoints is not None:
            return self._agreed_model(model)
        listed = asyncio.run(self._list_models(required=model is None))
        self._server_checked = True
        if model:
            return model
        if not listed:
            raise ModelError(f"{self._models_url()} lists no model; pass model=NAME in --model_args")
        if len(listed) > 1:
            logger.warning("%s serves %d models; using '%s' (pass model=NAME to choose)", self.base_url, len(listed), listed[0])
        return listed[0]

    def _agreed_model(self, model: str | None) -> str:
        """The model every endpoint serves (one that serves another fails the run in one line)."""
        agreed, unreachable = asyncio.run(self._endpoints.check(self, self._endpoints.urls, model))
        if len(unreachable) == len(self._endpoints.urls):
            raise none_answered(unreachable)
        self._server_checked = True
        if not agreed:
            raise ModelError(f"none of the endpoints {', '.join(self._endpoints.urls)} lists a model; pass model=NAME in --model_args")
        return agreed

    async def _ensure_reachable(self) -> None:
        """The start-up check, made before the first request is sent when `model` was given:
        a dead server or a refused key then fails the run in one line, not after retries."""
        if not self._server_checked:
            await self._list_models(required=False)
            self._server_checked = True

    async def _list_models(self, required: bool, base_url: str | None = None) -> list[str]:
        """The server's model ids (of `base_url`, when that is another endpoint of this backend)."""
        url = url_on(base_url, self.base_url, self._models_url()) if base_url else self._models_url()
        base_url = base_url or self.base_url
        check_timeout = min(self.timeout, SERVER_CHECK_TIMEOUT)
        client = HttpClient(self._headers(), error_body_limit=MAX_ERROR_BYTES)
        try:
            reply = await client.request("GET", url, timeout=check_timeout, proxy=proxy_for(url))
        except TimeoutError:
            raise ServerUnreachableError(f"cannot reach {base_url}: no answer within {check_timeout:g} s") from None
        except HttpError as error:
            raise ServerUnreachableError(f"cannot reach {base_url}: {error}") from None
        finally:
            await client.close()
        if reply.status in (401, 403):
            raise ModelError(f"{url} refused the API key (HTTP {reply.status}); set api_key or {self.api_key_env[0]}")
        if reply.status != 200:
            if required:
                raise ModelError(f"{url} answered HTTP {reply.status}; pass model=NAME in --model_args")
            return []  # some servers have no model list; chat requests will tell
        try:
            body = json.loads(reply.body)
        except ValueError:
            body = {}
        return self._listed_models(body)

    # --- generation -----------------------------------------------------------------------

    def generate_until(self, requests: Iterable[Request]) -> Iterator[Response]:
        # Each call (each task) probes a server that was down at once: it may be back.
        self._breaker.next_round()
        loop = asyncio.new_event_loop()
        pool = SpreadPool(self, self._endpoints, iter(requests)) if self._endpoints is not None else _WorkerPool(self, iter(requests))
        try:
            loop.run_until_complete(pool.start())
            while True:
                yield from pool.take_finished()
                if pool.exhausted:
                    break
                loop.run_until_complete(pool.wait_for_progress())
            pool.raise_failure()
        finally:
            loop.run_until_complete(pool.close())
            loop.close()

    def _new_session(self) -> HttpClient:
        """Called on the event loop, which the session belongs to."""
        # The proxy is resolved once (the `proxy` property), not looked up again per request.
        return HttpClient(self._headers(), error_body_limit=MAX_ERROR_BYTES)

    async def _answer(self, session: HttpClient, request: Request, body: bytes | ValueError) -> Response:
        if isinstance(body, ValueError):
            return Response.failed(request, FailureKind.REJECTED, str(body), attempts=0)
        attempt = 0
        last: _Retryable | None = None
        while True:
            ticket = await self._admission(request.key)
            if ticket.admission is Admission.GIVE_UP:
                return self._given_up(request, last, attempt)
            attempt += 1
            try:
                completion = await self._post(session, body, self._attempt_timeout(ticket))
            except _Final as failure:
                self._breaker.record(request.key, Contact.ANSWERED)
                return Response.failed(request, failure.kind, str(failure), attempts=attempt)
            except _Retryable as failure:
                self._breaker.record(request.key, failure.contact)
                if attempt > self.retry.max_retries:
                    return Response.failed(request, failure.kind, str(failure), attempts=attempt)
                last = failure
                await asyncio.sleep(self.retry.delay(attempt, failure.retry_after))
                continue
            self._breaker.record(request.key, Contact.ANSWERED)
            self._note_usage_problem(completion.usage_problem)
            text = truncate_at_stops(completion.text, request.gen_kwargs.get("until"))
            return Response.generated(request, text, completion.usage, attempts=attempt)

    async def _admission(self, request_key: str) -> Ticket:
        """Wait while the circuit breaker holds requests back (the server is down)."""
        while True:
            ticket = self._breaker.admit(request_key)
            if ticket.admission is not Admission.WAIT:
                return ticket
            await asyncio.sleep(ticket.seconds or 0)

    def _attempt_timeout(self, ticket: Ticket) -> float:
        """The full timeout, except for a probe, which must end by the time the breaker gives up."""
        if ticket.admission is not Admission.PROBE or ticket.seconds is None:
            return self.timeout
        return min(self.timeout, max(ticket.seconds, MIN_PROBE_SECONDS))

    def _given_up(self, request: Request, last: _Retryable | None, attempts: int) -> Response:
        reason = f"{self.base_url} gave no answer for {self._breaker.give_up_after:g} s, so the request was given up"
        if last is None:
            return Response.failed(request, FailureKind.CONNECTION, f"not sent: {reason}", attempts=0)
        return Response.failed(request, last.kind, f"{last}; then {reason}", attempts=attempts)

    def _announce(self, event: BreakerEvent) -> None:
        breaker = self._breaker
        if event is BreakerEvent.OPENED:
            logger.warning(
                "%s: %d requests in a row got no answer; holding the others back and trying one every %g s",
                self.base_url, breaker.threshold, breaker.probe_interval,
            )
        elif event is BreakerEvent.CLOSED:
            logger.warning("%s answers again; sending the requests held back", self.base_url)
        else:
            logger.error(
                "%s gave no answer for %g s: giving up on it; the remaining requests are recorded as failed",
                self.base_url, breaker.give_up_after,
            )

    def _note_usage_problem(self, problem: str | None) -> None:
        """Usage is accounting: a malformed block is logged once per backend and otherwise ignored."""
        if problem is not None and not self._usage_warned:
            self._usage_warned = True
            logger.warning("%s sends malformed token usage (%s); usage is not counted for such replies", self.base_url, problem)

    async def _post(self, session: HttpClient, body: bytes, timeout: float, url: str | None = None, proxy: str | None = None) -> _Completion:
        """One attempt with a JSON `body` (prepare.request_body); `url` and its `proxy` name
        another endpoint than base_url (spread.py)."""
        proxy = proxy if url else self.proxy
        url = url or self._generate_url()
        try:
            reply = await session.request("POST", url, body, timeout=timeout, proxy=proxy)
        except TimeoutError:
            raise _Retryable(FailureKind.TIMEOUT, f"no answer within {timeout:g} s", contact=Contact.NO_ANSWER) from None
        except ConnectionLost as error:
            if error.headers_complete:
                message = f"the reply was cut off: {self._redact.shorten(str(error), ERROR_EXCERPT)}"
                raise _Retryable(FailureKind.CONNECTION, message, contact=Contact.CUT_OFF) from None
            raise _Retryable(FailureKind.CONNECTION, self._redact.shorten(str(error), ERROR_EXCERPT), contact=Contact.NO_ANSWER) from None
        except HttpError as error:
            raise _Retryable(FailureKind.CONNECTION, self._redact.shorten(str(error), ERROR_EXCERPT), contact=Contact.NO_ANSWER) from None
        if reply.status != 200:
            raise self._http_error(reply.status, reply.body, reply.headers.get("retry-after"))
        return self._parse_reply(reply.body)

    def _http_error(self, status: int, body: bytes, retry_after: str | None) -> _Retryable | _Final:
        message = f"HTTP {status}: {self._redact.shorten(_error_text(body.decode('utf-8', errors='replace')), ERROR_EXCERPT)}"
        if status in RETRYABLE_STATUSES:
            kind = FailureKind.RATE_LIMITED if status == 429 else FailureKind.SERVER_ERROR
            return _Retryable(kind, message, retry_after)
        return _Final(FailureKind.REJECTED, message)

    def wants_frames(self) -> bool:
        return not self.pass_video_url  # with pass_video_url the server samples the video itself

    def _conversation(self, request: Request) -> ChatMessages:
        """The request as chat messages, each video replaced by its sampled frames unless
        the server is to get it whole (`pass_video_url`)."""
        messages = request.context if isinstance(request.context, ChatMessages) else ChatMessages.build(request.context, request.visuals)
        return messages if self.pass_video_url else frames_as_images(messages, self.video_sampling, self.frame_cache)

    def _payload(self, request: Request) -> dict[str, Any]:
        messages = self._conversation(request)
        payload: dict[str, Any] = {"model": self.model, "messages": to_openai(messages, self.image_format)}
        payload.update(self._sampling(request.gen_kwargs))
        return payload

    def _sampling(self, gen_kwargs: Any) -> dict[str, Any]:
        """Task generation kwargs in OpenAI's names; keys it has no equivalent for are dropped."""
        options: dict[str, Any] = {"max_tokens": int(gen_kwargs.get("max_new_tokens") or self.max_new_tokens)}
        sampling = bool(gen_kwargs.get("do_sample", False)) or float(gen_kwargs.get("temperature", 0) or 0) > 0
        # `temperature: null` beside do_sample means the default, not a crash of every request
        temperature = gen_kwargs.get("temperature")
        options["temperature"] = (1.0 if temperature is None else float(temperature)) if sampling else 0.0
        if sampling and gen_kwargs.get("top_p") is not None:
            options["top_p"] = float(gen_kwargs["top_p"])
        stops = [stop for stop in (gen_kwargs.get("until") or []) if stop]
        if stops and self.send_stop:
            options["stop"] = stops[:MAX_STOP_SEQUENCES]
        if gen_kwargs.get("seed") is not None:
            options["seed"] = int(gen_kwargs["seed"])
        return options


class _WorkerPool(PreparingPool):
    """`num_concurrent` workers, each taking the next prepared request when it is free.

    One thread builds the requests (task code, image decoding) and their JSON bodies
    (image encoding), at most PREPARED_AHEAD ahead of the workers: memory stays flat
    however long the task, and the event loop is not held up while they are built. One
    thread rather than a pool: the request iterator can only be advanced by one thread
    at a time anyway, and each hand-over then costs one wake-up of the loop, not an
    executor job and a lock. Finished responses wait in a queue that the synchronous
    caller drains between turns of the event loop; each completion costs O(1).
    """

    def __init__(self, model: OpenAIChat, requests: Iterator[Request]):
        self.model = model
        self.requests = requests
        self.finished: deque[Response] = deque()
        self.progress = asyncio.Event()
        self.workers: list[asyncio.Task[None]] = []
        self.running = 0
        self.failure: BaseException | None = None
        self.session: HttpClient | None = None
        self.prepared: asyncio.Queue[_Prepared | None] | None = None  # None marks the end of the requests
        self.room = Room(min(PREPARED_AHEAD, max(1, model.num_concurrent // 2)))
        self.stopping = threading.Event()
        self.builder: threading.Thread | None = None
        self.reachable: asyncio.Task[None] | None = None

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self.prepared = asyncio.Queue()
        self.builder = threading.Thread(target=self._build_all, args=(loop,), name="openai-prepare", daemon=True)
        self.builder.start()
        self.running = self.model.num_concurrent
        self.workers = [asyncio.create_task(self._work()) for _ in range(self.model.num_concurrent)]

    async def _work(self) -> None:
        assert self.prepared is not None
        try:
            while self.failure is None:
                prepared = await self.prepared.get()
                if prepared is None:
                    self.prepared.put_nowait(None)  # the end, for the other workers too
                    return
                self.room.give_back()
                await self._server_reachable()
                self.finished.append(await self.model._answer(self._session(), *prepared))
                self.progress.set()
        except Exception as error:  # noqa: BLE001 - handed to the caller, who re-raises it
            self.failure = self.failure or error
        finally:
            self.running -= 1
            self.progress.set()

    async def _server_reachable(self) -> None:
        """The deferred start-up check, once, before the first request goes out; every
        worker waits for it, and its failure stops them all."""
        if self.model._server_checked:
            return
        if self.reachable is None:
            self.reachable = asyncio.ensure_future(self.model._ensure_reachable())
        await self.reachable

    def _session(self) -> HttpClient:
        # Opened with the first request: a task answered entirely from the store opens none.
        if self.session is None:
            self.session = self.model._new_session()
        return self.session

    def _build_all(self, loop: asyncio.AbstractEventLoop) -> None:
        """On the builder thread: see prepare.build_all; None marks the end of the requests."""
        assert self.prepared is not None
        prepared = self.prepared
        build_all(
            self.model,
            self.requests,
            self.room,
            self.stopping,
            loop,
            hand_over=lambda request, body: prepared.put_nowait((request, body)),
            failed=self._builder_failed,
            ended=lambda: prepared.put_nowait(None),
        )

    def _builder_failed(self, error: Exception) -> None:
        self.failure = self.failure or error

    @property
    def exhausted(self) -> bool:
        return self.running == 0 and not self.finished

    def take_finished(self) -> Iterator[Response]:
        while self.finished:
            yield self.finished.popleft()

    async def close(self) -> None:
        self._stop_builder()
        for worker in self.workers:
            worker.cancel()
        await asyncio.gather(*self.workers, return_exceptions=True)
        if self.reachable is not None and not self.reachable.done():
            self.reachable.cancel()
            await asyncio.gather(self.reachable, return_exceptions=True)
        if self.builder is not None:
            # The request iterator must be left to the caller, who drains it after this.
            self.builder.join()
        if self.session is not None:
            await self.session.close()


_Prepared = tuple[Request, "bytes | ValueError"]




def _first_env(names: tuple[str, ...]) -> str | None:
    return next((os.environ[name] for name in names if os.environ.get(name)), None)


def proxy_for(url: str) -> str | None:
    """The proxy the environment (HTTPS_PROXY, NO_PROXY, ...) sets for `url`, if any."""
    import urllib.request  # ~13 ms (http.client, email): only once something is sent

    parts = urllib.parse.urlsplit(url)
    if parts.hostname and urllib.request.proxy_bypass(parts.hostname):
        return None
    return urllib.request.getproxies().get(parts.scheme)


@dataclass(frozen=True)
class _Completion:
    text: str
    usage: Usage | None
    usage_problem: str | None = None  # why the usage block was ignored, if it was


def parse_completion(body: bytes, redact: Redactor | None = None) -> _Completion:
    """A chat completion's text and usage; anything else raises a `bad_response` failure.

    Servers differ: `content` may be a string or a list of parts, whose text parts are
    joined. Content that is not text (a number, an object, parts without text) fails the
    request. A malformed usage block only loses the token counts.
    """
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: JSON nested too deep to read
        raise _Final(FailureKind.BAD_RESPONSE, f"not a chat completion: {_excerpt(body, redact)}") from None
    if isinstance(data, dict) and "error" in data and "choices" not in data:
        raise _Final(FailureKind.BAD_RESPONSE, f"an error instead of a completion: {_excerpt(json.dumps(data['error']), redact)}")
    text = _message_text(_first_message(data, body, redact))
    usage, problem = _usage(data.get("usage"))
    return _Completion(text, usage, problem)


def _first_message(data: Any, body: bytes, redact: Redactor | None) -> dict[str, Any]:
    choices = data.get("choices") if isinstance(data, dict) else None
    choice = choices[0] if isinstance(choices, list) and choices else None
    message = choice.get("message") if isinstance(choice, dict) else None
    if not isinstance(message, dict):
        raise _Final(FailureKind.BAD_RESPONSE, f"not a chat completion: {_excerpt(body, redact)}")
    return message


def _message_text(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, str):
        return content
    if content is None:
        raise _Final(FailureKind.BAD_RESPONSE, "the completion has no text content (refusal or tool call)")
    if isinstance(content, list):
        texts = [part["text"] for part in content if isinstance(part, dict) and part.get("type") == "text" and isinstance(part.get("text"), str)]
        if texts:
            return "".join(texts)
        raise _Final(FailureKind.BAD_RESPONSE, "the completion's content is a list without text parts")
    raise _Final(FailureKind.BAD_RESPONSE, f"the completion's content is {_json_type(content)}, not text")


def _usage(block: Any) -> tuple[Usage | None, str | None]:
    """Token counts, or None and why the block was ignored (absent or empty is no problem)."""
    if block is None:
        return None, None
    if not isinstance(block, dict):
        return None, f"usage is {_json_type(block)}, not an object"
    if not block:
        return None, None
    counts = []
    for name in ("prompt_tokens", "completion_tokens"):
        value = block.get(name)
        if value is None:
            value = 0
        elif isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            return None, f"usage.{name} is {_json_type(value)}, not a count of tokens"
        counts.append(value)
    return Usage(*counts), None


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a negative number" if value < 0 else "a number"
    return {str: "a string", list: "a list", dict: "an object"}.get(type(value), type(value).__name__)


def _excerpt(text: bytes | str, redact: Redactor | None) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    return (redact or Redactor()).shorten(text, BODY_EXCERPT)


def _error_text(text: str) -> str:
    """The server's own error message (OpenAI's `{"error": {"message": ...}}`), else the body."""
    try:
        error = json.loads(text)["error"]
    except (ValueError, KeyError, TypeError, IndexError, RecursionError):
        return text.strip() or "(empty body)"
    message = error.get("message") if isinstance(error, dict) else error
    return str(message) if message is not None else text.strip()
