"""Generated videos for the video benchmarks' fixture splits, laid out under a temporary
`$HF_HOME/<cache_dir>` the way a dataset's extracted archives are."""

from __future__ import annotations

from pathlib import Path

from lmms_eval.testing.videos import write_test_video


def clip(path: Path, seconds: float = 1.0, fps: int = 6) -> Path:
    """A tiny H.264 clip (32x24) at `path`, folders created."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_test_video(path, seconds=seconds, fps=fps, width=32, height=24)


def gif(path: Path, frames: int = 4) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_test_video(path, seconds=frames / 4, fps=4, width=32, height=24, codec="gif")


def frame_folder(path: Path, frames: int) -> Path:
    """A folder of numbered JPEG frames (MVBench's TVQA parts)."""
    from PIL import Image

    path.mkdir(parents=True, exist_ok=True)
    for i in range(frames):
        Image.new("RGB", (32, 24), (i * 40 % 256, 80, 120)).save(path / f"{i + 1:05d}.jpg")
    return path


def frames_sent(bodies: list[dict], marker: str) -> int:
    """How many image parts the chat request whose text holds `marker` carried."""
    [parts] = [
        message["content"]
        for body in bodies
        for message in body["messages"]
        if isinstance(message["content"], list) and any(marker in part.get("text", "") for part in message["content"])
    ]
    return sum(part["type"] == "image_url" for part in parts)
