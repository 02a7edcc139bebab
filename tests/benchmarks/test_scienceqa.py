"""scienceqa_img: prompt with optional context, integer gold, LLaVA-style letter match."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmark_helpers import image_count, mean_stderr, palette_image, prompt_text, run_benchmark, user_task, write_parquet

from lmms_eval.taskdefs.functions import FunctionRef
from lmms_eval.taskdefs.library import BUILTIN_TASK_DIR

utils = FunctionRef("utils.sqa_doc_to_text", BUILTIN_TASK_DIR / "scienceqa").resolve().__globals__
POST = "\nAnswer with the option's letter from the given choices directly."


# (question, choices, answer index, hint, subject, grade, reply, correct?)
DOCS = [
    ("[s01] Which is a mammal?", ["frog", "cat", "trout"], 1, "", "natural science", "grade3", "B", True),
    ("[s02] Which is hot?", ["sun", "ice"], 0, "Look at the picture.", "natural science", "grade3", "a", True),
    ("[s03] Which animal?", ["dog", "cow", "cats"], 2, "", "natural science", "grade3", "C. cats", True),
    ("[s04] Which animal?", ["dog", "cow", "cats"], 2, "", "natural science", "grade3", "c. cats", False),
    ("[s05] Which state?", ["Ohio", "Utah", "Iowa"], 1, "", "social science", "grade3", "(B)", False),
    ("[s06] Which state?", ["Ohio", "Utah", "Iowa"], 1, "", "social science", "grade8", "The answer is B.", False),
    ("[s07] Which is an ocean?", ["Nile", "Alps", "Gobi", "Pacific", "Sahara"], 3, "", "social science", "grade8", "D.", True),
    ("[s08] Which word?", ["go", "went"], 0, "", "language science", "grade8", "B. went", False),
    ("[s09] Which word?", ["a", "b", "c", "d", "e"], 4, "", "language science", "grade8", "E", True),
    ("[s10] Which word?", ["yes", "no"], 1, "", "language science", "grade8", "b.", False),
]


def write_split(path: Path) -> Path:
    import datasets

    features = datasets.Features(
        {
            "image": datasets.Image(),
            "question": datasets.Value("string"),
            "choices": datasets.Sequence(datasets.Value("string")),
            "answer": datasets.Value("int8"),
            "hint": datasets.Value("string"),
            "task": datasets.Value("string"),
            "grade": datasets.Value("string"),
            "subject": datasets.Value("string"),
            "topic": datasets.Value("string"),
            "category": datasets.Value("string"),
            "skill": datasets.Value("string"),
            "lecture": datasets.Value("string"),
            "solution": datasets.Value("string"),
        }
    )
    rows = [
        {
            "image": palette_image("green"),
            "question": question,
            "choices": choices,
            "answer": answer,
            "hint": hint,
            "task": "closed choice",
            "grade": grade,
            "subject": subject,
            "topic": "t",
            "category": "c",
            "skill": "s",
            "lecture": "",
            "solution": "",
        }
        for question, choices, answer, hint, subject, grade, _reply, _correct in DOCS
    ]
    return write_parquet(path, rows, features)


def test_scienceqa_img_end_to_end(tmp_path, capsys):
    folder = tmp_path / "tasks"
    write_split(folder / "sqa.parquet")
    user_task(folder, "scienceqa_img", "scienceqa/scienceqa_img.yaml", "test", "sqa.parquet")
    canned = {doc[0].split("]")[0] + "]": doc[6] for doc in DOCS}
    run = run_benchmark(tmp_path, "scienceqa_img", folder, canned, capsys)

    scores = run.scores("scienceqa_img")
    outcomes = [float(doc[-1]) for doc in DOCS]
    assert scores["exact_match,none"] == pytest.approx(0.5, abs=1e-12)
    assert scores["exact_match_stderr,none"] == pytest.approx(mean_stderr(outcomes), abs=1e-12)
    assert scores["scienceqa_breakdown,none"] == pytest.approx(
        {
            "subject/natural science": 0.75,
            "subject/social science": 1 / 3,
            "subject/language science": 1 / 3,
            "grade/G1-6": 0.6,
            "grade/G7-12": 0.4,
        }
    )
    assert [sample["scores"]["none"]["exact_match"] for sample in run.samples] == outcomes
    assert [sample["target"] for sample in run.samples] == ["B", "A", "C", "C", "B", "B", "D", "A", "E", "B"]
    assert "scienceqa_breakdown/grade/G1-6" in run.table

    assert prompt_text(run.samples[0]) == f"[s01] Which is a mammal?\nA. frog\nB. cat\nC. trout{POST}"
    assert prompt_text(run.samples[1]) == f"Context: Look at the picture.\n[s02] Which is hot?\nA. sun\nB. ice{POST}"
    assert all(image_count(sample) == 1 for sample in run.samples)
    assert {(body["max_tokens"], body["temperature"], tuple(body["stop"])) for body in run.bodies} == {(16, 0.0, ("\n\n",))}


@pytest.mark.parametrize(
    ("response", "gold", "score"),
    [
        ("B", "B", 1.0),
        ("b", "B", 1.0),  # any case when the response is the letter alone
        ("B. cat", "B", 1.0),
        ("B.", "B", 1.0),
        ("b. cat", "B", 0.0),  # the "L." form needs an upper-case letter
        ("C. cat", "B", 0.0),
        ("(B)", "B", 0.0),
        ("B)", "B", 0.0),
        ("The answer is B", "B", 0.0),
        ("", "B", 0.0),
    ],
)
def test_letter_match(response, gold, score):
    assert utils["score_response"](response, gold) == score


def test_prompt_and_target():
    doc = {"question": "Q?", "choices": ["x", "y"], "answer": 1, "hint": None}
    assert utils["sqa_doc_to_text"](doc, {"pre_prompt": "", "post_prompt": POST}) == f"Q?\nA. x\nB. y{POST}"
    assert utils["sqa_doc_to_target"](doc) == "B"
    assert utils["sqa_doc_to_visual"]({"image": None}) == []


def test_grade_bands():
    band = utils["grade_band"]
    assert [band(f"grade{n}") for n in (1, 6, 7, 12)] == ["G1-6", "G1-6", "G7-12", "G7-12"]
    assert band(None) is None and band("kindergarten") is None
