"""Procedural scenes for the demo model and the `demo` tasks.

A scene is a 48x48 picture: a plain background (white, black or gray) split into a 3x3
grid of 16-pixel cells, with one to five coloured shapes (circle, square, triangle,
diamond), at most one per cell, each of a random size and offset inside its cell and a
slightly jittered colour. The grid matches the demo model's 16-pixel vision patches, so
each patch shows at most one shape: what the tiny vision tower must learn is what is in
a patch; where it is and how many there are is the language model's job.

Questions come in four formats, each with its own instruction, and the same prompt text
is used to train the model and to evaluate it (see `prompt`):

| format   | instruction                                                   | answer      |
|----------|---------------------------------------------------------------|-------------|
| `yesno`  | `Please answer yes or no.`                                     | yes / no    |
| `mc`     | options `A. ...` to `D. ...`, then `Answer with the option's letter ...` | a letter |
| `short`  | `Answer with a single word or phrase.`                         | a word or two |
| `count`  | `Answer with a number.`                                        | a digit     |

Everything is a function of a seed: the same seed gives the same scenes, the same PNG
bytes and the same questions. The evaluation sets use `EVAL_SEED`; training uses its own
seed and, on top of that, skips every scene whose layout (background and the colour and
shape in each cell) occurs in an evaluation set.

`python -m lmms_eval.demo.scenes` rewrites the evaluation parquet files in
`lmms_eval/tasks/demo/data/`.
"""

from __future__ import annotations

import io
import math
import random
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

SIZE = 48
GRID = 3
CELL = SIZE // GRID
BACKGROUNDS = {"white": (240, 240, 240), "black": (25, 25, 25), "gray": (128, 128, 128)}
COLOURS = {
    "red": (220, 40, 40),
    "green": (40, 170, 60),
    "blue": (40, 80, 230),
    "yellow": (240, 220, 40),
    "purple": (150, 60, 190),
    "orange": (245, 140, 30),
}
SHAPES = ("circle", "square", "triangle", "diamond")
POSITIONS = (
    "top left", "top middle", "top right",
    "middle left", "center", "middle right",
    "bottom left", "bottom middle", "bottom right",
)  # fmt: skip
OBJECT_COUNTS = (1, 2, 3, 4, 5)
OBJECT_COUNT_WEIGHTS = (2, 3, 3, 3, 2)
LETTERS = "ABCD"

INSTRUCTIONS = {
    "yesno": " Please answer yes or no.",
    "mc": "\nAnswer with the option's letter from the given choices directly.",
    "short": " Answer with a single word or phrase.",
    "count": " Answer with a number.",
}

EVAL_SEED = 20270101
TRAIN_SEED = 7
# Docs per task (yesno: questions, two per image). Small enough to ship, large enough
# that one standard error of a score near 0.9 is about 0.02.
TASK_SIZES = {"yesno": 300, "mc": 200, "mc_ll": 200, "short": 240, "count": 200}
# The question kinds each task asks about, in equal numbers.
TASK_KINDS = {
    "yesno": ("presence", "colour", "shape", "position", "count", "background"),
    "mc": ("colour", "shape", "position", "count"),
    "mc_ll": ("colour", "shape", "position", "count"),
    "short": ("colour", "shape", "position", "background"),
    "count": ("count", "count_colour", "count_shape"),
}
TASK_FORMATS = {"yesno": "yesno", "mc": "mc", "mc_ll": "short", "short": "short", "count": "count"}


