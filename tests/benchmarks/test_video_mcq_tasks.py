"""nextqa_mc_test, tempcompass_multi_choice, mlvu_dev, perceptiontest_val_mc: each through
the CLI on generated clips under a temporary $HF_HOME, with replies that hit the parsing
rules, scored against a hand computation."""

from __future__ import annotations

import datasets
import pytest
from benchmark_helpers import evaluate, library_config, prompt_text, read_results, read_samples, task_module, user_task, write_parquet
from video_fixtures import clip, frames_sent, hf_home  # noqa: F401 - hf_home is a fixture

TEXT, INT = datasets.Value("string"), datasets.Value("int64")


def run(tmp_path, monkeypatch, task, include, split, rows, features, canned):
    """The task on `rows` (videos already under tmp_path/hf); its scores, samples and bodies."""
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("LMMS_EVAL_FRAME_CACHE", str(tmp_path / "frames"))
    folder = tmp_path / "tasks"
    data = write_parquet(tmp_path / "data" / f"{task}.parquet", rows, datasets.Features(features))
    user_task(folder, task, include, split, data)
    output, bodies = tmp_path / "out", []
    assert evaluate(task, folder, output, canned, bodies=bodies) == 0
    return read_results(output)["results"][task], read_samples(output, task), bodies


@pytest.mark.parametrize(
    ("relative", "family"),
    [
        ("nextqa/nextqa_mc_test.yaml", "nextqa"),
        ("tempcompass/tempcompass_multi_choice.yaml", "tempcompass"),
        ("mlvu/mlvu_dev.yaml", "mlvu"),
        ("perceptiontest/perceptiontest_val_mc.yaml", "perceptiontest"),
    ],
)
def test_the_yaml_cache_dir_is_the_one_task_code_searches(relative, family):
    config = library_config(relative)
    assert config.dataset_kwargs["video"] is True
    assert config.dataset_kwargs["cache_dir"] == task_module(family).CACHE_DIR


# --- NExT-QA ---------------------------------------------------------------------------------

NEXTQA_OPTIONS = ["the boy runs away", "he cries", "she laughs", "they dance", "it rains"]
# (reply, gold index): "(B)" right; option text in a 6+ word reply right; "(A) or (C)" takes
# the last -> C, wrong; "D." right.
NEXTQA = [("(B)", 1), ("I think the boy runs away from here", 0), ("(A) or (C)", 0), ("D.", 3)]


def test_nextqa_through_the_cli(tmp_path, monkeypatch):
    clip(tmp_path / "hf" / "nextqa" / "NExTVideo" / "4010069381.MP4")  # upper-case extension
    features = {"video": INT, "frame_count": INT, "width": INT, "height": INT, "question": TEXT, "answer": INT, "qid": INT, "type": TEXT}
    features |= {f"a{i}": TEXT for i in range(5)}
    rows = [
        {"video": 4010069381, "frame_count": 6, "width": 32, "height": 24, "question": f"why did the boy move {n}", "answer": gold, "qid": n,
         "type": "CW"} | dict(zip([f"a{i}" for i in range(5)], NEXTQA_OPTIONS))
        for n, (_, gold) in enumerate(NEXTQA)
    ]  # fmt: skip
    canned = {row["question"]: reply for row, (reply, _) in zip(rows, NEXTQA)}
    scores, samples, bodies = run(tmp_path, monkeypatch, "nextqa_mc_test", "nextqa/nextqa_mc_test.yaml", "test", rows, features, canned)
    assert scores["exact_match,none"] == pytest.approx(3 / 4)
    assert prompt_text(samples[0]) == "why did the boy move 0\nA. the boy runs away\nB. he cries\nC. she laughs\nD. they dance\nE. it rains"
    assert frames_sent(bodies, "why did the boy move 0") == 6


def test_nextqa_guess_is_seeded_per_question():
    nextqa = task_module("nextqa")
    doc = {"video": 1, "qid": 7} | {f"a{i}": option for i, option in enumerate(NEXTQA_OPTIONS)}
    assert len({nextqa.parse_letter("no idea", doc) for _ in range(5)}) == 1


