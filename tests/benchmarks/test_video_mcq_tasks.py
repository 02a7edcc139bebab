"""EgoSchema (subset) and LongVideoBench (val, video): their letter readers, and CLI runs on
local copies of the dataset repos (a zip, and split tar parts, of generated H.264 clips)."""

from __future__ import annotations

import random

import datasets
import pytest
from benchmark_helpers import prompt_text, run_benchmark, task_module
from video_fixtures import clips, hf_home, repo_task  # noqa: F401 - hf_home is a fixture

from lmms_eval.testing.video_repo import write_dataset_repo, write_tar_parts, write_zip

egoschema = task_module("egoschema")
longvideobench = task_module("longvideobench")

EGO_OPTIONS = ["A. c washes dishes", "B. c cuts onions", "C. c reads a book", "D. c paints a wall", "E. c plays guitar"]


@pytest.mark.parametrize(
    ("reply", "letter"),
    [
        ("(C)", "C"),
        ("B. c cuts onions", "B"),
        ("The answer is (B) not (C)", "B"),  # several: the right-most marker that comes first wins
        ("D or E", "D"),  # " D " at 1, " E " at 6 (after padding)
        ("A or maybe (D)", "A"),  # with a bracket found, "(A)" is searched for A: absent (-1) comes first
        ("I am quite sure that it is c. reads a book", "C"),  # > 5 words: the option's text, lower-cased
        ("i think b. c cuts onions, or c. c reads a book", "B"),  # several texts: the first one
    ],
)
def test_egoschema_parse(reply, letter):
    assert egoschema.parse_choice(reply, EGO_OPTIONS, seed="x") == letter


def test_egoschema_fallback_is_seeded():
    picks = {egoschema.parse_choice("no idea", EGO_OPTIONS, seed="egoschema:7") for _ in range(3)}
    assert picks == {random.Random("egoschema:7").choice("ABCDE")}


def test_egoschema_through_the_cli(tmp_path, hf_home):  # noqa: F811
    features = datasets.Features(
        {"question_idx": datasets.Value("string"), "question": datasets.Value("string"), "video_idx": datasets.Value("string"),
         "option": datasets.Sequence(datasets.Value("string")), "answer": datasets.Value("string")}
    )  # fmt: skip
    questions = [
        # (question, answer index, reply): 3 of 4 right
        ("What is c doing overall?", "2", "(C)"),
        ("What does c use most?", "1", "The answer is (B) not (C)"),
        ("Where is c?", "0", "A or maybe (D)"),
        ("What is the goal of c?", "3", "I am quite sure that it is c. reads a book"),
    ]
    rows = [{"question_idx": str(i), "question": q, "video_idx": f"ego{i % 2}", "option": EGO_OPTIONS, "answer": a} for i, (q, a, _) in enumerate(questions)]
    repo = write_dataset_repo(tmp_path / "egoschema", "Subset", {"test": rows}, features)
    videos = clips(tmp_path / "src", ["ego0", "ego1"])
    write_zip(repo / "videos_chunked_01.zip", {f"videos/{name}.mp4": path for name, path in videos.items()})
    folder = tmp_path / "tasks"
    repo_task(folder, "egoschema_subset", "egoschema/egoschema_subset.yaml", repo, {"video": "true", "cache_dir": "egoschema"}, "dataset_name: Subset\n")
    run = run_benchmark(tmp_path, "egoschema_subset", folder, {q: reply for q, _, reply in questions})
    assert run.scores("egoschema_subset")["score,none"] == pytest.approx(3 / 4)
    assert prompt_text(run.samples[0]) == "What is c doing overall?\n" + "\n".join(EGO_OPTIONS) + "\nAnswer with the option's letter from the given choices directly."
    assert (hf_home / "egoschema" / "videos" / "ego1.mp4").exists()


@pytest.mark.parametrize(
    ("reply", "letter"),
    [
        ("D", "D"),
        ("The correct answer is A", "A"),
        ("Best option: C", "C"),  # deleted here (the list has its commas), unlike Video-MME
        ("Based on the video", "B"),  # the first capital A-E anywhere
        ("(E) the last one", "E"),  # a letter past the options in use still counts
    ],
)
def test_longvideobench_extract(reply, letter):
    assert longvideobench.extract_letter(reply, 4, seed="x") == letter


def test_longvideobench_fallback_draws_an_option_in_use():
    long_reply = "the person in this clip seems to be walking slowly toward the old wooden door"
    drawn = longvideobench.extract_letter(long_reply, 3, seed="longvideobench:q1")
    assert drawn == random.Random("longvideobench:q1").choice("ABC")
    assert longvideobench.extract_letter("", 2, seed="s") in ("A", "B")


def test_longvideobench_through_the_cli(tmp_path, hf_home):  # noqa: F811
    strings = ("video_id", "id", "video_path", "subtitle_path", "question", *(f"option{i}" for i in range(5)), "question_category", "topic_category")
    features = datasets.Features(
        {name: datasets.Value("string") for name in strings}
        | {"correct_choice": datasets.Value("int64"), "duration": datasets.Value("float64"), "duration_group": datasets.Value("int64"),
           "starting_timestamp_for_subtitles": datasets.Value("float64")}
    )  # fmt: skip
    questions = [
        # (question, correct_choice, duration_group, category, reply): 3 of 4 right
        ("Which object appears first?", 3, 15, "S2E", "D"),
        ("What colour is the cup?", 0, 15, "E2O", "The correct answer is A"),
        ("What happens after the door opens?", 2, 600, "S2E", "Best option: C"),
        ("Who enters the room?", 2, 600, "E2O", "Based on the video"),
    ]
    rows = []
    for i, (question, choice, group, category, _) in enumerate(questions):
        options = [f"option {i}-{k}" for k in range(4)] + ["N/A"]
        rows.append(
            {"video_id": f"lvb{i % 2}", "id": f"q{i}", "video_path": f"lvb{i % 2}.mp4", "subtitle_path": f"lvb{i % 2}_en.json",
             "question": question, **{f"option{k}": option for k, option in enumerate(options)}, "question_category": category,
             "topic_category": "NP-News-Programs", "correct_choice": choice, "duration": 12.5, "duration_group": group,
             "starting_timestamp_for_subtitles": 0.0}
        )  # fmt: skip
    repo = write_dataset_repo(tmp_path / "LongVideoBench", "default", {"validation": rows}, features)
    videos = clips(tmp_path / "src", ["lvb0", "lvb1"])
    write_tar_parts(repo / "videos.tar", {f"videos/{name}.mp4": path for name, path in videos.items()}, parts=2)
    folder = tmp_path / "tasks"
    repo_task(folder, "longvideobench_val_v", "longvideobench/longvideobench_val_v.yaml", repo, {"video": "true", "cache_dir": "datasets/longvideobench"})
    run = run_benchmark(tmp_path, "longvideobench_val_v", folder, {q[0]: q[4] for q in questions})
    scores = run.scores("longvideobench_val_v")
    assert scores["lvb_acc,none"] == pytest.approx(3 / 4)
    assert scores["lvb_breakdown,none"] == {
        "duration_group 15": 1.0, "duration_group 600": 0.5, "question_category E2O": 0.5, "question_category S2E": 1.0,
    }  # fmt: skip
    assert prompt_text(run.samples[0]) == (
        "Which object appears first?\nA. option 0-0\nB. option 0-1\nC. option 0-2\nD. option 0-3\n"
        "Answer with the option's letter from the given choices directly.\n"
    )
    assert (hf_home / "datasets" / "longvideobench" / "videos" / "lvb1.mp4").exists()
