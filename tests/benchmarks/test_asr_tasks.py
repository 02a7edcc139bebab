"""Common Voice 15 (en) and GigaSpeech: LibriSpeech's recipe with their own columns and
normalisers, through the CLI on generated clips."""

from __future__ import annotations

import datasets
import pytest
from audio_fixtures import tone, write_audio_parquet
from benchmark_helpers import run_benchmark, user_task

REPLY = "<|en|> I am going to pay 3 ."
CANNED = {"Please recognize the speech": REPLY}


def test_common_voice_15_en_applies_both_normalisers(tmp_path):
    features = datasets.Features(
        {"audio": datasets.Audio(sampling_rate=48000), "sentence": datasets.Value("string"), "path": datasets.Value("string"), "locale": datasets.Value("string")}
    )
    rows = [
        # basic after English drops the "$" of "$3": 0 errors / 6 words
        {"audio": tone(0, rate=48000), "sentence": "I'm going to pay three dollars.", "path": "a.mp3", "locale": "en"},
        # 2 substitutions + 4 insertions / 2 words
        {"audio": tone(1, rate=48000), "sentence": "Hello, world!", "path": "b.mp3", "locale": "en"},
    ]
    folder = tmp_path / "tasks"
    write_audio_parquet(folder / "data" / "cv.parquet", rows, features)
    user_task(folder, "common_voice_15_en", "common_voice_15/common_voice_15_en.yaml", "test", "data/cv.parquet")
    run = run_benchmark(tmp_path, "common_voice_15_en", folder, CANNED)
    assert run.scores("common_voice_15_en")["wer,none"] == pytest.approx(100 * 6 / 8)
    assert sum(part["type"] == "input_audio" for part in run.bodies[0]["messages"][-1]["content"]) == 1


def test_gigaspeech_spells_tags_and_uses_the_english_normaliser_only(tmp_path):
    features = datasets.Features({"audio": datasets.Audio(sampling_rate=16000), "gt": datasets.Value("string")})
    rows = [
        # English normaliser alone keeps "$3": 1 substitution / 6 words
        {"audio": tone(0), "gt": "I'M GOING TO PAY THREE DOLLARS <PERIOD>"},
        # "hello, world?" -> 2 words; 2 substitutions + 4 insertions
        {"audio": tone(1), "gt": "HELLO <COMMA> WORLD <QUESTION>"},
    ]
    folder = tmp_path / "tasks"
    write_audio_parquet(folder / "data" / "giga.parquet", rows, features)
    user_task(folder, "gigaspeech_test", "gigaspeech/gigaspeech_test.yaml", "test", "data/giga.parquet")
    run = run_benchmark(tmp_path, "gigaspeech_test", folder, CANNED)
    assert run.scores("gigaspeech_test")["wer,none"] == pytest.approx(100 * 7 / 8)


def test_gigaspeech_normaliser_paths():
    from lmms_eval.tasks.gigaspeech.whisper_normalizer.basic import BasicTextNormalizer
    from lmms_eval.tasks.gigaspeech.whisper_normalizer.english import EnglishTextNormalizer

    assert EnglishTextNormalizer()("Mr. Smith") == "mister smith"
    assert BasicTextNormalizer()("Hi!") == "hi "  # Whisper keeps the space left by "!"
