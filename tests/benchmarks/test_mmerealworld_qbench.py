"""mmerealworld_lite (base64 images, fixed prompt, capital-letter-anywhere reader, empty reply
reads A) and qbench_dev (N/A options skipped, MMMU parser with the right-most tie-break
lmms-eval crashes on, per type and concern buckets)."""

from __future__ import annotations

import base64
import random

import pytest

from benchmark_helpers import image_count, prompt_text, run_benchmark, solid_image, task_module, user_task, write_parquet

OPTIONS = ["(A) red", "(B) blue", "(C) green", "(D) white", "(E) black"]
# (question, category, answer, reply, correct?)
REALWORLD = [
    ("[r1] What colour is the car?", "Perception/Monitoring", "B", "B", True),
    ("[r2] What colour is the sign?", "Perception/Monitoring", "C", "The best answer is (C).", True),
    ("[r3] What colour is the roof?", "Reasoning/Autonomous_Driving", "D", "Based on the image, D", False),  # "Based" reads B
    ("[r4] What colour is the door?", "Reasoning/Autonomous_Driving", "A", "a", True),  # inside "(a)"
    ("[r5] What colour is the bus?", "Perception/Monitoring", "E", "this is a very long answer with many words that names no option", False),
]


def test_mmerealworld_lite_end_to_end(tmp_path):
    import datasets

    text = datasets.Value("string")
    features = datasets.Features({"index": datasets.Value("int64"), "question": text, "multi-choice options": datasets.List(text), "answer": text,
                                  "category": text, "l2-category": text, "bytes": text})  # fmt: skip
    rows = [{"index": n, "question": q, "multi-choice options": OPTIONS, "answer": a, "category": c, "l2-category": "color",
             "bytes": base64.b64encode(solid_image(n)["bytes"]).decode()} for n, (q, c, a, _, _) in enumerate(REALWORLD)]  # fmt: skip
    data = write_parquet(tmp_path / "data" / "train.parquet", rows, features)
    folder = tmp_path / "tasks"
    user_task(folder, "mmerealworld_lite", "mmerealworld/mmerealworld_lite.yaml", "train", data)
    run = run_benchmark(tmp_path, "mmerealworld_lite", folder, {q: reply for q, _, _, reply, _ in REALWORLD})
    scores = run.scores("mmerealworld_lite")
    assert scores["mme_realworld_score,none"] == pytest.approx(3 / 5)
    assert scores["mme_realworld_breakdown,none"]["Reasoning"] == pytest.approx(0.5)
    assert scores["mme_realworld_breakdown,none"]["Perception/Monitoring"] == pytest.approx(2 / 3)
    assert prompt_text(run.samples[0]) == (
        "[r1] What colour is the car? The choices are listed below:\n" + "\n".join(OPTIONS) + "\nSelect the best answer to the above "
        "multiple-choice question based on the image. Respond with only the letter (A, B, C, D, or E) of the correct option.\nThe best answer is: "
    )
    assert image_count(run.samples[0]) == 1


def test_mmerealworld_empty_reply_reads_a():
    assert task_module("mmerealworld").extract_letter("") == "A"
    assert task_module("mmerealworld").extract_letter("The answer is E") == "E"


# (id, question, options, correct_choice, type, concern, reply, correct or None for the seeded fallback)
QBENCH = [
    (0, "[q1] Is the image blurry?", ["Yes", "No", "N/A", "N/A"], "A", 0, 0, "A", True),
    (1, "[q2] How is the lighting?", ["dark", "bright", "normal", "N/A"], "C", 1, 2, "(B) or (C)", True),  # right-most, no crash
    (2, "[q3] What distortion is there?", ["noise", "blur", "none", "overexposure"], "D", 2, 3, "no idea", None),
]


def test_qbench_dev_end_to_end(tmp_path):
    import datasets

    text = datasets.Value("string")
    features = datasets.Features({"id": datasets.Value("int64"), "image": datasets.Image(), "question": text, **{f"option{n}": text for n in range(4)},
                                  "question_type": datasets.Value("int64"), "question_concern": datasets.Value("int64"), "correct_choice": text})  # fmt: skip
    rows = [{"id": i, "image": solid_image(i), "question": q, **{f"option{n}": o for n, o in enumerate(opts)}, "question_type": t,
             "question_concern": c, "correct_choice": a} for i, q, opts, a, t, c, _, _ in QBENCH]  # fmt: skip
    data = write_parquet(tmp_path / "data" / "dev.parquet", rows, features)
    folder = tmp_path / "tasks"
    user_task(folder, "qbench_dev", "qbench/qbench_dev.yaml", "dev", data)
    run = run_benchmark(tmp_path, "qbench_dev", folder, {q: reply for _, q, *_, reply, _ in QBENCH})
    fallback_right = random.Random("42:2").choice("ABCD") == "D"
    expected = [1.0, 1.0, float(fallback_right)]
    assert [sample["scores"]["none"]["qbench_score"] for sample in run.samples] == expected
    breakdown = run.scores("qbench_dev")["qbench_breakdown,none"]
    assert breakdown["How"] == 1.0 and breakdown["Local Distortion"] == 1.0
    assert prompt_text(run.samples[0]) == "[q1] Is the image blurry?\nA. Yes\nB. No\nAnswer with the option's letter from the given choices directly.\n"
    assert {body["max_tokens"] for body in run.bodies} == {32}
