"""SEED-Bench: first-character scoring, image and video rows (frames as given, clips through the
media layer), the image-only and video-only tasks, per-dimension scores."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmark_helpers import banded_image, evaluate, image_count, library_config, prompt_text, read_results, read_samples, task_module, user_task, write_parquet

from lmms_eval.testing.videos import write_test_video

seedbench = task_module("seedbench")


@pytest.fixture
def hf_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """$HF_HOME (where the task looks for clips) and the frame cache, inside the test's folder."""
    home = tmp_path / "hf"
    monkeypatch.setenv("HF_HOME", str(home))
    monkeypatch.setenv("LMMS_EVAL_FRAME_CACHE", str(tmp_path / "frames"))
    return home


def clips(folder: Path, names: list[str], seconds: float = 2.0, fps: int = 10) -> None:
    """Tiny H.264 clips, `<name>.mp4` (seconds * fps frames each)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        write_test_video(folder / f"{name}.mp4", seconds=seconds, fps=fps, width=32, height=24)


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


def test_type_filters_on_a_plain_list():
    docs = [{"data_type": "image"}, {"data_type": "video"}]
    assert seedbench.image_questions(docs) == [{"data_type": "image"}]
    assert seedbench.video_questions(docs) == [{"data_type": "video"}]


# (question, data_type, question_type_id, frames, data_id, gold, reply). frames: how many
# pictures the row's `image` list holds; video rows with none name a clip by data_id.
ROWS = [
    ("What is the main setting of the image?", "image", 1, 1, "000000.jpg", "B", "B ASSISTANT: C"),  # cut at the stop string
    ("What is the overall mood of the scene?", "image", 1, 1, "000001.jpg", "C", "c"),
    ("Which animal is in the picture?", "image", 1, 1, "000002.jpg", "A", "A. a cat"),
    ("What happens next in the video?", "video", 11, 8, "v_0003", "A", "A"),  # its 8 extracted frames, all sent
    ("What does the sign say?", "image", 9, 1, "000004.jpg", "B", "(B)"),
    ("What is written on the shirt?", "image", 9, 1, "000005.jpg", "D", "The answer is D"),
    ("Which word appears first?", "image", 9, 1, "000006.jpg", "A", "C"),
    ("What action is performed?", "video", 10, 0, "clip0.mp4", "C", "c. opening a door"),  # the clip, sampled
    ("What is the next step of the procedure?", "video", 12, 0, "clip1", "D", "B"),  # found with its extension
]
IMAGE_ROWS = [row for row in ROWS if row[1] == "image"]


def write_seedbench(folder: Path, tasks: tuple[str, ...] = ("seedbench",)) -> None:
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
            "data_id": data_id,
            "data_type": data_type,
            "question": question,
            "question_id": str(100 + number),
            "question_type_id": type_id,
            "image": [banded_image(number * 10 + frame) for frame in range(frames)],
            "segment": [0, 8] if data_type == "video" else None,
        }
        for number, (question, data_type, type_id, frames, data_id, gold, _) in enumerate(ROWS)
    ]
    write_parquet(folder / "data" / "test.parquet", rows, features)
    for task in tasks:
        user_task(folder, task, f"seedbench/{task}.yaml", "test", "data/test.parquet")


def sent_images(bodies: list[dict], question: str) -> int:
    """Image parts of the first request the server got for `question`."""
    body = next(body for body in bodies if question in str(body))
    return sum(part["type"] == "image_url" for part in body["messages"][-1]["content"])


def test_seedbench_image_and_video_rows(tmp_path, hf_home):
    # the clips the frameless video rows name, where the task's cache_dir puts them
    clips(hf_home / "seedbench" / "videos", ["clip0", "clip1"], seconds=2.0, fps=10)
    folder, output = tmp_path / "tasks", tmp_path / "out"
    write_seedbench(folder, ("seedbench", "seedbench_image", "seedbench_video"))
    bodies: list[dict] = []
    canned = {question: reply for question, *_, reply in ROWS}
    assert evaluate("seedbench,seedbench_image,seedbench_video", folder, output, canned, bodies=bodies) == 0

    results = read_results(output)
    scores = results["results"]["seedbench"]
    # image rows: B, c, "A. a cat" right; "(B)", "The answer is D", C wrong -> 3/6
    assert scores["seed_image,none"] == pytest.approx(3 / 6, abs=1e-12)
    assert scores["seed_image_stderr,none"] == pytest.approx((0.25 * 6 / 5) ** 0.5 / 6**0.5, abs=1e-12)
    # video rows: "A" right, "c. opening a door" right, "B" for D wrong -> 2/3
    assert scores["seed_video,none"] == pytest.approx(2 / 3, abs=1e-12)
    assert scores["seed_all,none"] == pytest.approx(5 / 9, abs=1e-12)
    assert scores["seed_dimensions,none"] == pytest.approx(
        {
            "Scene Understanding": 1.0,
            "Text Understanding": 0.0,
            "Action Recognition": 1.0,
            "Action Prediction": 1.0,
            "Procedure Understanding": 0.0,
        },
        abs=1e-12,
    )
    assert list(scores["seed_dimensions,none"]) == ["Scene Understanding", "Text Understanding", "Action Recognition", "Action Prediction", "Procedure Understanding"]
    assert results["n-samples"]["seedbench"] == {"original": 9, "effective": 9}

    # the image-only task: version 1's numbers (seed_all is seed_image, no seed_video)
    image_only = results["results"]["seedbench_image"]
    assert image_only["seed_image,none"] == image_only["seed_all,none"] == scores["seed_image,none"]
    assert "seed_video,none" not in image_only
    assert results["n-samples"]["seedbench_image"] == {"original": 6, "effective": 6}
    video_only = results["results"]["seedbench_video"]
    assert video_only["seed_video,none"] == video_only["seed_all,none"] == pytest.approx(2 / 3, abs=1e-12)
    assert "seed_image,none" not in video_only

    samples = read_samples(output, "seedbench")
    assert len(samples) == 9
    assert prompt_text(samples[0]) == (
        "What is the main setting of the image?\nA. a cat\nB. a park\nC. calm\nD. SALE\n"
        "Answer with the option's letter from the given choices directly."
    )
    assert image_count(samples[0]) == 1
    assert samples[0]["resps"] == ["B "]  # cut at the "ASSISTANT:" stop string; raw, so not yet stripped
    assert [row["scores"]["none"]["seed_all"] for row in samples] == [1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    assert [sorted(row["scores"]["none"]) for row in samples][3] == ["seed_all", "seed_dimensions", "seed_video"]
    # what the server got: the row's frames as they are; a clip sampled by the backend's
    # spec (the openai default, 10 of its 20 frames), once per task that runs the row
    assert sent_images(bodies, "What happens next") == 8
    assert sent_images(bodies, "What action is performed") == 10
    assert sent_images(bodies, "next step of the procedure") == 10


def test_a_missing_clip_fails_only_its_request(tmp_path, hf_home):
    clips(hf_home / "seedbench" / "videos", ["clip0"])  # clip1 is missing
    folder, output = tmp_path / "tasks", tmp_path / "out"
    write_seedbench(folder, ("seedbench_video",))
    assert evaluate("seedbench_video", folder, output, {question: reply for question, *_, reply in ROWS}) == 3
    scores = read_results(output)["results"]["seedbench_video"]
    assert scores["seed_video,none"] == pytest.approx(1.0)  # the two rows that ran, both right


def test_library_config():
    config = library_config("seedbench/seedbench.yaml")
    assert (config.dataset_path, config.test_split) == ("lmms-lab-encoder/SEED-Bench", "test")
    assert config.generation_kwargs == {"until": ["ASSISTANT:"], "image_aspect_ratio": "original"}
    assert config.process_docs is None  # every row, image and video
    assert [entry["metric"] for entry in config.metric_list] == ["seed_image", "seed_video", "seed_all", "seed_dimensions"]
    assert str(library_config("seedbench/seedbench_image.yaml").process_docs) == "!function utils.image_questions"
    assert str(library_config("seedbench/seedbench_video.yaml").process_docs) == "!function utils.video_questions"
