"""Chat messages with typed content parts, and their conversion to backend formats."""

from __future__ import annotations

import base64
import io
import os
import struct
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from lmms_eval.api.media import media_digest, media_kind
from lmms_eval.api.plain_json import JsonSafeText
from lmms_eval.media.stored_png import untouched_png

Role = Literal["system", "user", "assistant"]
PartType = Literal["text", "image", "video", "audio"]


@dataclass(frozen=True)
class ContentPart:
    type: PartType
    text: str | None = None
    media: Any = None  # PIL image, file path, or audio dict {array, sampling_rate}

    @classmethod
    def of_media(cls, item: Any) -> ContentPart:
        return cls(type=media_kind(item), media=item)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Message:
    role: Role
    content: tuple[ContentPart, ...]

    @property
    def text(self) -> str:
        return "\n".join(part.text or "" for part in self.content if part.type == "text")


@dataclass(frozen=True)
class ChatMessages:
    """An ordered conversation; media stay in the position the task put them."""

    messages: tuple[Message, ...] = field(default_factory=tuple)

    def __iter__(self) -> Iterator[Message]:
        return iter(self.messages)

    def media(self) -> list[Any]:
        return [part.media for message in self.messages for part in message.content if part.media is not None]

    def describe(self) -> list[dict[str, Any]]:
        """JSON-safe form with media replaced by their kind and digest (for keys and logs)."""
        return [
            {"role": message.role, "content": [_describe_part(part) for part in message.content]}
            for message in self.messages
        ]

    @classmethod
    def build(cls, text: str, visuals: Sequence[Any] = (), system: str | None = None) -> ChatMessages:
        """The default conversation: optional system prompt, then one user turn, media first."""
        messages = []
        if system:
            messages.append(Message("system", (ContentPart("text", text=system),)))
        parts = [ContentPart.of_media(item) for item in visuals]
        parts.append(ContentPart("text", text=text))
        messages.append(Message("user", tuple(parts)))
        return cls(tuple(messages))

    @classmethod
    def from_dicts(cls, raw: Sequence[dict[str, Any]]) -> ChatMessages:
        """Parse lmms-eval's `doc_to_messages` format: role + list of typed parts."""
        messages = []
        for entry in raw:
            content = entry["content"]
            if isinstance(content, str):
                parts = (ContentPart("text", text=content),)
            else:
                parts = tuple(_parse_part(part) for part in content)
            messages.append(Message(entry["role"], parts))
        return cls(tuple(messages))

    def with_system(self, system: str | None) -> ChatMessages:
        if not system or (self.messages and self.messages[0].role == "system"):
            return self
        return ChatMessages((Message("system", (ContentPart("text", text=system),)), *self.messages))


def _parse_part(part: dict[str, Any]) -> ContentPart:
    kind = part["type"]
    if kind == "text":
        return ContentPart("text", text=part["text"])
    if kind in ("image", "video", "audio"):
        media = part.get("url", part.get(kind))
        return ContentPart(kind, media=media)
    raise ValueError(f"unknown message content type '{kind}'")


def _describe_part(part: ContentPart) -> dict[str, Any]:
    if part.type == "text":
        return {"type": "text", "text": part.text}
    return {"type": part.type, "digest": media_digest(part.media)}


# --- OpenAI chat-completions format ---------------------------------------------------


def to_openai(messages: ChatMessages, image_format: str = "PNG") -> list[dict[str, Any]]:
    """Messages in the OpenAI chat format; images travel as base64 data URLs."""
    return [
        {"role": message.role, "content": [_openai_part(part, image_format) for part in message.content]}
        for message in messages
    ]


def _openai_part(part: ContentPart, image_format: str) -> dict[str, Any]:
    if part.type == "text":
        return {"type": "text", "text": part.text or ""}
    if part.type == "image":
        if media_kind(part.media) != "image":  # e.g. a path from doc_to_messages: refuse it, do not crash the run
            raise ValueError(f"the OpenAI chat format needs images as PIL images, not {type(part.media).__name__}")
        return {"type": "image_url", "image_url": {"url": image_data_url(part.media, image_format)}}
    if part.type == "audio":
        return {"type": "input_audio", "input_audio": {"data": wav_base64(part.media), "format": "wav"}}
    if part.type == "video" and isinstance(part.media, (str, os.PathLike)):
        # Reached only when a backend keeps videos whole (pass_video_url); by default
        # lmms_eval.media.parts.frames_as_images has turned them into image parts before.
        from lmms_eval.media.parts import openai_video_part

        return openai_video_part(part.media)
    raise ValueError(f"the OpenAI chat format cannot carry {part.type} inputs")


