"""Dataset images stored as plain PNG files, kept as the bytes they came in.

A dataset's image column holds encoded files. Decoding each one to pixels, hashing the
pixels for the request key and encoding them again as PNG for an OpenAI-style data URL
was most of the client's CPU per request (about 1 ms of a 64x64 image). When the stored
file is a plain PNG (8-bit, not interlaced, nothing in it that changes how its pixels
look), its bytes are exactly what the old path would have produced pixel for pixel: the
request key hashes the bytes and the data URL carries them as they are, and the pixels
are decoded only if task code asks for them.

The image handed to task code is a `PngImageFile` (a subclass, `LazyPng`) that reads even
the file's header only when first asked anything, so a request answered from the store
or sent as the stored bytes never opens it. Every pixel access (load, convert, paste,
drawing) loads it first, which empties its `tile` list: an image not opened yet, or whose
tile list is still full, has never been read, so it cannot have been changed, and its
stored bytes still describe it. Once loaded, it is treated as any other image.
"""

from __future__ import annotations

import atexit
import hashlib
import io
import logging
import os
import struct
import threading
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_FILTER_TYPE = 4  # row filters: none, sub, up, average, Paeth

# Colour type -> (Pillow mode, channels) for the 8-bit layouts sent unchanged by the old
# path too (image_data_url converts no 8-bit PNG mode).
_COLOUR_TYPES = {0: ("L", 1), 2: ("RGB", 3), 3: ("P", 1), 4: ("LA", 2), 6: ("RGBA", 4)}

# Chunks that do not change the pixels a decoder produces: palette and transparency (kept
# by the old path as well), an ICC profile (ditto), and pure metadata. Anything else
# (gamma, chromaticities, significant bits, EXIF orientation, animation) sends the image
# down the decode path, where it is decoded and re-encoded as before.
_NEUTRAL_CHUNKS = {b"IHDR", b"PLTE", b"tRNS", b"IDAT", b"IEND", b"iCCP", b"pHYs", b"tEXt", b"zTXt", b"iTXt", b"tIME"}

_ATTRIBUTE = "lmms_eval_stored_png"  # where an opened image keeps its file's bytes (lazy_png too)
_DIGEST_ATTRIBUTE = "lmms_eval_stored_png_digest"  # ... and their media digest
CHECKS_FOLDER_ENV = "LMMS_EVAL_PNG_CHECKS"


def is_plain_png(data: Any) -> bool:
    """True for a complete, intact plain PNG: every chunk whole with a right CRC, known
    neutral chunks only, and pixel data that inflates to exactly the rows the header
    names. A truncated or damaged file is not plain, so it is decoded as before and its
    doc fails with the decoder's reason."""
    if not isinstance(data, (bytes, bytearray)) or not data.startswith(PNG_SIGNATURE):
        return False
    chunks = _chunks(bytes(data))
    if chunks is None or not chunks or chunks[0][0] != b"IHDR" or chunks[-1][0] != b"IEND":
        return False
    if any(kind not in _NEUTRAL_CHUNKS for kind, _ in chunks):
        return False
    header = chunks[0][1]
    if len(header) != 13:
        return False
    width, height, depth, colour_type, compression, filtering, interlace = struct.unpack(">IIBBBBB", header)
    if depth != 8 or colour_type not in _COLOUR_TYPES or (compression, filtering, interlace) != (0, 0, 0) or not width or not height:
        return False
    if colour_type == 3 and not any(kind == b"PLTE" for kind, _ in chunks):
        return False
    row_bytes = 1 + width * _COLOUR_TYPES[colour_type][1]
    return _inflates_to_rows(b"".join(body for kind, body in chunks if kind == b"IDAT"), row_bytes, height)


def _chunks(data: bytes) -> list[tuple[bytes, bytes]] | None:
    """(type, body) of each chunk, or None when one is cut off, has a bad CRC, or there
    are bytes after IEND."""
    chunks = []
    position = len(PNG_SIGNATURE)
    while position < len(data):
        if position + 12 > len(data):
            return None
        length, kind = struct.unpack(">I4s", data[position : position + 8])
        end = position + 8 + length
        if end + 4 > len(data):
            return None
        body = data[position + 8 : end]
        (crc,) = struct.unpack(">I", data[end : end + 4])
        if zlib.crc32(kind + body) != crc:
            return None
        chunks.append((kind, body))
        position = end + 4
        if kind == b"IEND":
            return chunks if position == len(data) else None
    return None


def _inflates_to_rows(stream: bytes, row_bytes: int, height: int) -> bool:
    """The pixel data is exactly `height` rows, each starting with a known filter type
    (0-4): a row with another one is damage a decoder refuses, so the file is not plain."""
    size = row_bytes * height
    inflater = zlib.decompressobj()
    try:
        pixels = inflater.decompress(stream, size + 1)
    except zlib.error:
        return False
    whole = len(pixels) == size and inflater.eof and not inflater.unconsumed_tail
    return whole and max(pixels[::row_bytes]) <= MAX_FILTER_TYPE


def png_file_digest(data: bytes) -> str:
    """The media digest of a plain PNG file: its bytes stand for its pixels, under a prefix
    of their own that keeps it apart from any pixel digest (lmms_eval.api.media)."""
    hasher = hashlib.sha256(b"png-file:")
    hasher.update(data)
    return hasher.hexdigest()


def open_if_plain(row: dict[str, Any], columns: Sequence[str]) -> bool:
    """Open the row's images in `columns` (stored {"bytes", "path"} dicts, or None) lazily,
    in place, when every stored one is a plain PNG file; False, the row unchanged, if not."""
    stored = {name: row[name]["bytes"] for name in columns if row[name] is not None}
    if not all(isinstance(data, bytes) for data in stored.values()):
        return False  # an image stored as a path (or anything else) is read the usual way
    digests = {name: png_file_digest(data) for name, data in stored.items()}
    if not all(KNOWN_PLAIN.is_plain(data, digests[name]) for name, data in stored.items()):
        return False
    for name, data in stored.items():
        row[name] = open_stored_png(data, digests[name])
    return True


