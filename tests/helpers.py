"""Builders for test data: images, parquet and JSONL files, task folders."""

from __future__ import annotations

import io
import json
import textwrap
from collections.abc import Sequence
from pathlib import Path

from lmms_eval.testing.server import PALETTE


def png_bytes(colour: str, size: int = 16) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (size, size), PALETTE[colour]).save(buffer, format="PNG")
    return buffer.getvalue()


def write_image_parquet(path: Path, shown_and_answers: Sequence[tuple[str, str]], size: int = 16) -> None:
    """A parquet file with an `image` column (PNG bytes) and `question`/`answer` columns."""
    import datasets

    features = datasets.Features(
        {"image": datasets.Image(), "question": datasets.Value("string"), "answer": datasets.Value("string")}
    )
    rows = [
        {"image": {"bytes": png_bytes(shown, size), "path": None}, "question": "What colour is this image?", "answer": answer}
        for shown, answer in shown_and_answers
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    datasets.Dataset.from_list(rows, features=features).to_parquet(str(path))


# Ten docs; the oracle reads the shown colour, so docs 2, 5 and 8 (gold differs) are wrong.
COLOUR_DOCS = [
    ("red", "red"), ("blue", "blue"), ("green", "red"), ("yellow", "yellow"), ("black", "black"),
    ("white", "black"), ("orange", "orange"), ("purple", "purple"), ("red", "blue"), ("green", "green"),
]
COLOUR_ACCURACY = 0.7
COLOUR_STDERR = (0.7 * 0.3 * 10 / 9) ** 0.5 / 10**0.5  # sample std (ddof=1) / sqrt(n)

UTILS_PY = '''
def doc_to_visual(doc):
    return [doc["image"].convert("RGB")]


def doc_to_text(doc, lmms_eval_specific_kwargs=None):
    kwargs = lmms_eval_specific_kwargs or {}
    return kwargs.get("pre_prompt", "") + doc["question"] + kwargs.get("post_prompt", "")
'''


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def write_jsonl(path: Path, rows: Sequence[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")