# --- TempCompass -----------------------------------------------------------------------------

TEMPCOMPASS_QUESTION = "How fast does the car move?\nA. slowly\nB. quickly\nC. not at all\nD. backwards"
# (reply, answer, dim): equal to the answer; bare letter; "B." prefix (wrong); "A)" prefix;
# free text no rule reads (undecided, wrong).
TEMPCOMPASS = [
    ("A. slowly", "A. slowly", "speed"),
    ("B", "B. left", "direction"),
    ("B. quickly", "A. slowly", "speed"),
    ("A) first", "A. first", "order"),
    ("The car is slow", "A. slowly", "speed"),
]


@pytest.mark.parametrize(
    ("reply", "answer", "rating"),
    [("A. slowly", "A. slowly", 1), ("C", "C. x", 1), ("D", "C. x", 0), ("C) x", "C. x", 1), ("c", "C. x", None), ("It is C", "C. x", None)],
)
def test_tempcompass_rules(reply, answer, rating):
    assert task_module("tempcompass").rule_rating(reply, answer) == rating


def test_tempcompass_through_the_cli(tmp_path, monkeypatch):
    clip(tmp_path / "hf" / "tempcompass" / "videos" / "car_1.mp4")
    rows = [{"video_id": "car_1", "question": f"[{n}] {TEMPCOMPASS_QUESTION}", "answer": answer, "dim": dim} for n, (_, answer, dim) in enumerate(TEMPCOMPASS)]
    canned = {row["question"]: reply for row, (reply, _, _) in zip(rows, TEMPCOMPASS)}
    features = {"video_id": TEXT, "question": TEXT, "answer": TEXT, "dim": TEXT}
    task = "tempcompass_multi_choice"
    scores, samples, _ = run(tmp_path, monkeypatch, task, "tempcompass/tempcompass_multi_choice.yaml", "test", rows, features, canned)
    assert scores["avg_accuracy,none"] == pytest.approx(100 * 3 / 5)
    assert scores["dim_accuracy,none"] == {"direction": 100.0, "order": 100.0, "speed": pytest.approx(100 / 3)}
    assert scores["undecided,none"] == pytest.approx(100 / 5)
    assert prompt_text(samples[0]) == f"[0] {TEMPCOMPASS_QUESTION}\nPlease directly give the best option:"


# --- MLVU ------------------------------------------------------------------------------------

# (task_type, reply, gold): count 2 of 2 right; needle 1 of 3 right ("A) ..." right, "B" vs C
# wrong, an empty reply wrong); M-Avg = (100 + 100/3) / 2, micro would be 3/5.
MLVU = [
    ("count", "A) three", "A"),
    ("count", "The answer is C.", "C"),
    ("needle", "A) a key", "A"),
    ("needle", "B", "C"),
    ("needle", "I do not know", "C"),
]


def test_mlvu_through_the_cli(tmp_path, monkeypatch):
    clip(tmp_path / "hf" / "mlvu" / "count" / "clip_1.mp4")
    features = {"video_name": TEXT, "duration": datasets.Value("float64"), "question": TEXT, "candidates": datasets.List(TEXT), "answer": TEXT,
                "task_type": TEXT, "question_id": TEXT}  # fmt: skip
    rows = [
        {"video_name": "count/clip_1.mp4", "duration": 1.0, "question": f"[{n}] What is shown?\n(A) one\n(B) two\n(C) three\n(D) four",
         "candidates": ["one", "two", "three", "four"], "answer": gold, "task_type": task_type, "question_id": f"q{n}"}
        for n, (task_type, _, gold) in enumerate(MLVU)
    ]  # fmt: skip
    canned = {row["question"]: reply for row, (_, reply, _) in zip(rows, MLVU)}
    scores, samples, bodies = run(tmp_path, monkeypatch, "mlvu_dev", "mlvu/mlvu_dev.yaml", "test", rows, features, canned)
    assert scores["mlvu_percetion_score,none"] == pytest.approx((100 + 100 / 3) / 2)
    assert scores["mlvu_task_types,none"] == {"count": 100.0, "needle": pytest.approx(100 / 3)}
    assert prompt_text(samples[0]).endswith("(D) four\nOnly give the best option.\nBest option: (")
    assert frames_sent(bodies, "[0] What is shown?") == 6