def wav_base64(audio: Any) -> str:
    """OpenAI's `input_audio` takes base64 WAV (or MP3); 16-bit PCM at the clip's own rate."""
    import base64

    from lmms_eval.media.audio import to_wav_bytes

    return JsonSafeText(base64.b64encode(to_wav_bytes(audio)).decode("ascii"))


def image_data_url(image: Any, image_format: str = "PNG") -> str:
    """Encode a PIL image as a data URL (PNG is lossless; JPEG is smaller). A dataset's
    plain PNG file whose pixels were never read goes as the bytes it is stored as: it
    decodes to exactly the pixels a new encoding would hold."""
    stored_png = untouched_png(image) if image_format == "PNG" else None
    if stored_png is not None:
        return JsonSafeText.data_url("image/png", base64.b64encode(stored_png).decode("ascii"))
    if image_format == "JPEG" and image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    elif image.mode not in ("RGB", "RGBA", "L", "LA", "P", "1"):
        image = image.convert("RGB")
    if image_format == "PNG" and _plain_png_layout(image) is not None:
        data = _plain_png(image)
    else:
        buffer = io.BytesIO()
        image.save(buffer, format=image_format, **({"compress_level": 1} if image_format == "PNG" else {}))
        data = buffer.getvalue()
    encoded = base64.b64encode(data).decode("ascii")
    return JsonSafeText.data_url(f"image/{image_format.lower()}", encoded)


# PNG colour types of the 8-bit modes written directly: (channels, colour type)
_PNG_LAYOUTS = {"L": (1, 0), "LA": (2, 4), "RGB": (3, 2), "RGBA": (4, 6)}
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_FILTER_UP = 2  # each row stored as its difference from the row above


def _plain_png_layout(image: Any) -> tuple[int, int] | None:
    """The layout of an 8-bit image with nothing but pixels to carry, else None (Pillow then
    writes it, with its ICC profile or transparency colour)."""
    if "icc_profile" in image.info or "transparency" in image.info or 0 in image.size:
        return None
    return _PNG_LAYOUTS.get(image.mode)


def _plain_png(image: Any) -> bytes:
    """A PNG of the image's pixels, written about four times faster than Pillow's encoder at
    its fastest level (and no larger): one filter for every row instead of trying five per
    row, and zlib's run-length strategy. At 2,000 images per run this is most of the
    client's CPU. The pixels decode exactly as they are (tests check every mode)."""
    import numpy as np

    channels, colour_type = _PNG_LAYOUTS[image.mode]
    width, height = image.size
    rows = np.asarray(image, dtype=np.uint8).reshape(height, width * channels)
    filtered = np.empty((height, width * channels + 1), dtype=np.uint8)
    filtered[:, 0] = _PNG_FILTER_UP
    filtered[0, 1:] = rows[0]
    np.subtract(rows[1:], rows[:-1], out=filtered[1:, 1:])  # uint8 arithmetic wraps modulo 256, as PNG's does
    compressor = zlib.compressobj(1, zlib.DEFLATED, zlib.MAX_WBITS, 9, zlib.Z_RLE)
    pixels = compressor.compress(filtered.tobytes()) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    return b"".join((_PNG_SIGNATURE, _png_chunk(b"IHDR", header), _png_chunk(b"IDAT", pixels), _png_chunk(b"IEND", b"")))


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


# --- HuggingFace chat templates ------------------------------------------------------------


def to_hf(messages: ChatMessages) -> list[dict[str, Any]]:
    """Messages as transformers processors' chat templates take them: images as PIL
    objects, videos as file paths, audio as arrays, in the order the task gave them."""
    return [{"role": message.role, "content": [_hf_part(part) for part in message.content]} for message in messages]


def _hf_part(part: ContentPart) -> dict[str, Any]:
    if part.type == "text":
        return {"type": "text", "text": part.text or ""}
    if part.type == "audio":
        return {"type": "audio", "audio": part.media["array"]}
    return {"type": part.type, part.type: part.media}
