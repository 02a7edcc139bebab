"""`openai` / `openai_compatible`: any server that speaks OpenAI chat completions.

That is OpenAI itself and the servers people run locally (vLLM, SGLang, Ollama,
`transformers serve`). Requests go out concurrently over aiohttp: on a 2-core machine it
sustains several times the request rate of the openai SDK's default transport, which
matters when a local server answers 256 requests at a time.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
import urllib.parse
import urllib.request
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import aiohttp

from lmms_eval.api.messages import ChatMessages, to_openai
from lmms_eval.api.model import Model
from lmms_eval.api.request import Request
from lmms_eval.api.response import FailureKind, Response, Usage
from lmms_eval.errors import ModelError, ServerUnreachableError
from lmms_eval.models.api.retry import RETRYABLE_STATUSES, RetryPolicy
from lmms_eval.models.common import truncate_at_stops

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.openai.com/v1"
PREPARE_THREADS = 2
MAX_STOP_SEQUENCES = 4  # the OpenAI API's limit; longer lists are also applied client-side


class _Retryable(Exception):
    def __init__(self, kind: FailureKind, message: str, retry_after: str | None = None):
        super().__init__(message)
        self.kind = kind
        self.retry_after = retry_after


class _Final(Exception):
    def __init__(self, kind: FailureKind, message: str):
        super().__init__(message)
        self.kind = kind


class OpenAIChat(Model):
    is_chat = True
    secret_args = ("api_key",)
    transport_args = ("base_url", "num_concurrent", "max_retries", "timeout", "retry_base_delay", "max_retry_delay")

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
        **unused: Any,
    ) -> None:
        super().__init__(**unused)
        if num_concurrent < 1:
            raise ModelError("num_concurrent must be at least 1")
        if image_format.upper() not in ("PNG", "JPEG"):
            raise ModelError(f"image_format must be PNG or JPEG, not {image_format}")
        self.base_url = (base_url or os.environ.get("OPENAI_BASE_URL") or os.environ.get("OPENAI_API_BASE") or DEFAULT_BASE_URL).rstrip("/")
        self.api_key = api_key or os.environ.get("OPENAI_API_KEY")
        self.num_concurrent = int(num_concurrent)
        self.timeout = float(timeout)
        self.retry = RetryPolicy(int(max_retries), float(retry_base_delay), float(max_retry_delay))
        self.max_new_tokens = int(max_new_tokens)
        self.image_format = image_format.upper()
        # Stop strings are applied client-side in any case; some servers fail on the field
        # (transformers serve with a multimodal processor answers HTTP 500).
        self.send_stop = bool(send_stop)
        self.proxy = proxy_for(self.base_url)
        self._preparers = ThreadPoolExecutor(max_workers=PREPARE_THREADS, thread_name_prefix="openai-prepare")
        self._client_timeout = aiohttp.ClientTimeout(total=self.timeout)
        self.model = self._check_server(model or model_version)
        self._server_down = False

    @property
    def identity(self) -> str:
        return self.model

    def close(self) -> None:
        self._preparers.shutdown(wait=False, cancel_futures=True)

    # --- connection checks ----------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}

    def _check_server(self, model: str | None) -> str:
        """Ask the server for its models before any work starts: an unreachable server or
        a refused key fails the run now, in one line, not after every request's retries.
        Without a `model` arg the server's (first) listed model is used."""
        listed = asyncio.run(self._list_models(required=model is None))
        if model:
            return model
        if not listed:
            raise ModelError(f"{self.base_url}/models lists no model; pass model=NAME in --model_args")
        if len(listed) > 1:
            logger.warning("%s serves %d models; using '%s' (pass model=NAME to choose)", self.base_url, len(listed), listed[0])
        return listed[0]

    async def _list_models(self, required: bool) -> list[str]:
        url = f"{self.base_url}/models"
        try:
            async with aiohttp.ClientSession(headers=self._headers()) as session:
                async with session.get(url, timeout=aiohttp.ClientTimeout(total=min(self.timeout, 30.0)), proxy=self.proxy) as reply:
                    if reply.status in (401, 403):
                        raise ModelError(f"{url} refused the API key (HTTP {reply.status}); set api_key or OPENAI_API_KEY")
                    if reply.status != 200:
                        if required:
                            raise ModelError(f"{url} answered HTTP {reply.status}; pass model=NAME in --model_args")
                        return []  # some servers have no model list; chat requests will tell
                    body = await reply.json(content_type=None)
        except (aiohttp.ClientConnectionError, asyncio.TimeoutError) as error:
            raise ServerUnreachableError(f"cannot reach {self.base_url}: {error or type(error).__name__}") from None
        except ValueError:
            body = {}
        entries = body.get("data", []) if isinstance(body, dict) else []
        return [entry["id"] for entry in entries if isinstance(entry, dict) and "id" in entry]

    # --- generation -----------------------------------------------------------------------

    def generate_until(self, requests: Iterable[Request]) -> Iterator[Response]:
        # Each call (each task) tries the server afresh: it may be back after a restart.
        self._server_down = False
        loop = asyncio.new_event_loop()
        pool = _WorkerPool(self, iter(requests))
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

    async def _open_session(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(limit=self.num_concurrent)
        # trust_env would look proxies up again for every request (a third of the client's
        # CPU at 256 in flight); the proxy is resolved once instead, in __init__.
        return aiohttp.ClientSession(headers=self._headers(), connector=connector)

    async def _answer(self, session: aiohttp.ClientSession, request: Request, payload: dict[str, Any] | ValueError) -> Response:
        if isinstance(payload, ValueError):
            return Response.failed(request, FailureKind.REJECTED, str(payload), attempts=0)
        attempt = 0
        while True:
            attempt += 1
            if self._server_down:
                return Response.failed(request, FailureKind.CONNECTION, f"not sent: {self.base_url} stopped answering", attempts=attempt - 1)
            try:
                text, usage = await self._post(session, payload)
                return Response.generated(request, truncate_at_stops(text, request.gen_kwargs.get("until")), usage)
            except _Final as failure:
                return Response.failed(request, failure.kind, str(failure), attempts=attempt)
            except _Retryable as failure:
                if attempt > self.retry.max_retries:
                    if failure.kind is FailureKind.CONNECTION:
                        self._server_down = True  # fail the rest fast instead of retrying each
                    return Response.failed(request, failure.kind, str(failure), attempts=attempt)
                await asyncio.sleep(self.retry.delay(attempt, failure.retry_after))

    async def _post(self, session: aiohttp.ClientSession, payload: dict[str, Any]) -> tuple[str, Usage | None]:
        url = f"{self.base_url}/chat/completions"
        try:
            async with session.post(url, json=payload, timeout=self._client_timeout, proxy=self.proxy) as reply:
                if reply.status != 200:
                    message = f"HTTP {reply.status}: {_error_message(await reply.text())}"
                    if reply.status in RETRYABLE_STATUSES:
                        kind = FailureKind.RATE_LIMITED if reply.status == 429 else FailureKind.SERVER_ERROR
                        raise _Retryable(kind, message, reply.headers.get("Retry-After"))
                    raise _Final(FailureKind.REJECTED, message)
                body = await reply.read()
        except asyncio.TimeoutError:
            raise _Retryable(FailureKind.TIMEOUT, f"no answer within {self.timeout:g} s") from None
        except aiohttp.ClientError as error:
            raise _Retryable(FailureKind.CONNECTION, f"{type(error).__name__}: {error}") from None
        return _parse_completion(body)

    def _payload(self, request: Request) -> dict[str, Any]:
        messages = request.context if isinstance(request.context, ChatMessages) else ChatMessages.build(request.context, request.visuals)
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


class _WorkerPool:
    """`num_concurrent` workers, each pulling the next request when it is free.

    A request is built (and its images encoded) only when a worker takes it, so memory
    stays flat however long the task. Finished responses wait in a queue that the
    synchronous caller drains between turns of the event loop; each completion costs
    O(1), unlike waiting on the whole set of in-flight tasks.
    """

    def __init__(self, model: OpenAIChat, requests: Iterator[Request]):
        self.model = model
        self.requests = requests
        self.finished: deque[Response] = deque()
        self.progress = asyncio.Event()
        self.workers: list[asyncio.Task[None]] = []
        self.running = 0
        self.failure: BaseException | None = None
        self.session: aiohttp.ClientSession | None = None
        self.lock = threading.Lock()

    async def start(self) -> None:
        self.session = await self.model._open_session()
        self.running = self.model.num_concurrent
        self.workers = [asyncio.create_task(self._work()) for _ in range(self.model.num_concurrent)]

    async def _work(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self.failure is None:
                prepared = await loop.run_in_executor(self.model._preparers, self._prepare_next)
                if prepared is None:
                    return
                self.finished.append(await self.model._answer(self.session, *prepared))
                self.progress.set()
        except Exception as error:  # noqa: BLE001 - handed to the caller, who re-raises it
            self.failure = self.failure or error
        finally:
            self.running -= 1
            self.progress.set()

    def _prepare_next(self) -> tuple[Request, dict[str, Any] | ValueError] | None:
        """Build the next request and its JSON body, off the event loop.

        Building runs task code and decodes images; encoding compresses them. Both hold
        the event loop up if done on it, and Pillow releases the GIL while it works, so
        in threads they overlap with the network traffic. Task code raising here stops
        every worker: the caller re-raises it.
        """
        with self.lock:  # a generator cannot be advanced from two threads at once
            request = next(self.requests, None)
        if request is None:
            return None
        try:
            return request, self.model._payload(request)
        except ValueError as error:
            return request, error

    @property
    def exhausted(self) -> bool:
        return self.running == 0 and not self.finished

    def take_finished(self) -> Iterator[Response]:
        while self.finished:
            yield self.finished.popleft()

    async def wait_for_progress(self) -> None:
        await self.progress.wait()
        self.progress.clear()

    def raise_failure(self) -> None:
        if self.failure is not None:
            raise self.failure

    async def close(self) -> None:
        for worker in self.workers:
            worker.cancel()
        await asyncio.gather(*self.workers, return_exceptions=True)
        if self.session is not None:
            await self.session.close()


def proxy_for(url: str) -> str | None:
    """The proxy the environment (HTTPS_PROXY, NO_PROXY, ...) sets for `url`, if any."""
    parts = urllib.parse.urlsplit(url)
    if parts.hostname and urllib.request.proxy_bypass(parts.hostname):
        return None
    return urllib.request.getproxies().get(parts.scheme)


def _parse_completion(body: bytes) -> tuple[str, Usage | None]:
    try:
        data = json.loads(body)
        content = data["choices"][0]["message"].get("content")
    except (ValueError, KeyError, IndexError, TypeError, AttributeError):
        raise _Final(FailureKind.BAD_RESPONSE, f"not a chat completion: {body[:200]!r}") from None
    if content is None:
        raise _Final(FailureKind.BAD_RESPONSE, "the completion has no text content (refusal or tool call)")
    usage = data.get("usage") or {}
    tokens = Usage(int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0)) if usage else None
    return content, tokens


def _error_message(text: str) -> str:
    try:
        return str(json.loads(text)["error"]["message"])[:300]
    except (ValueError, KeyError, TypeError):
        return text.strip()[:300] or "(empty body)"


