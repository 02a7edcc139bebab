"""`VideoSampling`: the one frame-sampling spec every backend uses.

Names follow lmms-eval (`max_frames_num`, `fps`, ...) so that model_args and a task's
`lmms_eval_specific_kwargs` set it with the keys users already write, and the results JSON
records it under the same names.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

DEFAULT_MAX_FRAMES = 10  # lmms-eval's openai default
DEFAULT_DECODER = "pyav"
#: The video decoders a spec may name: PyAV (the `video` extra) or decord where installed.
DECODERS = ("pyav", "decord")


@dataclass(frozen=True)
class VideoSampling:
    """Which frames of a clip a request gets.

    With `fps` unset, exactly `max_frames_num` frames are taken (fewer only if the clip is
    shorter). With `fps` set, the clip is sampled at that rate and `max_frames_num` caps the
    count. Either way the indices are spread uniformly over [start, end], endpoints included.
    """

    max_frames_num: int = DEFAULT_MAX_FRAMES
    fps: float | None = None
    start_time: float | None = None  # seconds
    end_time: float | None = None
    max_pixels: int | None = None  # frames larger than this (w*h) are scaled down, aspect kept
    video_decoder: str = DEFAULT_DECODER  # which library decodes the frames (the indices are the spec's either way)

    def __post_init__(self) -> None:
        if self.video_decoder not in DECODERS:
            raise ValueError(f"video_decoder must be one of {', '.join(DECODERS)}, got {self.video_decoder!r}")
        if self.max_frames_num < 1:
            raise ValueError(f"max_frames_num must be at least 1, got {self.max_frames_num}")
        if self.fps is not None and self.fps <= 0:
            raise ValueError(f"fps must be positive, got {self.fps}")
        if self.max_pixels is not None and self.max_pixels < 1:
            raise ValueError(f"max_pixels must be positive, got {self.max_pixels}")
        if self.start_time is not None and self.end_time is not None and self.end_time < self.start_time:
            raise ValueError(f"end_time {self.end_time} is before start_time {self.start_time}")

    @classmethod
    def from_kwargs(cls, *sources: Mapping[str, Any] | None) -> VideoSampling:
        """Later sources win: e.g. `from_kwargs(model_args, task_specific_kwargs)`.

        Keys that are not sampling fields are ignored: those mappings carry other settings.
        """
        known = {spec_field.name for spec_field in fields(cls)}
        values: dict[str, Any] = {}
        for source in sources:
            for key, value in (source or {}).items():
                if key in known and value is not None:
                    values[key] = value
        return cls(**_typed(values))

    def for_task(self, task_kwargs: Any) -> VideoSampling:
        """This spec (from model_args) with a task's sampling keys on top: the task's
        `lmms_eval_specific_kwargs` entry is written for this model and this task, so its
        keys win. A task without such keys (or with prompt kwargs that are not a mapping)
        leaves the spec as it is."""
        return VideoSampling.from_kwargs(self.as_record(), task_kwargs if isinstance(task_kwargs, Mapping) else None)

    def with_clip(self, start_time: float | None, end_time: float | None) -> VideoSampling:
        """The same spec limited to a dataset's clip bounds."""
        return replace(self, start_time=start_time, end_time=end_time)

    def as_record(self) -> dict[str, Any]:
        """The spec under lmms-eval's names, for the results JSON (unset fields left out, and
        the default decoder too, so specs from before the choice existed keep their digest)."""
        record = {key: value for key, value in asdict(self).items() if value is not None}
        if record.get("video_decoder") == DEFAULT_DECODER:
            del record["video_decoder"]
        return record

    @property
    def digest(self) -> str:
        return hashlib.sha256(json.dumps(self.as_record(), sort_keys=True).encode()).hexdigest()[:16]

    def frame_indices(self, total_frames: int, average_fps: float) -> list[int]:
        """The frame indices to decode, sorted, unique, uniform with endpoints included."""
        if total_frames < 1:
            return []
        first, last = self._bounds(total_frames, average_fps)
        count = self._frame_count(first, last, average_fps)
        if count == 1:
            return [first]
        span = last - first
        # Integer arithmetic, halves rounded up: the same indices on every machine.
        steps = count - 1
        indices = [first + (2 * position * span + steps) // (2 * steps) for position in range(count)]
        return sorted(set(indices))

    def _bounds(self, total_frames: int, average_fps: float) -> tuple[int, int]:
        first, last = 0, total_frames - 1
        if average_fps > 0:
            if self.start_time is not None:
                first = min(last, max(0, round(self.start_time * average_fps)))
            if self.end_time is not None:
                last = min(last, max(first, round(self.end_time * average_fps)))
        return first, last

    def _frame_count(self, first: int, last: int, average_fps: float) -> int:
        available = last - first + 1
        wanted = self.max_frames_num
        if self.fps is not None and average_fps > 0:
            duration = available / average_fps
            wanted = min(wanted, max(1, int(duration * self.fps)))
        return min(wanted, available)


def _typed(values: dict[str, Any]) -> dict[str, Any]:
    """model_args arrive as strings ('max_frames_num=32'): give each field its type."""
    typed: dict[str, Any] = {}
    for key, value in values.items():
        if key == "video_decoder":
            typed[key] = str(value)
            continue
        try:
            typed[key] = int(value) if key in ("max_frames_num", "max_pixels") else float(value)
        except (TypeError, ValueError):
            raise ValueError(f"video sampling '{key}' must be a number, got {value!r}") from None
    return typed