@dataclass(frozen=True)
class Item:
    cell: int  # 0..8, row-major from the top left
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
            middle_x, middle_y = (left + right) / 2, (top + bottom) / 2
            if item.shape == "circle":
                draw.ellipse((left, top, right, bottom), fill=item.tint)
            elif item.shape == "square":
                draw.rectangle((left, top, right, bottom), fill=item.tint)
            elif item.shape == "triangle":
                draw.polygon([(middle_x, top), (right, bottom), (left, bottom)], fill=item.tint)
            else:  # diamond
                draw.polygon([(middle_x, top), (right, middle_y), (middle_x, bottom), (left, middle_y)], fill=item.tint)
        return image

    def png(self) -> bytes:
        buffer = io.BytesIO()
        self.image().save(buffer, format="PNG", optimize=True)
        return buffer.getvalue()

    # --- facts ---------------------------------------------------------------------------

    def count(self, colour: str | None = None, shape: str | None = None) -> int:
        return sum(1 for item in self.items if colour in (None, item.colour) and shape in (None, item.shape))

    def unique(self, colour: str | None = None, shape: str | None = None) -> Item | None:
        found = [item for item in self.items if colour in (None, item.colour) and shape in (None, item.shape)]
        return found[0] if len(found) == 1 else None


def random_scene(rng: random.Random) -> Scene:
    """A scene whose shapes share a few colours and a few forms, so that counting
    questions ("how many red shapes") have answers other than 0 and 1."""
    background = rng.choice(sorted(BACKGROUNDS))
    number = rng.choices(OBJECT_COUNTS, weights=OBJECT_COUNT_WEIGHTS)[0]
    palette = rng.sample(sorted(COLOURS), rng.randint(2, 3))
    forms = rng.sample(SHAPES, rng.randint(2, 3))
    items = []
    for cell in sorted(rng.sample(range(GRID * GRID), number)):
        colour, shape = rng.choice(palette), rng.choice(forms)
        size = rng.randint(9, 14)
        dx, dy = rng.randint(1, CELL - size - 1), rng.randint(1, CELL - size - 1)
        tint = tuple(min(255, max(0, channel + rng.randint(-15, 15))) for channel in COLOURS[colour])
        items.append(Item(cell, colour, shape, size, dx, dy, tint))  # type: ignore[arg-type]
    return Scene(background, tuple(items))


# --- questions ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Question:
    kind: str
    format: str  # yesno / mc / short / count
    question: str  # the bare question, without its instruction
    answer: str  # yes/no, a letter (mc), or the answer text
    options: tuple[str, ...] = ()  # mc: the option texts; short/ll: the answer space sample

    @property
    def prompt(self) -> str:
        return prompt(self.format, self.question, self.options)


def prompt(format: str, question: str, options: Sequence[str] = ()) -> str:
    """The text the model gets (after the image): question, options, instruction."""
    if format == "mc":
        listed = "".join(f"\n{letter}. {option}" for letter, option in zip(LETTERS, options))
        return f"{question}{listed}{INSTRUCTIONS['mc']}"
    return f"{question}{INSTRUCTIONS[format]}"


def _space(kind: str) -> tuple[str, ...]:
    return {
        "colour": tuple(sorted(COLOURS)),
        "shape": SHAPES,
        "position": POSITIONS,
        "background": tuple(sorted(BACKGROUNDS)),
        "count": tuple(str(n) for n in OBJECT_COUNTS),
        "count_colour": tuple(str(n) for n in range(0, max(OBJECT_COUNTS) + 1)),
        "count_shape": tuple(str(n) for n in range(0, max(OBJECT_COUNTS) + 1)),
    }[kind]


