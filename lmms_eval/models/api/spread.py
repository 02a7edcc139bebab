"""One model served by several servers: requests spread by free capacity, each server with its
own concurrency limit and health.

Every live endpoint has `num_concurrent` workers that take the next request from one shared
queue, so a server with free capacity takes work and a busy one does not: that is the whole
balancing rule, and it holds for servers of different speeds. An endpoint whose circuit
breaker opens (requests in a row without an answer) stops taking work; the request that
learnt it goes back into the queue for the others, and the endpoint is probed with the
server's model list every `probe_interval` until it answers again. Requests are given up
only when no endpoint has answered for `give_up_after` seconds.

Each request ends as exactly one response, from exactly one endpoint: a request whose
server died mid-answer never got that answer, so asking another one answers it once.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lmms_eval.api.request import Request
from lmms_eval.api.response import FailureKind, Response
from lmms_eval.errors import ModelError, ServerUnreachableError
from lmms_eval.models.api.endpoints import EndpointSource, public_url, url_on
from lmms_eval.models.api.prepare import PREPARED_AHEAD, PreparingPool, Room, build_all
from lmms_eval.models.api.retry import BreakerEvent, CircuitBreaker, Contact
from lmms_eval.models.common import truncate_at_stops

if TYPE_CHECKING:
    from lmms_eval.models.api.openai_chat import OpenAIChat

logger = logging.getLogger(__name__)

REFRESH_SECONDS = 1.0  # how often base_url_file is read again (the brief: at least every 2 s)
TICK_SECONDS = 0.2  # how often the supervisor looks at the endpoints


class Endpoints:
    """The servers of one backend and what is known about them, kept across tasks: each
    one's circuit breaker, and which ones were checked to serve the model."""

    def __init__(self, source: EndpointSource, breaker_template: CircuitBreaker):
        self.source = source
        self.urls = source.current()
        self.template = breaker_template
        self.breakers: dict[str, CircuitBreaker] = {}
        self.checked: set[str] = set()  # answered the model list and serve the model
        self.refused: dict[str, str] = {}  # url -> why it may not take requests (another model)
        self._file_problem: str | None = None

    def breaker(self, url: str) -> CircuitBreaker:
        if url not in self.breakers:
            template = self.template
            announce = lambda event, url=url: _announce(url, template.probe_interval, template.threshold, event)  # noqa: E731
            self.breakers[url] = CircuitBreaker(template.threshold, template.probe_interval, template.give_up_after, notify=announce)
        return self.breakers[url]

    def refresh(self) -> list[str]:
        """The URLs now. A file that cannot be read or lists nothing mid-run is logged once and
        the last list kept: a file being rewritten must not drain every server."""
        try:
            self.urls = self.source.current()
            self._file_problem = None
        except ModelError as error:
            if str(error) != self._file_problem:
                logger.warning("%s; keeping the %d endpoints read before", error, len(self.urls))
                self._file_problem = str(error)
        return self.urls

    async def check(self, model: OpenAIChat, urls: list[str], wanted: str | None) -> tuple[str | None, dict[str, Exception]]:
        """Ask each unchecked URL for its models. Returns the model (the one asked for, else
        the first listed by the first server that answers) and the URLs that did not answer.
        A server that lists models without the model is refused: ModelError, one line."""
        pending = [url for url in urls if url not in self.checked and url not in self.refused]
        listings = await asyncio.gather(*(model._list_models(required=False, base_url=url) for url in pending), return_exceptions=True)
        unreachable: dict[str, Exception] = {}
        reference = next((url for url in self.checked), None) if wanted else None
        for url, listed in zip(pending, listings):
            if isinstance(listed, ServerUnreachableError):
                unreachable[url] = listed
                continue
            if isinstance(listed, BaseException):
                raise listed
            if wanted is None and listed:
                wanted, reference = listed[0], url
            if listed and wanted not in listed:
                shown = ", ".join(listed[:3]) + (", ..." if len(listed) > 3 else "")
                why = f"endpoints serve different models: {url} serves {shown}, not '{wanted}'" + (f" (which {reference} serves)" if reference else "")
                self.refused[url] = why
                raise ModelError(why)
            self.checked.add(url)
        return wanted, unreachable


def none_answered(unreachable: dict[str, Exception]) -> ServerUnreachableError:
    """The start-up error when no endpoint answered its model check: each one's reason."""
    reasons = "; ".join(str(error) for error in unreachable.values())
    return ServerUnreachableError(f"none of the {len(unreachable)} endpoints answered: {reasons}")


