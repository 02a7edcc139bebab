"""Video parts of chat messages, as a backend that takes only images or a URL needs them.

`frames_as_images` replaces each video part by its sampled frames (image parts, in time
order, in the same place of the same user message): every server takes that. Backends whose
server decodes video itself (vLLM with `pass_video_url=true`) keep the video part, which the
OpenAI converter sends as a `video_url` data URL.
"""

from __future__ import annotations

import base64
import mimetypes
import os
from typing import Any

from lmms_eval.api.messages import ChatMessages, ContentPart, Message
from lmms_eval.api.plain_json import JsonSafeText
from lmms_eval.media.frame_cache import FrameCache, load_frames
from lmms_eval.media.sampling import VideoSampling


def frames_as_images(messages: ChatMessages, sampling: VideoSampling, cache: FrameCache | None = None) -> ChatMessages:
    """The same conversation with every video part replaced by its sampled frames."""
    if not any(part.type == "video" for message in messages for part in message.content):
        return messages
    return ChatMessages(tuple(_expand_message(message, sampling, cache) for message in messages))


def _expand_message(message: Message, sampling: VideoSampling, cache: FrameCache | None) -> Message:
    parts: list[ContentPart] = []
    for part in message.content:
        if part.type == "video":
            parts.extend(ContentPart("image", media=image) for image in video_frame_images(part.media, sampling, cache))
        else:
            parts.append(part)
    return Message(message.role, tuple(parts))


def video_frame_images(video: Any, sampling: VideoSampling, cache: FrameCache | None = None) -> list[Any]:
    """The sampled frames of one video as PIL images."""
    from PIL import Image

    if not isinstance(video, (str, os.PathLike)):
        raise ValueError(f"a video input must be a file path or frame folder, not {type(video).__name__}")
    return [Image.fromarray(frame) for frame in load_frames(video, sampling, cache).frames]


def openai_video_part(video: str | os.PathLike[str]) -> dict[str, Any]:
    """The OpenAI-format `video_url` part for a video kept whole (vLLM and friends)."""
    return {"type": "video_url", "video_url": {"url": video_data_url(video)}}


def video_data_url(path: str | os.PathLike[str]) -> str:
    """A video file as a base64 data URL, for servers that decode video themselves."""
    mime, data = video_file_base64(path)
    return JsonSafeText.data_url(mime, data)


def video_file_base64(path: str | os.PathLike[str]) -> tuple[str, str]:
    """A whole video file's MIME type (from its name) and base64 content."""
    if not isinstance(path, (str, os.PathLike)):
        raise ValueError(f"a video sent whole must be a file path, not {type(path).__name__}")
    mime = mimetypes.guess_type(os.fspath(path))[0] or "video/mp4"
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as error:  # a ValueError fails this request only, as an undecodable video does
        raise ValueError(f"cannot read video {path}: {error}") from error
    return mime, JsonSafeText(base64.b64encode(data).decode("ascii"))
