"""Audio columns are read undecoded by datasets and decoded by soundfile when a doc is read."""

from __future__ import annotations

from pathlib import Path

import datasets
import numpy as np
import pytest
from audio_fixtures import tone, write_audio_parquet

from lmms_eval.taskdefs.config import TaskConfig
from lmms_eval.taskdefs.dataset import load_splits
from lmms_eval.taskdefs.rendering import BadDocInput, read_doc


def _config(path: Path) -> TaskConfig:
    return TaskConfig.from_dict(
        {"task": "t", "dataset_path": "parquet", "dataset_kwargs": {"data_files": {"test": str(path)}}, "test_split": "test", "doc_to_text": "gt"},
        str(path.parent / "t.yaml"),
    )


def test_audio_column_decoded_without_torchcodec(tmp_path):
    features = datasets.Features({"audio": datasets.Audio(sampling_rate=8000), "gt": datasets.Value("string")})
    bad = {"bytes": b"garbage", "path": "bad.wav"}
    path = write_audio_parquet(tmp_path / "d.parquet", [{"audio": tone(1), "gt": "A"}, {"audio": bad, "gt": "B"}], features)
    split = load_splits(_config(path))["test"]
    assert split.features["audio"].decode is False
    doc = read_doc(split, 0)
    assert doc["audio"]["sampling_rate"] == 8000  # resampled to the column's declared rate
    assert doc["audio"]["array"].dtype == np.float32 and doc["audio"]["array"].shape == (2000,)
    assert doc["audio"]["path"] == "tone_1.flac" and doc["gt"] == "A"
    with pytest.raises(BadDocInput, match="cannot decode audio \\(column 'audio'\\)"):
        read_doc(split, 1)