def _announce(url: str, probe_interval: float, threshold: int, event: BreakerEvent) -> None:
    if event is BreakerEvent.OPENED:
        logger.warning(
            "%s: %d requests in a row got no answer; taking it out (its requests go to the other endpoints) and probing it every %g s",
            url, threshold, probe_interval,
        )
    elif event is BreakerEvent.CLOSED:
        logger.warning("%s answers again; sending it requests", url)


@dataclass(eq=False)
class _Job:
    request: Request
    body: bytes | ValueError  # prepare.request_body
    attempts: int = 0
    retries: int = 0  # attempts that counted against max_retries
    moves: int = 0  # times it went back to the queue for another endpoint
    taken: bool = False
    last_error: Exception | None = None


@dataclass(eq=False)
class _Live:
    """An endpoint taking part in this batch: its workers, session and health event."""

    url: str
    breaker: CircuitBreaker
    healthy: asyncio.Event
    generate_url: str
    proxy: str | None
    workers: list[asyncio.Task[None]] = field(default_factory=list)
    idle: set[asyncio.Task[None]] = field(default_factory=set)
    session: Any = None
    retired: bool = False
    probe: asyncio.Task[None] | None = None
    next_probe_at: float = 0.0

    def sync_health(self) -> None:
        if self.breaker.is_open:
            self.healthy.clear()
        else:
            self.healthy.set()


