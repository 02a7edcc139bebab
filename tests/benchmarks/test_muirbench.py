"""muirbench: every image of `image_list`, the "L." flexible-extract filter and the
case-insensitive whole-reply comparison."""

from __future__ import annotations

import pytest

from benchmark_helpers import image_count, prompt_text, run_benchmark, solid_image, user_task, write_parquet

POST = "\nAnswer with the option's letter from the given choices directly."
OPTIONS = ["left", "right", "both", "neither"]

# (question, task, answer, reply, correct?)
DOCS = [
    ("[m1] Which image shows the cat?", "Image-Text Matching", "A", "A", True),
    ("[m2] Which image shows the dog?", "Image-Text Matching", "B", "b", True),  # case ignored
    ("[m3] Which is larger?", "Counting", "C", "C. both of them", True),  # "L." keeps the letter
    ("[m4] Which is smaller?", "Counting", "D", "(D)", False),  # no "L.": the whole reply
    ("[m5] Where is it?", "Counting", "A", "Answer: A", False),
]


def features():
    import datasets

    text = datasets.Value("string")
    return datasets.Features({"idx": text, "task": text, "image_relation": text, "image_type": text, "question": text,
                              "options": datasets.List(text), "answer": text, "image_list": datasets.List(datasets.Image()),
                              "counterpart_idx": text})  # fmt: skip


def test_muirbench_end_to_end(tmp_path):
    rows = [{"idx": str(n), "task": task, "image_relation": "Narrative", "image_type": "Photo", "question": q, "options": OPTIONS,
             "answer": a, "image_list": [solid_image(n), solid_image(n + 20), solid_image(n + 40)][: 2 + n % 2], "counterpart_idx": ""}
            for n, (q, task, a, _, _) in enumerate(DOCS)]  # fmt: skip
    data = write_parquet(tmp_path / "data" / "test.parquet", rows, features())
    folder = tmp_path / "tasks"
    user_task(folder, "muirbench", "muirbench/muirbench.yaml", "test", data)
    run = run_benchmark(tmp_path, "muirbench", folder, {q: reply for q, _, _, reply, _ in DOCS})
    scores = run.scores("muirbench")
    assert scores["muirbench_score_overall,flexible-extract"] == pytest.approx(3 / 5)
    assert scores["muirbench_by_task,flexible-extract"] == pytest.approx({"Counting": 1 / 3, "Image-Text Matching": 1.0})
    block = "\n".join(f"{letter}. {option}" for letter, option in zip("ABCD", OPTIONS))
    assert prompt_text(run.samples[0]) == f"{DOCS[0][0]}\n{block}{POST}"
    assert [image_count(sample) for sample in run.samples] == [2, 3, 2, 3, 2]
    assert [sample["filtered_resps"]["flexible-extract"] for sample in run.samples][2:4] == ["C", "(D)"]
    assert {body["max_tokens"] for body in run.bodies} == {16}
