"""SEED-Bench (image part): first-character scoring, the image-only filter, per-dimension scores."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmark_helpers import banded_image, evaluate, image_count, library_config, prompt_text, read_results, read_samples, task_module, user_task, write_parquet

seedbench = task_module("seedbench")


@pytest.mark.parametrize(
    ("response", "gold", "expected"),
    [
        ("B", "B", True),
        ("b", "B", True),  # case-insensitive
        ("  B. a cat", "B", True),
        ("Because", "B", True),  # only the first character counts
        ("(B)", "B", False),
        ("The answer is B", "B", False),
        ("", "B", False),
        ("C", "B", False),
    ],
)
def test_is_correct(response, gold, expected):
    assert seedbench.is_correct(response, gold) is expected


def test_dimension_names():
    assert seedbench.dimension_name(1) == "Scene Understanding"
    assert seedbench.dimension_name("9") == "Text Understanding"
    assert seedbench.dimension_name(42) == "42"
    assert seedbench.accuracy_by_dimension(
        [{"dimension": "Text Understanding", "score": 1.0}, {"dimension": "Instance Identity", "score": 0.0}]
    ) == {"Instance Identity": 0.0, "Text Understanding": 1.0}


def test_image_filter_on_a_plain_list():
    docs = [{"data_type": "image"}, {"data_type": "video"}]
    assert seedbench.image_questions(docs) == [{"data_type": "image"}]


# (question, data_type, question_type_id, frames, gold, reply)
ROWS = [
    ("What is the main setting of the image?", "image", 1, 1, "B", "B ASSISTANT: C"),  # cut at the stop string
    ("What is the overall mood of the scene?", "image", 1, 1, "C", "c"),
    ("Which animal is in the picture?", "image", 1, 1, "A", "A. a cat"),
    ("What happens next in the video?", "video", 11, 3, "A", "A"),  # not an image question: dropped
    ("What does the sign say?", "image", 9, 1, "B", "(B)"),
    ("What is written on the shirt?", "image", 9, 1, "D", "The answer is D"),
    ("Which word appears first?", "image", 9, 1, "A", "C"),
]


def write_seedbench(folder: Path) -> None:
    import datasets

    features = datasets.Features(
        {
            "answer": datasets.Value("string"),
            "choice_a": datasets.Value("string"),
            "choice_b": datasets.Value("string"),
            "choice_c": datasets.Value("string"),
            "choice_d": datasets.Value("string"),
            "data_id": datasets.Value("string"),
            "data_type": datasets.Value("string"),
            "question": datasets.Value("string"),
            "question_id": datasets.Value("string"),
            "question_type_id": datasets.Value("int64"),
            "image": datasets.Sequence(datasets.Image()),
            "segment": datasets.Sequence(datasets.Value("int64")),
        }
    )
    rows = [
        {
            "answer": gold,
            "choice_a": "a cat",
            "choice_b": "a park",
            "choice_c": "calm",
            "choice_d": "SALE",
            "data_id": f"{number:06d}.jpg",
            "data_type": data_type,
            "question": question,
            "question_id": str(100 + number),
            "question_type_id": type_id,
            "image": [banded_image(number * 10 + frame) for frame in range(frames)],
            "segment": [0, 8] if data_type == "video" else None,
        }
        for number, (question, data_type, type_id, frames, gold, _) in enumerate(ROWS)
    ]
    write_parquet(folder / "data" / "test.parquet", rows, features)
    user_task(folder, "seedbench", "seedbench/seedbench.yaml", "test", "data/test.parquet")


def test_seedbench_end_to_end(tmp_path):
    folder, output = tmp_path / "tasks", tmp_path / "out"
    write_seedbench(folder)
    assert evaluate("seedbench", folder, output, {question: reply for question, *_, reply in ROWS}) == 0

    results = read_results(output)
    scores = results["results"]["seedbench"]
    assert scores["seed_image,none"] == pytest.approx(3 / 6, abs=1e-12)
    assert scores["seed_image_stderr,none"] == pytest.approx((0.25 * 6 / 5) ** 0.5 / 6**0.5, abs=1e-12)
    assert scores["seed_dimensions,none"] == pytest.approx({"Scene Understanding": 1.0, "Text Understanding": 0.0}, abs=1e-12)
    assert "seed_video,none" not in scores
    assert scores["seed_all,none"] == scores["seed_image,none"]  # no video rows evaluated yet
    assert results["n-samples"]["seedbench"] == {"original": 6, "effective": 6}  # after process_docs

    samples = read_samples(output, "seedbench")
    assert len(samples) == 6
    assert all("video" not in prompt_text(row) for row in samples)
    assert prompt_text(samples[0]) == (
        "What is the main setting of the image?\nA. a cat\nB. a park\nC. calm\nD. SALE\n"
        "Answer with the option's letter from the given choices directly."
    )
    assert image_count(samples[0]) == 1
    assert samples[0]["resps"] == ["B "]  # cut at the "ASSISTANT:" stop string; raw, so not yet stripped
    assert [row["scores"]["none"]["seed_image"] for row in samples] == [1.0, 1.0, 1.0, 0.0, 0.0, 0.0]


def test_library_config():
    config = library_config("seedbench/seedbench.yaml")
    assert (config.dataset_path, config.test_split) == ("lmms-lab-encoder/SEED-Bench", "test")
    assert config.generation_kwargs == {"until": ["ASSISTANT:"], "image_aspect_ratio": "original"}
    assert str(config.process_docs) == "!function utils.image_questions"
    assert config.metric_list[0]["metric"] == "seed_image"
