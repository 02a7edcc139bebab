"""Helpers every backend uses: stop strings, and windows of similar requests."""

from __future__ import annotations

import itertools
import json
import logging
from collections.abc import Iterable, Iterator
from typing import Any

from lmms_eval.api.request import Request
from lmms_eval.api.response import FailureKind, Response

logger = logging.getLogger(__name__)


def truncate_at_stops(text: str, stops: Any) -> str:
    """Cut at the earliest stop string: engines honour only some (or none), and
    transformers' stop_strings leave the stop itself in the text."""
    for stop in stops or ():
        if stop and stop in text:
            text = text[: text.index(stop)]
    return text


def failed_batch(batch: list[Request], error: Exception) -> Iterator[Response]:
    """Every request of a batch the backend could not run, recorded as failed (a local
    model running out of memory fails its batch, not the run)."""
    logger.warning("a batch of %d requests failed: %s: %s", len(batch), type(error).__name__, error)
    for request in batch:
        yield Response.failed(request, FailureKind.BACKEND, f"{type(error).__name__}: {error}")


def windows(requests: Iterable[Request], size: int) -> Iterator[list[Request]]:
    """The request stream in lists of at most `size`: batching needs a look ahead, and
    a bounded one keeps decoded images from piling up."""
    iterator = iter(requests)
    while window := list(itertools.islice(iterator, size)):
        yield window


def by_generation_settings(requests: list[Request]) -> list[list[Request]]:
    """Requests grouped by identical gen_kwargs: one generate call takes one setting."""
    groups: dict[str, list[Request]] = {}
    for request in requests:
        groups.setdefault(json.dumps(dict(request.gen_kwargs), sort_keys=True, default=str), []).append(request)
    return list(groups.values())
