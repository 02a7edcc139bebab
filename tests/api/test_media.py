"""media_digest identifies media by content; media_kind names what a visual is."""

from __future__ import annotations

import hashlib

import numpy as np
from PIL import Image

from lmms_eval.api.media import media_digest, media_kind


def sha256(*chunks: bytes) -> str:
    hasher = hashlib.sha256()
    for chunk in chunks:
        hasher.update(chunk)
    return hasher.hexdigest()


def test_pil_digest_is_the_hash_of_mode_size_and_pixels():
    image = Image.new("RGB", (2, 1), (1, 2, 3))
    assert media_digest(image) == sha256(b"image:RGB:(2, 1)", bytes([1, 2, 3, 1, 2, 3]))


def test_equal_images_have_equal_digests_whatever_the_object():
    first = Image.new("RGB", (4, 4), (10, 20, 30))
    second = Image.new("RGB", (4, 4), (10, 20, 30))
    assert first is not second
    assert media_digest(first) == media_digest(second) == media_digest(first.copy())


def test_pixels_size_and_mode_all_change_the_digest():
    base = Image.new("RGB", (4, 4), (10, 20, 30))
    one_pixel = base.copy()
    one_pixel.putpixel((3, 3), (10, 20, 31))
    digests = {
        media_digest(base),
        media_digest(one_pixel),
        media_digest(Image.new("RGB", (2, 8), (10, 20, 30))),  # same bytes, other shape
        media_digest(Image.new("RGBA", (4, 4), (10, 20, 30, 255))),
        media_digest(base.convert("L")),
    }
    assert len(digests) == 5


def test_palette_images_differ_by_palette():
    red = Image.new("P", (4, 4), 0)
    red.putpalette([255, 0, 0] * 256)
    blue = Image.new("P", (4, 4), 0)
    blue.putpalette([0, 0, 255] * 256)
    assert red.tobytes() == blue.tobytes()  # the same indices...
    assert media_digest(red) != media_digest(blue)  # ...but not the same picture
    again = Image.new("P", (4, 4), 0)
    again.putpalette([255, 0, 0] * 256)
    assert media_digest(again) == media_digest(red)


def test_files_are_identified_by_content_not_path(tmp_path):
    first = tmp_path / "a" / "clip.mp4"
    second = tmp_path / "b" / "other.mp4"
    for path in (first, second):
        path.parent.mkdir()
        path.write_bytes(b"frames")
    expected = sha256(b"file:", sha256(b"frames").encode())
    assert media_digest(str(first)) == media_digest(second) == expected


def test_a_changed_file_gets_a_new_digest(tmp_path):
    path = tmp_path / "clip.mp4"
    path.write_bytes(b"frames")
    before = media_digest(str(path))
    path.write_bytes(b"other frames")
    assert media_digest(str(path)) != before
    assert media_digest(str(path)) == sha256(b"file:", sha256(b"other frames").encode())


def test_audio_dicts_hash_rate_dtype_shape_and_samples():
    samples = np.array([0.0, 0.5, -0.5], dtype=np.float32)
    audio = {"array": samples, "sampling_rate": 16000, "path": "ignored.wav"}
    expected = sha256(b"audio:16000:float32:(3,)", samples.tobytes())
    assert media_digest(audio) == expected
    assert media_digest({"array": samples.copy(), "sampling_rate": 16000}) == expected  # the path is not content
    assert media_digest({"array": samples, "sampling_rate": 8000}) != expected
    assert media_digest({"array": samples.astype(np.float64), "sampling_rate": 16000}) != expected
    assert media_digest({"array": np.array([0.0, 0.5, -0.25], dtype=np.float32), "sampling_rate": 16000}) != expected


def test_audio_arrays_may_be_lists_or_strided():
    strided = np.arange(6, dtype=np.int16)[::2]
    assert not strided.flags["C_CONTIGUOUS"]
    assert media_digest({"array": strided, "sampling_rate": 1}) == media_digest({"array": np.array([0, 2, 4], dtype=np.int16), "sampling_rate": 1})
    assert media_digest({"array": [1, 2], "sampling_rate": 1}) == media_digest({"array": np.array([1, 2]), "sampling_rate": 1})


def test_bytes_and_other_objects():
    assert media_digest(b"raw") == sha256(b"bytes:", b"raw") == media_digest(bytearray(b"raw"))
    assert media_digest(42) == sha256(b"repr:int:42")


def test_media_kind(tmp_path):
    assert media_kind(Image.new("RGB", (1, 1))) == "image"
    assert media_kind({"array": np.zeros(2), "sampling_rate": 16000}) == "audio"
    assert media_kind(str(tmp_path / "clip.mp4")) == "video"
