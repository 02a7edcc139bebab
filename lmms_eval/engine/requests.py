"""Stage 3: turning a task's documents into requests.

The task renders each doc once (`Task.render` -> `RenderedDoc`); the builder here lays
the rendered parts out as a prompt (few-shot examples, description, system instruction,
chat or plain text) and makes the requests the output type needs.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from lmms_eval.api.messages import ChatMessages, ContentPart, Message
from lmms_eval.api.request import Origin, Request, RequestType
from lmms_eval.taskdefs.rendering import BadDocInput, FewshotExample, RenderedDoc, read_doc
from lmms_eval.taskdefs.task import Task

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DocWindow:
    """Which docs of a task this process evaluates: --offset/--limit, then its rank's shard."""

    offset: int = 0
    limit: float | None = None
    rank: int = 0
    world_size: int = 1

    def doc_ids(self, total: int) -> list[int]:
        start = min(self.offset, total)
        if self.limit is None:
            count = total - start
        elif self.limit < 1:
            count = math.ceil((total - start) * self.limit)
        else:
            count = int(self.limit)
        selected = range(start, min(total, start + count))
        return list(selected[self.rank :: self.world_size])


@dataclass(frozen=True)
class UnbuiltDoc:
    """A doc whose requests could not be built (its image does not decode, its media file
    cannot be read). Inference records it as a `bad_input` failure; it is never sent,
    stored or scored."""

    origin: Origin
    reason: str
    task_hash: str = ""
    key: str = field(init=False)

    def __post_init__(self) -> None:
        # Names the doc the way a request key names a question, so the samples log and
        # rescore treat it like any failed request; it never matches a real request's key.
        payload = {"unbuilt_doc": True, "task": self.origin.task, "task_hash": self.task_hash, "doc_id": self.origin.doc_id}
        object.__setattr__(self, "key", hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest())


@dataclass(frozen=True)
class _Layout:
    """The task's settings that shape a prompt around the rendered doc."""

    description: str
    target_delimiter: str
    fewshot_delimiter: str
    system_instruction: str | None
    fewshot_as_multiturn: bool


class RequestBuilder:
    """Composes rendered docs into the requests their task's output type needs."""

    def __init__(self, task: Task, chat: bool):
        self.task = task
        self.chat = chat
        config, settings = task.config, task.settings
        self.task_name = task.name
        self.task_hash = config.prompt_hash()
        self.output_type = config.output_type
        self.repeats = config.repeats
        self.generation_kwargs = task.generation_kwargs
        self.layout = _Layout(
            config.description, config.target_delimiter, config.fewshot_delimiter, settings.system_instruction, settings.fewshot_as_multiturn
        )

    def requests_for(self, doc_id: int, doc: dict[str, Any]) -> list[Request]:
        """Render one doc (one pass over the task's functions) and compose its requests."""
        return self.compose(self.task.render(doc_id, doc, self.chat))

    def compose(self, rendered: RenderedDoc) -> list[Request]:
        context = self._context(rendered)
        visuals = () if self.chat else rendered.visuals
        doc_id = rendered.doc_id
        if self.output_type == "generate_until":
            return [
                self._request(RequestType.GENERATE_UNTIL, doc_id, index, context, visuals, gen_kwargs=self.generation_kwargs)
                for index in range(self.repeats)
            ]
        delimiter = self.layout.target_delimiter
        if self.output_type == "loglikelihood":
            continuation = delimiter + (rendered.target_text or "")
            return [self._request(RequestType.LOGLIKELIHOOD, doc_id, 0, context, visuals, continuation=continuation)]
        return [
            self._request(RequestType.LOGLIKELIHOOD, doc_id, index, context, visuals, continuation=delimiter + choice)
            for index, choice in enumerate(rendered.choices)
        ]

    def _request(self, kind: RequestType, doc_id: int, index: int, context: Any, visuals: Sequence[Any], **extra: Any) -> Request:
        try:
            return Request(
                type=kind,
                origin=Origin(self.task_name, doc_id, index),
                context=context,
                visuals=tuple(visuals),
                task_hash=self.task_hash,
                **extra,
            )
        except OSError as error:  # the key hashes media: a file the doc names is missing, or an image does not decode
            raise BadDocInput(f"cannot read a media file: {error}") from error

    # --- prompts ------------------------------------------------------------------------

    def _context(self, rendered: RenderedDoc) -> str | ChatMessages:
        """Chat models get ChatMessages (media inside); simple models get text (the
        visuals travel beside it)."""
        layout = self.layout
        if rendered.messages is not None:
            return rendered.messages.with_system(layout.system_instruction)
        text = rendered.text or ""
        if not self.chat:
            return self._plain_prompt(rendered.examples, text)
        if layout.fewshot_as_multiturn and rendered.examples:
            return self._multiturn(rendered.examples, text, rendered.visuals)
        return ChatMessages.build(self._plain_prompt(rendered.examples, text, with_system=False), list(rendered.visuals), layout.system_instruction)

    def _plain_prompt(self, examples: Sequence[FewshotExample], text: str, with_system: bool = True) -> str:
        layout = self.layout
        system = layout.system_instruction
        parts = [system + layout.fewshot_delimiter] if (with_system and system) else []
        if layout.description:
            parts.append(layout.description)
        parts.extend(example.question + layout.target_delimiter + example.answer + layout.fewshot_delimiter for example in examples)
        parts.append(text)
        return "".join(parts)

    def _multiturn(self, examples: Sequence[FewshotExample], text: str, visuals: Sequence[Any]) -> ChatMessages:
        layout = self.layout
        messages: list[Message] = []
        for number, example in enumerate(examples):
            question = layout.description + example.question if number == 0 and layout.description else example.question
            messages.append(Message("user", (ContentPart("text", text=question),)))
            messages.append(Message("assistant", (ContentPart("text", text=example.answer),)))
        final = ChatMessages.build(text, list(visuals)).messages
        return ChatMessages((*messages, *final)).with_system(layout.system_instruction)


def iter_requests(builder: RequestBuilder, docs: Any, doc_ids: Sequence[int]) -> Iterator[Request | UnbuiltDoc]:
    """Requests for the given docs, built one doc at a time so decoded media are not all
    held at once. A doc whose inputs cannot be built yields an `UnbuiltDoc` instead, and
    the other docs go on."""
    for doc_id in doc_ids:
        try:
            requests = builder.compose(builder.task.render(doc_id, read_doc(docs, doc_id), builder.chat))
        except BadDocInput as bad:
            logger.warning("task %s doc %d: %s; the doc is not asked or scored", builder.task_name, doc_id, bad.reason)
            yield UnbuiltDoc(Origin(builder.task_name, doc_id, 0), f"doc {doc_id}: {bad.reason}", builder.task_hash)
            continue
        yield from requests
