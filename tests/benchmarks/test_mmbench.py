"""mmbench_en_dev: the MMBench prompt, rule-based answer matching and CircularEval."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from benchmark_helpers import image_count, mean_stderr, palette_image, prompt_text, run_benchmark, user_task, write_parquet

from lmms_eval.taskdefs.functions import FunctionRef
from lmms_eval.taskdefs.library import BUILTIN_TASK_DIR

utils = FunctionRef("utils.mmbench_doc_to_text", BUILTIN_TASK_DIR / "mmbench").resolve().__globals__
POST = "\n\nAnswer with the option's letter from the given choices directly."
STRIDE = 1_000_000


# index, question, options, gold index, hint, category, L2-category, one reply per circular copy
QUESTIONS = [
    # Every copy read right: a hit. "Red" is matched by option text.
    (1, "[m1] What colour is the car?", ["Red", "Blue", "Green", "Yellow"], 0, None, "color", "Perception",
     ["A", "D", "The answer is C", "Red"]),
    # The second copy is read as a wrong letter: a miss.
    (2, "[m2] What shape is shown?", ["circle", "square", "triangle", "star"], 1, None, "color", "Perception",
     ["B", "C", "D", "C"]),
    # One copy the rules cannot read: a miss, counted as lost to unresolved answers. Hint "nan".
    (3, "[m3] Which city is shown?", ["Paris", "London", "Rome", "Tokyo"], 2, "nan", "ocr", "Reasoning",
     ["C", "I am not sure", "A", "D"]),
    # Two options; "A." is a decorated letter; "A picture of the sun" has the article A (the
    # bare-letter step is skipped) and is matched by the option text "sun".
    (4, "[m4] What is in the sky?", ["sun", "moon"], 0, None, "ocr", "Perception",
     ["A. sun", "A picture of the sun"]),
    # Three options and a hint; "(C)" and ":B" are decorated letters; "E" is a letter but no option.
    (5, "[m5] Which comes next?", ["one", "two", "three"], 2, "Count the dots.", "logic", "Reasoning",
     ["(C)", "Answer :B", "E"]),
    # A wrong letter and two unreadable copies: a miss, not lost to unresolved answers.
    (6, "[m6] Which is larger?", ["ant", "cat", "cow", "whale"], 3, None, "logic", "Reasoning",
     ["D", "B or C", "A", "Maybe"]),
]  # fmt: skip
HITS = [True, False, False, True, False, False]
LOST = [False, False, True, False, False, False]


def copies(question):
    """(index, options, gold letter, reply) of each choice-rotated copy; copy 0 is the main row."""
    index, _text, options, gold, _hint, _cat, _l2, replies = question
    for k, reply in enumerate(replies):
        rotated = options[k:] + options[:k]
        yield index + k * STRIDE, rotated, "ABCD"[rotated.index(options[gold])], reply


def write_split(path: Path) -> list[int]:
    """Writes the split; returns the rows' indices in file order."""
    import datasets

    features = datasets.Features(
        {
            "index": datasets.Value("int64"),
            "question": datasets.Value("string"),
            "hint": datasets.Value("string"),
            "A": datasets.Value("string"),
            "B": datasets.Value("string"),
            "C": datasets.Value("string"),
            "D": datasets.Value("string"),
            "answer": datasets.Value("string"),
            "category": datasets.Value("string"),
            "L2-category": datasets.Value("string"),
            "image": datasets.Image(),
            "source": datasets.Value("string"),
            "split": datasets.Value("string"),
            "comment": datasets.Value("string"),
        }
    )
    rows = []
    for question in QUESTIONS:
        _index, text, _options, _gold, hint, category, l2, _replies = question
        for index, options, gold, _reply in copies(question):
            padded = options + [None] * (4 - len(options))
            rows.append(
                {
                    "index": index, "question": text, "hint": hint, **dict(zip("ABCD", padded)), "answer": gold,
                    "category": category, "L2-category": l2, "image": palette_image("red"), "source": "s", "split": "dev",
                    "comment": "nan",
                }
            )  # fmt: skip
    # Rows come in no particular order (main rows among the copies): grouping is by index.
    rows.sort(key=lambda row: (row["index"] * 7919) % 23)
    write_parquet(path, rows, features)
    return [row["index"] for row in rows]


