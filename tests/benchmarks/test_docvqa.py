"""DocVQA and InfographicVQA (validation): ANLS as the paper defines it (NL exactly 0.5
scores 0; the normalised strings' lengths divide), best gold, per-type breakdowns."""

from __future__ import annotations


import pytest

from benchmark_helpers import evaluate, prompt_text, read_results, read_samples, sample_scores, solid_image, user_task, write_parquet

from lmms_eval.metrics.sample import anls

POST_PROMPT = "\nAnswer the question using a single word or phrase."


# --- ANLS ------------------------------------------------------------------------------------


def test_anls_at_exactly_half_scores_zero():
    assert anls("abxy", ["abcd"]) == 0.0  # NL = 2 / 4 = 0.5: not < 0.5
    assert anls("abcx", ["abcd"]) == 0.75
    assert anls("abcde", ["abxyz"]) == 0.0  # 3 / 5 = 0.6


def test_anls_divides_by_the_longer_normalised_string():
    # Raw lengths (the RRC script's) would give 2 / 8 and score 0.75; normalised: 2 / 4.
    assert anls("abxy", ["  ABCD  "]) == 0.0
    assert anls("  John   SMITH ", ["john smith"]) == 1.0
    assert anls("", [""]) == 1.0
    assert anls("x", [""]) == 0.0


def test_anls_takes_the_best_gold():
    assert anls("John Smyth", ["Dr. John Smith", "John Smith"]) == pytest.approx(0.9)


# --- DocVQA ------------------------------------------------------------------------------------

# (question, answers, question_types, canned reply, expected ANLS)
DOC_DOCS = [
    ("What is the date?", ["March 5, 1998", "5 March 1998"], ["form"], "march 5,  1998", 1.0),
    ("What is the code?", ["abcd"], ["layout"], "abxy", 0.0),
    ("What is the total?", ["abcd"], ["table/list", "layout"], "abcx", 0.75),
    ("Who signed the letter?", ["Dr. John Smith", "John Smith"], ["handwritten"], "John Smyth", 0.9),
    ("What is the heading?", ["Quarterly Report"], ["layout"], "Annual", 0.0),
]
DOC_BY_TYPE = {"form": 1.0, "handwritten": 0.9, "layout": 0.25, "table/list": 0.75}


def docvqa_features():
    import datasets

    text = datasets.Value("string")
    return datasets.Features(
        {
            "questionId": text,
            "question": text,
            "question_types": datasets.List(text),
            "image": datasets.Image(),
            "docId": datasets.Value("int64"),
            "ucsf_document_id": text,
            "ucsf_document_page_no": text,
            "answers": datasets.List(text),
            "data_split": text,
        }
    )


def docvqa_row(number: int, question: str, answers: list[str], types: list[str]) -> dict:
    return {
        "questionId": str(49153 + number),
        "question": question,
        "question_types": types,
        "image": solid_image(number),
        "docId": 14465 + number,
        "ucsf_document_id": f"pybv{number:04d}",
        "ucsf_document_page_no": str(number + 1),
        "answers": answers,
        "data_split": "val",
    }


def test_docvqa_val_end_to_end(tmp_path):
    rows = [docvqa_row(n, q, a, t) for n, (q, a, t, _, _) in enumerate(DOC_DOCS)]
    data = write_parquet(tmp_path / "data" / "validation.parquet", rows, docvqa_features())
    folder = tmp_path / "tasks"
    user_task(folder, "docvqa_val", "docvqa/docvqa_val.yaml", "validation", data)
    output = tmp_path / "out"
    assert evaluate("docvqa_val", folder, output, {question: reply for question, _, _, reply, _ in DOC_DOCS}) == 0

    scores = read_results(output)["results"]["docvqa_val"]
    assert scores["anls,none"] == pytest.approx(0.53, abs=1e-12)
    assert scores["anls_by_question_type,none"] == pytest.approx(DOC_BY_TYPE, abs=1e-12)
    samples = read_samples(output, "docvqa_val")
    assert sample_scores(samples, "anls") == pytest.approx([score for *_, score in DOC_DOCS], abs=1e-12)
    assert prompt_text(samples[0]) == "What is the date?" + POST_PROMPT
    assert samples[0]["target"] == ["March 5, 1998", "5 March 1998"]


# --- InfographicVQA ----------------------------------------------------------------------------

# (question, answers, answer_type, operation/reasoning, canned reply, expected ANLS)
INFO_DOCS = [
    ("How many countries are shown?", ["7", "seven"], ["non-extractive"], ["counting"], "Seven", 1.0),
    ("Which country has the highest rate?", ["France"], ["single span"], [], "Frence", 5 / 6),
    ("What share of adults smoke?", ["45%"], ["single span"], ["arithmetic"], "45 %", 0.75),
    ("Name the two cities.", ["paris, london"], ["multi-span"], [], "rome", 0.0),
]
INFO_BY_TYPE = {
    "answer_type/multi-span": 0.0,
    "answer_type/non-extractive": 1.0,
    "answer_type/single span": (5 / 6 + 0.75) / 2,
    "operation/arithmetic": 0.75,
    "operation/counting": 1.0,
}


def infovqa_features():
    import datasets

    text = datasets.Value("string")
    return datasets.Features(
        {
            "questionId": text,
            "question": text,
            "answers": datasets.List(text),
            "answer_type": datasets.List(text),
            "image": datasets.Image(),
            "image_url": text,
            "operation/reasoning": datasets.List(text),
            "ocr": text,
            "data_split": text,
        }
    )


def test_infovqa_val_end_to_end(tmp_path):
    rows = [
        {
            "questionId": str(65718 + n),
            "question": question,
            "answers": answers,
            "answer_type": answer_type,
            "image": solid_image(n),
            "image_url": f"https://example.org/infographic_{n}.jpg",
            "operation/reasoning": operations,
            "ocr": f"{n}.json",
            "data_split": "val",
        }
        for n, (question, answers, answer_type, operations, _, _) in enumerate(INFO_DOCS)
    ]
    data = write_parquet(tmp_path / "data" / "validation.parquet", rows, infovqa_features())
    folder = tmp_path / "tasks"
    user_task(folder, "infovqa_val", "infovqa/infovqa_val.yaml", "validation", data)
    output = tmp_path / "out"
    assert evaluate("infovqa_val", folder, output, {question: reply for question, *_, reply, _ in INFO_DOCS}) == 0

    expected = [score for *_, score in INFO_DOCS]
    scores = read_results(output)["results"]["infovqa_val"]
    assert scores["anls,none"] == pytest.approx(sum(expected) / 4, abs=1e-12)
    assert scores["anls_by_type,none"] == pytest.approx(INFO_BY_TYPE, abs=1e-12)
    samples = read_samples(output, "infovqa_val")
    assert sample_scores(samples, "anls") == pytest.approx(expected, abs=1e-12)
    assert prompt_text(samples[2]) == "What share of adults smoke?" + POST_PROMPT
