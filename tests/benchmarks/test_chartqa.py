"""ChartQA: relaxed accuracy (5% tolerance for non-zero numeric golds, "%" read on each side
on its own, case-insensitive text match otherwise) and the human/augmented split scores."""

from __future__ import annotations


import pytest

from benchmark_helpers import evaluate, prompt_text, read_results, read_samples, sample_scores, solid_image, user_task, write_parquet

from lmms_eval.tasks.chartqa import utils

# (type, question, gold, canned reply, right?)
DOCS = [
    ("human_test", "What is the value for 2019?", "45", "45%", False),  # 0.45 against 45
    ("human_test", "What share voted yes?", "45%", "0.45", True),  # 0.45 against 0.45
    ("human_test", "How many units were sold in 2020?", "100", "104.9", True),  # 4.9% off
    ("augmented_test", "How many units were sold in 2021?", "100", "105.1", False),  # 5.1% off
    ("augmented_test", "What is the lowest value?", "0", "0.0", False),  # a gold of 0 compares as text
    ("augmented_test", "What is the smallest value?", "0", "0", True),
    ("augmented_test", "Is the red bar the tallest?", "Yes", "yes", True),
    ("human_test", "Which country is shown in blue?", "Brazil", "Brazil.", False),  # no cleaning
    ("augmented_test", "What is the value for 2022?", "20", "21", True),  # exactly 5%: inclusive
    ("human_test", "What is the price in 2018?", "45", "$45", False),  # a unit breaks the number
]


def features():
    import datasets

    text = datasets.Value("string")
    return datasets.Features({"type": text, "question": text, "answer": text, "image": datasets.Image()})


def test_chartqa_end_to_end(tmp_path):
    rows = [{"type": kind, "question": q, "answer": gold, "image": solid_image(n)} for n, (kind, q, gold, _, _) in enumerate(DOCS)]
    data = write_parquet(tmp_path / "data" / "test.parquet", rows, features())
    folder = tmp_path / "tasks"
    user_task(folder, "chartqa", "chartqa/chartqa.yaml", "test", data)
    output = tmp_path / "out"
    assert evaluate("chartqa", folder, output, {question: reply for _, question, _, reply, _ in DOCS}) == 0

    results = read_results(output)["results"]["chartqa"]
    assert results["relaxed_overall,none"] == pytest.approx(0.5, abs=1e-12)  # 5 of 10
    assert results["relaxed_human_split,none"] == pytest.approx(0.4, abs=1e-12)  # 2 of 5
    assert results["relaxed_augmented_split,none"] == pytest.approx(0.6, abs=1e-12)  # 3 of 5
    samples = read_samples(output, "chartqa")
    assert sample_scores(samples, "relaxed_overall") == [float(right) for *_, right in DOCS]
    assert all(set(row["scores"]["none"]) == {"relaxed_overall", "relaxed_human_split"} for row in samples if row["doc_id"] in (0, 1, 2, 7, 9))
    assert prompt_text(samples[0]) == "What is the value for 2019?\nAnswer the question with a single word."


@pytest.mark.parametrize(
    ("prediction", "gold", "right"),
    [
        ("45%", "45", False),
        ("45", "45%", False),
        ("45%", "45%", True),
        ("0.45", "45%", True),
        ("47", "45", True),  # 4.4%
        ("48", "45", False),  # 6.7%
        ("-10.4", "-10", True),  # relative to |gold|
        ("0", "0", True),
        ("0.0", "0", False),
        ("0.01", "0", False),
        ("1e2", "100", True),  # Python's float() reading
        (" 100 ", "100", True),
        ("1_000", "1000", True),
        ("45%%", "0.45", True),  # every trailing "%" goes, one division
        ("Yes", "yes", True),
        ("yes.", "yes", False),
        ("", "0", False),
        ("nan", "5", False),
    ],
)
def test_relaxed_correctness(prediction, gold, right):
    assert utils.relaxed_correctness(prediction, gold) is right


def test_to_float():
    assert utils.to_float("12.5%") == 0.125
    assert utils.to_float("abc") is None
    assert utils.to_float("%") is None