def canned_replies() -> dict[str, str]:
    canned = {}
    for question in QUESTIONS:
        for _index, options, _gold, reply in copies(question):
            canned[f"{question[1]} There are several options:\nA. {options[0]}"] = reply
    return canned


def test_mmbench_en_dev_end_to_end(tmp_path, capsys):
    folder = tmp_path / "tasks"
    order = write_split(folder / "mmbench.parquet")
    user_task(folder, "mmbench_en_dev", "mmbench/mmbench_en_dev.yaml", "dev", "mmbench.parquet")
    run = run_benchmark(tmp_path, "mmbench_en_dev", folder, canned_replies(), capsys)

    scores = run.scores("mmbench_en_dev")
    hits = [100.0 * hit for hit in HITS]
    lost = [100.0 * flag for flag in LOST]
    assert scores["circular_acc,circular-eval"] == pytest.approx(100 * 2 / 6, abs=1e-12)
    assert scores["circular_acc_stderr,circular-eval"] == pytest.approx(mean_stderr(hits), abs=1e-12)
    assert scores["circular_unresolved,circular-eval"] == pytest.approx(100 * 1 / 6, abs=1e-12)
    assert scores["circular_unresolved_stderr,circular-eval"] == pytest.approx(mean_stderr(lost), abs=1e-12)
    assert scores["circular_breakdown,circular-eval"] == pytest.approx(
        {
            "count/questions": 6,
            "count/rows": 21,
            "count/unresolved_rows": 3,
            "L2-category/Perception": 100 * 2 / 3,
            "L2-category/Reasoning": 0.0,
            "category/color": 50.0,
            "category/logic": 0.0,
            "category/ocr": 50.0,
        }
    )
    assert run.results["n-samples"]["mmbench_en_dev"] == {"original": 21, "effective": 21}
    assert "circular_breakdown/count/unresolved_rows" in run.table
    assert "| 6 " in run.table  # the headline is a mean over 6 questions, not 21 rows

    # doc ids follow the parquet's row order
    rows = {index: (sample["filtered_resps"]["circular-eval"], sample) for index, sample in zip(order, run.samples)}
    assert len(rows) == 21
    predictions = {index: info["prediction"] for index, (info, _sample) in rows.items()}
    assert predictions[1] == "A" and predictions[1_000_001] == "D" and predictions[2_000_001] == "C"
    assert predictions[3_000_001] == "B"  # "Red" by option text
    assert predictions[1_000_003] is None  # "I am not sure"
    assert predictions[4] == "A" and predictions[1_000_004] == "B"  # "A." ; article skipped, "sun"
    assert predictions[5] == "C" and predictions[1_000_005] == "B" and predictions[2_000_005] == "E"
    assert predictions[1_000_006] is None and predictions[3_000_006] is None and predictions[2_000_006] == "A"
    # Scores sit on each question's main row only; the copies carry none.
    scored = sorted(index for index, (_info, sample) in rows.items() if sample["scores"]["circular-eval"])
    assert scored == [1, 2, 3, 4, 5, 6]
    assert [rows[q][1]["scores"]["circular-eval"]["circular_acc"] for q in range(1, 7)] == hits

    # Prompts: "{hint} {question} {options}" + "\n" + post_prompt; hint None and "nan" mean none.
    assert prompt_text(rows[1][1]) == (
        f"[m1] What colour is the car? There are several options:\nA. Red\nB. Blue\nC. Green\nD. Yellow{POST}"
    )
    assert prompt_text(rows[1_000_001][1]) == (
        f"[m1] What colour is the car? There are several options:\nA. Blue\nB. Green\nC. Yellow\nD. Red{POST}"
    )
    assert prompt_text(rows[3][1]).startswith("[m3] Which city is shown? There are several options:\nA. Paris\n")
    assert prompt_text(rows[4][1]) == f"[m4] What is in the sky? There are several options:\nA. sun\nB. moon{POST}"
    assert prompt_text(rows[5][1]) == (
        f"Count the dots. [m5] Which comes next? There are several options:\nA. one\nB. two\nC. three{POST}"
    )
    assert image_count(rows[1][1]) == 1
    assert {(body["max_tokens"], body["temperature"], tuple(body["stop"])) for body in run.bodies} == {(1024, 0.0, ("ASSISTANT:",))}


