"""What the pipeline asks a model: one `Request` per answer it needs."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from lmms_eval.api.media import media_digest
from lmms_eval.api.messages import ChatMessages


# The canonical form a request key hashes (json.dumps with these options), made once: a
# json.dumps call with options builds its encoder anew, which was half the cost of a key.
_KEY_JSON = json.JSONEncoder(sort_keys=True, ensure_ascii=False, default=str)


class RequestType(str, Enum):
    GENERATE_UNTIL = "generate_until"
    LOGLIKELIHOOD = "loglikelihood"


@dataclass(frozen=True)
class Origin:
    """Where a request comes from: a task, one of its docs, and which answer of that doc."""

    task: str
    doc_id: int
    index: int = 0


@dataclass(frozen=True)
class Request:
    """One question for a model.

    `context` is plain text for simple models (with `visuals` beside it) or `ChatMessages`
    for chat models (media inside the messages). For loglikelihood requests `continuation`
    is the text whose probability is asked for.
    """

    type: RequestType
    origin: Origin
    context: str | ChatMessages
    visuals: tuple[Any, ...] = ()
    continuation: str | None = None
    gen_kwargs: Mapping[str, Any] = field(default_factory=dict)
    task_hash: str = ""
    key: str = field(init=False)
    prompt: str | list[dict[str, Any]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Rendered once: describing chat messages hashes their media.
        object.__setattr__(self, "prompt", self.context.describe() if isinstance(self.context, ChatMessages) else self.context)
        object.__setattr__(self, "key", self._compute_key())

    @property
    def is_chat(self) -> bool:
        return isinstance(self.context, ChatMessages)

    def _compute_key(self) -> str:
        """A content hash of everything that determines the answer.

        It leaves out batch size, rank, world size and request order on purpose, so the
        same question has the same key wherever and however it is asked.
        """
        payload = {
            "type": self.type.value,
            "task": self.origin.task,
            "task_hash": self.task_hash,
            "doc_id": self.origin.doc_id,
            "index": self.origin.index,
            "context": self.prompt,
            "media": [media_digest(item) for item in self.visuals],
            "continuation": self.continuation,
            "gen_kwargs": dict(self.gen_kwargs),
        }
        return hashlib.sha256(_KEY_JSON.encode(payload).encode()).hexdigest()
