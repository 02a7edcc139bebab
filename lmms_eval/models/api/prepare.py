"""Building request bodies on one thread, shared by the single-server pool
(openai_chat._WorkerPool) and the several-server pool (spread.SpreadPool)."""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from lmms_eval.api.plain_json import json_bytes
from lmms_eval.api.request import Request

if TYPE_CHECKING:
    from lmms_eval.models.api.openai_chat import OpenAIChat

PREPARED_AHEAD = 16  # request bodies built before a worker is free to send them


def request_body(model: OpenAIChat, request: Request) -> bytes | ValueError:
    """The JSON body of `request` as the bytes sent (made here so the event loop only
    sends it; its images are copied in, not escaped: lmms_eval.api.plain_json), or the
    ValueError that fails only this request."""
    try:
        payload = model._payload(request)
    except ValueError as error:
        return error
    return json_bytes(payload)


class LoopInbox:
    """Calls from one producer thread, run on the event loop in the order they were put.

    `call_soon_threadsafe` per item wakes the loop once per item; under load each wake-up
    costs more than the item itself. Here items wait in a deque and at most one wake-up
    is pending: the loop runs everything that arrived by the time it gets to it. (One
    producer only: the flag is read and set by that thread alone, and cleared by the
    loop before it drains, so an item is never left without a wake-up to come.)
    """

    def __init__(self, loop: asyncio.AbstractEventLoop):
        self._loop = loop
        self._calls: deque[tuple[Callable[..., None], tuple[Any, ...]]] = deque()
        self._wake_pending = False

    def put(self, call: Callable[..., None], *args: Any) -> None:
        """On the producer thread."""
        self._calls.append((call, args))
        if not self._wake_pending:
            self._wake_pending = True
            self._loop.call_soon_threadsafe(self._drain)

    def _drain(self) -> None:
        self._wake_pending = False
        calls = self._calls
        while calls:
            call, args = calls.popleft()
            call(*args)


class Room:
    """At most `size` requests built and not yet taken by a worker.

    The builder takes a place per request and waits while none is free; workers give
    places back as they take requests (on the loop). A builder that waited resumes only
    once half the places are free, and then builds that many in one go: woken for every
    request given back, it would cost a thread switch per request, while the loop still
    holds the other half to send meanwhile.
    """

    def __init__(self, size: int):
        self.size = max(1, size)
        self._free = self.size
        self._resume_at = max(1, self.size // 2)
        self._changed = threading.Condition(threading.Lock())
        self._waiting = False
        self._opened = False

    def take(self) -> bool:
        """On the builder thread: a place, once there is one; False once `open_up` was called."""
        with self._changed:
            if self._free <= 0 and not self._opened:
                self._waiting = True
                while self._free < self._resume_at and not self._opened:
                    self._changed.wait()
                self._waiting = False
            self._free -= 1
            return not self._opened

    def give_back(self) -> None:
        """A request was taken: its place is free."""
        with self._changed:
            self._free += 1
            if self._waiting and self._free >= self._resume_at:
                self._changed.notify()

    def open_up(self) -> None:
        """Stop making the builder wait (the pool is closing)."""
        with self._changed:
            self._opened = True
            self._changed.notify_all()


def build_all(
    model: OpenAIChat,
    requests: Iterator[Request],
    room: Room,
    stopping: threading.Event,
    loop: asyncio.AbstractEventLoop,
    hand_over: Callable[[Request, bytes | ValueError], None],
    failed: Callable[[Exception], None],
    ended: Callable[[], None],
) -> None:
    """On the builder thread: each request and its body, handed to the loop as it is done.

    Building runs task code and decodes images; encoding compresses them. One place in
    `room` is taken per request, so at most that many wait unsent. Task code raising
    here is handed to `failed` (the caller re-raises it); a body that cannot be made
    (ValueError) fails only its own request. `ended` is called last, always. All three
    run on the loop, in this order, through one LoopInbox.
    """
    inbox = LoopInbox(loop)
    try:
        while room.take() and not stopping.is_set():
            request = next(requests, None)
            if request is None:
                break
            inbox.put(hand_over, request, request_body(model, request))
    except Exception as error:  # noqa: BLE001 - handed to the caller, who re-raises it
        inbox.put(failed, error)
    finally:
        inbox.put(ended)


class PreparingPool:
    """What both pools share around their builder thread: the caller waits on `progress`
    and re-raises `failure`; closing stops the builder. Each pool sets these attributes."""

    progress: asyncio.Event
    failure: BaseException | None
    room: Room
    stopping: threading.Event

    async def wait_for_progress(self) -> None:
        await self.progress.wait()
        self.progress.clear()

    def raise_failure(self) -> None:
        if self.failure is not None:
            raise self.failure

    def _stop_builder(self) -> None:
        self.stopping.set()
        self.room.open_up()  # the builder may be waiting for room
