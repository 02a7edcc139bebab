"""Stage 3: turning a task's documents into requests."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from lmms_eval.api.messages import ChatMessages, ContentPart, Message
from lmms_eval.api.request import Origin, Request, RequestType
from lmms_eval.errors import DocumentError
from lmms_eval.taskdefs.task import Task


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


class RequestBuilder:
    """Renders one doc into the requests its task's output type needs."""

    def __init__(self, task: Task, chat: bool):
        self.task = task
        self.chat = chat
        self.task_hash = task.config.prompt_hash()

    def requests_for(self, doc_id: int, doc: dict[str, Any]) -> list[Request]:
        context, visuals = self._context(doc_id, doc)
        output_type = self.task.config.output_type
        if output_type == "generate_until":
            return [
                self._request(RequestType.GENERATE_UNTIL, doc_id, index, context, visuals, gen_kwargs=self.task.generation_kwargs)
                for index in range(self.task.config.repeats)
            ]
        delimiter = self.task.config.target_delimiter
        if output_type == "loglikelihood":
            continuation = delimiter + self.task.target_text(doc, doc_id)
            return [self._request(RequestType.LOGLIKELIHOOD, doc_id, 0, context, visuals, continuation=continuation)]
        choices = self.task.choices(doc, doc_id)
        return [
            self._request(RequestType.LOGLIKELIHOOD, doc_id, index, context, visuals, continuation=delimiter + choice)
            for index, choice in enumerate(choices)
        ]

    def _request(self, kind: RequestType, doc_id: int, index: int, context: Any, visuals: Sequence[Any], **extra: Any) -> Request:
        try:
            return Request(
                type=kind,
                origin=Origin(self.task.name, doc_id, index),
                context=context,
                visuals=tuple(visuals),
                task_hash=self.task_hash,
                **extra,
            )
        except OSError as error:  # the key hashes media files: one the doc names is missing or unreadable
            raise DocumentError(f"task {self.task.name} doc {doc_id}: cannot read a media file: {error}") from error

    # --- prompts ------------------------------------------------------------------------

    def _context(self, doc_id: int, doc: dict[str, Any]) -> tuple[str | ChatMessages, list[Any]]:
        """Chat models get ChatMessages (media inside); simple models get text and visuals."""
        settings = self.task.settings
        examples = self.task.fewshot_examples(doc_id)
        raw_messages = self.task.raw_messages(doc, doc_id)
        if self.chat and raw_messages is not None and not examples:
            return _parse_messages(raw_messages, self.task.name, doc_id).with_system(settings.system_instruction), []
        if raw_messages is not None and self.task.config.doc_to_text is None:
            messages = _parse_messages(raw_messages, self.task.name, doc_id)
            text, visuals = _flatten(messages), messages.media()
        else:
            text, visuals = self.task.text(doc, doc_id), self.task.visuals(doc, doc_id)
        if not self.chat:
            return self._plain_prompt(examples, text), visuals
        if settings.fewshot_as_multiturn and examples:
            return self._multiturn(examples, text, visuals), []
        return ChatMessages.build(self._plain_prompt(examples, text, with_system=False), visuals, settings.system_instruction), []

    def _plain_prompt(self, examples: list[dict[str, Any]], text: str, with_system: bool = True) -> str:
        config = self.task.config
        system = self.task.settings.system_instruction
        parts = [system + config.fewshot_delimiter] if (with_system and system) else []
        if config.description:
            parts.append(config.description)
        parts.extend(self._example_text(example) + config.fewshot_delimiter for example in examples)
        parts.append(text)
        return "".join(parts)

    def _example_text(self, example: dict[str, Any]) -> str:
        config = self.task.config
        return self.task.text(example, None) + config.target_delimiter + self.task.target_text(example, None)

    def _multiturn(self, examples: list[dict[str, Any]], text: str, visuals: list[Any]) -> ChatMessages:
        config = self.task.config
        messages: list[Message] = []
        for number, example in enumerate(examples):
            question = self.task.text(example, None)
            if number == 0 and config.description:
                question = config.description + question
            messages.append(Message("user", (ContentPart("text", text=question),)))
            messages.append(Message("assistant", (ContentPart("text", text=self.task.target_text(example, None)),)))
        final = ChatMessages.build(text, visuals).messages
        return ChatMessages((*messages, *final)).with_system(self.task.settings.system_instruction)


def iter_requests(builder: RequestBuilder, docs: Any, doc_ids: Sequence[int]) -> Iterator[Request]:
    """Requests for the given docs, built one doc at a time so decoded media are not all
    held at once."""
    for doc_id in doc_ids:
        yield from builder.requests_for(doc_id, docs[doc_id])


def _parse_messages(raw: Any, task: str, doc_id: int) -> ChatMessages:
    try:
        return ChatMessages.from_dicts(raw)
    except (KeyError, TypeError, ValueError) as error:
        raise DocumentError(f"task {task} doc {doc_id}: doc_to_messages returned malformed messages ({error})") from error


def _flatten(messages: ChatMessages) -> str:
    return "\n".join(message.text for message in messages if message.text)
