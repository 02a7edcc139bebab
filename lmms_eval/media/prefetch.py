"""Decode videos ahead of inference in a bounded pool of threads.

PyAV decodes with the GIL released, so threads decode in parallel while the model answers
earlier requests. At most `depth` decoded videos wait to be consumed at any time: memory is
bounded by the prefetch depth, not by the size of the task.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from lmms_eval.media.frame_cache import FrameCache, read_frames
from lmms_eval.media.sampling import VideoSampling
from lmms_eval.media.video import DecodedVideo

Item = TypeVar("Item")


def default_workers() -> int:
    return max(1, min(8, os.cpu_count() or 1))


def prefetch(
    items: Iterable[Item],
    load: Callable[[Item], DecodedVideo],
    *,
    workers: int | None = None,
    depth: int | None = None,
) -> Iterator[tuple[Item, DecodedVideo]]:
    """Yield (item, decoded) in the order of `items`, decoding up to `depth` items ahead.

    A decode error is raised when its item's turn comes, not before: earlier items are
    yielded first, so nothing already decoded is lost.
    """
    workers = workers or default_workers()
    depth = max(1, depth if depth is not None else 2 * workers)
    pending: deque[tuple[Item, Future[DecodedVideo]]] = deque()
    source = iter(items)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="media-prefetch") as pool:
        try:
            _fill(pending, source, pool, load, depth)
            while pending:
                item, future = pending.popleft()
                decoded = future.result()
                _fill(pending, source, pool, load, depth)
                yield item, decoded
        finally:
            for _, future in pending:  # the consumer stopped early: drop work not yet started
                future.cancel()


def _fill(pending, source, pool: ThreadPoolExecutor, load, depth: int) -> None:
    while len(pending) < depth:
        try:
            item = next(source)
        except StopIteration:
            return
        pending.append((item, pool.submit(load, item)))


def prefetch_videos(
    videos: Iterable[str],
    sampling: VideoSampling,
    cache: FrameCache | None = None,
    *,
    workers: int | None = None,
    depth: int | None = None,
) -> Iterator[tuple[str, DecodedVideo]]:
    """`prefetch` for a list of video paths sharing one spec, through the frame cache."""
    return prefetch(videos, lambda video: read_frames(video, sampling, cache), workers=workers, depth=depth)
