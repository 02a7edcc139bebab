"""Conversation pieces that the non-OpenAI HTTP protocols (Anthropic, Gemini) share."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from lmms_eval.api.plain_json import JsonSafeText
from lmms_eval.api.messages import ChatMessages, ContentPart, Message, image_data_url, media_kind


@dataclass(frozen=True)
class ImageBlob:
    media_type: str  # e.g. image/png
    data: str  # base64


def split_system(messages: ChatMessages) -> tuple[str | None, list[Message]]:
    """Both protocols take the system prompt beside the turns, not as a turn."""
    system = [message.text for message in messages if message.role == "system"]
    turns = [message for message in messages if message.role != "system"]
    return ("\n".join(system) if system else None), turns


def image_blob(part: ContentPart, image_format: str, protocol: str) -> ImageBlob:
    if media_kind(part.media) != "image":
        raise ValueError(f"the {protocol} format needs images as PIL images, not {type(part.media).__name__}")
    header, _, data = image_data_url(part.media, image_format).partition(",")
    return ImageBlob(header.removeprefix("data:").removesuffix(";base64"), JsonSafeText(data))


def loaded_json(body: bytes) -> Any:
    """The reply's JSON, or None when it is not JSON."""
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        return None


def token_count(value: Any) -> int | None:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return None