# --- the rule-based matcher ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("response", "letter"),
    [
        ("A", "A"),
        ("B", "B"),
        ("A cat", "A"),  # two tokens: "A" is read as the letter
        ("The answer is A", None),  # "A" among more than three tokens may be the article
        ("A big red car. B.", "B"),  # bare step skipped for the article; then "B." decides
        ("A, B", "B"),  # "A," is not a bare letter
        ("A B", None),  # two bare letters, no decorated ones
        ("A.", "A"),
        ("B,", "B"),
        ("C:", "C"),
        ("B)", "B"),
        ("(B).", "B"),
        ("(D)", "D"),
        ("Answer :C", "C"),
        (":C).", "C"),
        ("B. C.", None),  # two letters with the same decoration, none with another
        ("E", "E"),  # E is a letter even where there is no option E
        ("F", None),
        ("b", None),  # letters are case-sensitive
        ("", None),
    ],
)
def test_option_letter(response, letter):
    assert utils["infer_option_letter"](response) == letter


def test_option_text_and_missing_values():
    infer_text, match = utils["infer_option_text"], utils["match_answer"]
    assert infer_text("I see a RED car", {"A": "Red", "B": "Blue"}) == "A"
    assert infer_text("a red car", {"A": "car", "B": "red car"}) is None  # two options found
    assert infer_text("nothing", {"A": "car"}) is None
    doc = {"A": "sun", "B": "moon", "C": None, "D": "nan"}
    assert utils["doc_options"](doc) == {"A": "sun", "B": "moon"}
    assert match("The answer is A", doc) is None  # the article rule, and no option text
    assert match("It shows the moon", doc) == "B"
    missing = utils["is_missing"]
    assert missing(None) and missing("nan") and missing(float("nan")) and missing("")
    assert not missing("0") and not missing("Nan?")
    no_hint = utils["has_no_hint"]
    assert no_hint(None) and no_hint("nan") and no_hint(float("nan")) and not no_hint("")


def test_prompt_without_kwargs_and_with_pre_prompt():
    doc = {"question": "Q?", "hint": float("nan"), "A": "x", "B": "y", "C": None, "D": None}
    assert utils["mmbench_doc_to_text"](doc, None) == "Q? There are several options:\nA. x\nB. y"
    assert utils["mmbench_doc_to_text"](doc, {"pre_prompt": "P ", "post_prompt": "go"}) == "P Q? There are several options:\nA. x\nB. y\ngo"


def test_circular_eval_groups_by_index_modulo_a_million():
    rows = [
        {"index": 2_000_007, "answer": "A", "A": "x", "B": "y"},
        {"index": 7, "answer": "B", "A": "y", "B": "x"},
        {"index": 1_000_008, "answer": "B", "A": "p", "B": "q"},  # its main row is missing
        {"index": 2_000_008, "answer": "A", "A": "q", "B": "p"},
    ]
    out = utils["circular_eval"]([["A"], ["B"], ["B"], ["A"]], rows)
    assert [row["question"] for row in out] == [7, 7, 8, 8]
    assert [row["scores_question"] for row in out] == [False, True, True, False]
    assert [row["question_hit"] for row in out] == [True, True, True, True]
    out = utils["circular_eval"]([["A"], ["zzz"], ["B"], ["B"]], rows)
    assert [row["question_hit"] for row in out] == [False, False, False, False]
    assert [row["lost_to_unresolved"] for row in out] == [True, True, False, False]
    assert [row["unresolved_copies"] for row in out] == [1, 1, 0, 0]
    process = utils["mmbench_process_results"]
    assert process(rows[0], [out[0]]) == {}
    assert process(rows[1], [out[1]])["circular_unresolved"] == 100.0
    assert math.isclose(process(rows[2], [out[2]])["circular_acc"], 0.0)
