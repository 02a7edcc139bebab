"""TextVQA (validation): the capitalised prompt, the OCR-token switch, the "ASSISTANT:" stop
and VQA accuracy with the EvalAI processor on prediction and golds."""

from __future__ import annotations


import pytest

from benchmark_helpers import evaluate, prompt_text, read_results, read_samples, sample_scores, solid_image, user_task, write_parquet

from lmms_eval.tasks.textvqa import utils

POST_PROMPT = "\nAnswer the question using a single word or phrase."

# (question, ten answers, canned reply, expected VQA accuracy)
DOCS = [
    ("what brand is the SHOE?", ["Nike"] * 3 + ["nike."] * 2 + ["NIKE!"] + ["adidas"] * 4, "Nike ASSISTANT: and more", 1.0),
    ("how many bottles are there?", ["2"] * 2 + ["two"] + ["3"] * 7, "Two.", 0.9),
    ("whose name is on the sign?", ["joe's"] * 2 + ["joes"] * 8, "Joe's", 0.6),
    ("what does the sign say?", ["stop"] * 10, "go", 0.0),
    ("what number is on the jersey?", ["23"] + ["twenty three"] * 9, "23", 0.3),
]


def features():
    import datasets

    text = datasets.Value("string")
    return datasets.Features(
        {
            "image_id": text,
            "question_id": datasets.Value("int64"),
            "question": text,
            "question_tokens": datasets.List(text),
            "image": datasets.Image(),
            "image_width": datasets.Value("int64"),
            "image_height": datasets.Value("int64"),
            "flickr_original_url": text,
            "flickr_300k_url": text,
            "answers": datasets.List(text),
            "image_classes": datasets.List(text),
            "set_name": text,
            "ocr_tokens": datasets.List(text),
        }
    )


def row(number: int, question: str, answers: list[str]) -> dict:
    return {
        "image_id": f"{number:016x}",
        "question_id": 34602 + number,
        "question": question,
        "question_tokens": question.rstrip("?").split(),
        "image": solid_image(number),
        "image_width": 10,
        "image_height": 10,
        "flickr_original_url": f"https://example.org/{number}_o.jpg",
        "flickr_300k_url": f"https://example.org/{number}_z.jpg",
        "answers": answers,
        "image_classes": ["Sign"],
        "set_name": "val",
        "ocr_tokens": ["nike", "23"],
    }


def test_textvqa_val_end_to_end(tmp_path):
    data = write_parquet(tmp_path / "data" / "validation.parquet", [row(n, q, a) for n, (q, a, _, _) in enumerate(DOCS)], features())
    folder = tmp_path / "tasks"
    user_task(folder, "textvqa_val", "textvqa/textvqa_val.yaml", "validation", data)
    canned = {question.capitalize(): reply for question, _, reply, _ in DOCS}
    output = tmp_path / "out"
    assert evaluate("textvqa_val", folder, output, canned) == 0

    expected = [score for *_, score in DOCS]
    scores = read_results(output)["results"]["textvqa_val"]
    assert scores["exact_match,none"] == pytest.approx(sum(expected) / len(expected), abs=1e-12)  # 0.56
    samples = read_samples(output, "textvqa_val")
    assert sample_scores(samples, "exact_match") == pytest.approx(expected, abs=1e-12)
    assert prompt_text(samples[0]) == "What brand is the shoe?" + POST_PROMPT
    assert samples[0]["resps"] == ["Nike "]  # cut at the "ASSISTANT:" stop string; raw, so not yet stripped
    assert samples[0]["target"] == DOCS[0][1]


def test_prompt_capitalises_like_python_and_adds_ocr_tokens_on_request():
    doc = {"question": "what does the SIGN say?", "ocr_tokens": ["STOP", "main st"]}
    kwargs = {"pre_prompt": "", "post_prompt": POST_PROMPT, "ocr": False}
    assert utils.doc_to_text(doc, kwargs) == "What does the sign say?" + POST_PROMPT
    with_ocr = utils.doc_to_text(doc, {**kwargs, "ocr": True})
    assert with_ocr == "What does the sign say?\nReference OCR token: STOP, main st" + POST_PROMPT
