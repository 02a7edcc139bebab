"""OCRBench: gold-as-substring matching (spaces deleted for HME100k, case folded for the
rest), the accuracy, and the official report's counts per type and category."""

from __future__ import annotations


import pytest

from benchmark_helpers import evaluate, prompt_text, read_results, read_samples, sample_scores, solid_image, user_task, write_parquet

from lmms_eval.tasks.ocrbench import utils

HME = "Handwritten Mathematical Expression Recognition"
# (source dataset, question type, question, answers, canned reply, right?)
DOCS = [
    ("IIIT5K", "Regular Text Recognition", "  what is written in the image?\n", ["CENTRAL"], "The text says: Central station", True),
    ("HME100k", HME, "Please write out the expression of the formula in the image using LaTeX format.", ["x ^ { 2 } + 1"], "x^{2}+1", True),
    ("HME100k", HME, "Write the formula in the image in LaTeX.", ["\\frac { A } { B }"], "\\frac{a}{b}", False),  # case kept
    ("textVQA", "Scene Text-centric VQA", "what brand is this drink?", ["coca cola", "coke"], "Coca-Cola", False),
    ("FUNSD", "Key Information Extraction", "what is the date on the form?", ["12/03/1999"], "Date:\n12/03/1999", True),
    ("docVQA", "Doc-oriented VQA", "what is the total amount?", ["$ 1,234"], "1,234", False),
    ("ORAND", "Digit String Recognition", "what number is written in the image?", ["12345"], "123 45", False),
]


def features():
    import datasets

    text = datasets.Value("string")
    return datasets.Features(
        {"dataset": text, "question": text, "question_type": text, "answer": datasets.List(text), "image": datasets.Image()}
    )


def test_ocrbench_end_to_end(tmp_path):
    rows = [
        {"dataset": source, "question": question, "question_type": kind, "answer": answers, "image": solid_image(n)}
        for n, (source, kind, question, answers, _, _) in enumerate(DOCS)
    ]
    data = write_parquet(tmp_path / "data" / "test.parquet", rows, features())
    folder = tmp_path / "tasks"
    user_task(folder, "ocrbench", "ocrbench/ocrbench.yaml", "test", data)
    canned = {question.strip(): reply for _, _, question, _, reply, _ in DOCS}
    output = tmp_path / "out"
    assert evaluate("ocrbench", folder, output, canned) == 0

    results = read_results(output)["results"]["ocrbench"]
    assert results["ocrbench_accuracy,none"] == pytest.approx(3 / 7, abs=1e-12)
    counts = results["ocrbench_scores,none"]
    assert counts == {
        "Regular Text Recognition": 1,
        "Irregular Text Recognition": 0,
        "Artistic Text Recognition": 0,
        "Handwriting Recognition": 0,
        "Digit String Recognition": 0,
        "Non-Semantic Text Recognition": 0,
        "Scene Text-centric VQA": 0,
        "Doc-oriented VQA": 0,
        "Key Information Extraction": 1,
        HME: 1,
        "Text Recognition": 1,
        "Final Score": 3,
    }
    samples = read_samples(output, "ocrbench")
    assert sample_scores(samples, "ocrbench_accuracy") == [float(right) for *_, right in DOCS]
    assert prompt_text(samples[0]) == "what is written in the image?"  # the question, stripped, alone


def test_scores_are_recomputed_from_scratch_each_time():
    values = [{"question_type": "Doc-oriented VQA", "correct": True}, {"question_type": "New Type", "correct": True}]
    assert utils.scores(values) == utils.scores(values)
    assert utils.scores(values)["Final Score"] == 2
    assert utils.scores(values)["New Type"] == 1


@pytest.mark.parametrize(
    ("prediction", "answers", "dataset", "right"),
    [
        ("x ^ 2", ["x^2"], "HME100k", True),
        ("x^2", ["x ^ 2"], "HME100k", True),
        ("X^2", ["x^2"], "HME100k", False),
        ("x\n^2", ["x^2"], "HME100k", True),
        ("HELLO world", ["hello"], "IIIT5K", True),
        ("hello\nworld", ["hello world"], "IIIT5K", True),
        ("hello  world", ["hello world"], "IIIT5K", False),  # no whitespace collapsing
        ("ＡＢＣ", ["abc"], "IIIT5K", False),  # no full-width folding
        ("abc", ["xyz", "ab"], "IIIT5K", True),
    ],
)
def test_is_correct(prediction, answers, dataset, right):
    assert utils.is_correct(prediction, answers, dataset) is right