# --- Perception Test -------------------------------------------------------------------------

# (reply, answer_id): "B" right; "A person lifts it" reads A (the article), wrong against 2;
# "(b)" reads nothing, wrong; "The answer is C." right.
PERCEPTION = [("B", "1"), ("A person lifts it", "2"), ("(b)", "1"), ("The answer is C.", "2")]


def test_perceptiontest_through_the_cli(tmp_path, monkeypatch):
    clip(tmp_path / "hf" / "perceptiontest_val" / "videos" / "video_10909.mp4")
    features = {"video_name": TEXT, "question": TEXT, "question_id": TEXT, "options": datasets.List(TEXT), "answer_id": TEXT, "area": TEXT,
                "reasoning": TEXT, "tag": datasets.List(TEXT)}  # fmt: skip
    rows = [
        {"video_name": "video_10909", "question": f"[{n}] What did the person do with the cup?", "question_id": f"q{n}",
         "options": ["put it down", "lifted it", "threw it"], "answer_id": gold, "area": "memory", "reasoning": "descriptive", "tag": ["cup"]}
        for n, (_, gold) in enumerate(PERCEPTION)
    ]  # fmt: skip
    canned = {row["question"]: reply for row, (reply, _) in zip(rows, PERCEPTION)}
    task = "perceptiontest_val_mc"
    scores, samples, _ = run(tmp_path, monkeypatch, task, "perceptiontest/perceptiontest_val_mc.yaml", "validation", rows, features, canned)
    assert scores["accuracy,none"] == pytest.approx(2 / 4)
    assert prompt_text(samples[0]) == (
        "[0] What did the person do with the cup?\nA. put it down\nB. lifted it\nC. threw it\n"
        "Answer with the option's letter from the given choices directly."
    )


def test_a_missing_video_fails_its_doc_and_names_where_it_was_looked_for(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    path = task_module("perceptiontest").doc_to_visual({"video_name": "video_1"})[0]
    assert path == str(tmp_path / "hf" / "perceptiontest_val" / "videos" / "video_1.mp4")


def test_perceptiontest_from_a_dataset_repo_with_a_video_archive(tmp_path, hf_home):
    """The library YAML as it is (video: True, cache_dir), on a local snapshot of the repo:
    the zip is extracted under $HF_HOME/perceptiontest_val and the task finds the clip there."""
    from lmms_eval.testing.video_repo import write_dataset_repo, write_zip

    features = datasets.Features({"video_name": TEXT, "question": TEXT, "question_id": TEXT, "options": datasets.List(TEXT), "answer_id": TEXT,
                                  "area": TEXT, "reasoning": TEXT, "tag": datasets.List(TEXT)})  # fmt: skip
    rows = [{"video_name": "video_7", "question": "Which hand?", "question_id": "q0", "options": ["left", "right", "both"], "answer_id": "1",
             "area": "memory", "reasoning": "descriptive", "tag": []}]  # fmt: skip
    repo = write_dataset_repo(tmp_path / "perceptiontest_repo", "mc_question_val", {"validation": rows}, features)
    write_zip(repo / "videos.zip", {"videos/video_7.mp4": clip(tmp_path / "src" / "video_7.mp4")})
    folder = tmp_path / "tasks"
    folder.mkdir()
    (folder / "perceptiontest_val_mc.yaml").write_text(f"include: perceptiontest/perceptiontest_val_mc.yaml\ntask: perceptiontest_val_mc\ndataset_path: {repo}\n")
    output, bodies = tmp_path / "out", []
    assert evaluate("perceptiontest_val_mc", folder, output, {"Which hand?": "B"}, bodies=bodies) == 0
    assert read_results(output)["results"]["perceptiontest_val_mc"]["accuracy,none"] == 1.0
    assert (hf_home / "perceptiontest_val" / "videos" / "video_7.mp4").is_file()
    assert frames_sent(bodies, "Which hand?") == 6
