"""Decode the frames a `VideoSampling` spec picks, exactly and fast.

PyAV is the decoder (imported only here, when a video is read). The packets are demuxed
first, without decoding, which gives every frame's timestamp and the keyframes: a sampled
frame is then found by its exact timestamp, and the decoder seeks to the keyframe before it
whenever that skips work. Decoding from a keyframe yields the same pixels as decoding from
the start, so the same video and the same spec give the same frames bit for bit, however
sparse the sampling. Frame folders (one image per frame, in name order) read the same way.
"""

from __future__ import annotations

import bisect
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from lmms_eval.media.sampling import VideoSampling

if TYPE_CHECKING:
    import numpy as np

FRAME_FOLDER_FPS = 3.0  # MVBench's frame folders were extracted at 3 fps
_MIN_FRAMES_SKIPPED_BY_SEEK = 16  # about the decoder's frame-thread pipeline depth
_IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")


class VideoDecodeError(ValueError):
    """A video file that cannot be opened or holds no video frames (bad input: it fails only
    its own request)."""


@dataclass(frozen=True)
class DecodedVideo:
    frames: np.ndarray  # (N, H, W, 3) uint8 RGB
    indices: tuple[int, ...]
    timestamps: tuple[float, ...]  # seconds from the clip's first frame
    total_frames: int
    average_fps: float


def decode_video(path: str | os.PathLike[str], sampling: VideoSampling) -> DecodedVideo:
    """The frames `sampling` picks from a video file (mp4/webm/mkv/gif/...) or a frame folder."""
    path = Path(path)
    if path.is_dir():
        return _decode_frame_folder(path, sampling)
    try:
        return _decode_with_decord(path, sampling) if sampling.video_decoder == "decord" else _decode_with_pyav(path, sampling)
    except VideoDecodeError:
        raise
    except Exception as error:  # PyAV raises many kinds (FileNotFoundError, InvalidDataError, ...)
        raise VideoDecodeError(f"cannot decode video {path}: {error}") from error


@dataclass(frozen=True)
class _StreamIndex:
    """Every frame's pts in display order, and the keyframes' pts, from demuxing alone."""

    frame_pts: list[int]
    keyframe_pts: list[int]
    time_base: float

    @property
    def average_fps(self) -> float:
        if len(self.frame_pts) < 2:
            return 1.0
        duration = (self.frame_pts[-1] - self.frame_pts[0]) * self.time_base
        return (len(self.frame_pts) - 1) / duration if duration > 0 else 1.0


def _index_stream(container, stream) -> _StreamIndex:
    frame_pts: list[int] = []
    keyframe_pts: list[int] = []
    for packet in container.demux(stream):
        if packet.pts is None or packet.size == 0:
            continue
        frame_pts.append(packet.pts)
        if packet.is_keyframe:
            keyframe_pts.append(packet.pts)
    if not frame_pts:
        raise VideoDecodeError(f"no video frames in {container.name}")
    frame_pts.sort()
    keyframe_pts.sort()
    return _StreamIndex(frame_pts, keyframe_pts or frame_pts[:1], float(stream.time_base))


def _decode_with_pyav(path: Path, sampling: VideoSampling) -> DecodedVideo:
    import av
    import numpy as np

    with av.open(str(path)) as container:
        if not container.streams.video:
            raise VideoDecodeError(f"no video stream in {path}")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"  # slice/frame threads inside one decode
        index = _index_stream(container, stream)
        indices = sampling.frame_indices(len(index.frame_pts), index.average_fps)
        wanted = [index.frame_pts[i] for i in indices]
        frames = _decode_at(container, stream, index, wanted, sampling.max_pixels)
    origin = index.frame_pts[0]
    return DecodedVideo(
        frames=np.stack(frames),
        indices=tuple(indices),
        timestamps=tuple((pts - origin) * index.time_base for pts in wanted),
        total_frames=len(index.frame_pts),
        average_fps=index.average_fps,
    )


