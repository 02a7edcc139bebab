"""EgoSchema (the 500-question subset with public answers): five options on 3-minute
egocentric clips, `$HF_HOME/<cache_dir>/videos/<video_idx>.mp4`."""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lmms_eval.tasks._common.video import find_media

__all__ = ["doc_to_visual", "doc_to_text", "process_results", "parse_choice"]

TASK_YAML = Path(__file__).with_name("egoschema_subset.yaml")
POST_PROMPT = "\nAnswer with the option's letter from the given choices directly."
LETTERS = "ABCDE"
_EDGE_CHARACTERS = (",", ".", "!", "?", ";", ":", "'")
MIN_WORDS_FOR_TEXT_MATCH = 6  # option texts are searched only in replies of more than five words


def doc_to_visual(doc: dict[str, Any]) -> list[Any]:
    return [find_media(doc["video_idx"], TASK_YAML, ["videos"])]


def doc_to_text(doc: dict[str, Any], lmms_eval_specific_kwargs: dict[str, Any] | None = None) -> str:
    """The question, each option on its own line, then the letter instruction (always: it
    replaces any post_prompt, as in lmms-eval)."""
    kwargs = lmms_eval_specific_kwargs or {}
    options = "".join("\n" + str(option) for option in doc["option"])
    return f"{kwargs.get('pre_prompt', '')}{doc['question']}{options}{POST_PROMPT}"


def parse_choice(reply: str, options: Sequence[str], seed: str) -> str:
    """lmms-eval's EgoSchema reader (see README): every "(L)", "L " and "L." counts at once;
    with several, the one whose right-most marker comes first wins; option texts are tried
    only when no letter is found; nothing at all gives a letter drawn with `seed`."""
    letters = LETTERS[: len(options)]
    text = reply
    for character in _EDGE_CHARACTERS:
        text = text.strip(character)
    padded = f" {text} "
    bracketed = [letter for letter in letters if f"({letter})" in padded]
    candidates = bracketed + [letter for letter in letters if f"{letter} " in padded] + [letter for letter in letters if f"{letter}." in padded]
    if candidates:
        marker = "({})" if bracketed else " {} "
        positions = [padded.rfind(marker.format(letter)) for letter in candidates]  # -1 when that marker is absent
        return candidates[positions.index(min(positions))]
    if len(padded.split()) >= MIN_WORDS_FOR_TEXT_MATCH:
        lowered = padded.lower()
        by_text = [letter for letter, option in zip(letters, options) if str(option).lower() in lowered]
        if by_text:
            positions = [lowered.rfind(str(options[letters.index(letter)]).lower()) for letter in by_text]
            return by_text[positions.index(min(positions))]
    return random.Random(seed).choice(letters)


def process_results(doc: dict[str, Any], results: Sequence[str]) -> dict[str, Any]:
    options = [str(option) for option in doc["option"]]
    letter = parse_choice(str(results[0]) if results else "", options, seed=f"egoschema:{doc['question_idx']}")
    predicted = LETTERS.index(letter)
    return {"score": float(str(predicted) == str(doc["answer"]).strip())}
