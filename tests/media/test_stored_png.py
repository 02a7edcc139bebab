"""Dataset images stored as plain PNG files travel as their own bytes (lmms_eval.media.stored_png)."""

from __future__ import annotations

import base64
import io
import pickle
import struct
import zlib

import datasets
import numpy as np
import pytest
from PIL import Image, ImageDraw

from lmms_eval.api.media import media_digest, media_kind
from lmms_eval.api.messages import image_data_url
from lmms_eval.media.stored_png import is_opened, is_plain_png, open_stored_png, untouched_png
from lmms_eval.taskdefs.rendering import BadDocInput, read_doc


def png_bytes(image: Image.Image, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", **options)
    return buffer.getvalue()


def noise(mode: str, size: tuple[int, int] = (9, 7)) -> Image.Image:
    channels = {"L": 1, "LA": 2, "RGB": 3, "RGBA": 4, "P": 1}[mode]
    pixels = np.random.default_rng(len(mode)).integers(0, 256, (size[1], size[0], channels), dtype=np.uint8)
    if mode in ("L", "P"):
        image = Image.fromarray(pixels[:, :, 0], "L")
        if mode == "P":
            image = image.convert("P")
            image.putpalette([value for index in range(256) for value in (index, 255 - index, index // 2)])
        return image
    return Image.fromarray(pixels, mode)


def with_chunk(data: bytes, kind: bytes, body: bytes) -> bytes:
    """The PNG with one more chunk right after IHDR."""
    chunk = struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    return data[:33] + chunk + data[33:]


def decoded_url_pixels(url: str) -> Image.Image:
    return Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))


@pytest.mark.parametrize("mode", ["L", "LA", "RGB", "RGBA", "P"])
def test_a_plain_png_is_sent_as_stored_and_decodes_to_the_pixels_the_old_path_sent(mode):
    data = png_bytes(noise(mode))
    assert is_plain_png(data)
    lazy = open_stored_png(data)
    url = image_data_url(lazy)
    assert url == "data:image/png;base64," + base64.b64encode(data).decode()
    decoded = Image.open(io.BytesIO(data))
    decoded.load()  # as datasets hands images over: loaded, no stored bytes
    old = decoded_url_pixels(image_data_url(decoded))
    new = decoded_url_pixels(url)
    assert new.mode == old.mode and new.tobytes() == old.tobytes()
    if mode == "P":
        assert new.getpalette() == old.getpalette()


def test_the_key_digest_hashes_the_bytes_and_differs_from_any_pixel_digest():
    data = png_bytes(noise("RGB"))
    lazy, again = open_stored_png(data), open_stored_png(data)
    assert media_digest(lazy) == media_digest(again)
    assert untouched_png(lazy) == data  # the digest read no pixels
    decoded = Image.open(io.BytesIO(data))
    decoded.load()
    assert media_digest(lazy) != media_digest(decoded)
    other = png_bytes(noise("RGB"), compress_level=9)
    assert media_digest(open_stored_png(other)) != media_digest(lazy)  # same pixels, other file: other key


def test_a_stored_png_is_opened_only_when_first_asked_and_then_is_pillows_own_image():
    data = png_bytes(noise("P"))
    lazy = open_stored_png(data)
    digest, url = media_digest(lazy), image_data_url(lazy)
    assert not is_opened(lazy) and isinstance(lazy, Image.Image)  # keyed and encoded without opening
    assert url == "data:image/png;base64," + base64.b64encode(data).decode()
    assert media_kind(lazy) == "image" and not is_opened(lazy)
    opened = Image.open(io.BytesIO(data))
    assert (lazy.size, lazy.mode, lazy.format, lazy.info) == (opened.size, opened.mode, opened.format, opened.info)
    assert is_opened(lazy) and untouched_png(lazy) == data and media_digest(lazy) == digest  # opening reads no pixels
    assert lazy.tobytes() == opened.tobytes() and lazy.getpalette() == opened.getpalette()
    assert untouched_png(lazy) is None  # loaded: from now on its pixels count
    with pytest.raises(AttributeError):
        lazy.no_such_attribute


def test_a_lazy_stored_png_pickles_and_copies_as_its_pixels():
    data = png_bytes(noise("RGBA"))
    copied = pickle.loads(pickle.dumps(open_stored_png(data)))
    assert copied.tobytes() == Image.open(io.BytesIO(data)).tobytes() and copied.mode == "RGBA"
    assert open_stored_png(data).copy().tobytes() == copied.tobytes()


def test_a_stored_png_beyond_pillows_pixel_limit_is_refused_as_pillow_refuses_it(monkeypatch):
    data = png_bytes(noise("L", (40, 40)))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)  # 1600 pixels: over twice the limit
    with pytest.raises(Image.DecompressionBombError):
        open_stored_png(data)


def test_an_image_whose_pixels_were_read_or_changed_is_encoded_from_its_pixels():
    data = png_bytes(noise("RGB"))
    drawn = open_stored_png(data)
    ImageDraw.Draw(drawn).rectangle((0, 0, 3, 3), fill=(1, 2, 3))
    assert untouched_png(drawn) is None
    assert decoded_url_pixels(image_data_url(drawn)).tobytes() == drawn.tobytes()
    assert decoded_url_pixels(image_data_url(drawn)).getpixel((1, 1)) == (1, 2, 3)
    converted = open_stored_png(data).convert("RGB")
    assert untouched_png(converted) is None
    assert untouched_png(open_stored_png(data)) == data
    # JPEG is asked for: the stored PNG is not sent as it is
    assert image_data_url(open_stored_png(data), "JPEG").startswith("data:image/jpeg;base64,")


def test_files_that_are_not_plain_pngs_are_recognised():
    data = png_bytes(noise("RGB"))
    assert not is_plain_png(data[:-20])  # truncated
    assert not is_plain_png(data + b"junk")
    damaged = bytearray(data)
    damaged[60] ^= 0xFF
    assert not is_plain_png(bytes(damaged))  # a CRC no longer matches
    assert not is_plain_png(with_chunk(data, b"gAMA", struct.pack(">I", 45455)))  # gamma changes how pixels look
    assert not is_plain_png(with_chunk(data, b"eXIf", b"MM\x00*"))  # EXIF may rotate it
    assert is_plain_png(with_chunk(data, b"tEXt", b"Comment\x00hello"))
    assert not is_plain_png(png_bytes(Image.new("I;16", (4, 4))))  # 16-bit: converted before sending
    assert not is_plain_png(png_bytes(noise("RGB"), optimize=False)[:8] + b"\x00" * 10)
    assert not is_plain_png(b"not a png")
    assert not is_plain_png(None)
    # a zlib stream that is short of the header's rows, with good CRCs
    header = struct.pack(">IIBBBBB", 4, 4, 8, 2, 0, 0, 0)
    short = zlib.compress(b"\x00" + b"\x01" * 12)

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    assert not is_plain_png(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", short) + chunk(b"IEND", b""))


def test_a_row_with_an_unknown_filter_type_is_not_plain_and_fails_its_own_doc():
    header = struct.pack(">IIBBBBB", 4, 4, 8, 2, 0, 0, 0)
    rows = b"".join(bytes([7 if row == 2 else 0]) + b"\x01" * 12 for row in range(4))  # good CRCs, filter type 7
    data = b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", zlib.compress(rows)) + png_chunk(b"IEND", b"")
    assert not is_plain_png(data)
    assert is_plain_png(b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", zlib.compress(rows.replace(b"\x07", b"\x00"))) + png_chunk(b"IEND", b""))
    with pytest.raises(BadDocInput, match="cannot decode image"):
        read_doc(image_dataset([data]), 0)


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def image_dataset(values: list[bytes]) -> datasets.Dataset:
    features = datasets.Features({"image": datasets.Image(), "n": datasets.Value("int32")})
    return datasets.Dataset.from_list([{"image": {"bytes": value, "path": None}, "n": i} for i, value in enumerate(values)], features=features)


def test_read_doc_opens_plain_pngs_lazily_and_decodes_others_as_datasets_does():
    plain = png_bytes(noise("RGBA"))
    jpeg = io.BytesIO()
    noise("RGB").save(jpeg, format="JPEG")
    docs = image_dataset([plain, jpeg.getvalue(), png_bytes(noise("RGB"))[:-30]])
    first = read_doc(docs, 0)
    assert first["n"] == 0 and untouched_png(first["image"]) == plain
    assert first["image"].tobytes() == docs[0]["image"].tobytes() and first["image"].mode == docs[0]["image"].mode
    second = read_doc(docs, 1)
    assert untouched_png(second["image"]) is None and second["image"].tobytes() == docs[1]["image"].tobytes()
    with pytest.raises(BadDocInput, match="cannot decode image"):
        read_doc(docs, 2)


def test_a_declared_image_mode_is_applied_as_before():
    features = datasets.Features({"image": datasets.Image(mode="L")})
    docs = datasets.Dataset.from_list([{"image": {"bytes": png_bytes(noise("RGB")), "path": None}}], features=features)
    image = read_doc(docs, 0)["image"]
    assert image.mode == "L" and untouched_png(image) is None


# --- files found plain are remembered across runs ------------------------------------------


def known(path):
    from lmms_eval.media.stored_png import KnownPlainFiles

    return KnownPlainFiles(lambda: path)


def test_a_file_found_plain_is_remembered_by_the_next_run_and_not_inflated_again(tmp_path, monkeypatch):
    import lmms_eval.media.stored_png as stored_png

    path = tmp_path / "checks" / "plain-png-digests.bin"
    plain, damaged = png_bytes(noise("RGB")), png_bytes(noise("L"))[:-30]
    first = known(path)
    assert first.is_plain(plain, stored_png.png_file_digest(plain))
    assert not first.is_plain(damaged, stored_png.png_file_digest(damaged))
    first.save()
    assert path.read_bytes() == first.HEADER + bytes.fromhex(stored_png.png_file_digest(plain))  # only the plain one

    def no_inflating(*args):
        raise AssertionError("a remembered file is not inflated again")

    monkeypatch.setattr(stored_png, "_inflates_to_rows", no_inflating)
    assert known(path).is_plain(plain, stored_png.png_file_digest(plain))
    with pytest.raises(AssertionError):  # anything else is still checked
        known(path).is_plain(png_bytes(noise("RGBA")), stored_png.png_file_digest(png_bytes(noise("RGBA"))))


def test_runs_append_and_a_foreign_or_damaged_file_is_never_trusted(tmp_path):
    from lmms_eval.media.stored_png import png_file_digest

    path = tmp_path / "plain-png-digests.bin"
    images = [png_bytes(noise(mode)) for mode in ("L", "RGB", "RGBA")]
    for image in images[:2]:  # two runs, one after the other
        run = known(path)
        run.is_plain(image, png_file_digest(image))
        run.save()
    assert known(path)._loaded() == {bytes.fromhex(png_file_digest(image)) for image in images[:2]}

    foreign = b"some other program's file" + bytes.fromhex(png_file_digest(images[2]))
    path.write_bytes(foreign)
    run = known(path)
    assert run._loaded() == set()
    run.is_plain(images[2], png_file_digest(images[2]))
    run.save()
    assert path.read_bytes() == foreign  # not read, not written

    damaged = known(path).HEADER + bytes.fromhex(png_file_digest(images[0])) + b"\x01" * 31  # a record cut short
    path.write_bytes(damaged)
    run = known(path)
    assert run._loaded() == {bytes.fromhex(png_file_digest(images[0]))}  # whole records only
    run.is_plain(images[1], png_file_digest(images[1]))
    run.save()
    assert not path.exists()  # removed: the next run starts it again
    known(path).save()  # nothing new: nothing written
    assert not path.exists()


def test_a_doc_read_twice_gives_the_same_digest_and_key_whether_remembered_or_not(tmp_path, monkeypatch):
    import lmms_eval.media.stored_png as stored_png

    stored = png_bytes(noise("RGB"))
    docs = image_dataset([stored])
    monkeypatch.setattr(stored_png, "KNOWN_PLAIN", known(tmp_path / "digests.bin"))
    checked = media_digest(read_doc(docs, 0)["image"])
    stored_png.KNOWN_PLAIN.save()
    monkeypatch.setattr(stored_png, "KNOWN_PLAIN", known(tmp_path / "digests.bin"))
    remembered = media_digest(read_doc(docs, 0)["image"])
    image = read_doc(docs, 0)["image"]
    image.load()  # pixels read: digested from its pixels again
    assert checked == remembered == stored_png.png_file_digest(stored)
    assert len(stored_png.KNOWN_PLAIN._loaded()) == 1
    assert media_digest(image) != checked


def test_an_image_stored_as_a_path_is_read_the_usual_way(tmp_path):
    from lmms_eval.media.stored_png import open_if_plain

    row = {"image": {"bytes": None, "path": str(tmp_path / "a.png")}, "other": None}
    assert not open_if_plain(row, ["image", "other"])
    assert row["image"] == {"bytes": None, "path": str(tmp_path / "a.png")}
    plain = png_bytes(noise("RGB"))
    row = {"image": {"bytes": plain, "path": None}, "other": None}
    assert open_if_plain(row, ["image", "other"]) and untouched_png(row["image"]) == plain and row["other"] is None
