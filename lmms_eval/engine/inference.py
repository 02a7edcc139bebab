"""Stage 4: asking the model, and keeping every answer (or failure) it gives."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lmms_eval.api.model import Model
from lmms_eval.api.request import Origin, Request, RequestType
from lmms_eval.api.response import Failure, FailureKind, Response, Usage
from lmms_eval.engine.request_cache import PendingRequest
from lmms_eval.engine.media_prefetch import decode_ahead, drop_frames_left_behind
from lmms_eval.engine.modalities import has_video
from lmms_eval.engine.requests import UnbuiltDoc
from lmms_eval.engine.throughput import Stopwatch, Throughput
from lmms_eval.store.identity import ModelIdentity, is_reusable
from lmms_eval.store.sqlite import ResponseStore

if TYPE_CHECKING:
    from lmms_eval.media.sampling import VideoSampling

logger = logging.getLogger(__name__)


@dataclass
class TaskResponses:
    """A task's answers by (doc id, index), with request keys and the rendered prompts."""

    responses: dict[tuple[int, int], Response] = field(default_factory=dict)
    prompts: dict[int, object] = field(default_factory=dict)
    from_store: int = 0  # answers reused from the response store rather than asked
    throughput: Throughput = field(default_factory=Throughput)
    sends_video: bool = False  # some request carried a video
    video_sampling: dict[str, Any] | None = None  # the spec its videos were sampled with (results JSON)

    @classmethod
    def merge(cls, parts: list[TaskResponses]) -> TaskResponses:
        """One task's answers from all ranks, as if one process had asked everything."""
        if len(parts) == 1:
            return parts[0]
        merged = cls()
        for part in parts:
            merged.responses.update(part.responses)
            merged.prompts.update(part.prompts)
            merged.from_store += part.from_store
        merged.throughput = Throughput.merge([part.throughput for part in parts])
        merged.sends_video = any(part.sends_video for part in parts)
        merged.video_sampling = next((part.video_sampling for part in parts if part.video_sampling), None)
        return merged

    def add(self, response: Response) -> None:
        self.responses[(response.origin.doc_id, response.origin.index)] = response

    def by_doc(self) -> dict[int, list[Response]]:
        grouped: dict[int, list[Response]] = {}
        for (doc_id, _), response in sorted(self.responses.items()):
            grouped.setdefault(doc_id, []).append(response)
        return grouped

    @property
    def failures(self) -> list[Response]:
        return [response for response in self.responses.values() if not response.ok]

    def failure_kinds(self) -> dict[str, int]:
        return dict(Counter(response.failure.kind.value for response in self.failures if response.failure))

    def usage(self) -> Usage:
        total = Usage()
        for response in self.responses.values():
            if response.usage is not None:
                total = total + response.usage
        return total


@dataclass
class ResponseCache:
    """A response store seen through one model's identity."""

    store: ResponseStore
    identity: ModelIdentity

    def lookup(self, request: Request) -> Response | None:
        return self.store.get(self.identity.key, request) if is_reusable(request) else None

    def save(self, response: Response) -> None:
        self.store.put(self.identity.key, self.identity.label, response)


def run_inference(
    model: Model,
    request_type: RequestType,
    requests: Iterable[Request | UnbuiltDoc | PendingRequest],
    progress: object | None = None,
    cache: ResponseCache | None = None,
    video_sampling: VideoSampling | None = None,
) -> TaskResponses:
    """Dispatch requests to the model method for their type and collect the responses.

    With a cache, stored answers are used instead of asking, and every new answer that
    may be reused is stored the moment it arrives. A request the backend never answered
    is recorded as a failure rather than lost, and so is a doc whose requests could not be
    built (`bad_input`: never sent, never stored). `video_sampling`, the spec the model
    samples this task's videos with, is recorded when a request carried a video.
    """
    collected = TaskResponses()
    asked: dict[Origin, _Asked] = {}
    method = getattr(model, request_type.value)
    stopwatch = Stopwatch()
    unanswered = _uncached(requests, asked, collected, cache, progress, stopwatch)
    to_model = decode_ahead(model, unanswered)  # videos decoded a few requests ahead of the backend
    for response in method(to_model):
        collected.add(response)
        if response.origin in asked:
            stopwatch.answered(response, asked[response.origin].sent_at)
        if cache is not None and response.ok and asked[response.origin].reusable:
            cache.save(response)
        _advance(progress, failed=not response.ok)
    to_model.close()  # stop decoding ahead
    drop_frames_left_behind()
    for _ in unanswered:  # requests a backend stopped reading before are unanswered too
        pass
    for origin, request in asked.items():
        if (origin.doc_id, origin.index) not in collected.responses:
            collected.add(Response.failed(request, FailureKind.BACKEND, "the backend returned no response"))
    collected.throughput = stopwatch.stop()
    if video_sampling is not None and collected.sends_video:
        collected.video_sampling = video_sampling.as_record()
    return collected


def _uncached(
    requests: Iterable[Request | UnbuiltDoc | PendingRequest],
    asked: dict[Origin, _Asked],
    collected: TaskResponses,
    cache: ResponseCache | None,
    progress: object | None,
    stopwatch: Stopwatch,
) -> Iterator[Request]:
    """The requests the model must answer; stored answers and unbuilt docs go straight
    into `collected`.

    Backends may pull from this on a worker thread: it only adds to dicts, which is safe
    while the caller is busy in the backend.
    """
    for request in requests:
        if isinstance(request, PendingRequest):  # from --cache_requests, media not loaded
            stored = cache.lookup(request) if cache is not None else None  # type: ignore[arg-type]
            if stored is not None:
                collected.sends_video = collected.sends_video or has_video(request)
                _from_store(request, stored, collected, progress)
                continue
            request = request.build()  # it must be sent: the doc is rendered again
        if isinstance(request, UnbuiltDoc):
            collected.add(Response(key=request.key, origin=request.origin, failure=Failure(FailureKind.BAD_INPUT, request.reason, attempts=0)))
            _advance(progress, failed=True)
            continue
        collected.sends_video = collected.sends_video or has_video(request)
        stored = cache.lookup(request) if cache is not None else None
        if stored is not None:
            _from_store(request, stored, collected, progress)
            continue
        if request.origin.index == 0:
            collected.prompts[request.origin.doc_id] = request.prompt
        # Only a light stub is kept: the request itself (and its media) can be freed once sent.
        asked[request.origin] = _Asked(request.key, request.origin, cache is not None and is_reusable(request), stopwatch.sent())
        yield request


def _from_store(request: Request | PendingRequest, stored: Response, collected: TaskResponses, progress: object | None) -> None:
    if request.origin.index == 0:
        collected.prompts[request.origin.doc_id] = request.prompt
    collected.add(stored)
    collected.from_store += 1
    _advance(progress, stored=True)


def _advance(progress: object | None, failed: bool = False, stored: bool = False) -> None:
    """One more answer: a TaskProgress (engine/progress.py) also counts failures and stored
    answers; any other progress object (a tqdm bar) just counts."""
    if progress is None:
        return
    note = getattr(progress, "note", None)
    if note is not None:
        note(failed=failed, stored=stored)
    else:
        progress.update(1)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class _Asked:
    key: str
    origin: Origin
    reusable: bool
    sent_at: float
