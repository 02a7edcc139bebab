"""Procedural scenes for the demo model and the `demo` tasks.

A scene is a 32x32 picture: a white or black background split into a 2x2 grid of
16-pixel cells, with one to four coloured shapes (circle, square, triangle), at most one
per cell, each of a random size and offset inside its cell and a slightly jittered colour.
The grid matches the demo model's 16-pixel vision patches, so each image token shows one
cell.

Questions come in four formats, each with its own instruction; the same prompt text is
used to train the model and to evaluate it (`prompt`):

| format   | instruction                                                   | answer          |
|----------|---------------------------------------------------------------|-----------------|
| `yesno`  | `Please answer yes or no.`                                     | yes / no        |
| `mc`     | options `A. ...`, then `Answer with the option's letter ...`    | a letter        |
| `short`  | `Answer with a single word or phrase.`                         | a word or two   |
| `count`  | `Answer with a number.`                                        | a digit         |

Multiple-choice options list the whole answer space in a fixed order (colours, shapes,
positions in reading order, numbers ascending), as many benchmarks order numeric options.

Everything is a function of a seed: the same seed gives the same scenes, the same PNG
bytes and the same questions. The evaluation sets use `EVAL_SEED`; training uses its own
seed and skips every scene whose layout (background and the colour and shape in each
cell) occurs in an evaluation set.

`python -m lmms_eval.demo.scenes` rewrites the evaluation parquet files in
`lmms_eval/tasks/demo/data/`.
"""

from __future__ import annotations

import io
import math
import random
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

SIZE = 32
GRID = 2
CELL = SIZE // GRID
BACKGROUNDS = {"white": (240, 240, 240), "black": (20, 20, 20)}
COLOURS = {"red": (220, 40, 40), "green": (40, 170, 60), "blue": (40, 80, 230), "yellow": (240, 220, 40)}
SHAPES = ("circle", "square", "triangle")
POSITIONS = ("top left", "top right", "bottom left", "bottom right")  # cells in reading order
MAX_SHAPES = GRID * GRID
SHAPE_SIZES = (9, 13)  # smallest and largest side of a shape, in pixels (a cell is 16)
LETTERS = "ABCD"

INSTRUCTIONS = {
    "yesno": " Please answer yes or no.",
    "mc": "\nAnswer with the option's letter from the given choices directly.",
    "short": " Answer with a single word or phrase.",
    "count": " Answer with a number.",
    "caption": "",
}
CAPTION_QUESTION = "What is in each part of the image?"

EVAL_SEED = 20270101
TRAIN_SEED = 7
# Docs per task (yesno: questions, two per image). Small enough to ship and to run in
# seconds, large enough that one standard error of a score near 0.9 is about 0.02.
TASK_SIZES = {"yesno": 300, "mc": 200, "mc_ll": 200, "short": 200, "count": 200}
# The question kinds each task asks, in turn.
TASK_KINDS = {
    "yesno": ("presence", "colour_at", "count"),
    "mc": ("colour_at", "shape_at", "position", "count"),
    "mc_ll": ("colour_at", "shape_at", "position", "count"),
    "short": ("colour_at", "shape_at", "position"),
    "count": ("count", "count_colour", "count_shape"),
}
TASK_FORMATS = {"yesno": "yesno", "mc": "mc", "mc_ll": "short", "short": "short", "count": "count"}


@dataclass(frozen=True)
class Item:
    cell: int  # 0..3, reading order from the top left
    colour: str
    shape: str
    size: int  # side of the shape's bounding box, in pixels
    dx: int  # offset of the box inside its cell
    dy: int
    tint: tuple[int, int, int]  # the colour as drawn (jittered)


