"""mvbench: the group of 20 tasks through the CLI on generated clips (mp4, a GIF, a frame
folder, the data0613 fallback), MVBench's answer normalisation, and the rule that an empty
reply leaves the denominator."""

from __future__ import annotations

import pytest
from benchmark_helpers import evaluate, library_config, prompt_text, read_results, read_samples, task_module, user_task, write_parquet
from video_fixtures import clip, frame_folder, frames_sent, gif

mvbench = task_module("mvbench")
TASKS = list(mvbench.VIDEO_FOLDERS)
BOUNDED = {"action_sequence", "action_prediction", "object_interaction", "action_localization", "episodic_reasoning"}


@pytest.mark.parametrize(
    ("reply", "normalised"),
    [
        ("B. a dog", "B"),
        ("b. it rolls", "B"),
        ("(C) the cube", "C"),
        ("Best option:(D)", "D"),
        ("There is a cat", "A"),  # the article "a" reads as option A
        ("b.", "B"),  # no text after the period: cleaned, then the standalone letter
        ("\"E\"", "E"),
        ("none of them", "none of them"),
        ("", ""),
    ],
)
def test_normalise_answer(reply, normalised):
    assert mvbench.normalise_answer(reply) == normalised


def test_empty_replies_leave_the_denominator():
    records = [{"pred_answer": "A", "score": 1}, {"pred_answer": "", "score": 0}, {"pred_answer": "C", "score": 0}]
    assert mvbench.accuracy_over_answered(records) == 50.0
    assert mvbench.accuracy_over_answered([{"pred_answer": "", "score": 0}]) == 0.0


def test_the_template_cache_dir_is_the_one_task_code_searches():
    config = library_config("mvbench/mvbench_action_sequence.yaml")
    assert config.dataset_kwargs["cache_dir"] == mvbench.CACHE_DIR
    assert config.dataset_name == "action_sequence"


def features(bounded: bool):
    import datasets

    text = datasets.Value("string")
    columns = {"video": text, "question": text, "candidates": datasets.List(text), "answer": text}
    if bounded:
        columns |= {"start": datasets.Value("float64"), "end": datasets.Value("float64")}
    return datasets.Features(columns)


def row(task: str, number: int, video: str, answer: int = 0) -> dict:
    candidates = ["the red cube", "the blue ball", "the green cone"]
    fields = {"video": video, "question": f"[{task} {number}] What moves first?", "candidates": candidates, "answer": candidates[answer]}
    return fields | ({"start": 0.0, "end": 1.0} if task in BOUNDED else {})


def videos(root):
    """One video per task in its folder; the special parts as the dataset stores them."""
    names = {}
    for task, folder in mvbench.VIDEO_FOLDERS.items():
        if task == "episodic_reasoning":
            frame_folder(root / folder / "s01e02_seg03", frames=4)
            names[task] = "s01e02_seg03"
        elif task == "fine_grained_action":
            gif(root / folder / "yawning" / "clip.gif")
            names[task] = "yawning/clip.gif"
        elif task == "object_existence":  # found only under the legacy data0613/ prefix
            clip(root / "data0613" / folder / "video_10001.mp4")
            names[task] = "video_10001.mp4"
        else:
            names[task] = f"{task}.mp4"
            clip(root / folder / names[task])
    return names


# action_sequence: right, empty (left out), wrong -> 50; moving_count wrong -> 0; the others
# right, each through another reading of the reply.
REPLIES = {
    "action_sequence": ["(B) the blue ball", "", "C. the green cone"],
    "moving_count": ["(D)"],
    "episodic_reasoning": ["There is a red cube"],
    "fine_grained_action": ["Best option:(B)"],
    "object_existence": ["b."],
}
ANSWERS = {"action_sequence": [1, 1, 1], "fine_grained_action": [1], "object_existence": [1]}


def test_mvbench_group_through_the_cli(tmp_path, monkeypatch):
    hf_home = tmp_path / "hf"
    monkeypatch.setenv("HF_HOME", str(hf_home))
    monkeypatch.setenv("LMMS_EVAL_FRAME_CACHE", str(tmp_path / "frames"))
    names = videos(hf_home / mvbench.CACHE_DIR)
    folder, canned = tmp_path / "tasks", {}
    for task in TASKS:
        replies = REPLIES.get(task, ["(A) the red cube"])
        answers = ANSWERS.get(task, [0] * len(replies))
        rows = [row(task, n, names[task], answer) for n, answer in enumerate(answers)]
        data = write_parquet(tmp_path / "data" / f"{task}.parquet", rows, features(task in BOUNDED))
        user_task(folder, f"mvbench_{task}", f"mvbench/mvbench_{task}.yaml", "train", data, keep_dataset_name=False)
        canned |= {r["question"]: reply for r, reply in zip(rows, replies)}
    output, bodies = tmp_path / "out", []
    assert evaluate("mvbench", folder, output, canned, bodies=bodies) == 0
    full = read_results(output)
    scores = {task: full["results"][f"mvbench_{task}"]["mvbench_accuracy,none"] for task in TASKS}
    assert scores["action_sequence"] == 50.0  # 1 right of the 2 answered; the empty reply is left out
    assert scores["moving_count"] == 0.0
    assert {task for task, score in scores.items() if score == 100.0} == set(TASKS) - {"action_sequence", "moving_count"}
    assert full["groups"]["mvbench"]["mvbench_accuracy,none"] == pytest.approx((50 + 0 + 18 * 100) / 20)
    assert frames_sent(bodies, "[episodic_reasoning 0]") == 4  # every frame of the 4-frame folder (10 asked)
    assert frames_sent(bodies, "[action_sequence 0]") == 6  # a 6-frame clip
    assert frames_sent(bodies, "[fine_grained_action 0]") == 4  # the 4-frame GIF
    [first, *_] = read_samples(output, "mvbench_action_sequence")
    assert prompt_text(first) == (
        "Question:[action_sequence 0] What moves first?\nOption:\n(A) the red cube\n(B) the blue ball\n(C) the green cone\n"
        "Only give the best option.\n"
    )
