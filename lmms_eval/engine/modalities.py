"""Refuse a task before its first request when the model cannot take the media it sends.

Tasks do not declare their modalities, so the first request that is built tells: the
kinds of its media parts (image, video, audio). A backend says what it takes through
`Model.accepts(kind)`. One ModelError (exit 2) naming task, model and modality beats a
run of failed requests.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import chain
from typing import Any

from lmms_eval.api.media import media_kind
from lmms_eval.api.model import Model
from lmms_eval.api.request import Request
from lmms_eval.errors import ConfigError, ModelError

# Built items looked at, at most, to find the first request with media: docs whose inputs
# failed or requests still pending (from --cache_requests) come before it now and then.
_PEEK_LIMIT = 64


def request_media_kinds(request: Request) -> list[str]:
    """The kinds of a request's media, in order (chat parts, or a simple model's visuals)."""
    if request.is_chat:
        return [part.type for message in request.context for part in message.content if part.type != "text"]  # type: ignore[union-attr]
    return [media_kind(item) for item in request.visuals]


def media_kinds(item: Any) -> list[str] | None:
    """A built request's media kinds, or a pending one's (from --cache_requests) read from
    its chat prompt; None when they are not known (an unbuilt doc, a pending simple request)."""
    if isinstance(item, Request):
        return request_media_kinds(item)
    prompt = getattr(item, "prompt", None)
    if not isinstance(prompt, list):
        return None
    return [part["type"] for message in prompt for part in message.get("content", []) if isinstance(part, dict) and part.get("type", "text") != "text"]


def has_video(request: Any) -> bool:
    """Whether a request (or a pending one from --cache_requests, by its prompt) carries a video."""
    return "video" in (media_kinds(request) or [])


def task_video_sampling(model: Model, task: str, task_kwargs: Any) -> Any:
    """The spec the model samples this task's videos with: its model_args' spec with the
    task's resolved lmms_eval_specific_kwargs on top (None for a backend that samples none)."""
    use_task_kwargs = getattr(model, "use_task_kwargs", None)  # a backend need not subclass Model
    if use_task_kwargs is None:
        return None
    try:
        return use_task_kwargs(task_kwargs)
    except ValueError as error:
        raise ConfigError(f"task {task}: lmms_eval_specific_kwargs: {error}") from None


def refuse_unsupported_media(model: Model, task: str, model_name: str, requests: Iterable[Any]) -> Iterator[Any]:
    """The same stream, after checking the media of its first request whose kinds are known
    (built, or pending with a chat prompt) against the model (a backend without `accepts`,
    one that does not subclass Model, is taken at its word)."""
    source = iter(requests)
    looked_at: list[Any] = []
    for item in source:
        looked_at.append(item)
        kinds = media_kinds(item)
        if kinds is not None:
            for kind in kinds:
                if not getattr(model, "accepts", lambda kind: True)(kind):
                    raise ModelError(f"task {task} sends {kind}, which model '{model_name}' ({model.identity}) cannot take")
            break
        if len(looked_at) >= _PEEK_LIMIT:
            break
    return chain(looked_at, source)
