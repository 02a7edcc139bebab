"""Helpers every backend uses: stop strings, and windows of similar requests."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Iterator
from typing import Any

from lmms_eval.api.request import Request


def truncate_at_stops(text: str, stops: Any) -> str:
    """Cut at the earliest stop string: engines honour only some (or none), and
    transformers' stop_strings leave the stop itself in the text."""
    for stop in stops or ():
        if stop and stop in text:
            text = text[: text.index(stop)]
    return text


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
