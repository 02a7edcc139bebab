"""AIR-Bench Foundation: lmms-eval's letter parsing, "None" options, the three-split group."""

from __future__ import annotations

import random

import datasets
import pytest
from audio_fixtures import tone, write_audio_parquet
from benchmark_helpers import evaluate, read_results, read_samples, task_module, user_task

air = task_module("air_bench")
LETTERS = ["A", "B", "C", "D"]


@pytest.mark.parametrize(
    ("reply", "letter"),
    [
        ("B", "B"),
        ("(C) a dog", "C"),
        ("The answer is A.", "A"),
        ("A or B", "B"),  # several spaced: the right-most
        ("(A) or (B)", "A"),  # several bracketed: no " L " occurs, so the first
        ("B.C", "B"),  # only the "L." rule finds it
    ],
)
def test_parse_letter(reply, letter):
    assert air.parse_letter(reply, LETTERS, random.Random(0)) == letter


def test_unparsed_reply_is_a_random_letter_among_the_given_choices():
    assert {air.parse_letter("no idea", ["A", "B"], random.Random(seed)) for seed in range(20)} == {"A", "B"}


FEATURES = datasets.Features(
    {
        "path": datasets.Value("string"), "question": datasets.Value("string"),
        "choice_a": datasets.Value("string"), "choice_b": datasets.Value("string"),
        "choice_c": datasets.Value("string"), "choice_d": datasets.Value("string"),
        "answer_gt": datasets.Value("string"), "task_name": datasets.Value("string"),
        "dataset_name": datasets.Value("string"), "uniq_id": datasets.Value("int64"),
        "audio": datasets.Audio(sampling_rate=16000),
    }
)  # fmt: skip


def row(i, question, choices, answer, task_name):
    a, b, c, d = (list(choices) + [None] * 4)[:4]
    return {"path": f"{i}.wav", "question": question, "choice_a": a, "choice_b": b, "choice_c": c, "choice_d": d,
            "answer_gt": answer, "task_name": task_name, "dataset_name": "fixture", "uniq_id": i, "audio": tone(i)}  # fmt: skip


SPLITS = {
    "sound": [(row(0, "What sound is this?", ["dog", "cat", "car", "rain"], "car", "Sound_AQA"), "C."),
              (row(1, "Where was this recorded?", ["park", "kitchen"], "park", "Acoustic_scene"), "(B)")],
    "music": [(row(2, "Which instrument plays?", ["piano", "guitar", "drums", "violin"], "violin", "Instrument"), "The answer is D")],
    "speech": [(row(3, "What emotion is spoken?", ["happy", "sad", "angry"], "sad", "Emotion"), "B or A")],
}  # fmt: skip


def test_group_through_the_cli(tmp_path):
    folder = tmp_path / "tasks"
    canned = {}
    for split, items in SPLITS.items():
        task = f"air_bench_foundation_{split}"
        write_audio_parquet(folder / "data" / f"{split}.parquet", [doc for doc, _ in items], FEATURES)
        user_task(folder, task, f"air_bench/{task}.yaml", split, f"data/{split}.parquet", keep_dataset_name=True)
        canned.update({doc["question"]: reply for doc, reply in items})
    assert evaluate("air_bench_foundation", folder, tmp_path / "out", canned) == 0
    results = read_results(tmp_path / "out")["results"]
    assert results["air_bench_foundation_sound"]["accuracy,none"] == pytest.approx(0.5)
    assert results["air_bench_foundation_sound"]["by_task,none"] == {"Acoustic_scene": 0.0, "Sound_AQA": 1.0}
    assert results["air_bench_foundation_music"]["accuracy,none"] == 1.0
    assert results["air_bench_foundation_speech"]["accuracy,none"] == 0.0  # " A " lies right of " B "
    [kitchen] = [s for s in read_samples(tmp_path / "out", "air_bench_foundation_sound") if s["doc_id"] == 1]
    text = kitchen["prompt"][0]["content"][-1]["text"]
    assert text == ("Where was this recorded?\nA. park\nB. kitchen\nC. None\nD. None\n"
                    "\nAnswer with the option's letter from the given choices directly.")  # fmt: skip
