"""Dataset images stored as plain PNG files, kept as the bytes they came in.

A dataset's image column holds encoded files. Decoding each one to pixels, hashing the
pixels for the request key and encoding them again as PNG for an OpenAI-style data URL
was most of the client's CPU per request (about 1 ms of a 64x64 image). When the stored
file is a plain PNG (8-bit, not interlaced, nothing in it that changes how its pixels
look), its bytes are exactly what the old path would have produced pixel for pixel: the
request key hashes the bytes and the data URL carries them as they are, and the pixels
are decoded only if task code asks for them.

The image handed to task code is Pillow's own lazily opened `PngImageFile`. Every pixel
access (load, convert, paste, drawing) loads it first, which empties its `tile` list: an
image whose tile list is still full has never been read, so it cannot have been changed,
and its stored bytes still describe it. Once loaded, it is treated as any other image.
"""

from __future__ import annotations

import io
import struct
import zlib
from typing import Any

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

_ATTRIBUTE = "lmms_eval_stored_png"  # where an opened image keeps its file's bytes


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


def open_stored_png(data: bytes) -> Any:
    """A lazily opened Pillow image of a plain PNG, which remembers its file's bytes."""
    from PIL import Image

    image = Image.open(io.BytesIO(data), formats=["PNG"])
    setattr(image, _ATTRIBUTE, bytes(data))
    return image


def untouched_png(image: Any) -> bytes | None:
    """The stored PNG bytes of an image opened by `open_stored_png` whose pixels have not
    been read (so not changed) since; None for any other image."""
    data = getattr(image, _ATTRIBUTE, None)
    if data is None or not getattr(image, "tile", None):
        return None
    return data
