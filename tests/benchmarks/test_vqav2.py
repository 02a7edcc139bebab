"""VQAv2 (val and its lite subset): the official tool's normalisation rule, leave-one-out
accuracy, the default blank-line stop and the per-answer-type breakdown."""

from __future__ import annotations


import pytest

from benchmark_helpers import evaluate, prompt_text, read_results, read_samples, sample_scores, solid_image, user_task, write_parquet

from lmms_eval.tasks.vqav2 import utils

# (question, answer_type, ten answers, canned reply, expected accuracy)
DOCS = [
    ("What is the man wearing?", "other", ["t-shirt"] * 10, "t-shirt", 0.0),  # identical golds stay "t-shirt"
    ("What is the woman wearing?", "other", ["t-shirt"] * 9 + ["shirt"], "T-shirt", 1.0),
    ("How many dogs are there?", "number", ["two"] * 3 + ["2"] + ["3"] * 6, "Two", 0.3),
    ("Is it raining?", "yes/no", ["yes"] * 10, "Yes.\n\nIt is raining hard.", 1.0),
    ("Is the door open?", "yes/no", ["no"] * 2 + ["yes"] * 8, "no", 0.6),
    ("What sport is this?", "other", ["tennis"] * 10, "the tennis", 1.0),
]
BY_TYPE = {"number": 0.3, "other": 2 / 3, "yes/no": 0.8}


def features():
    import datasets

    text = datasets.Value("string")
    answer = {"answer": text, "answer_confidence": text, "answer_id": datasets.Value("int64")}
    return datasets.Features(
        {
            "question_type": text,
            "multiple_choice_answer": text,
            "answers": datasets.List(answer),
            "image_id": datasets.Value("int64"),
            "answer_type": text,
            "question_id": datasets.Value("int64"),
            "question": text,
            "image": datasets.Image(),
        }
    )


def row(number: int, question: str, answer_type: str, answers: list[str]) -> dict:
    return {
        "question_type": " ".join(question.lower().split()[:2]),
        "multiple_choice_answer": max(set(answers), key=answers.count),
        "answers": [{"answer": a, "answer_confidence": "yes", "answer_id": i + 1} for i, a in enumerate(answers)],
        "image_id": 262148 + number,
        "answer_type": answer_type,
        "question_id": 262148000 + number,
        "question": question,
        "image": solid_image(number),
    }


def test_vqav2_val_and_lite_end_to_end(tmp_path):
    data = write_parquet(tmp_path / "data" / "vqav2.parquet", [row(n, q, t, a) for n, (q, t, a, _, _) in enumerate(DOCS)], features())
    folder = tmp_path / "tasks"
    user_task(folder, "vqav2_val", "vqav2/vqav2_val.yaml", "validation", data)
    user_task(folder, "vqav2_val_lite", "vqav2/vqav2_val_lite.yaml", "lite", data)
    canned = {question: reply for question, _, _, reply, _ in DOCS}
    output = tmp_path / "out"
    assert evaluate("vqav2_val,vqav2_val_lite", folder, output, canned) == 0

    expected = [score for *_, score in DOCS]
    results = read_results(output)["results"]
    for task in ("vqav2_val", "vqav2_val_lite"):
        scores = results[task]
        assert scores["exact_match,none"] == pytest.approx(0.65, abs=1e-12)
        assert scores["exact_match_by_answer_type,none"] == pytest.approx(BY_TYPE, abs=1e-12)
        assert scores["exact_match_by_answer_type_stderr,none"] == "N/A"
        samples = read_samples(output, task)
        assert sample_scores(samples, "exact_match") == pytest.approx(expected, abs=1e-12)
    assert prompt_text(samples[0]) == "What is the man wearing?\nAnswer the question using a single word or phrase."
    assert samples[3]["resps"] == ["Yes."]  # cut at the default "\n\n" stop
    assert samples[1]["target"] == ["t-shirt"] * 9 + ["shirt"]


def test_answers_saved_as_a_dict_of_lists_read_the_same():
    listed = {"answers": [{"answer": "a", "answer_confidence": "yes", "answer_id": 1}, {"answer": "b", "answer_confidence": "no", "answer_id": 2}]}
    columns = {"answers": {"answer": ["a", "b"], "answer_confidence": ["yes", "no"], "answer_id": [1, 2]}}
    assert utils.human_answers(listed) == utils.human_answers(columns) == ["a", "b"]
