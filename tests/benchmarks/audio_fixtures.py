"""Generated audio for fixture splits: values for a `datasets.Audio` column."""

from __future__ import annotations

import io
from typing import Any


def tone(seed: int, rate: int = 16000, seconds: float = 0.25) -> dict[str, Any]:
    """A sine tone plus a little noise, pitch by `seed`, as the FLAC bytes an Audio column stores."""
    import numpy as np
    import soundfile

    t = np.arange(int(rate * seconds)) / rate
    noise = np.random.default_rng(seed).normal(0.0, 0.01, t.shape)
    samples = (0.3 * np.sin(2 * np.pi * (220 + 40 * seed) * t) + noise).astype(np.float32)
    buffer = io.BytesIO()
    soundfile.write(buffer, samples, rate, format="FLAC")
    return {"bytes": buffer.getvalue(), "path": f"tone_{seed}.flac"}


def write_audio_parquet(path: Any, rows: list[dict[str, Any]], features: Any) -> Any:
    """`rows` as parquet with `features` (their HF metadata in the schema). Written with
    pyarrow directly: datasets' Audio encoder needs torchcodec even for stored bytes."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(list(rows), schema=features.arrow_schema), str(path))
    return path
