"""Videos for transformers processors: the media layer's sampled frames, with their metadata.

Every backend samples a video the same way (`lmms_eval.media`), so the HF backends hand the
processor frames that are already chosen, bit for bit those the `openai` backend sends as
images, and tell it not to sample again (`do_sample_frames=False`). The metadata (source
frame rate, total frame count, the sampled indices) is what lets Qwen2.5-VL compute its
seconds per temporal patch and Qwen3-VL / SmolVLM their frame timestamps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lmms_eval.api.messages import ChatMessages, ContentPart, Message
from lmms_eval.media.frame_cache import FrameCache, load_frames
from lmms_eval.media.sampling import VideoSampling
from lmms_eval.media.video import DecodedVideo


@dataclass
class DecodedConversation:
    """A conversation whose video parts hold frame arrays, and one metadata dict per video."""

    messages: ChatMessages
    video_metadata: list[dict[str, Any]] = field(default_factory=list)


def decode_videos(messages: ChatMessages, sampling: VideoSampling, cache: FrameCache | None) -> DecodedConversation:
    """Replace each video part's path by its sampled frames ((N, H, W, 3) uint8), in place."""
    metadata: list[dict[str, Any]] = []
    decoded_messages = []
    for message in messages:
        parts = []
        for part in message.content:
            if part.type != "video":
                parts.append(part)
                continue
            video = _load(part.media, sampling, cache)
            metadata.append(video_metadata(video))
            parts.append(ContentPart("video", media=video.frames))
        decoded_messages.append(Message(message.role, tuple(parts)))
    return DecodedConversation(ChatMessages(tuple(decoded_messages)), metadata)


def video_metadata(video: DecodedVideo) -> dict[str, Any]:
    """transformers' `VideoMetadata` fields for frames sampled from a clip."""
    height, width = video.frames.shape[1:3]
    return {
        "total_num_frames": video.total_frames,
        "fps": video.average_fps or None,
        "duration": video.total_frames / video.average_fps if video.average_fps else None,
        "frames_indices": list(video.indices),
        "height": int(height),
        "width": int(width),
    }


def video_processor_kwargs(conversations: list[DecodedConversation]) -> dict[str, Any]:
    """Processor kwargs for a batch: the frames are final, and each video's metadata."""
    metadata = [conversation.video_metadata for conversation in conversations]
    if not any(metadata):
        return {}
    return {"do_sample_frames": False, "video_metadata": [entry for entries in metadata for entry in entries]}


def _load(video: Any, sampling: VideoSampling, cache: FrameCache | None) -> DecodedVideo:
    import os

    if not isinstance(video, (str, os.PathLike)):  # a ValueError fails this request's batch only
        raise ValueError(f"a video input must be a file path or frame folder, not {type(video).__name__}")
    return load_frames(video, sampling, cache)
