"""blink: the group's unweighted mean of the 14 subtask accuracies, the note prompt over
the authors' `prompt`, all non-empty images, and the first-letter reader."""

from __future__ import annotations

import pytest

from benchmark_helpers import image_count, prompt_text, read_results, read_samples, evaluate, solid_image, user_task, write_parquet

CONFIGS = ["Art_Style", "Counting", "Forensic_Detection", "Functional_Correspondence", "IQ_Test", "Jigsaw", "Multi-view_Reasoning",
           "Object_Localization", "Relative_Depth", "Relative_Reflectance", "Semantic_Correspondence", "Spatial_Relation",
           "Visual_Correspondence", "Visual_Similarity"]  # fmt: skip
NOTE = "Note: You only need to respond with A, B without providing any additional information.\n"
# Replies for the first subtask (two questions, answer "(A)"): "(a)" right, "The answer is (A)" reads T.
FIRST = ["(a)", "The answer is (A)"]


def features():
    import datasets

    text = datasets.Value("string")
    images = {f"image_{n}": datasets.Image() for n in range(1, 5)}
    return datasets.Features({"idx": text, "question": text, "sub_task": text, **images, "choices": datasets.List(text), "answer": text, "prompt": text, "explanation": text})


def row(config: str, number: int) -> dict:
    images = {f"image_{n}": solid_image(number * 4 + n) if n <= 1 + number % 3 else None for n in range(1, 5)}
    prompt = f"[{config} {number}] Which image matches?\nSelect from the following choices.\n(A) the first\n(B) the second"
    return {"idx": f"val_{config}_{number}", "question": "Which image matches?", "sub_task": config.replace("_", " "), **images,
            "choices": ["(A)", "(B)"], "answer": "(A)", "prompt": prompt, "explanation": ""}  # fmt: skip


def test_blink_group_is_the_unweighted_mean(tmp_path):
    folder = tmp_path / "tasks"
    canned = {}
    for index, config in enumerate(CONFIGS):
        name = "blink_" + config.lower().replace("-", "_")
        rows = [row(config, n) for n in range(2 if index == 0 else 1)]
        data = write_parquet(tmp_path / "data" / f"{config}.parquet", rows, features())
        user_task(folder, name, f"blink/{name}.yaml", "val", data)
        replies = FIRST if index == 0 else ["B" if index % 2 else " A."]  # odd subtasks wrong
        canned |= {row["prompt"]: reply for row, reply in zip(rows, replies)}
    output = tmp_path / "out"
    assert evaluate("blink", folder, output, canned) == 0
    results = read_results(output)["results"]
    subtask = [0.5] + [0.0 if index % 2 else 1.0 for index in range(1, 14)]  # 0.5, then 6 right of 13
    assert results["blink_art_style"]["blink_acc,none"] == 0.5
    full = read_results(output)
    assert full["group_subtasks"]["blink"] == ["blink_" + config.lower().replace("-", "_") for config in CONFIGS]
    assert full["groups"]["blink"]["blink_acc,none"] == pytest.approx(sum(subtask) / 14)  # not 7/15 of questions
    samples = read_samples(output, "blink_art_style")
    assert prompt_text(samples[0]) == NOTE + row("Art_Style", 0)["prompt"]
    assert [image_count(sample) for sample in samples] == [1, 2]
