"""cv_bench: the note-and-blank-line prompt, the first-letter reader, and the official
overall (2D = mean of ADE20K and COCO, then mean with 3D) next to lmms-eval's plain accuracy."""

from __future__ import annotations

import pytest

from benchmark_helpers import prompt_text, run_benchmark, solid_image, user_task, write_parquet

# (prompt, source, choices, answer, reply, correct?)
DOCS = [
    ("[c1] How many chairs? (A) 1 (B) 2 (C) 3", "ADE20K", ["1", "2", "3"], "(B)", "B", True),
    ("[c2] How many lamps? (A) 0 (B) 1", "ADE20K", ["0", "1"], "(A)", "(A) 0", True),
    ("[c3] Is the cup left of the plate? (A) yes (B) no", "COCO", ["yes", "no"], "(A)", "The answer is (A)", False),  # reads "T"
    ("[c4] Which is closer? (A) the sofa (B) the table", "Omni3D", ["the sofa", "the table"], "(B)", " b.", True),
    ("[c5] Which is farther? (A) the bed (B) the door", "Omni3D", ["the bed", "the door"], "(A)", "B", False),
]


def features():
    import datasets

    text = datasets.Value("string")
    return datasets.Features({"idx": datasets.Value("int64"), "type": text, "task": text, "image": datasets.Image(), "question": text,
                              "choices": datasets.List(text), "answer": text, "prompt": text, "filename": text, "source": text,
                              "source_dataset": text, "source_filename": text, "target_class": text, "target_size": datasets.Value("int64"),
                              "bbox": datasets.List(datasets.List(datasets.Value("float64")))})  # fmt: skip


def test_cv_bench_end_to_end(tmp_path):
    rows = [{"idx": n, "type": "3D" if src == "Omni3D" else "2D", "task": "Depth" if src == "Omni3D" else "Count", "image": solid_image(n),
             "question": p.split(" (A)")[0], "choices": ch, "answer": a, "prompt": p, "filename": f"img/{n}.png", "source": src,
             "source_dataset": src, "source_filename": f"{n}.jpg", "target_class": "", "target_size": 0, "bbox": [[0.0, 0.0, 1.0, 1.0]]}
            for n, (p, src, ch, a, _, _) in enumerate(DOCS)]  # fmt: skip
    data = write_parquet(tmp_path / "data" / "test.parquet", rows, features())
    folder = tmp_path / "tasks"
    user_task(folder, "cv_bench", "cv_bench/cv_bench.yaml", "test", data)
    run = run_benchmark(tmp_path, "cv_bench", folder, {p: reply for p, _, _, _, reply, _ in DOCS})
    scores = run.scores("cv_bench")
    # ADE20K 2/2, COCO 0/1 -> 2D 0.5; Omni3D 1/2 -> 0.5; overall 0.5. Plain accuracy 3/5.
    assert scores["cv_bench_overall,none"] == pytest.approx(0.5)
    assert scores["cv_bench_acc,none"] == pytest.approx(3 / 5)
    assert prompt_text(run.samples[0]) == "Note: You only need to respond with A, B, C without providing any additional information.\n\n" + DOCS[0][0]
    assert {body["max_tokens"] for body in run.bodies} == {1024}


def test_official_overall_weights_sources_not_questions():
    from benchmark_helpers import task_module

    overall = task_module("cv_bench").official_overall
    values = [{"source": "ADE20K", "correct": True}] * 9 + [{"source": "COCO", "correct": False}] + [{"source": "Omni3D", "correct": True}]
    assert overall(values) == pytest.approx(0.5 * (0.5 + 1.0))