def _decode_with_decord(path: Path, sampling: VideoSampling) -> DecodedVideo:
    """The same indices through decord (its own FFmpeg build): the frame count and average
    rate come from decord's reader, resizing from its decoder (`width`/`height`)."""
    try:
        import decord
    except ImportError:
        raise VideoDecodeError("video_decoder=decord needs the decord module (pip install eva-decord, or decord)") from None
    import numpy as np

    reader = decord.VideoReader(str(path), num_threads=1)
    height, width = reader[0].shape[:2]
    fitted = _fit(width, height, sampling.max_pixels)
    if fitted != (width, height):
        reader = decord.VideoReader(str(path), num_threads=1, width=fitted[0], height=fitted[1])
    average_fps = float(reader.get_avg_fps())
    indices = sampling.frame_indices(len(reader), average_fps)
    frames = reader.get_batch(indices).asnumpy()
    starts = reader.get_frame_timestamp(indices)[:, 0]
    return DecodedVideo(
        frames=np.ascontiguousarray(frames),
        indices=tuple(indices),
        timestamps=tuple(float(t) for t in starts),
        total_frames=len(reader),
        average_fps=average_fps,
    )


def _decode_at(container, stream, index: _StreamIndex, wanted_pts: list[int], max_pixels: int | None) -> list:
    """Decode the frames with exactly these pts (sorted), seeking when a keyframe lies between."""
    frames = []
    decoded_up_to: int | None = None  # pts of the last frame the decoder produced
    frame_iter = None
    for target in wanted_pts:
        keyframe = index.keyframe_pts[max(0, bisect.bisect_right(index.keyframe_pts, target) - 1)]
        if frame_iter is None or decoded_up_to is None or _seek_pays(index, decoded_up_to, keyframe) or target <= decoded_up_to:
            container.seek(keyframe, stream=stream, backward=True, any_frame=False)
            frame_iter = container.decode(stream)
        for frame in frame_iter:
            if frame.pts is None:
                continue
            decoded_up_to = frame.pts
            if frame.pts >= target:
                frames.append(_to_rgb(frame, max_pixels))
                break
        else:
            raise VideoDecodeError(f"frame at pts {target} not found in {container.name}")
    return frames


def _seek_pays(index: _StreamIndex, decoded_up_to: int, keyframe: int) -> bool:
    """Seek only when it skips more frames than a seek costs: a seek flushes the decoder's
    frame threads, which then refill, so short gaps are cheaper decoded through."""
    if keyframe <= decoded_up_to:
        return False
    skipped = bisect.bisect_left(index.frame_pts, keyframe) - bisect.bisect_right(index.frame_pts, decoded_up_to)
    return skipped > _MIN_FRAMES_SKIPPED_BY_SEEK


def _to_rgb(frame, max_pixels: int | None):
    width, height = _fit(frame.width, frame.height, max_pixels)
    return frame.to_ndarray(format="rgb24", width=width, height=height)


def _fit(width: int, height: int, max_pixels: int | None) -> tuple[int, int]:
    """Scale down to at most max_pixels, aspect kept, sides even (what encoders expect)."""
    if max_pixels is None or width * height <= max_pixels:
        return width, height
    scale = (max_pixels / (width * height)) ** 0.5
    return max(2, int(width * scale) // 2 * 2), max(2, int(height * scale) // 2 * 2)


def _decode_frame_folder(folder: Path, sampling: VideoSampling) -> DecodedVideo:
    import numpy as np
    from PIL import Image

    images = sorted(entry for entry in folder.iterdir() if entry.suffix.lower() in _IMAGE_SUFFIXES)
    if not images:
        raise VideoDecodeError(f"no frame images in folder {folder}")
    indices = sampling.frame_indices(len(images), FRAME_FOLDER_FPS)
    frames = []
    for i in indices:
        with Image.open(images[i]) as image:
            rgb = image.convert("RGB")
            size = _fit(rgb.width, rgb.height, sampling.max_pixels)
            frames.append(np.asarray(rgb if size == rgb.size else rgb.resize(size, Image.BICUBIC)))
    return DecodedVideo(
        frames=np.stack(frames),
        indices=tuple(indices),
        timestamps=tuple(i / FRAME_FOLDER_FPS for i in indices),
        total_frames=len(images),
        average_fps=FRAME_FOLDER_FPS,
    )