@dataclass(frozen=True)
class Scene:
    background: str
    items: tuple[Item, ...]

    @property
    def layout(self) -> tuple[Any, ...]:
        """What a question can be about: background, and colour and shape per cell."""
        return (self.background, tuple(sorted((item.cell, item.colour, item.shape) for item in self.items)))

    def image(self) -> Any:
        from PIL import Image, ImageDraw

        image = Image.new("RGB", (SIZE, SIZE), BACKGROUNDS[self.background])
        draw = ImageDraw.Draw(image)
        for item in self.items:
            left = (item.cell % GRID) * CELL + item.dx
            top = (item.cell // GRID) * CELL + item.dy
            right, bottom = left + item.size - 1, top + item.size - 1
            if item.shape == "circle":
                draw.ellipse((left, top, right, bottom), fill=item.tint)
            elif item.shape == "square":
                draw.rectangle((left, top, right, bottom), fill=item.tint)
            else:  # triangle
                draw.polygon([((left + right) / 2, top), (right, bottom), (left, bottom)], fill=item.tint)
        return image

    def png(self) -> bytes:
        buffer = io.BytesIO()
        self.image().save(buffer, format="PNG", optimize=True)
        return buffer.getvalue()

    # --- facts ---------------------------------------------------------------------------

    def count(self, colour: str | None = None, shape: str | None = None) -> int:
        return sum(1 for item in self.items if colour in (None, item.colour) and shape in (None, item.shape))


def random_scene(rng: random.Random) -> Scene:
    background = rng.choice(sorted(BACKGROUNDS))
    number = rng.randint(1, MAX_SHAPES)
    items = []
    for cell in sorted(rng.sample(range(GRID * GRID), number)):
        colour, shape = rng.choice(sorted(COLOURS)), rng.choice(SHAPES)
        size = rng.randint(*SHAPE_SIZES)
        dx, dy = rng.randint(1, CELL - size - 1), rng.randint(1, CELL - size - 1)
        tint = tuple(min(255, max(0, channel + rng.randint(-15, 15))) for channel in COLOURS[colour])
        items.append(Item(cell, colour, shape, size, dx, dy, tint))  # type: ignore[arg-type]
    return Scene(background, tuple(items))


# --- questions ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Question:
    kind: str
    format: str  # yesno / mc / short / count / caption
    question: str  # the bare question, without its instruction
    answer: str  # yes/no, a letter (mc), or the answer text
    options: tuple[str, ...] = ()  # mc: the option texts; short/count: the answer space

    @property
    def prompt(self) -> str:
        return prompt(self.format, self.question, self.options)


def prompt(format: str, question: str, options: Sequence[str] = ()) -> str:
    """The text the model gets (after the image): question, options, instruction."""
    if format == "mc":
        listed = "".join(f"\n{letter}. {option}" for letter, option in zip(LETTERS, options))
        return f"{question}{listed}{INSTRUCTIONS['mc']}"
    return f"{question}{INSTRUCTIONS[format]}"


def answer_space(kind: str) -> tuple[str, ...]:
    if kind == "colour_at":
        return tuple(sorted(COLOURS))
    if kind == "shape_at":
        return SHAPES
    if kind == "position":
        return POSITIONS
    if kind == "count":
        return tuple(str(n) for n in range(1, MAX_SHAPES + 1))
    if kind in ("count_colour", "count_shape"):
        return tuple(str(n) for n in range(0, MAX_SHAPES + 1))
    raise ValueError(f"unknown question kind {kind!r}")


def unique_items(scene: Scene) -> list[Item]:
    """Shapes that no other shape in the scene shares both colour and form with."""
    return [item for item in scene.items if scene.count(item.colour, item.shape) == 1]


def fact(rng: random.Random, scene: Scene, kind: str) -> tuple[str, str] | None:
    """(question, answer) of `kind` about `scene`, or None when the scene has none
    (e.g. every shape has a twin, so "where is the ..." has no single answer)."""
    if kind in ("colour_at", "shape_at"):
        item = rng.choice(scene.items)
        where = POSITIONS[item.cell]
        if kind == "colour_at":
            return f"What colour is the shape in the {where}?", item.colour
        return f"What shape is in the {where}?", item.shape
    if kind == "position":
        unique = unique_items(scene)
        if not unique:
            return None
        item = rng.choice(unique)
        return f"Where is the {item.colour} {item.shape}?", POSITIONS[item.cell]
    if kind == "count":
        return "How many shapes are there?", str(len(scene.items))
    if kind == "count_colour":
        colour = rng.choice(sorted(COLOURS))
        return f"How many {colour} shapes are there?", str(scene.count(colour=colour))
    if kind == "count_shape":
        shape = rng.choice(SHAPES)
        return f"How many {shape}s are there?", str(scene.count(shape=shape))
    raise ValueError(f"unknown question kind {kind!r}")


def open_question(rng: random.Random, scene: Scene, kind: str, format: str) -> Question | None:
    """A short-answer or counting question; `options` is its answer space (the choices of
    the loglikelihood task)."""
    found = fact(rng, scene, kind)
    if found is None:
        return None
    question, answer = found
    return Question(kind, format, question, answer, answer_space(kind))


def mc_question(rng: random.Random, scene: Scene, kind: str) -> Question | None:
    """The open question with its answer space as options; the answer is a letter."""
    found = open_question(rng, scene, kind, "mc")
    if found is None:
        return None
    return Question(kind, "mc", found.question, LETTERS[found.options.index(found.answer)], found.options)


def yes_no_pair(rng: random.Random, scene: Scene, kind: str) -> tuple[Question, Question]:
    """Two questions about one image, one answered yes and one no (as MME pairs them)."""
    if kind == "presence":
        present = sorted({(item.colour, item.shape) for item in scene.items})
        absent = [(c, s) for c in sorted(COLOURS) for s in SHAPES if (c, s) not in present]
        (c_yes, s_yes), (c_no, s_no) = rng.choice(present), rng.choice(absent)
        texts = (f"Is there a {c_yes} {s_yes} in the image?", f"Is there a {c_no} {s_no} in the image?")
    elif kind == "colour_at":
        item = rng.choice(scene.items)
        where = POSITIONS[item.cell]
        wrong = rng.choice([colour for colour in sorted(COLOURS) if colour != item.colour])
        texts = (f"Is the shape in the {where} {item.colour}?", f"Is the shape in the {where} {wrong}?")
    elif kind == "count":
        number = len(scene.items)
        wrong = rng.choice([n for n in range(1, MAX_SHAPES + 1) if n != number])
        texts = (f"Are there {number} shapes?", f"Are there {wrong} shapes?")
    else:
        raise ValueError(f"unknown yes/no kind {kind!r}")
    return Question(kind, "yesno", texts[0], "yes"), Question(kind, "yesno", texts[1], "no")


def caption(scene: Scene) -> str:
    """Training only: what each cell holds, in reading order ("red circle, nothing,
    blue square, nothing"). Each word depends on one image token, which is how the tiny
    model first learns to look at the image."""
    cells = ["nothing"] * (GRID * GRID)
    for item in scene.items:
        cells[item.cell] = f"{item.colour} {item.shape}"
    return ", ".join(cells)


def questions_for(rng: random.Random, scene: Scene, format: str, kind: str) -> list[Question]:
    """The questions of one format and kind about a scene (a yes/no pair in random order)."""
    if format == "yesno":
        pair = list(yes_no_pair(rng, scene, kind))
        rng.shuffle(pair)
        return pair
    if format == "mc":
        question = mc_question(rng, scene, kind)
    elif format == "caption":
        question = Question("caption", "caption", CAPTION_QUESTION, caption(scene))
    else:
        question = open_question(rng, scene, kind, format)
    return [question] if question else []


# --- evaluation sets ----------------------------------------------------------------------


def _task_scenes(task: str, seed: int) -> Iterator[tuple[Scene, list[Question]]]:
    """Kinds in turn, each on a fresh scene; a scene with no question of the kind is
    skipped."""
    rng = random.Random(f"{seed}:{task}")
    kinds = TASK_KINDS[task]
    made = 0
    while True:
        scene = random_scene(rng)
        questions = questions_for(rng, scene, TASK_FORMATS[task], kinds[made % len(kinds)])
        if questions:
            yield scene, questions
            made += 1


def task_rows(task: str, seed: int = EVAL_SEED, size: int | None = None) -> list[dict[str, Any]]:
    """The docs of one demo task; `image` holds PNG bytes."""
    size = size or TASK_SIZES[task]
    rows: list[dict[str, Any]] = []
    for image_id, (scene, questions) in enumerate(_task_scenes(task, seed)):
        if len(rows) >= size:
            break
        png = scene.png()
        for question in questions:
            rows.append(
                {
                    "id": len(rows),
                    "image_id": image_id,
                    "kind": question.kind,
                    "format": question.format,
                    "question": question.question,
                    "options": list(question.options),
                    "answer": question.answer,
                    "image": {"bytes": png, "path": None},
                }
            )
    return rows[:size]


@lru_cache(maxsize=4)
def eval_layouts(seed: int = EVAL_SEED) -> frozenset[tuple[Any, ...]]:
    """Layouts of every evaluation scene, which training never shows."""
    layouts = set()
    for task, size in TASK_SIZES.items():
        made = 0
        for scene, questions in _task_scenes(task, seed):
            if made >= size:
                break
            layouts.add(scene.layout)
            made += len(questions)
    return frozenset(layouts)


FEATURES_SPEC = {
    "id": "int64",
    "image_id": "int64",
    "kind": "string",
    "format": "string",
    "question": "string",
    "options": ["string"],
    "answer": "string",
    "image": "image",
}


def write_task_data(folder: Path, seed: int = EVAL_SEED) -> list[Path]:
    """One parquet per task: `demo_<task>.parquet`."""
    import datasets

    def feature(kind: Any) -> Any:
        if kind == "image":
            return datasets.Image()
        if isinstance(kind, list):
            return datasets.Sequence(datasets.Value(kind[0]))
        return datasets.Value(kind)

    features = datasets.Features({name: feature(kind) for name, kind in FEATURES_SPEC.items()})
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for task in TASK_SIZES:
        path = folder / f"demo_{task}.parquet"
        datasets.Dataset.from_list(task_rows(task, seed), features=features).to_parquet(str(path))
        written.append(path)
    return written


# --- training stream ------------------------------------------------------------------------

# How often each format is drawn for training, and the kinds each format asks about.
# `caption` is training-only (see `caption`).
TRAIN_FORMAT_WEIGHTS = {"caption": 1, "yesno": 3, "mc": 3, "short": 3, "count": 3}
TRAIN_KINDS = {
    "caption": ("caption",),
    "yesno": TASK_KINDS["yesno"],
    "mc": TASK_KINDS["mc"],
    "short": (*TASK_KINDS["short"], "count"),
    "count": TASK_KINDS["count"],
}


def training_examples(seed: int = TRAIN_SEED, format_weights: dict[str, float] | None = None) -> Iterable[tuple[Scene, Question]]:
    """An endless, seeded stream of (scene, question), formats drawn by `format_weights`
    (default `TRAIN_FORMAT_WEIGHTS`), never on a scene layout of the evaluation sets.
    Yes/no questions come as their pair: the yes and the no question about one image."""
    rng = random.Random(f"train:{seed}")
    held_out = eval_layouts()
    format_weights = format_weights or TRAIN_FORMAT_WEIGHTS
    formats = list(format_weights)
    weights = [format_weights[name] for name in formats]
    while True:
        scene = random_scene(rng)
        if scene.layout in held_out:
            continue
        format = rng.choices(formats, weights=weights)[0]
        for question in questions_for(rng, scene, format, rng.choice(TRAIN_KINDS[format])):
            yield scene, question


# --- chance levels ----------------------------------------------------------------------------


def constant_guess_accuracy(rows: Sequence[dict[str, Any]]) -> float:
    """Accuracy of the best guesser that knows each question's kind but never looks at
    the image: it gives the most common answer of each kind (a letter for `mc`)."""
    by_kind: dict[str, Counter[str]] = defaultdict(Counter)
    for row in rows:
        by_kind[row["kind"]][row["answer"]] += 1
    return sum(counts.most_common(1)[0][1] for counts in by_kind.values()) / len(rows)


def chance_level(task: str, rows: Sequence[dict[str, Any]]) -> float:
    """The headline score of a model that cannot see: 0.5 for yes/no (balanced pairs),
    else the best constant answer per question kind (for loglikelihood too: a blind model
    can only prefer some choices over others)."""
    if task == "yesno":
        return 0.5
    return constant_guess_accuracy(rows)


def blank_margin(chance: float, n: int) -> float:
    """Three binomial standard errors at the chance level: a blind model lands below
    chance + margin unless it is very lucky (or not blind)."""
    return 3 * math.sqrt(chance * (1 - chance) / n)


if __name__ == "__main__":
    from lmms_eval.demo import TASK_DIR

    for path in write_task_data(TASK_DIR / "data"):
        print(f"wrote {path} ({path.stat().st_size:,} bytes)")
