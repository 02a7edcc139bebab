"""ai2d: lettered options, the "flexible-extract" filter, exact match ignoring case and punctuation."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmark_helpers import image_count, mean_stderr, palette_image, prompt_text, run_benchmark, user_task, write_parquet

from lmms_eval.taskdefs.functions import FunctionRef
from lmms_eval.taskdefs.library import BUILTIN_TASK_DIR

utils = FunctionRef("utils.ai2d_doc_to_text", BUILTIN_TASK_DIR / "ai2d").resolve().__globals__
POST = "\nAnswer with the option's letter from the given choices directly."
OPTIONS = ["sun", "dog", "tree", "rock"]


# (answer index as a string, reply, value after the filter, correct?)
DOCS = [
    ("1", "B", "B", True),
    ("1", "(B)", "(B)", True),  # punctuation is ignored by the match
    ("1", "B. dog", "B", True),  # the filter keeps the letter of "L." at the start
    ("1", "B) dog", "B) dog", False),  # "B dog" after punctuation removal
    ("1", "Answer: B", "Answer: B", False),
    ("0", "a", "a", True),  # case is ignored
    ("2", "c.", "c.", True),  # lower-case: not filtered, but "c" matches once "." is gone
    ("3", "The answer is D", "The answer is D", False),
    ("3", "D. rock", "D", True),
    ("0", "B", "B", False),
]


def write_split(path: Path) -> Path:
    import datasets

    features = datasets.Features(
        {
            "question": datasets.Value("string"),
            "options": datasets.Sequence(datasets.Value("string")),
            "answer": datasets.Value("string"),
            "image": datasets.Image(),
        }
    )
    rows = [
        {"question": f"[a{n:02d}] Which label points at the leaf?", "options": OPTIONS, "answer": answer, "image": palette_image("blue")}
        for n, (answer, _reply, _filtered, _correct) in enumerate(DOCS, 1)
    ]
    return write_parquet(path, rows, features)


def test_ai2d_end_to_end(tmp_path, capsys):
    folder = tmp_path / "tasks"
    write_split(folder / "ai2d.parquet")
    user_task(folder, "ai2d", "ai2d/ai2d.yaml", "test", "ai2d.parquet")
    canned = {f"[a{n:02d}]": reply for n, (_answer, reply, _filtered, _correct) in enumerate(DOCS, 1)}
    run = run_benchmark(tmp_path, "ai2d", folder, canned, capsys)

    scores = run.scores("ai2d")
    outcomes = [float(doc[-1]) for doc in DOCS]
    assert set(scores) == {"alias", "exact_match,flexible-extract", "exact_match_stderr,flexible-extract"}
    assert scores["exact_match,flexible-extract"] == pytest.approx(0.6, abs=1e-12)
    assert scores["exact_match_stderr,flexible-extract"] == pytest.approx(mean_stderr(outcomes), abs=1e-12)
    assert [sample["scores"]["flexible-extract"]["exact_match"] for sample in run.samples] == outcomes
    assert [sample["filtered_resps"]["flexible-extract"] for sample in run.samples] == [doc[2] for doc in DOCS]
    assert [sample["target"] for sample in run.samples] == ["B", "B", "B", "B", "B", "A", "C", "D", "D", "A"]

    assert prompt_text(run.samples[0]) == f"[a01] Which label points at the leaf?\nA. sun\nB. dog\nC. tree\nD. rock{POST}"
    assert image_count(run.samples[0]) == 1
    assert {(body["max_tokens"], body["temperature"], tuple(body["stop"])) for body in run.bodies} == {(16, 0.0, ("\n\n",))}


@pytest.mark.parametrize(
    ("response", "extracted"),
    [
        ("B. dog", "B"),
        ("  C.", "C"),  # leading spaces are allowed
        ("B.dog", "B"),
        ("b. dog", "b. dog"),  # only a capital letter
        ("(B)", "(B)"),
        ("The answer is B.", "The answer is B."),  # only at the start
        ("AB. x", "AB. x"),
    ],
)
def test_flexible_extract(response, extracted):
    assert utils["flexible_extract"](response) == extracted


def test_prompt_and_target():
    doc = {"question": "Q?", "options": ["x", "y", "z"], "answer": "2"}
    assert utils["ai2d_doc_to_text"](doc, {"pre_prompt": "", "post_prompt": POST}) == f"Q?\nA. x\nB. y\nC. z{POST}"
    assert utils["ai2d_doc_to_target"](doc) == "C"
