"""Decoded frames on disk, keyed by the video file's content digest and the sampling spec.

A second run, or a second model on the same task, reads the frames back instead of decoding:
the key does not depend on the path, so a moved or re-downloaded copy of the same file hits.
Entries are written to a temporary file and renamed, so a killed run never leaves half an
entry that a later run would read.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from lmms_eval.api.media import media_digest
from lmms_eval.cache_dirs import user_cache_folder
from lmms_eval.media.sampling import VideoSampling
from lmms_eval.media.video import DecodedVideo, decode_video

FRAME_CACHE_ENV = "LMMS_EVAL_FRAME_CACHE"
#: Entries of this layout; older .npz entries are simply not found (decoded once more).
ENTRY_SUFFIX = ".frames"


def default_frame_cache_dir() -> Path:
    return user_cache_folder(FRAME_CACHE_ENV, "lmms_eval", "frames")


class FrameCache:
    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        self.root = Path(root) if root is not None else default_frame_cache_dir()

    def entry_path(self, video: str | os.PathLike[str], sampling: VideoSampling) -> Path:
        digest = media_digest(os.fspath(video))  # content digest, memoised per (path, size, mtime)
        return self.root / digest[:2] / f"{digest}-{sampling.digest}{ENTRY_SUFFIX}"

    def get(self, video: str | os.PathLike[str], sampling: VideoSampling) -> DecodedVideo | None:
        entry = self.entry_path(video, sampling)
        if not entry.is_file():
            return None
        try:
            return _read_entry(entry)
        except (OSError, EOFError, ValueError, KeyError, TypeError):  # unreadable entry: decode again and overwrite it
            return None

    def put(self, video: str | os.PathLike[str], sampling: VideoSampling, decoded: DecodedVideo) -> None:
        entry = self.entry_path(video, sampling)
        entry.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=entry.parent, suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as output:
                _write_entry(output, decoded)
            os.replace(temporary, entry)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


def _write_entry(output: Any, decoded: DecodedVideo) -> None:
    """One line of JSON (indices, timestamps, counts), then the frames as a plain .npy
    array: read back with one read into the array, several times faster than an .npz."""
    import numpy as np

    header = {
        "indices": list(decoded.indices),
        "timestamps": list(decoded.timestamps),
        "total_frames": decoded.total_frames,
        "average_fps": decoded.average_fps,
    }
    output.write(json.dumps(header).encode() + b"\n")
    np.save(output, np.ascontiguousarray(decoded.frames), allow_pickle=False)


def _read_entry(entry: Path) -> DecodedVideo:
    import numpy as np

    with open(entry, "rb") as stored:
        header = json.loads(stored.readline())
        frames = np.load(stored, allow_pickle=False)
    if frames.ndim != 4 or len(frames) != len(header["indices"]):
        raise ValueError(f"frame cache entry {entry} does not hold its frames")
    return DecodedVideo(
        frames=frames,
        indices=tuple(int(i) for i in header["indices"]),
        timestamps=tuple(float(t) for t in header["timestamps"]),
        total_frames=int(header["total_frames"]),
        average_fps=float(header["average_fps"]),
    )


class DecodedAhead:
    """Frames the prefetch pool decoded for requests not yet sent, handed over once per put.

    Several requests on one video (Video-MME asks three questions per clip) each put and
    each take: the frames stay until the last take. Bounded: past `capacity` videos the
    oldest is dropped (a request that never reached its backend's encoder leaves its entry
    behind; a backend that misses an entry just decodes again).
    """

    def __init__(self, capacity: int = 256) -> None:
        import threading
        from collections import OrderedDict

        self.capacity = capacity
        self._entries: OrderedDict[tuple[str, VideoSampling], list] = OrderedDict()  # [frames, takes left]
        self._lock = threading.Lock()

    def put(self, video: str | os.PathLike[str], sampling: VideoSampling, decoded: DecodedVideo) -> None:
        key = (os.fspath(video), sampling)
        with self._lock:
            entry = self._entries.setdefault(key, [decoded, 0])
            entry[1] += 1
            while len(self._entries) > self.capacity:
                self._entries.popitem(last=False)

    def take(self, video: str | os.PathLike[str], sampling: VideoSampling) -> DecodedVideo | None:
        key = (os.fspath(video), sampling)
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            entry[1] -= 1
            if entry[1] <= 0:
                del self._entries[key]
            return entry[0]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


#: What `lmms_eval.engine.media_prefetch` decoded ahead of the backend, for `load_frames`.
DECODED_AHEAD = DecodedAhead()


def load_frames(video: str | os.PathLike[str], sampling: VideoSampling, cache: FrameCache | None = None) -> DecodedVideo:
    """The one entry point backends use: frames decoded ahead, cached frames, or decode
    (and remember) them."""
    ahead = DECODED_AHEAD.take(video, sampling)
    return ahead if ahead is not None else read_frames(video, sampling, cache)


def read_frames(video: str | os.PathLike[str], sampling: VideoSampling, cache: FrameCache | None = None) -> DecodedVideo:
    """Cached frames, or decode and remember them (what the prefetch pool does ahead)."""
    if cache is None:
        return decode_video(video, sampling)
    cached = cache.get(video, sampling)
    if cached is not None:
        return cached
    decoded = decode_video(video, sampling)
    cache.put(video, sampling, decoded)
    return decoded


def backend_video_media(
    max_frames_num: Any, fps: Any, max_pixels: Any, video_decoder: Any, use_frame_cache: bool
) -> tuple[VideoSampling, FrameCache | None]:
    """A backend's sampling spec from its model args, and its frame cache (None when off).
    A bad value is bad --model_args: ModelError, one line."""
    from lmms_eval.errors import ModelError

    values = {"max_frames_num": max_frames_num, "fps": fps, "max_pixels": max_pixels, "video_decoder": video_decoder}
    try:
        sampling = VideoSampling.from_kwargs(values)
    except ValueError as error:
        raise ModelError(str(error)) from None
    return sampling, FrameCache() if use_frame_cache else None
