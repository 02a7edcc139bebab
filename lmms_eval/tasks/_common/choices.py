"""Reading an option letter out of a free-form multiple-choice answer.

`extract_choice_letter` is the priority-based letter reader that lmms-eval adopted for
RealWorldQA, MMStar and Video-MME in 2026-04 (its PR #1274), re-implemented here from
the rule's description (shared/benchmarks.md, sections 13 and 14):

1. Strip the response, then strip each of `, . ! ? ; : ' "` from both ends, in that
   order, one character class after another; pad the result with one space each side.
2. Collect candidates (letter, position, format) for every allowed letter L:
   "(L)", "L.", "L:", "L)", "L " (each at its right-most occurrence); an answer phrase
   ("the answer is", "i choose", ...; found case-insensitively, first occurrence) followed
   anywhere later by L (its first occurrence after the phrase, case-sensitive); the text
   *starting* with L not followed by a letter; the text *ending* with L not preceded by a
   letter.
3. Only if nothing was found: any occurrence of L (right-most).
4. The highest-priority format wins (start 10, end 9, phrase 7, parentheses 6, period 5,
   colon 4, right-paren 3, space 2, fallback 0); among equals the later position wins.

Letters are matched case-sensitively (upper case). Known quirks, kept on purpose because
they change scores: a sentence that starts with the article "A " reads as option A with
the top priority, and after an answer phrase a letter mentioned *later* in the
explanation beats the one right after the phrase ("I choose B because D is wrong" -> D).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

DEFAULT_LETTERS = ("A", "B", "C", "D")

# Stripped from both ends one after another (the order matters: 'B."' keeps its period).
_EDGE_CHARACTERS = (",", ".", "!", "?", ";", ":", "'", '"')

ANSWER_PHRASES = (
    "the answer is",
    "answer is",
    "the correct answer is",
    "correct answer is",
    "the best answer is",
    "best answer is",
    "the correct option is",
    "correct option is",
    "the best option is",
    "best option is",
    "the choice is",
    "choice is",
    "the correct choice is",
    "correct choice is",
    "i choose",
    "i select",
    "i pick",
    "my answer is",
    "my choice is",
    # Korean, Chinese, Japanese answer markers
    "옵션",
    "정답은",
    "답은",
    "답:",
    "答案是",
    "答案为",
    "选",
    "答えは",
)

FORMAT_PRIORITY = {
    "start": 10,
    "end": 9,
    "phrase": 7,
    "parentheses": 6,
    "period": 5,
    "colon": 4,
    "right_paren": 3,
    "space": 2,
    "fallback": 0,
}

# format name -> how the letter L is written in it
_MARKED_FORMATS = (
    ("parentheses", "({})"),
    ("period", "{}."),
    ("colon", "{}:"),
    ("right_paren", "{})"),
    ("space", "{} "),
)


class Candidate(NamedTuple):
    letter: str
    position: int
    format: str

    @property
    def rank(self) -> tuple[int, int]:
        return FORMAT_PRIORITY[self.format], self.position


def _trim_edges(response: str) -> str:
    text = response.strip()
    for character in _EDGE_CHARACTERS:
        text = text.strip(character)
    return text


def choice_candidates(response: str, letters: Sequence[str] = DEFAULT_LETTERS) -> list[Candidate]:
    """Every (letter, position, format) the rule finds in `response`, unranked."""
    if not response or not response.strip():
        return []
    padded = " " + _trim_edges(response) + " "
    found: list[Candidate] = []
    for name, pattern in _MARKED_FORMATS:
        for letter in letters:
            position = padded.rfind(pattern.format(letter))
            if position != -1:
                found.append(Candidate(letter, position, name))
    lowered = padded.lower()
    for phrase in ANSWER_PHRASES:
        start = lowered.find(phrase)
        if start == -1:
            continue
        after = start + len(phrase)
        for letter in letters:
            position = padded.find(letter, after)
            if position != -1:
                found.append(Candidate(letter, position, "phrase"))
    core = padded.strip()
    for letter in letters:
        if core.startswith(letter) and (len(core) == 1 or not core[1].isalpha()):
            found.append(Candidate(letter, 0, "start"))
        if core.endswith(letter) and (len(core) == 1 or not core[-2].isalpha()):
            found.append(Candidate(letter, len(padded) - 1, "end"))
    if not found:
        for letter in letters:
            position = padded.rfind(letter)
            if position != -1:
                found.append(Candidate(letter, position, "fallback"))
    return found


def extract_choice_letter(response: str, letters: Sequence[str] = DEFAULT_LETTERS) -> str:
    """The chosen letter, or "" when the response names none of `letters`."""
    candidates = choice_candidates(response, letters)
    if not candidates:
        return ""
    # max() keeps the first of equal ranks, as a stable descending sort would.
    return max(candidates, key=lambda candidate: candidate.rank).letter