def fact(rng: random.Random, scene: Scene, kind: str) -> tuple[str, str] | None:
    """(question, answer) of `kind` about `scene`, or None when the scene has none
    (e.g. no shape is the only one of its colour)."""
    if kind == "colour":
        shapes = [shape for shape in SHAPES if scene.unique(shape=shape)]
        if not shapes:
            return None
        shape = rng.choice(shapes)
        return f"What colour is the {shape}?", scene.unique(shape=shape).colour  # type: ignore[union-attr]
    if kind == "shape":
        colours = [colour for colour in sorted(COLOURS) if scene.unique(colour=colour)]
        if not colours:
            return None
        colour = rng.choice(colours)
        return f"What shape is the {colour} object?", scene.unique(colour=colour).shape  # type: ignore[union-attr]
    if kind == "position":
        unique = [item for item in scene.items if scene.unique(item.colour, item.shape)]
        if not unique:
            return None
        item = rng.choice(unique)
        return f"Where is the {item.colour} {item.shape}?", POSITIONS[item.cell]
    if kind == "background":
        return "What colour is the background?", scene.background
    if kind == "count":
        return "How many shapes are there?", str(len(scene.items))
    if kind == "count_colour":
        present = sorted({item.colour for item in scene.items})
        colour = rng.choice(present) if rng.random() < 0.8 else rng.choice(sorted(COLOURS))
        return f"How many {colour} shapes are there?", str(scene.count(colour=colour))
    if kind == "count_shape":
        present = sorted({item.shape for item in scene.items})
        shape = rng.choice(present) if rng.random() < 0.8 else rng.choice(SHAPES)
        return f"How many {shape}s are there?", str(scene.count(shape=shape))
    raise ValueError(f"unknown question kind {kind!r}")


def open_question(rng: random.Random, scene: Scene, kind: str, format: str) -> Question | None:
    """A short-answer or counting question (also the loglikelihood task's question)."""
    found = fact(rng, scene, kind)
    if found is None:
        return None
    question, answer = found
    others = [value for value in _space(kind) if value != answer]
    choices = [answer, *rng.sample(others, min(3, len(others)))]
    rng.shuffle(choices)
    return Question(kind, format, question, answer, tuple(choices))


def mc_question(rng: random.Random, scene: Scene, kind: str) -> Question | None:
    """Four options, one right; the right letter is uniform over A-D."""
    found = open_question(rng, scene, kind, "mc")
    if found is None:
        return None
    return Question(kind, "mc", found.question, LETTERS[found.options.index(found.answer)], found.options)


def _other(rng: random.Random, values: Sequence[str], value: str, weights: Sequence[float] | None = None) -> str:
    pairs = [(other, weight) for other, weight in zip(values, weights or [1.0] * len(values)) if other != value]
    return rng.choices([other for other, _ in pairs], weights=[weight for _, weight in pairs])[0]


def yes_no_pair(rng: random.Random, scene: Scene, kind: str) -> tuple[Question, Question] | None:
    """Two questions about one image, one answered yes and one no (as MME pairs them).
    The false value is drawn like the true one, so the wording does not give it away."""
    if kind == "presence":
        present = sorted({(item.colour, item.shape) for item in scene.items})
        absent = [(c, s) for c in sorted(COLOURS) for s in SHAPES if (c, s) not in present]
        (c_yes, s_yes), (c_no, s_no) = rng.choice(present), rng.choice(absent)
        texts = (f"Is there a {c_yes} {s_yes} in the image?", f"Is there a {c_no} {s_no} in the image?")
    elif kind == "colour":
        shapes = [shape for shape in SHAPES if scene.unique(shape=shape)]
        if not shapes:
            return None
        shape = rng.choice(shapes)
        colour = scene.unique(shape=shape).colour  # type: ignore[union-attr]
        texts = (f"Is the {shape} {colour}?", f"Is the {shape} {_other(rng, sorted(COLOURS), colour)}?")
    elif kind == "shape":
        colours = [colour for colour in sorted(COLOURS) if scene.unique(colour=colour)]
        if not colours:
            return None
        colour = rng.choice(colours)
        shape = scene.unique(colour=colour).shape  # type: ignore[union-attr]
        texts = (f"Is the {colour} object a {shape}?", f"Is the {colour} object a {_other(rng, SHAPES, shape)}?")
    elif kind == "position":
        unique = [item for item in scene.items if scene.unique(item.colour, item.shape)]
        if not unique:
            return None
        item = rng.choice(unique)
        where = POSITIONS[item.cell]
        name = f"{item.colour} {item.shape}"
        texts = (f"Is the {name} in the {where}?", f"Is the {name} in the {_other(rng, POSITIONS, where)}?")
    elif kind == "count":
        number = str(len(scene.items))
        wrong = _other(rng, [str(n) for n in OBJECT_COUNTS], number, OBJECT_COUNT_WEIGHTS)
        texts = (f"Is the number of shapes {number}?", f"Is the number of shapes {wrong}?")
    elif kind == "background":
        texts = (
            f"Is the background {scene.background}?",
            f"Is the background {_other(rng, sorted(BACKGROUNDS), scene.background)}?",
        )
    else:
        raise ValueError(f"unknown yes/no kind {kind!r}")
    return Question(kind, "yesno", texts[0], "yes"), Question(kind, "yesno", texts[1], "no")


