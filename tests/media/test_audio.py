"""Audio decoding: HF values (decoded and undecoded), paths, bytes; resampling; WAV out."""

from __future__ import annotations

import io

import numpy as np
import pytest
import soundfile

from lmms_eval.media.audio import AudioDecodeError, decode_audio_value, is_audio_value, load_audio, to_wav_bytes


def _sine(rate: int = 16000, seconds: float = 0.5, hz: float = 440.0) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (0.5 * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def _wav(array: np.ndarray, rate: int, fmt: str = "WAV") -> bytes:
    buffer = io.BytesIO()
    soundfile.write(buffer, array, rate, format=fmt)
    return buffer.getvalue()


def test_decoded_dict_passes_through_and_stereo_becomes_mono():
    stereo = np.stack([_sine(), _sine()], axis=1)
    waveform = load_audio({"array": stereo, "sampling_rate": 16000})
    assert waveform.array.shape == (8000,) and waveform.array.dtype == np.float32
    np.testing.assert_allclose(waveform.array, _sine(), atol=1e-6)


def test_bytes_path_and_undecoded_value_give_the_same_samples(tmp_path):
    data = _wav(_sine(), 16000, "FLAC")
    path = tmp_path / "a.flac"
    path.write_bytes(data)
    from_bytes = load_audio(data).array
    np.testing.assert_array_equal(from_bytes, load_audio(str(path)).array)
    np.testing.assert_array_equal(from_bytes, load_audio({"bytes": data, "path": "a.flac"}).array)
    np.testing.assert_array_equal(from_bytes, load_audio({"bytes": None, "path": str(path)}).array)
    decoded = decode_audio_value({"bytes": data, "path": "a.flac"})
    assert decoded["sampling_rate"] == 16000 and decoded["path"] == "a.flac"
    assert is_audio_value(decoded) and is_audio_value({"bytes": data, "path": None})


def test_resampling_keeps_duration_and_pitch():
    waveform = load_audio({"array": _sine(48000), "sampling_rate": 48000}, target_rate=16000)
    assert waveform.sampling_rate == 16000 and waveform.array.shape == (8000,)
    spectrum = np.abs(np.fft.rfft(waveform.array))
    assert abs(np.argmax(spectrum) * 16000 / 8000 - 440) <= 2


def test_wav_bytes_round_trip():
    wav = to_wav_bytes({"array": _sine(), "sampling_rate": 16000})
    assert wav[:4] == b"RIFF"
    back, rate = soundfile.read(io.BytesIO(wav), dtype="float32")
    assert rate == 16000
    np.testing.assert_allclose(back, _sine(), atol=1e-4)


@pytest.mark.parametrize(
    "bad",
    [b"not audio at all", {"bytes": None, "path": None}, {"array": [0.0], "sampling_rate": None}, 3],
)
def test_bad_input_is_one_typed_error(bad):
    with pytest.raises(AudioDecodeError):
        load_audio(bad)


def test_openai_format_carries_audio_as_base64_wav():
    import base64

    from lmms_eval.api.messages import ChatMessages, to_openai

    messages = ChatMessages.build("Transcribe:", [{"array": _sine(), "sampling_rate": 16000}])
    parts = to_openai(messages)[0]["content"]
    [audio] = [part for part in parts if part["type"] == "input_audio"]
    assert audio["input_audio"]["format"] == "wav"
    back, rate = soundfile.read(io.BytesIO(base64.b64decode(audio["input_audio"]["data"])), dtype="float32")
    assert rate == 16000
    np.testing.assert_allclose(back, _sine(), atol=1e-4)
