"""MMMU-style multiple-choice helpers at lmms-eval's import path.

`parse_mmmu_multi_choice_response` is lmms-eval's variant of the MMMU rule, which is not
the official script's that this project's MMMU task uses
(`lmms_eval.tasks.mmmu.utils.parse_multi_choice_response`). Task folders that import it
are scored by lmms-eval's variant, so it is reproduced here as documented:

- the tiers are "(X)", then "X " (a letter followed by a space, not necessarily preceded
  by one), then "X.", then the option texts (only for responses of more than five words);
- with several candidates the one whose marker occurs last wins, the marker being "(X)"
  for the first tier, " X " for the second and third (so several "X." candidates go to
  the first one, unless one also appears as " X "), and the option text for the last;
- when nothing is found it draws `random.choice` from the global `random` state, so the
  result is only reproducible when the caller seeds `random` (this project's MMMU task
  seeds its own generator per question instead).

"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from lmms_eval.tasks._task_utils import names_from_users_copy

# Stripped from both ends one after another, in this order (as in the MMMU task).
EDGE_CHARACTERS = (",", ".", "!", "?", ";", ":", "'")
_MIN_WORDS_FOR_OPTION_TEXT = 6  # "more than five words"


def get_multi_choice_info(options: Sequence[str], start_chr: str = "A") -> tuple[dict[str, str], list[str]]:
    """`(index2ans, all_choices)`: letters from `start_chr` upward by code point."""
    letters = [chr(ord(start_chr) + i) for i in range(len(options))]
    return dict(zip(letters, options)), letters


def parse_mmmu_multi_choice_response(
    response: str, all_choices: Sequence[str], index2ans: Mapping[str, str], rng: random.Random | None = None
) -> str:
    """`rng` (this project's addition) draws the fallback letter; lmms-eval uses the global
    `random` state, which is what `None` keeps."""
    text = response
    for character in EDGE_CHARACTERS:
        text = text.strip(character)
    padded = f" {text} "

    candidates = [choice for choice in all_choices if f"({choice})" in padded]
    marker = "({})"
    if not candidates:
        candidates = [choice for choice in all_choices if f"{choice} " in padded]
        marker = " {} "
    if not candidates:
        candidates = [choice for choice in all_choices if f"{choice}." in padded]
    if not candidates and len(padded.split()) >= _MIN_WORDS_FOR_OPTION_TEXT:
        lowered = padded.lower()
        candidates = [choice for choice in all_choices if index2ans[choice].lower() in lowered]
        marker = ""

    if not candidates:
        return (rng or random).choice(list(all_choices))
    if len(candidates) == 1:
        return candidates[0]
    if marker:
        positions = [padded.rfind(marker.format(choice)) for choice in candidates]
    else:
        lowered = padded.lower()
        positions = [lowered.rfind(index2ans[choice].lower()) for choice in candidates]
    # The first of equal positions wins (lmms-eval takes an argmax).
    return candidates[max(range(len(candidates)), key=lambda i: (positions[i], -i))]


__getattr__ = names_from_users_copy(__name__)
