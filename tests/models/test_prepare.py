"""Request bodies are built on the builder thread and handed to the event loop in order."""

from __future__ import annotations

import asyncio
import json
import threading
import time

from lmms_eval.models.api.prepare import LoopInbox, Room, request_body


def test_every_call_put_from_a_thread_runs_on_the_loop_once_and_in_order():
    received: list[int] = []

    async def collect() -> None:
        loop = asyncio.get_running_loop()
        done = asyncio.Event()
        inbox = LoopInbox(loop)

        def produce() -> None:
            for number in range(5000):
                inbox.put(received.append, number)
            inbox.put(done.set)

        producer = threading.Thread(target=produce)
        producer.start()
        await asyncio.wait_for(done.wait(), timeout=30)
        producer.join()

    asyncio.run(collect())
    assert received == list(range(5000))


class _Backend:
    def __init__(self, payload):
        self.payload = payload

    def _payload(self, request):
        if isinstance(self.payload, Exception):
            raise self.payload
        return self.payload


def test_a_body_is_the_bytes_aiohttp_json_would_send_and_a_bad_one_fails_alone():
    payload = {"model": "m", "messages": [{"role": "user", "content": [{"type": "text", "text": "héllo \u2028 \"x\""}]}], "temperature": 0.0}
    assert request_body(_Backend(payload), None) == json.dumps(payload).encode("utf-8")
    refused = request_body(_Backend(ValueError("cannot carry audio")), None)
    assert isinstance(refused, ValueError) and str(refused) == "cannot carry audio"


def test_the_builder_never_gets_more_than_room_ahead_and_closing_frees_it():
    room = Room(4)
    taken = []

    def build() -> None:
        while room.take():
            taken.append(len(taken))

    builder = threading.Thread(target=build)
    builder.start()
    deadline = time.monotonic() + 10
    while len(taken) < 4 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.05)
    assert len(taken) == 4  # the room is full: the builder waits
    room.give_back()
    time.sleep(0.05)
    assert len(taken) == 4  # one place free: not yet worth waking it
    room.give_back()
    while len(taken) < 6 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.05)
    assert len(taken) == 6  # half free: it builds two more, and never more than room ahead
    room.open_up()
    builder.join(timeout=10)
    assert not builder.is_alive()