class SpreadPool(PreparingPool):
    """The `_WorkerPool` of a backend with several endpoints (same interface: start,
    take_finished, exhausted, wait_for_progress, raise_failure, close)."""

    def __init__(self, model: OpenAIChat, endpoints: Endpoints, requests: Iterator[Request]):
        self.model = model
        self.endpoints = endpoints
        self.requests = requests
        self.finished: list[Response] = []
        self.progress = asyncio.Event()
        self.failure: BaseException | None = None
        self.jobs: asyncio.Queue[_Job] = asyncio.Queue()
        self.live: dict[str, _Live] = {}
        self.outstanding = 0  # jobs handed over by the builder and not yet finished
        self.builder_done = False
        self.first_job = asyncio.Event()
        self.room = Room(PREPARED_AHEAD)
        self.stopping = threading.Event()
        self.builder: threading.Thread | None = None
        self.supervisor: asyncio.Task[None] | None = None
        self.joining: dict[str, asyncio.Task[None]] = {}
        self.unreachable_at: dict[str, float] = {}  # url -> when it was last asked, for those not yet live
        self.all_down_since: float | None = None
        self.given_up = False
        self.generate_path_url = model._generate_url()
        self.max_moves = (model.retry.max_retries + 1) * max(2, len(endpoints.urls))

    # --- the interface the backend drives -------------------------------------------------

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self.builder = threading.Thread(target=self._build_all, args=(loop,), name="spread-prepare", daemon=True)
        self.builder.start()
        self.supervisor = asyncio.create_task(self._supervise())

    @property
    def exhausted(self) -> bool:
        done = self.failure is not None or (self.builder_done and self.outstanding == 0)
        return done and not self.finished

    def take_finished(self) -> Iterator[Response]:
        finished, self.finished = self.finished, []
        yield from finished

    async def close(self) -> None:
        self._stop_builder()
        tasks = [task for live in self.live.values() for task in live.workers + ([live.probe] if live.probe else [])]
        tasks += list(self.joining.values()) + ([self.supervisor] if self.supervisor else [])
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self.builder is not None:
            self.builder.join()  # the request iterator must be left to the caller, who drains it after this
        for live in self.live.values():
            if live.session is not None:
                await live.session.close()

    # --- building requests (one thread, as in _WorkerPool) --------------------------------

    def _build_all(self, loop: asyncio.AbstractEventLoop) -> None:
        build_all(
            self.model,
            self.requests,
            self.room,
            self.stopping,
            loop,
            hand_over=lambda request, body: self._arrive(_Job(request, body)),
            failed=self._fail,
            ended=self._builder_finished,
        )

    def _arrive(self, job: _Job) -> None:
        self.outstanding += 1
        self.first_job.set()
        if self.given_up:
            self._finish(self._given_up(job))
        else:
            self.jobs.put_nowait(job)

    def _builder_finished(self) -> None:
        self.builder_done = True
        self.progress.set()

    def _fail(self, error: BaseException) -> None:
        self.failure = self.failure or error
        self.progress.set()

    def _finish(self, response: Response) -> None:
        self.outstanding -= 1
        self.finished.append(response)
        self.progress.set()

    def _taken(self, job: _Job) -> None:
        if not job.taken:
            job.taken = True
            self.room.give_back()

    # --- endpoints joining, leaving, going down and coming back ---------------------------

    async def _supervise(self) -> None:
        try:
            await self.first_job.wait()  # a batch answered entirely from the store contacts no server
            await self._first_contact()
            next_refresh = time.monotonic() + REFRESH_SECONDS
            while True:
                await asyncio.sleep(TICK_SECONDS)
                now = time.monotonic()
                if self.endpoints.source.file is not None and now >= next_refresh:
                    self._follow(self.endpoints.refresh())
                    next_refresh = now + REFRESH_SECONDS
                self._retry_unreachable(now)
                self._probe_down(now)
                self._give_up_when_all_down(now)
        except Exception as error:  # noqa: BLE001 - handed to the caller, who re-raises it
            self._fail(error)

    async def _first_contact(self) -> None:
        """The start-up check of every endpoint, before the first request goes out: one that
        serves another model fails the run; one that does not answer is asked again later,
        but the run needs at least one that does."""
        urls = self.endpoints.urls
        _, unreachable = await self.endpoints.check(self.model, urls, self.model.model)
        if len(unreachable) == len(urls):
            raise none_answered(unreachable)
        now = time.monotonic()
        for url in urls:
            if url in unreachable:
                logger.warning("%s; sending to the other endpoints and asking it again every %g s", unreachable[url], self._probe_interval)
                self.unreachable_at[url] = now
            else:
                self._go_live(url)

    @property
    def _probe_interval(self) -> float:
        return self.endpoints.template.probe_interval

    def _follow(self, urls: list[str]) -> None:
        """Servers added to the file join (once they show they serve the model); removed ones drain."""
        wanted = set(urls)
        for url, live in self.live.items():
            if url not in wanted and not live.retired:
                logger.warning("%s left %s; it finishes the requests it holds and gets no more", url, self.endpoints.source.file)
                self._retire(live)
            elif url in wanted and live.retired and url not in self.joining and url not in self.unreachable_at and url not in self.endpoints.refused:
                self.endpoints.checked.discard(url)  # it comes back through the model check
                self._join(url)
        for url in urls:
            if url not in self.live and url not in self.joining and url not in self.unreachable_at and url not in self.endpoints.refused:
                self._join(url)
        for url in [url for url in self.unreachable_at if url not in wanted]:
            del self.unreachable_at[url]
        for url in [url for url in self.endpoints.refused if url not in wanted]:
            del self.endpoints.refused[url]  # taken out of the file: checked afresh if it comes back

    def _join(self, url: str) -> None:
        self.joining[url] = asyncio.create_task(self._check_and_join(url))

    async def _check_and_join(self, url: str) -> None:
        try:
            _, unreachable = await self.endpoints.check(self.model, [url], self.model.model)
        except ModelError as error:
            logger.error("%s; not sending it requests", error)
            return
        finally:
            self.joining.pop(url, None)
        if url in unreachable:
            self.unreachable_at[url] = time.monotonic()
        elif url in self.live:
            logger.warning("%s is back: serving '%s'", url, self.model.model)
            self._revive(self.live[url])
        else:
            logger.warning("%s joined: serving '%s'", url, self.model.model)
            self._go_live(url)

    def _retry_unreachable(self, now: float) -> None:
        for url, asked_at in list(self.unreachable_at.items()):
            if now - asked_at >= self._probe_interval and url not in self.joining:
                del self.unreachable_at[url]
                self._join(url)

    def _go_live(self, url: str) -> None:
        breaker = self.endpoints.breaker(url)
        from lmms_eval.models.api.openai_chat import proxy_for

        live = _Live(url, breaker, asyncio.Event(), url_on(url, self.model.base_url, self.generate_path_url), proxy_for(url))
        live.sync_health()
        self.live[url] = live
        live.workers = [asyncio.create_task(self._work(live)) for _ in range(self.model.num_concurrent)]

    def _retire(self, live: _Live) -> None:
        live.retired = True
        for worker in list(live.idle):
            worker.cancel()  # waiting for work; the busy ones stop after their request

    def _revive(self, live: _Live) -> None:
        live.retired = False
        live.workers = [worker for worker in live.workers if not worker.done()]
        missing = self.model.num_concurrent - len(live.workers)
        live.workers += [asyncio.create_task(self._work(live)) for _ in range(missing)]

    def _probe_down(self, now: float) -> None:
        for live in self.live.values():
            if live.breaker.is_open and not live.retired and (live.probe is None or live.probe.done()) and now >= live.next_probe_at:
                live.next_probe_at = now + self._probe_interval
                live.probe = asyncio.create_task(self._probe(live))

    async def _probe(self, live: _Live) -> None:
        """The model list, asked of a server that is down: an answer brings it back in."""
        self.endpoints.checked.discard(live.url)  # it may have come back with another model
        try:
            _, unreachable = await self.endpoints.check(self.model, [live.url], self.model.model)
        except ModelError as error:
            logger.error("%s; not sending it requests", error)
            self._retire(live)
            return
        if live.url not in unreachable:
            live.breaker.record(f"probe:{live.url}", Contact.ANSWERED)
            live.sync_health()

    def _give_up_when_all_down(self, now: float) -> None:
        if any(live.healthy.is_set() and not live.retired for live in self.live.values()):
            self.all_down_since, self.given_up = None, False
            return
        if self.all_down_since is None:
            self.all_down_since = now
        if now - self.all_down_since >= self.endpoints.template.give_up_after:
            if not self.given_up:
                logger.error(
                    "no endpoint answered for %g s: giving up; the remaining requests are recorded as failed",
                    self.endpoints.template.give_up_after,
                )
            self.given_up = True
            while not self.jobs.empty():
                self._finish(self._given_up(self.jobs.get_nowait()))

    def _given_up(self, job: _Job) -> Response:
        self._taken(job)
        reason = f"no endpoint answered for {self.endpoints.template.give_up_after:g} s, so the request was given up"
        if job.last_error is None:
            return Response.failed(job.request, FailureKind.CONNECTION, f"not sent: {reason}", attempts=0)
        kind = getattr(job.last_error, "kind", FailureKind.CONNECTION)
        return Response.failed(job.request, kind, f"{job.last_error}; then {reason}", attempts=job.attempts)

    # --- sending --------------------------------------------------------------------------

    async def _work(self, live: _Live) -> None:
        me = asyncio.current_task()
        assert me is not None
        while not live.retired and self.failure is None:
            live.idle.add(me)
            try:
                await live.healthy.wait()
                job = await self.jobs.get()
            finally:
                live.idle.discard(me)
            if live.retired or not live.healthy.is_set():
                self.jobs.put_nowait(job)  # it went down or left while this worker waited
                continue
            self._taken(job)
            try:
                response = await self._attempt(live, job)
            except Exception as error:  # noqa: BLE001 - handed to the caller, who re-raises it
                self._fail(error)
                return
            if response is None:
                self._move(job)
            else:
                self._finish(response)

    def _move(self, job: _Job) -> None:
        """Back into the queue, for whichever endpoint is free and healthy first."""
        job.moves += 1
        if self.given_up:
            self._finish(self._given_up(job))
        else:
            self.jobs.put_nowait(job)

    async def _attempt(self, live: _Live, job: _Job) -> Response | None:
        """Ask `live` until it answers or the request must go to another endpoint (None)."""
        from lmms_eval.models.api.openai_chat import _Final, _Retryable

        model = self.model
        request = job.request
        if isinstance(job.body, ValueError):
            return Response.failed(request, FailureKind.REJECTED, str(job.body), attempts=0)
        if live.session is None:
            live.session = model._new_session()
        while True:
            job.attempts += 1
            try:
                completion = await model._post(live.session, job.body, model.timeout, url=live.generate_url, proxy=live.proxy)
            except _Final as failure:
                self._record(live, request, Contact.ANSWERED)
                return Response.failed(request, failure.kind, f"{live.url}: {failure}", attempts=job.attempts)
            except _Retryable as failure:
                self._record(live, request, failure.contact)
                job.last_error = failure
                if failure.contact is not Contact.ANSWERED and job.moves < self.max_moves:
                    return None  # the server did not answer it: another one may
                job.retries += 1
                if job.retries > model.retry.max_retries:
                    return Response.failed(request, failure.kind, f"{live.url}: {failure}", attempts=job.attempts)
                await asyncio.sleep(model.retry.delay(job.retries, failure.retry_after))
                if live.retired or not live.healthy.is_set():
                    return None
                continue
            self._record(live, request, Contact.ANSWERED)
            model._note_usage_problem(completion.usage_problem)
            text = truncate_at_stops(completion.text, request.gen_kwargs.get("until"))
            return Response(key=request.key, origin=request.origin, text=text, usage=completion.usage, endpoint=public_url(live.url), attempts=job.attempts)

    def _record(self, live: _Live, request: Request, contact: Contact) -> None:
        live.breaker.record(request.key, contact)
        live.sync_health()
