"""Decode a task's videos ahead of the backend, while it answers earlier requests.

The request stream passes through `prefetch` (lmms_eval.media.prefetch): worker threads
decode the videos of the next requests with the backend's own sampling spec and frame
cache, and hand the frames to `load_frames` through `DECODED_AHEAD`, so the backend finds
them decoded. At most `depth` requests are decoded ahead at a time: memory is bounded by
the depth, not by the task. Requests without videos, and backends that send videos whole
(`pass_video_url`) or sample none, pass straight through, and so do the requests before
a task's first video: an image task never starts the decoding threads, whose hand-over
per request cost more than building the request itself.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from itertools import chain
from typing import Any

from lmms_eval.api.model import Model
from lmms_eval.api.request import Request

PREFETCH_WORKERS_ENV = "LMMS_EVAL_DECODE_WORKERS"


def video_paths(request: Request) -> list[Any]:
    if request.is_chat:
        return [part.media for message in request.context for part in message.content if part.type == "video"]  # type: ignore[union-attr]
    from lmms_eval.api.media import media_kind

    return [item for item in request.visuals if media_kind(item) == "video"]


def decode_ahead(model: Model, requests: Iterable[Request]) -> Iterator[Request]:
    """The same requests in the same order, their videos decoded a few requests ahead."""
    wants_frames = getattr(model, "wants_frames", None)  # a backend need not subclass Model
    sampling = getattr(model, "video_sampling", None) if wants_frames is not None and wants_frames() else None
    source = iter(requests)
    for request in source:  # not `yield from`: closing this stream must leave `requests` open
        if sampling is None or not video_paths(request):
            yield request
            continue
        # From the first video on, every request goes through the decoding threads, in order.
        for ahead, _ in _prefetched(model, sampling, chain((request,), source)):
            yield ahead
        return


def drop_frames_left_behind() -> None:
    """Once a task's requests are all answered: frames decoded ahead for requests the
    backend never read them for (failed before encoding, given up unsent) are dropped, so
    they do not stay in memory for the rest of the run."""
    from lmms_eval.media.frame_cache import DECODED_AHEAD  # light: the decoders load only to decode

    DECODED_AHEAD.clear()


def _prefetched(model: Model, sampling: Any, requests: Iterator[Request]) -> Iterator[tuple[Request, Any]]:
    from lmms_eval.media.frame_cache import DECODED_AHEAD, read_frames
    from lmms_eval.media.prefetch import prefetch

    cache = getattr(model, "frame_cache", None)

    def load(request: Request) -> None:
        for video in video_paths(request):
            try:
                DECODED_AHEAD.put(video, sampling, read_frames(video, sampling, cache))
            except (ValueError, OSError):  # the backend meets the same error and fails that request alone
                return

    workers = int(os.environ.get(PREFETCH_WORKERS_ENV) or 0) or None
    return prefetch(requests, load, workers=workers)
