"""GigaSpeech: LibriSpeech's prompt; punctuation tags spelt out; Whisper's English
normaliser only (GigaSpeech's scorer passes no basic normaliser)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lmms_eval.tasks._builtin.librispeech.utils import doc_to_text, doc_to_visual, english_wer

__all__ = ["doc_to_text", "doc_to_visual", "process_results", "wer"]

PUNCTUATION_TAGS = {"<COMMA>": ",", "<PERIOD>": ".", "<QUESTION>": "?", "<EXCLAMATION>": "!"}


def spell_punctuation(text: str) -> str:
    for tag, mark in PUNCTUATION_TAGS.items():
        text = text.replace(tag, mark)
    return text


def process_results(doc: dict[str, Any], results: Sequence[str]) -> dict[str, Any]:
    prediction = results[0] if results else ""
    return {"wer": {"gt": spell_punctuation(doc["gt"]), "pred": prediction, "language": "en"}}


def wer(records: Sequence[dict[str, Any]]) -> float:
    return english_wer(records, basic=False)
