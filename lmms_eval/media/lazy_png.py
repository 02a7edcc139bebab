"""Stored plain PNG files as Pillow images that open themselves on first use
(lmms_eval.media.stored_png makes them; importing this module imports Pillow)."""

from __future__ import annotations

import io
import threading
from typing import Any

from PIL import PngImagePlugin

from lmms_eval.media.stored_png import _ATTRIBUTE, _DIGEST_ATTRIBUTE, is_opened

_OPENING = threading.RLock()  # an image is opened once, whichever thread asks first


class LazyPng(PngImagePlugin.PngImageFile):
    """Pillow's PNG image of a file known to be plain, opened on first use.

    Until then the instance holds only the file's bytes and digest. Every attribute a
    Pillow image keeps on its instance (mode, size, info, tile, ...) is missing, so the
    first use of any of them comes through __getattr__, which opens the file in place as
    Image.open would (its size was already checked against Pillow's limit); from then on
    the image is an ordinary PngImageFile (pickled, copied and compared as one).
    """

    is_lazy_png = True  # read on the class, so that asking does not open the file

    def __init__(self, data: bytes, digest: str):  # Pillow's own __init__ runs in _open_stored
        self.__dict__[_ATTRIBUTE] = data
        self.__dict__[_DIGEST_ATTRIBUTE] = digest

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or "_lmms_eval_opening" in self.__dict__ or is_opened(self):
            raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")
        self._open_stored()
        return getattr(self, name)

    def _open_stored(self) -> None:
        with _OPENING:
            if is_opened(self):
                return
            self.__dict__["_lmms_eval_opening"] = True
            try:
                PngImagePlugin.PngImageFile.__init__(self, io.BytesIO(self.__dict__[_ATTRIBUTE]))
            finally:
                del self.__dict__["_lmms_eval_opening"]
