"""Video benchmark fixtures: a local copy of a Hub video dataset repo (parquet rows plus the
videos in archives, laid out as on the Hub), extracted by the task's own `video: true`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import datasets
import pytest

from lmms_eval.testing.videos import write_test_video


@pytest.fixture
def hf_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """$HF_HOME (where archives are extracted) and the frame cache, both inside the test's folder."""
    home = tmp_path / "hf"
    monkeypatch.setenv("HF_HOME", str(home))
    monkeypatch.setenv("LMMS_EVAL_FRAME_CACHE", str(tmp_path / "frames"))
    # datasets keys its cache of a local repo folder by the folder's name and config alone
    # (not by the files): each test gets its own cache, or it would read another test's rows.
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", str(tmp_path / "datasets_cache"))
    return home


def clips(folder: Path, names: Sequence[str], seconds: float = 2.0, fps: int = 10) -> dict[str, Path]:
    """Tiny H.264 clips, one per name (`<name>.mp4`)."""
    folder.mkdir(parents=True, exist_ok=True)
    return {name: write_test_video(folder / f"{name}.mp4", seconds=seconds, fps=fps, width=32, height=24) for name in names}


def repo_task(folder: Path, name: str, include: str, repo: Path, dataset_kwargs: Mapping[str, Any], extra: str = "") -> Path:
    """A user YAML that points a library task at the local repo (the same dataset_kwargs
    flags as the library's, less `token`)."""
    kwargs = "".join(f"  {key}: {value}\n" for key, value in dataset_kwargs.items())
    path = folder / f"{name}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"include: {include}\ntask: {name}\ndataset_path: {repo}\ndataset_kwargs:\n{kwargs}{extra}", encoding="utf-8")
    return path


def clip(path: Path, seconds: float = 1.0, fps: int = 6) -> Path:
    """One tiny H.264 clip (32x24) at `path`, folders created."""
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
