"""`parse_point2d`: pixel points out of a model's `[x, y]` / `(x, y)` answer (Qwen-VL
grounding models write `{"point_2d": [x, y]}` on a 0-1000 grid)."""

from __future__ import annotations

import re
from typing import Any
from lmms_eval.tasks._task_utils import names_from_users_copy

# An opening bracket or parenthesis, two numbers separated by a comma, a closing one.
_PAIR = re.compile(r"[\[(]\s*([-+]?\d+\.?\d*)\s*,\s*([-+]?\d+\.?\d*)\s*[\])]")
GRID_SIZE = 1000


def parse_point2d(text: str, width: int, height: int) -> Any:
    """An N x 2 integer numpy array of pixel points; with no pair, an empty array.

    A pair in which either number has a decimal point is read as fractions of the image
    size (both numbers); otherwise both are on the 0-1000 grid. Pixels are truncated.
    """
    import numpy as np

    points = []
    for x_text, y_text in _PAIR.findall(text):
        x, y = float(x_text), float(y_text)
        if "." in x_text or "." in y_text:
            points.append((int(x * width), int(y * height)))
        else:
            points.append((int(x / GRID_SIZE * width), int(y / GRID_SIZE * height)))
    return np.array(points)


__getattr__ = names_from_users_copy(__name__)
