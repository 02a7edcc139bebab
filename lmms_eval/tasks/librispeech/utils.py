"""LibriSpeech (and the other English ASR tasks): one clip in, its transcript out, corpus WER.

Shared by librispeech, common_voice_15 and gigaspeech: they differ only in the reference
column, the language and whether Whisper's basic normaliser follows the English one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lmms_eval.tasks._builtin.asr_wer_utils import compute_wer, english_normalizers, remove_sp

PROMPT = "Please recognize the speech and only output the recognized content:"


def doc_to_visual(doc: dict[str, Any]) -> list[Any]:
    return [doc["audio"]]


def doc_to_text(doc: dict[str, Any], lmms_eval_specific_kwargs: dict[str, Any] | None = None) -> str:
    kwargs = lmms_eval_specific_kwargs or {}
    return f"{kwargs.get('pre_prompt', '')}{PROMPT}{kwargs.get('post_prompt', '')}"


def _record(reference: str, results: Sequence[str], language: str) -> dict[str, Any]:
    prediction = results[0] if results else ""
    return {"gt": reference, "pred": prediction, "language": language}


def process_results(doc: dict[str, Any], results: Sequence[str]) -> dict[str, Any]:
    """LibriSpeech rows: reference `gt`, language from `task` ("asr_en" -> "en")."""
    return {"wer": _record(doc["gt"], results, doc["task"][4:])}


def english_wer(records: Sequence[dict[str, Any]], basic: bool = True) -> float:
    """Corpus WER in percent after remove_sp and Whisper's English (then basic) normaliser."""
    english, basic_normalizer = english_normalizers()
    refs = [remove_sp(record["gt"], record["language"]) for record in records]
    hyps = [remove_sp(record["pred"], record["language"]) for record in records]
    languages = {record["language"] for record in records}
    if languages != {"en"}:
        raise ValueError(f"English ASR scoring got languages {sorted(languages)}")
    rate = compute_wer(
        refs, hyps, "en", english_languages={"en"}, english_normalizer=english,
        basic_normalizer=basic_normalizer if basic else None,
    )  # fmt: skip
    return rate * 100


def wer(records: Sequence[dict[str, Any]]) -> float:
    return english_wer(records, basic=True)
