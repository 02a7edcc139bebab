"""LibriSpeech: generated clips in the dataset's schema, through the CLI to corpus WER."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import datasets
import pytest
import soundfile
from audio_fixtures import tone, write_audio_parquet
from benchmark_helpers import run_benchmark, user_task

FEATURES = datasets.Features(
    {"audio": datasets.Audio(sampling_rate=16000), "gt": datasets.Value("string"), "source": datasets.Value("string"), "task": datasets.Value("string")}
)
# Every doc gets the same prompt, so the server gives every doc the same reply.
REPLY = "<|en|> The cat sat on the mat ."
REFERENCES = [
    "THE CAT SAT ON THE MAT",  # 0 errors / 6 words
    "THE CAT SAT ON A MAT",  # 1 substitution / 6
    "A DOG",  # 2 substitutions + 4 insertions / 2
]
# corpus WER = (0 + 1 + 6) / (6 + 6 + 2) = 50%  (the mean of per-utterance WERs would be 105.6%)


def write_split(folder: Path, task: str) -> None:
    rows = [{"audio": tone(i), "gt": ref, "source": "test-clean", "task": "asr_en"} for i, ref in enumerate(REFERENCES)]
    write_audio_parquet(folder / "data" / f"{task}.parquet", rows, FEATURES)
    user_task(folder, task, f"librispeech/{task}.yaml", task, f"data/{task}.parquet")


@pytest.mark.parametrize("task", ["librispeech_test_clean", "librispeech_test_other"])
def test_corpus_wer_through_the_cli(tmp_path, task):
    folder = tmp_path / "tasks"
    write_split(folder, task)
    run = run_benchmark(tmp_path, task, folder, {"Please recognize the speech": REPLY})
    assert run.scores(task)["wer,none"] == pytest.approx(50.0)
    [body] = run.bodies[:1]
    parts = body["messages"][-1]["content"]
    [audio] = [part for part in parts if part["type"] == "input_audio"]
    samples, rate = soundfile.read(io.BytesIO(base64.b64decode(audio["input_audio"]["data"])))
    assert rate == 16000 and len(samples) == 4000  # the clip itself, as WAV
    text = "".join(part.get("text", "") for part in parts)
    assert text == "Please recognize the speech and only output the recognized content:"
    assert run.results["configs"][task]["metadata"]["version"] == 1


def test_group_runs_both_splits(tmp_path):
    folder = tmp_path / "tasks"
    for task in ("librispeech_test_clean", "librispeech_test_other"):
        write_split(folder, task)
    from benchmark_helpers import evaluate, read_results

    assert evaluate("librispeech", folder, tmp_path / "out", {"Please recognize the speech": REPLY}) == 0
    results = read_results(tmp_path / "out")["results"]
    assert results["librispeech_test_clean"]["wer,none"] == pytest.approx(50.0)
    assert results["librispeech_test_other"]["wer,none"] == pytest.approx(50.0)