def open_stored_png(data: bytes, digest: str | None = None) -> Any:
    """A Pillow image of a plain PNG that remembers its file's bytes (and their digest,
    made here if not given). Even the file's header is read only when something first
    asks the image for anything (LazyPng): a request answered from the store, or sent
    with the stored bytes, never needs it."""
    digest = digest or png_file_digest(data)
    width, height = struct.unpack(">II", data[16:24])
    if not _fits_pillow_limit(width * height):
        from PIL import Image  # opened now, so that Pillow warns or refuses as it always has

        image = Image.open(io.BytesIO(data), formats=["PNG"])
        setattr(image, _ATTRIBUTE, bytes(data))
        setattr(image, _DIGEST_ATTRIBUTE, digest)
        return image
    from lmms_eval.media.lazy_png import LazyPng

    return LazyPng(bytes(data), digest)


def _fits_pillow_limit(pixels: int) -> bool:
    from PIL import Image

    return Image.MAX_IMAGE_PIXELS is None or pixels <= Image.MAX_IMAGE_PIXELS


def is_opened(image: Any) -> bool:
    """False only for a lazily opened stored PNG that nothing has asked anything yet."""
    return not getattr(type(image), "is_lazy_png", False) or "_mode" in image.__dict__


def untouched_digest(image: Any) -> str | None:
    """The media digest of an image opened by `open_stored_png` whose pixels have not been
    read since; None for any other image."""
    return getattr(image, _DIGEST_ATTRIBUTE, None) if untouched_png(image) is not None else None


def untouched_png(image: Any) -> bytes | None:
    """The stored PNG bytes of an image opened by `open_stored_png` whose pixels have not
    been read (so not changed) since; None for any other image."""
    data = getattr(image, _ATTRIBUTE, None)
    if data is None or (is_opened(image) and not getattr(image, "tile", None)):
        return None
    return data


class KnownPlainFiles:
    """The digests of PNG files found plain, kept across runs in one small file.

    Checking a file inflates its pixel data: about 50 us for a 64x64 image, the largest
    part of a cached re-run's time per doc. The check depends on the file's bytes alone,
    so a file found plain once is plain again; only such files are remembered, and any
    other file is checked (and decoded) every time. The file holds a header line, then
    raw 32-byte SHA-256 digests. Runs append to it, several at once if need be: each
    run's records go in one O_APPEND write. A file that does not start with the header
    is never read nor written; one of ours that is damaged (a record cut short) or grown
    past MAX_BYTES is removed, and the next run starts it again.
    """

    HEADER = b"lmms-eval plain-png digests v1\n"
    RECORD = 32
    MAX_BYTES = 32 * 1024 * 1024  # about a million files

    def __init__(self, path: Callable[[], Path | None]):
        self._where = path  # resolved when first needed (tests and users may set the folder late)
        self._known: set[bytes] | None = None
        self._new: list[bytes] = []
        self._lock = threading.Lock()  # docs may be read on more than one thread

    def is_plain(self, data: bytes, digest: str) -> bool:
        key = bytes.fromhex(digest)
        if key in self._loaded():
            return True
        if not is_plain_png(data):
            return False
        with self._lock:
            assert self._known is not None
            if key not in self._known:
                self._known.add(key)
                self._new.append(key)
        return True

    def save(self) -> None:
        """Append the digests found plain since the last save (never raises)."""
        with self._lock:
            new, self._new = self._new, []
        path = self._where() if new else None
        if path is None:
            return
        try:
            self._append(path, b"".join(new))
        except OSError as error:
            logger.debug("plain PNG digests not saved to %s: %s", path, error)

    def _loaded(self) -> set[bytes]:
        if self._known is None:
            with self._lock:
                if self._known is None:
                    self._known = self._read(self._where())
        return self._known

    def _read(self, path: Path | None) -> set[bytes]:
        try:
            content = path.read_bytes() if path is not None else b""
        except OSError:
            return set()
        if not content.startswith(self.HEADER) or len(content) > self.MAX_BYTES:
            return set()
        body = memoryview(content)[len(self.HEADER) :]
        whole = len(body) - len(body) % self.RECORD
        return {bytes(body[start : start + self.RECORD]) for start in range(0, whole, self.RECORD)}

    def _append(self, path: Path, records: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            records = self.HEADER + records  # a new file: header and records in one write
        except FileExistsError:
            if not self._appendable(path):
                return
            descriptor = os.open(path, os.O_WRONLY | os.O_APPEND)
        try:
            os.write(descriptor, records)
        finally:
            os.close(descriptor)

    def _appendable(self, path: Path) -> bool:
        with open(path, "rb") as reader:
            header = reader.read(len(self.HEADER))
            size = os.fstat(reader.fileno()).st_size
        if header != self.HEADER:
            return False  # not ours: left as it is
        if size > self.MAX_BYTES or (size - len(self.HEADER)) % self.RECORD:
            path.unlink(missing_ok=True)  # damaged or too big: the next run starts it again
            return False
        return True


def _checks_file() -> Path | None:
    from lmms_eval.cache_dirs import user_cache_folder

    try:
        return user_cache_folder(CHECKS_FOLDER_ENV, "lmms-eval") / "plain-png-digests.bin"
    except RuntimeError:  # no home folder: remembered for this process only
        return None


KNOWN_PLAIN = KnownPlainFiles(_checks_file)
atexit.register(KNOWN_PLAIN.save)
