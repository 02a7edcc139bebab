"""ok_vqa_val2014 and vizwiz_vqa_val: VQA accuracy over the ten processed golds, the
"ASSISTANT:" stop, and VizWiz's capitalised prompt."""

from __future__ import annotations

import pytest

from benchmark_helpers import evaluate, prompt_text, read_results, read_samples, sample_scores, solid_image, user_task, write_parquet

POST_PROMPT = "\nWhen the provided information is insufficient, respond with 'Unanswerable'.\nAnswer the question using a single word or phrase."

# (question, ten answers, canned reply, expected VQA accuracy)
OK_VQA = [
    ("[o1] What sport can you use this for?", ["race"] * 4 + ["motocross"] * 6, "Motocross ASSISTANT: more", 1.0),
    ("[o2] How many wheels does it have?", ["2"] * 2 + ["two"] + ["4"] * 7, "Two.", 0.9),  # "two" -> "2"
    ("[o3] Which brand?", ["honda"] * 2 + ["yamaha"] * 8, "Honda!", 0.6),
    ("[o4] What is it made of?", ["metal"] * 10, "wood", 0.0),
]
VIZWIZ = [
    ("[v1] What is this? Is it Pepsi?", ["pepsi"] * 10, "Pepsi", 1.0),
    ("[v2] What color is this shirt?", ["unanswerable"] * 5 + ["blue"] * 5, "Unanswerable.", 1.0),
    ("[v3] What does the label say?", ["unanswerable"] * 2 + ["soup"] * 8, "the soup", 1.0),  # articles are dropped
    ("[v4] Which flavour?", ["mint"] + ["vanilla"] * 9, "mint", 0.3),
]


def ok_vqa_rows() -> tuple[list[dict], object]:
    import datasets

    text = datasets.Value("string")
    features = datasets.Features({"question_id": text, "image": datasets.Image(), "question": text,
                                  "answers": datasets.List(text), "question_type": text, "answer_type": text})  # fmt: skip
    rows = [{"question_id": str(2971475 + n), "image": solid_image(n), "question": q, "answers": a, "question_type": "other", "answer_type": "other"} for n, (q, a, _, _) in enumerate(OK_VQA)]
    return rows, features


def vizwiz_rows() -> tuple[list[dict], object]:
    import datasets

    text = datasets.Value("string")
    features = datasets.Features({"question_id": text, "image": datasets.Image(), "question": text, "answers": datasets.List(text), "category": text})
    rows = [{"question_id": f"VizWiz_val_{n:08d}.jpg", "image": solid_image(n + 7), "question": q, "answers": a, "category": "other"} for n, (q, a, _, _) in enumerate(VIZWIZ)]
    return rows, features


@pytest.mark.parametrize(
    ("task", "include", "split", "docs", "make_rows", "prompt_of"),
    [
        ("ok_vqa_val2014", "ok_vqa/ok_vqa_val2014.yaml", "val2014", OK_VQA, ok_vqa_rows, lambda q: q),
        ("vizwiz_vqa_val", "vizwiz_vqa/vizwiz_vqa_val.yaml", "val", VIZWIZ, vizwiz_rows, str.capitalize),
    ],
)
def test_vqa_accuracy_end_to_end(tmp_path, task, include, split, docs, make_rows, prompt_of):
    rows, features = make_rows()
    data = write_parquet(tmp_path / "data" / f"{split}.parquet", rows, features)
    folder = tmp_path / "tasks"
    user_task(folder, task, include, split, data)
    output = tmp_path / "out"
    canned = {prompt_of(question): reply for question, _, reply, _ in docs}
    assert evaluate(task, folder, output, canned) == 0

    expected = [score for *_, score in docs]
    assert read_results(output)["results"][task]["exact_match,none"] == pytest.approx(sum(expected) / len(expected))
    samples = read_samples(output, task)
    assert sample_scores(samples, "exact_match") == pytest.approx(expected)
    assert prompt_text(samples[0]) == prompt_of(docs[0][0]) + POST_PROMPT
    assert samples[0]["target"] == docs[0][1]


def test_vizwiz_capitalise_lowers_the_rest():
    assert prompt_of_vizwiz("What is this? Is it Pepsi?") == "What is this? is it pepsi?" + POST_PROMPT


def prompt_of_vizwiz(question: str) -> str:
    from benchmark_helpers import task_module

    return task_module("vizwiz_vqa").doc_to_text({"question": question}, {"pre_prompt": "", "post_prompt": POST_PROMPT})
