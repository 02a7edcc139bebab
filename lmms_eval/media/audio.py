"""Audio in, as ``{"array": float32 mono, "sampling_rate": int}`` at the rate a model needs.

Three inputs are accepted, as tasks give them:

- an HF ``Audio`` value: decoded (``{"array", "sampling_rate"}``) or, as our dataset loading
  reads audio columns, undecoded (``{"bytes", "path"}``);
- a file path;
- raw encoded bytes (WAV, FLAC, OGG, MP3: whatever libsndfile reads).

Why soundfile + soxr: both are small wheels that bundle their C libraries (libsndfile,
libsoxr), need neither torch nor a system FFmpeg, and are fast (soxr's resampler is
several times faster than librosa's default and librosa pulls in numba/scipy). datasets 5.x
decodes ``Audio`` through torchcodec, which needs torch and FFmpeg; reading the columns
undecoded and decoding here keeps audio tasks runnable on a fresh install.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from typing import Any


class AudioDecodeError(ValueError):
    """An audio input that cannot be read; the message names what and why."""


@dataclass(frozen=True)
class Waveform:
    """Mono float32 samples and their rate."""

    array: Any  # numpy.ndarray, shape (n,), float32
    sampling_rate: int

    def as_dict(self) -> dict[str, Any]:
        return {"array": self.array, "sampling_rate": self.sampling_rate}


def is_audio_value(item: Any) -> bool:
    """True for an HF Audio value, decoded or not."""
    return isinstance(item, dict) and ("array" in item or ("bytes" in item and "path" in item))


def load_audio(item: Any, target_rate: int | None = None) -> Waveform:
    """Decode `item` to mono float32, resampled to `target_rate` when given."""
    waveform = _decode(item)
    if target_rate is not None and target_rate != waveform.sampling_rate:
        waveform = resample(waveform, target_rate)
    return waveform


def decode_audio_value(value: Any) -> dict[str, Any]:
    """An undecoded HF Audio value as the decoded dict lmms-eval tasks read
    (``array``, ``sampling_rate``, ``path``); a decoded one is returned as it is."""
    if isinstance(value, dict) and "array" in value:
        return value
    waveform = _decode(value)
    return {"path": value.get("path") if isinstance(value, dict) else None, **waveform.as_dict()}


def resample(waveform: Waveform, target_rate: int) -> Waveform:
    import numpy as np
    import soxr

    array = soxr.resample(waveform.array, waveform.sampling_rate, target_rate, quality="HQ")
    return Waveform(np.asarray(array, dtype=np.float32), target_rate)


def to_wav_bytes(item: Any, target_rate: int | None = None) -> bytes:
    """16-bit PCM WAV of `item` (what OpenAI's ``input_audio`` parts carry)."""
    import soundfile

    waveform = load_audio(item, target_rate)
    buffer = io.BytesIO()
    soundfile.write(buffer, waveform.array, waveform.sampling_rate, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def _decode(item: Any) -> Waveform:
    if isinstance(item, dict) and "array" in item:
        return _from_array(item["array"], item.get("sampling_rate"))
    if isinstance(item, dict) and ("bytes" in item or "path" in item):
        if item.get("bytes"):
            return _read(io.BytesIO(item["bytes"]), "audio bytes")
        if item.get("path"):
            return _read(item["path"], f"audio file {item['path']}")
        raise AudioDecodeError("audio value has neither bytes nor a path")
    if isinstance(item, (bytes, bytearray)):
        return _read(io.BytesIO(bytes(item)), "audio bytes")
    if isinstance(item, (str, os.PathLike)):
        return _read(os.fspath(item), f"audio file {os.fspath(item)}")
    raise AudioDecodeError(f"not an audio input: {type(item).__name__}")


def _from_array(array: Any, rate: Any) -> Waveform:
    import numpy as np

    if not isinstance(rate, int) or isinstance(rate, bool) or rate <= 0:
        raise AudioDecodeError(f"audio array needs a positive integer sampling_rate, got {rate!r}")
    samples = np.asarray(array, dtype=np.float32)
    if samples.ndim == 2:  # (frames, channels) as soundfile gives them
        samples = samples.mean(axis=1, dtype=np.float32)
    if samples.ndim != 1:
        raise AudioDecodeError(f"audio array must be 1-D or (frames, channels), got shape {samples.shape}")
    return Waveform(samples, rate)


def _read(source: Any, what: str) -> Waveform:
    import soundfile

    try:
        samples, rate = soundfile.read(source, dtype="float32", always_2d=False)
    except (soundfile.LibsndfileError, RuntimeError, OSError) as error:
        raise AudioDecodeError(f"cannot decode {what}: {str(error).strip() or type(error).__name__}") from error
    return _from_array(samples, int(rate))
