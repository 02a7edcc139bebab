"""RealWorldQA, and the shared priority-based letter extractor it uses."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmark_helpers import banded_image, evaluate, library_config, prompt_text, read_results, read_samples, task_module, user_task, write_parquet

from lmms_eval.tasks._common.choices import choice_candidates, extract_choice_letter

realworldqa = task_module("realworldqa")


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        ("B", "B"),
        ("B.", "B"),
        ("(C)", "C"),
        ("B)", "B"),
        ("C: the red one", "C"),
        ("Answer: D", "D"),  # the letter at the end
        ("It is B", "B"),
        ('"A"', "A"),
        ('B."', "B"),  # edge characters are stripped one kind after another
        ("**B**", "B"),  # only the fallback finds it
        ("The answer is (A).", "A"),
        ("答案是C", "C"),  # a Chinese answer phrase
        ("", ""),
        ("   ", ""),
        ("None of them", ""),
        ("b", ""),  # letters are upper case only
        ("E", ""),  # not one of A-D
        # Quirks of the rule, kept because they change scores:
        ("A dog is on the left, so C", "A"),  # a leading article reads as option A (top priority)
        ("A or B", "A"),
        ("I choose B because D is wrong", "D"),  # after a phrase the later letter wins
        ("The correct answer is B, not A.", "A"),
        ("Definitely", "D"),  # fallback: any capital letter among the options
    ],
)
def test_extract_choice_letter(response, expected):
    assert extract_choice_letter(response) == expected


def test_extractor_letters_and_candidates():
    assert extract_choice_letter("E", letters="ABCDE") == "E"
    assert extract_choice_letter("The answer is E", letters=("A", "B")) == ""
    # The trailing "." is trimmed first, so "D." is no period candidate; the final D wins.
    formats = {(c.letter, c.format) for c in choice_candidates("(C) or D.")}
    assert formats == {("C", "parentheses"), ("C", "right_paren"), ("D", "space"), ("D", "end")}
    assert extract_choice_letter("(C) or D.") == "D"


@pytest.mark.parametrize(
    ("response", "gold", "expected"),
    [
        ("B", "B", True),
        ("(b)", "B", False),  # a letter gold needs an upper-case letter
        ("The answer is C", "C", True),
        ("3.", "3", True),  # other golds: lower-case, strip, drop trailing periods
        ("3..", "3", True),
        ("three", "3", False),  # no number words
        ("Yes", "yes", True),
        (" no ", "No", True),
        ("2 cars", "2", False),
    ],
)
def test_is_correct(response, gold, expected):
    assert realworldqa.is_correct(response, gold) is expected


def test_prompt_drops_the_letter_instruction_only_with_a_post_prompt():
    instruction = "Please answer directly with only the letter of the correct option and nothing else."
    doc = {"question": f"Which is closer?\nA. The car\nB. The tree\n{instruction}\n"}
    assert realworldqa.doc_to_text(doc, {"pre_prompt": "", "post_prompt": ""}) == doc["question"].strip()
    assert realworldqa.doc_to_text(doc, {"post_prompt": "Answer with the letter."}) == (
        "Which is closer?\nA. The car\nB. The tree\nAnswer with the letter."
    )


LETTER_INSTRUCTION = "Please answer directly with only the letter of the correct option and nothing else."
NUMBER_INSTRUCTION = "Please answer directly with a single word or number."
OPTIONS = "\nA. The car\nB. The tree\nC. The sign\nD. The bus\n"
# (question stem, options, gold, reply)
ROWS = [
    ("Which object is closest to the camera?", True, "B", "B"),
    ("Which object is furthest away?", True, "A", "The answer is (A)."),
    ("Which object is on the right?", True, "C", "A dog is on the left, so C"),
    ("Which object is red?", True, "D", ""),
    ("Which object is moving?", True, "B", "b"),
    ("How many lanes are there?", False, "3", "3."),
    ("How many cars are parked?", False, "2", "two"),
    ("Is the traffic light green?", False, "Yes", "yes"),
]


def write_realworldqa(folder: Path) -> None:
    import datasets

    features = datasets.Features({"image": datasets.Image(), "question": datasets.Value("string"), "answer": datasets.Value("string")})
    rows = [
        {
            "image": banded_image(number),
            "question": stem + (OPTIONS + LETTER_INSTRUCTION if with_options else "\n" + NUMBER_INSTRUCTION),
            "answer": gold,
        }
        for number, (stem, with_options, gold, _) in enumerate(ROWS)
    ]
    write_parquet(folder / "data" / "test.parquet", rows, features)
    user_task(folder, "realworldqa", "realworldqa/realworldqa.yaml", "test", "data/test.parquet")


def test_realworldqa_end_to_end(tmp_path):
    folder, output = tmp_path / "tasks", tmp_path / "out"
    write_realworldqa(folder)
    assert evaluate("realworldqa", folder, output, {stem: reply for stem, _, _, reply in ROWS}) == 0

    results = read_results(output)
    scores = results["results"]["realworldqa"]
    assert scores["exact_match,none"] == pytest.approx(4 / 8, abs=1e-12)
    assert scores["exact_match_stderr,none"] == pytest.approx((0.25 * 8 / 7) ** 0.5 / 8**0.5, abs=1e-12)
    assert scores["answer_types,none"] == pytest.approx({"letter": 2 / 5, "other": 2 / 3}, abs=1e-12)
    assert results["configs"]["realworldqa"]["generation_kwargs"]["max_new_tokens"] == 16

    samples = read_samples(output, "realworldqa")
    assert prompt_text(samples[0]) == "Which object is closest to the camera?" + OPTIONS + LETTER_INSTRUCTION
    assert [row["scores"]["none"]["exact_match"] for row in samples] == [1.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 1.0]


def test_library_config():
    config = library_config("realworldqa/realworldqa.yaml")
    assert (config.dataset_path, config.test_split) == ("lmms-lab-encoder/RealWorldQA", "test")
    assert config.generation_kwargs["max_new_tokens"] == 16
    assert config.lmms_eval_specific_kwargs["default"] == {"pre_prompt": "", "post_prompt": ""}
    assert config.metric_list[0]["metric"] == "exact_match"
