"""The VQA evaluation tool's answer normalisation and accuracy (lmms_eval/tasks/_common/vqa.py)."""

from __future__ import annotations

import json

import pytest

from lmms_eval.tasks._common import vqa


def test_tables_come_from_the_packaged_json_and_load_once():
    raw = json.loads(vqa.TABLES_FILE.read_text(encoding="utf-8"))
    assert vqa.TABLES_FILE.parent.name == "_common"
    assert vqa.tables() is vqa.tables()
    table = vqa.tables()
    assert dict(table.contractions) == raw["contractions"] and len(table.contractions) == 120
    assert dict(table.number_words) == raw["number_words"]
    assert table.articles == {"a", "an", "the"}
    assert table.punctuation == tuple(raw["punctuation"]) and len(table.punctuation) == 21


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("t-shirt", "t shirt"),  # a mark between letters becomes a space
        ("yes !", "yes "),  # a mark touching a space is deleted
        ("a-b, c", "a b c"),  # each mark decided on its own
        ("1,000", "1000"),  # digit-comma-digit: every mark is deleted ...
        ("1,000-2", "10002"),  # ... including the ones that would become spaces
        ("(hi)", " hi "),
        ("5.", "5"),  # a period not followed by a digit is deleted
        ("3.5", "3.5"),
        (".5", ".5"),
        ("e.g.", "eg"),
        ("dr. who", "dr who"),
        ("it's $5: 10% off*", "it's $5: 10% off*"),  # apostrophe, $, :, %, * are not in the table
        ("." * 40, "." * 8),  # the official tool deletes at most 32 periods
    ],
)
def test_punctuation_step(text, expected):
    assert vqa.process_punctuation(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Two Dogs", "2 dogs"),
        ("none", "0"),
        ("zero one ten eleven", "0 1 10 eleven"),
        ("a dog", "dog"),
        ("The  AN apple", "apple"),
        ("dont", "don't"),
        ("isnt it", "isn't it"),
        ("whats up", "what's up"),
        ("Im here", "im here"),  # the table's "Im" is never matched after lower-casing
        ("ow's'at", "'ow's'at"),
        ("somebody'd", "somebodyd"),  # the official table maps this one backwards; kept as data
    ],
)
def test_digit_article_step(text, expected):
    assert vqa.process_digit_article(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("What's up?", "what 's up"),  # "?" deleted, "'s" split off
        ("Hello, World", "hello world"),
        ("The Cat's toy", "cat 's toy"),
        ("1,000", "1000"),
        ("Two\tdogs\n", "2 dogs"),
        ("NIKE!", "nike"),
        ("Two.", "2"),
    ],
)
def test_evalai_processor_of_textvqa(text, expected):
    assert vqa.evalai_answer(text) == expected


@pytest.mark.parametrize(("matches", "expected"), [(0, 0.0), (1, 0.3), (2, 0.6), (3, 0.9), (4, 1.0), (10, 1.0)])
def test_accuracy_is_the_mean_over_ten_leave_one_out_subsets(matches, expected):
    golds = ["cat"] * matches + ["dog"] * (10 - matches)
    # Not "min(1, matches / 3)": three agreeing answers give 0.9, not 1.
    assert vqa.leave_one_out_accuracy("cat", golds) == pytest.approx(expected, abs=1e-12)


def test_accuracy_with_no_golds_is_zero():
    assert vqa.leave_one_out_accuracy("cat", []) == 0.0


def test_vqav2_identical_golds_are_left_alone():
    # Section 35: ten identical golds are not processed, so a processed "t-shirt" misses.
    assert vqa.vqav2_accuracy("t-shirt", ["t-shirt"] * 10) == 0.0
    assert vqa.vqav2_accuracy("t shirt", ["t-shirt"] * 10) == 0.0
    assert vqa.vqav2_accuracy("T Shirt", ["t shirt"] * 10) == 1.0


def test_vqav2_differing_golds_get_the_punctuation_step_only():
    assert vqa.vqav2_accuracy("T-shirt", ["t-shirt"] * 9 + ["shirt"]) == 1.0
    # The golds keep their number words: only the "2" counts for the prediction "Two" -> "2".
    assert vqa.vqav2_accuracy("Two", ["two"] * 3 + ["2"] + ["dog"] * 6) == pytest.approx(0.3)
    assert vqa.vqav2_accuracy("two", ["two"] * 3 + ["2"] + ["dog"] * 6) == pytest.approx(0.3)


def test_vqav2_prediction_gets_both_steps():
    assert vqa.vqav2_accuracy("Yes.", ["yes"] * 10) == 1.0
    assert vqa.vqav2_accuracy("the tennis", ["tennis"] * 10) == 1.0
    assert vqa.vqav2_accuracy("dont", ["don't"] * 10) == 1.0
    assert vqa.vqav2_accuracy("Two\n", ["2"] * 10) == 1.0
    assert vqa.vqav2_accuracy("no", ["no"] * 2 + ["yes"] * 8) == pytest.approx(0.6)


def test_vqav2_golds_are_stripped_of_tabs_and_newlines():
    assert vqa.vqav2_accuracy("yes", ["yes\n"] * 10) == 1.0
    assert vqa.vqav2_accuracy("red", ["red\t", " red"] * 5) == 1.0


def test_textvqa_processes_prediction_and_golds_alike():
    golds = ["Nike"] * 3 + ["nike."] * 2 + ["NIKE!"] + ["adidas"] * 4
    assert vqa.textvqa_accuracy("nike", golds) == 1.0
    assert vqa.textvqa_accuracy("Two", ["2"] * 2 + ["two"] + ["3"] * 7) == pytest.approx(0.9)
    assert vqa.textvqa_accuracy("Joe's", ["joe's"] * 2 + ["joes"] * 8) == pytest.approx(0.6)
    assert vqa.textvqa_accuracy("t-shirt", ["t-shirt"] * 10) == 1.0  # unlike VQAv2


def test_category_means():
    values = [vqa.categorised(1.0, ["b", "a"]), vqa.categorised(0.0, ["a"]), vqa.categorised(0.5, [])]
    assert vqa.category_means(values) == {"a": 0.5, "b": 1.0}
    assert list(vqa.category_means(values)) == ["a", "b"]


def test_prompt_helpers():
    assert vqa.question_prompt("Q?", {"pre_prompt": "P: ", "post_prompt": "\nA:"}) == "P: Q?\nA:"
    assert vqa.question_prompt("Q?", None) == "Q?"
    assert vqa.question_prompt("Q?", {"pre_prompt": None}) == "Q?"
    assert vqa.as_list(None) == [] and vqa.as_list("x") == ["x"] and vqa.as_list(("x", "y")) == ["x", "y"]