# --- evaluation sets ----------------------------------------------------------------------


def _task_scenes(task: str, seed: int) -> Iterable[tuple[Scene, list[Question]]]:
    """Kinds in turn, each on a fresh scene (yes/no: two questions per scene, in random
    order); a scene that has no question of the kind is skipped."""
    rng = random.Random(f"{seed}:{task}")
    kinds = TASK_KINDS[task]
    image_id = 0
    while True:
        kind = kinds[image_id % len(kinds)]
        scene = random_scene(rng)
        if task == "yesno":
            built = yes_no_pair(rng, scene, kind)
            questions = list(built) if built else []
            rng.shuffle(questions)
        elif task == "mc":
            questions = [q] if (q := mc_question(rng, scene, kind)) else []
        else:
            questions = [q] if (q := open_question(rng, scene, kind, TASK_FORMATS[task])) else []
        if questions:
            yield scene, questions
            image_id += 1


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

    features = datasets.Features(
        {
            name: datasets.Image() if kind == "image" else datasets.Sequence(datasets.Value("string")) if isinstance(kind, list) else datasets.Value(kind)
            for name, kind in FEATURES_SPEC.items()
        }
    )
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for task in TASK_SIZES:
        path = folder / f"demo_{task}.parquet"
        datasets.Dataset.from_list(task_rows(task, seed), features=features).to_parquet(str(path))
        written.append(path)
    return written


# --- training stream ------------------------------------------------------------------------

# How often each format is drawn for training (mc and counting are the hardest to learn).
TRAIN_FORMAT_WEIGHTS = {"yesno": 3, "mc": 3, "short": 3, "count": 3}
TRAIN_KINDS = {
    "yesno": TASK_KINDS["yesno"],
    "mc": TASK_KINDS["mc"],
    "short": ("colour", "shape", "position", "background", "count"),
    "count": TASK_KINDS["count"],
}


def training_examples(seed: int = TRAIN_SEED) -> Iterable[tuple[Scene, Question]]:
    """An endless, seeded stream of (scene, question) in every format, never on a scene
    layout of the evaluation sets."""
    rng = random.Random(f"train:{seed}")
    held_out = eval_layouts()
    formats = list(TRAIN_FORMAT_WEIGHTS)
    weights = [TRAIN_FORMAT_WEIGHTS[name] for name in formats]
    while True:
        scene = random_scene(rng)
        if scene.layout in held_out:
            continue
        format = rng.choices(formats, weights=weights)[0]
        kind = rng.choice(TRAIN_KINDS[format])
        if format == "yesno":
            pair = yes_no_pair(rng, scene, kind)
            question = pair[rng.random() < 0.5] if pair else None
        elif format == "mc":
            question = mc_question(rng, scene, kind)
        else:
            question = open_question(rng, scene, kind, format)
        if question is not None:
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
    1/4 for loglikelihood over four choices, else the constant-guess accuracy."""
    if task == "yesno":
        return 0.5
    if task == "mc_ll":
        return 0.25
    return constant_guess_accuracy(rows)


def blank_margin(chance: float, n: int) -> float:
    """Three binomial standard errors at the chance level: a blind model lands below
    chance + margin unless it is very lucky (or not blind)."""
    return 3 * math.sqrt(chance * (1 - chance) / n)


if __name__ == "__main__":
    from lmms_eval.demo import TASK_DIR

    for path in write_task_data(TASK_DIR / "data"):
        print(f"wrote {path} ({path.stat().st_size:,} bytes)")
