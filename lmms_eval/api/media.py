"""Content digests for the media a request carries.

A request's key must be the same on every machine, so media are identified by what they
contain, never by object identity or a temporary path.
"""

from __future__ import annotations

import hashlib
import os
from typing import Any

from lmms_eval.media.stored_png import is_opened, untouched_digest

_file_digests: dict[tuple[str, int, int], str] = {}


def media_digest(item: Any) -> str:
    """A stable hex digest of one visual or audio input of a request."""
    stored_png = untouched_digest(item)
    if stored_png is not None:
        # The file's bytes stand for its pixels, under a prefix of their own
        # (stored_png.png_file_digest, made when the file was opened).
        return stored_png
    hasher = hashlib.sha256()
    if _is_pil_image(item):
        hasher.update(f"image:{item.mode}:{item.size}".encode())
        hasher.update(item.tobytes())
        if item.mode in ("P", "PA"):  # the pixels are palette indices: the colours live in the palette
            hasher.update(bytes(item.getpalette() or ()))
    elif isinstance(item, (str, os.PathLike)):
        hasher.update(b"file:")
        hasher.update(_file_digest(os.fspath(item)).encode())
    elif isinstance(item, dict) and "array" in item:
        import numpy as np

        array = np.ascontiguousarray(item["array"])
        hasher.update(f"audio:{item.get('sampling_rate')}:{array.dtype}:{array.shape}".encode())
        hasher.update(array.tobytes())
    elif isinstance(item, (bytes, bytearray)):
        hasher.update(b"bytes:")
        hasher.update(item)
    else:
        hasher.update(f"repr:{type(item).__name__}:{item!r}".encode())
    return hasher.hexdigest()


def media_kind(item: Any) -> str:
    """'image', 'audio' or 'video' (a path to a file that is not a still image)."""
    if _is_pil_image(item):
        return "image"
    if isinstance(item, dict) and "array" in item:
        return "audio"
    return "video"


def _is_pil_image(item: Any) -> bool:
    # Checked by attribute, so PIL need not be imported for text-only runs; a stored PNG
    # not opened yet is one, and asking it for its mode would open it.
    return not is_opened(item) or (hasattr(item, "tobytes") and hasattr(item, "mode") and hasattr(item, "size"))


def _file_digest(path: str) -> str:
    """Hash a media file's bytes once per (path, size, mtime): videos can be large.
    A folder (a video stored as frame images, e.g. MVBench's TVQA parts) is its files'
    names and digests, in name order."""
    if os.path.isdir(path):
        return _folder_digest(path)
    stat = os.stat(path)
    cache_key = (os.path.abspath(path), stat.st_size, stat.st_mtime_ns)
    if cache_key not in _file_digests:
        hasher = hashlib.sha256()
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                hasher.update(block)
        _file_digests[cache_key] = hasher.hexdigest()
    return _file_digests[cache_key]


def _folder_digest(path: str) -> str:
    hasher = hashlib.sha256(b"folder:")
    for name in sorted(os.listdir(path)):
        member = os.path.join(path, name)
        if os.path.isfile(member):
            hasher.update(f"{name}\0{_file_digest(member)}\0".encode())
    return hasher.hexdigest()
