"""Builds the demo task's data: coloured scenes with a question about their background.

Run `python -m lmms_eval.tasks.demo.generate` to rebuild `data/colours.parquet`; the
output is the same for the same seed.
"""

from __future__ import annotations

import io
import random
from pathlib import Path

COLOURS = {
    "red": (220, 30, 30),
    "green": (30, 160, 60),
    "blue": (30, 60, 220),
    "yellow": (240, 220, 40),
    "black": (10, 10, 10),
    "white": (245, 245, 245),
    "orange": (245, 140, 20),
    "purple": (130, 40, 160),
}
SIZE = 48
DEFAULT_SEED = 20261126
DEFAULT_COUNT = 40


def scene(rng: random.Random, background: str, foreground: str, shape_fraction: float) -> bytes:
    """A PNG: a `background` canvas with one `foreground` rectangle or ellipse on it."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (SIZE, SIZE), COLOURS[background])
    draw = ImageDraw.Draw(image)
    side = int(SIZE * shape_fraction**0.5)
    left, top = rng.randint(0, SIZE - side), rng.randint(0, SIZE - side)
    box = (left, top, left + side - 1, top + side - 1)
    (draw.rectangle if rng.random() < 0.5 else draw.ellipse)(box, fill=COLOURS[foreground])
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def rows(seed: int = DEFAULT_SEED, count: int = DEFAULT_COUNT) -> list[dict]:
    rng = random.Random(seed)
    names = sorted(COLOURS)
    built = []
    for question_id in range(count):
        background, foreground = rng.sample(names, 2)
        # Most shapes are small; a few cover most of the canvas, which makes the
        # question genuinely hard for a model that only averages colours.
        fraction = rng.choice([0.05, 0.1, 0.15, 0.2, 0.25, 0.7])
        built.append(
            {
                "question_id": question_id,
                "image": {"bytes": scene(rng, background, foreground, fraction), "path": None},
                "question": "What is the background colour of this image?",
                "answer": background,
            }
        )
    return built


def write(path: Path, seed: int = DEFAULT_SEED, count: int = DEFAULT_COUNT) -> None:
    import datasets

    features = datasets.Features(
        {
            "question_id": datasets.Value("int64"),
            "image": datasets.Image(),
            "question": datasets.Value("string"),
            "answer": datasets.Value("string"),
        }
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    datasets.Dataset.from_list(rows(seed, count), features=features).to_parquet(str(path))


if __name__ == "__main__":
    write(Path(__file__).parent / "data" / "colours.parquet")
