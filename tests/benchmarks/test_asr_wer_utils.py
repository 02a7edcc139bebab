"""asr_wer_utils: the Qwen-Audio ASR scoring recipe, against hand-computed cases."""

from __future__ import annotations

import pytest

from lmms_eval.tasks.asr_wer_utils import EvaluationTokenizer, compute_wer, english_normalizers, remove_sp
from lmms_eval.tasks.librispeech.whisper_normalizer.basic import BasicTextNormalizer
from lmms_eval.tasks.librispeech.whisper_normalizer.english import EnglishTextNormalizer


def test_remove_sp():
    assert remove_sp("<|en|> Hello ,  world !", "en") == "Hello, world!"
    assert remove_sp("你 好 ， 世界", "zh", no_space_languages={"zh"}) == "你好，世界"


def test_tokenizer():
    assert EvaluationTokenizer("none", lowercase=True, punctuation_removal=True).tokenize("Hello , World !") == "hello world"
    assert EvaluationTokenizer("none", character_tokenization=True).tokenize("ab c") == "a b \u2581 c"
    with pytest.raises(AssertionError):
        EvaluationTokenizer("words")


def test_corpus_wer_is_total_edits_over_total_reference_words():
    assert compute_wer(["hello world"], ["hello word"], "en") == 0.5
    # pair 1: one deletion (3 words); pair 2: two insertions (1 word) -> 3 / 4, not the mean 1.17
    assert compute_wer(["a b c", "d"], ["a c", "d e f"], "en") == 0.75
    assert compute_wer(["Hello, World!"], ["hello world"], "en") == 1.0  # punctuation glued to words counts
    assert compute_wer(["你好世界"], ["你好"], "zh", char_languages={"zh"}) == 0.5
    assert compute_wer(["a b"], [""], "en") == 1.0
    with pytest.raises(ValueError):
        compute_wer([], [], "en")


def test_whisper_normalisers_at_lmms_eval_paths():
    assert BasicTextNormalizer()("Hello, World! [noise] (um) café") == "hello world café"
    assert EnglishTextNormalizer()("Hello, World! [noise] (um) café") == "hello world cafe"
    assert EnglishTextNormalizer()("I'm gonna pay $3.50") == "i am going to pay $3.50"
    assert EnglishTextNormalizer()("twenty one") == "21"


def test_english_then_basic_normaliser():
    english, basic = english_normalizers()
    options = {"english_languages": {"en"}, "english_normalizer": english}
    # English alone: "three dollars" -> "$3"; basic after it drops the "$" (LibriSpeech's rule).
    assert compute_wer(["I'M GOING TO PAY THREE DOLLARS"], ["i am going to pay 3"], "en", **options) == pytest.approx(1 / 6)
    assert compute_wer(["I'M GOING TO PAY THREE DOLLARS"], ["i am going to pay 3"], "en", basic_normalizer=basic, **options) == 0.0
    assert compute_wer(["MISTER QUILTER IS THE APOSTLE"], ["Mr. Quilter is the apostle."], "en", basic_normalizer=basic, **options) == 0.0
