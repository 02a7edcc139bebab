"""VocalSound and Clotho-AQA: parsing rules, and CLI runs on generated clips."""

from __future__ import annotations

import datasets
import pytest
from audio_fixtures import tone, write_audio_parquet
from benchmark_helpers import run_benchmark, task_module, user_task

vocalsound = task_module("vocalsound")


@pytest.mark.parametrize(
    ("reply", "parsed"),
    [
        ("Laughter", "Laughter"),
        ("throat clearing.", "Throat clearing"),
        ("The person clears their THROAT", "Throat clearing"),
        ("a cough, or maybe laughter", "Laughter"),  # the class order decides, not the reply's
        ("laughing", None),  # "laughing" does not contain "laughter"
        ("sighs", "Sigh"),
        ("", None),
    ],
)
def test_vocalsound_parse(reply, parsed):
    assert vocalsound.parse_class(reply) == parsed


def test_vocalsound_through_the_cli(tmp_path):
    features = datasets.Features(
        {"audio": datasets.Audio(), "spk_id": datasets.Value("string"), "answer": datasets.Value("string"), "age_group": datasets.Value("int64")}
    )
    rows = [
        {"audio": tone(0, rate=44100), "spk_id": "f0001", "answer": "Laughter", "age_group": 1},
        {"audio": tone(1, rate=44100), "spk_id": "m0002", "answer": "Cough", "age_group": 2},
        {"audio": tone(2, rate=44100), "spk_id": "m0003", "answer": "Laughter", "age_group": 2},
    ]
    folder = tmp_path / "tasks"
    write_audio_parquet(folder / "data" / "vs.parquet", rows, features)
    user_task(folder, "vocalsound_test", "vocalsound/vocalsound_test.yaml", "test", "data/vs.parquet")
    run = run_benchmark(tmp_path, "vocalsound_test", folder, {"Classify the human vocal sound": "A cough, or maybe laughter"})
    scores = run.scores("vocalsound_test")
    assert scores["accuracy,none"] == pytest.approx(2 / 3)
    assert scores["by_group,none"] == {"age 18-25": 1.0, "age 26-48": 0.5, "female": 1.0, "male": 0.5}


def test_clotho_aqa_through_the_cli(tmp_path):
    features = datasets.Features({"audio": datasets.Audio(), "question": datasets.Value("string"), "answer": datasets.Value("string")})
    questions = [("Is a dog barking?", "yes", " Yes. "), ("What animal is heard?", "bird", "Birds"), ("Is it raining?", "no", "No!")]
    rows = [{"audio": tone(i), "question": q, "answer": a} for i, (q, a, _) in enumerate(questions)]
    folder = tmp_path / "tasks"
    write_audio_parquet(folder / "data" / "clotho.parquet", rows, features)
    user_task(folder, "clotho_aqa_test", "clotho_aqa/clotho_aqa_test.yaml", "clotho_aqa_test_filtered", "data/clotho.parquet")
    run = run_benchmark(tmp_path, "clotho_aqa_test", folder, {q: reply for q, _, reply in questions})
    # " Yes. " -> yes (stripped, case and punctuation ignored); "Birds" != "bird"; "No!" -> no
    assert run.scores("clotho_aqa_test")["exact_match,none"] == pytest.approx(2 / 3)
    assert run.samples[0]["prompt"][0]["content"][-1]["text"] == "Is a dog barking?\nAnswer the question using a single word only. "
