"""MMMU (validation): prompts, images and the official MMMU answer parsing and scoring.

Scoring follows the official MMMU evaluation (MMMU-Benchmark/MMMU, `eval_utils.py`) as
pinned down by this project (see README.md in this folder):

- multiple choice: "(L)" first, then " L " with a space on both sides, then the option
  text when the response has more than five words, then a seeded random letter; several
  candidates go to the one whose last occurrence is right-most;
- open answers: the shortest tail after an indicator word in every line, plus every
  number found in those tails; floats rounded to two places; a string gold must be a
  substring of a string candidate, a numeric gold must equal a numeric candidate.
"""

from __future__ import annotations

import ast
import random
import re
from collections import defaultdict
from typing import Any

# ---------------------------------------------------------------------------------------
# Subjects and disciplines
# ---------------------------------------------------------------------------------------

DISCIPLINES: dict[str, tuple[str, ...]] = {
    "Art and Design": ("Art", "Art_Theory", "Design", "Music"),
    "Business": ("Accounting", "Economics", "Finance", "Manage", "Marketing"),
    "Science": ("Biology", "Chemistry", "Geography", "Math", "Physics"),
    "Health and Medicine": (
        "Basic_Medical_Science",
        "Clinical_Medicine",
        "Diagnostics_and_Laboratory_Medicine",
        "Pharmacy",
        "Public_Health",
    ),
    "Humanities and Social Science": ("History", "Literature", "Sociology", "Psychology"),
    "Tech and Engineering": (
        "Agriculture",
        "Architecture_and_Engineering",
        "Computer_Science",
        "Electronics",
        "Energy_and_Power",
        "Materials",
        "Mechanical_Engineering",
    ),
}
DISCIPLINE_OF = {subject: discipline for discipline, subjects in DISCIPLINES.items() for subject in subjects}

MAX_IMAGES = 7
_IMAGE_TAG = re.compile(r"<image (\d+)>")
_ID_PATTERN = re.compile(r"[^_]+_(.+?)_\d+")
FALLBACK_SEED = 42  # the official script seeds `random` with 42


def subject_of(doc_id: str) -> str:
    """`validation_Art_Theory_7` -> `Art_Theory`."""
    match = _ID_PATTERN.fullmatch(str(doc_id))
    return match.group(1) if match else "unknown"


# ---------------------------------------------------------------------------------------
# Prompt and images
# ---------------------------------------------------------------------------------------


def parse_options(doc: dict[str, Any]) -> list[str]:
    """The `options` column is a Python list literal in a string ("[]" for open questions)."""
    options = doc.get("options")
    if options is None:
        return []
    if isinstance(options, str):
        text = options.strip()
        if not text:
            return []
        options = ast.literal_eval(text)
    return [str(option) for option in options]


def option_letters(count: int) -> list[str]:
    return [chr(ord("A") + i) for i in range(count)]


def is_multiple_choice(doc: dict[str, Any]) -> bool:
    return doc.get("question_type") == "multiple-choice"


def _options_block(options: list[str]) -> str:
    return "\n".join(f"{letter}. {option}" for letter, option in zip(option_letters(len(options)), options))


def mmmu_doc_to_text(doc: dict[str, Any], lmms_eval_specific_kwargs: dict[str, Any] | None = None) -> str:
    """MC: question, the lettered options, a blank line, the instruction. Open: question, a
    blank line, the instruction. `<image N>` tags stay in the text as they are."""
    kwargs = lmms_eval_specific_kwargs or {}
    pre_prompt = kwargs.get("pre_prompt", "") or ""
    post_prompt = kwargs.get("post_prompt", "") or ""
    question = doc["question"]
    if is_multiple_choice(doc):
        instruction = kwargs.get("multiple_choice_prompt", "Answer with the option's letter from the given choices directly.")
        body = f"{question}\n{_options_block(parse_options(doc))}\n\n{instruction}"
    else:
        instruction = kwargs.get("open_ended_prompt", "Answer the question using a single word or phrase.")
        body = f"{question}\n\n{instruction}"
    return f"{pre_prompt}{body}{post_prompt}"


def image_numbers(doc: dict[str, Any]) -> list[int]:
    """Distinct `<image N>` numbers named in the question and the options, ascending."""
    text = str(doc.get("question") or "") + "\n" + "\n".join(parse_options(doc))
    numbers = {int(found) for found in _IMAGE_TAG.findall(text)}
    return sorted(number for number in numbers if 1 <= number <= MAX_IMAGES)


def mmmu_doc_to_visual(doc: dict[str, Any]) -> list[Any]:
    """One image per distinct tag, in tag order, from the `image_N` columns (each image once,
    however often its tag appears). A tag whose column is empty is skipped."""
    images = []
    for number in image_numbers(doc):
        image = doc.get(f"image_{number}")
        if image is not None:
            images.append(image.convert("RGB"))
    return images


# ---------------------------------------------------------------------------------------
# Multiple choice parsing (official MMMU rule)
# ---------------------------------------------------------------------------------------

# Stripped from both ends one character kind after another, in this order, as the official
# script does (so "B,." keeps its comma: the trailing "." hides it from the "," step).
_EDGE_CHARACTERS = (",", ".", "!", "?", ";", ":", "'")


def parse_multi_choice_response(response: str, options: list[str], rng: random.Random | None = None) -> str:
    """The letter a response picks among `options` (A, B, ... in order)."""
    letters = option_letters(len(options))
    if not letters:
        return ""
    text = response
    for character in _EDGE_CHARACTERS:
        text = text.strip(character)
    padded = f" {text} "

    # 1. "(B)"
    candidates = [letter for letter in letters if f"({letter})" in padded]
    mode = "bracket"
    # 2. " B " (a space on both sides, after padding)
    if not candidates:
        candidates = [letter for letter in letters if f" {letter} " in padded]
        mode = "spaced"
    # 3. an option's text, only for responses of more than five words
    if not candidates and len(padded.split()) > 5:
        lowered = padded.lower()
        candidates = [letter for letter, option in zip(letters, options) if option.lower() in lowered]
        mode = "text"
    if not candidates:
        # 4. nothing found: a random letter, from a seeded generator
        return (rng or random.Random(FALLBACK_SEED)).choice(letters)
    if len(candidates) == 1:
        return candidates[0]
    # Several: the candidate whose last occurrence starts right-most; on a tie, the
    # earlier letter (the official argmax keeps the first maximum).
    if mode == "bracket":
        positions = [padded.rfind(f"({letter})") for letter in candidates]
    elif mode == "spaced":
        positions = [padded.rfind(f" {letter} ") for letter in candidates]
    else:
        lowered = padded.lower()
        positions = [lowered.rfind(options[letters.index(letter)].lower()) for letter in candidates]
    best = max(range(len(candidates)), key=lambda i: (positions[i], -i))
    return candidates[best]


def fallback_rng(doc: dict[str, Any]) -> random.Random:
    """The random fallback's generator: seeded from 42 and the question id, so a question
    gets the same letter whatever else is evaluated and in whatever order."""
    return random.Random(f"{FALLBACK_SEED}:{doc.get('id', '')}")


# ---------------------------------------------------------------------------------------
# Open answer parsing (official MMMU rule)
# ---------------------------------------------------------------------------------------

_INDICATORS = ("could be ", "so ", "is ", "thus ", "therefore ", "final ", "answer ", "result ")
_TRIVIAL_TAILS = {":", ",", ".", "!", "?", ";", "'"}
_SENTENCE_SPLIT = re.compile(r"\.\s(?=[A-Z])|\n")
_NUMBER_WITH_COMMAS = re.compile(r"-?\b\d{1,3}(?:,\d{3})+\b")
_NUMBER_SCIENTIFIC = re.compile(r"-?\d+(?:\.\d+)?[eE][+-]?\d+")
_NUMBER_SIMPLE = re.compile(r"-?(?:\d+\.\d+|\.\d+|\d+\b)(?![eE][+-]?\d+)(?![,\d])")


def key_subresponses(response: str) -> list[str]:
    """The tails that probably hold the answer: per line, the shortest text after the last
    occurrence of an indicator ("is ", "so ", ..., and "=" on the last line)."""
    text = response.strip().strip(".").lower()
    # The sentence split needs a capital letter, which lower-casing removed: in effect the
    # text is split on newlines only (as in the official script).
    parts = _SENTENCE_SPLIT.split(text)
    tails = []
    for number, part in enumerate(parts):
        indicators = _INDICATORS + (("=",) if number == len(parts) - 1 else ())
        shortest: str | None = None
        for indicator in indicators:
            if indicator not in part:
                continue
            tail = part.split(indicator)[-1].strip()
            # An empty tail does not count as found: a later indicator replaces it.
            if not shortest or len(tail) < len(shortest):
                shortest = tail
        if shortest and shortest.strip() not in _TRIVIAL_TAILS:
            tails.append(shortest)
    return tails or [text]


def extract_numbers(text: str) -> list[str]:
    """Comma-grouped numbers (whole groups), scientific notation, then plain numbers (an
    integer must end at a word boundary: "10cm" gives nothing, "10 cm" gives "10")."""
    return _NUMBER_WITH_COMMAS.findall(text) + _NUMBER_SCIENTIFIC.findall(text) + _NUMBER_SIMPLE.findall(text)


def _as_number(text: str) -> float | None:
    try:
        return float(text.replace(",", ""))
    except ValueError:
        return None


def normalize_answer(text: str) -> list[float | str]:
    """A number (commas removed) becomes a float rounded to 2 places; other text is
    lower-cased, and a single character becomes " x" and "x " so that it cannot match
    inside any word."""
    text = str(text).strip()
    number = _as_number(text)
    if number is not None:
        return [round(number, 2)]
    text = text.lower()
    if len(text) == 1:
        return [" " + text, text + " "]
    return [text]


def parse_open_response(response: str) -> list[float | str]:
    """Every normalised candidate answer in a response (deduplicated)."""
    tails = key_subresponses(response)
    raw = list(tails)
    for tail in tails:
        raw.extend(extract_numbers(tail))
    candidates: list[float | str] = []
    for item in raw:
        for value in normalize_answer(item):
            if value not in candidates:
                candidates.append(value)
    return candidates


def eval_open(golds: list[str], candidates: list[float | str]) -> bool:
    """A string gold inside a string candidate, or a numeric gold equal to a numeric one."""
    normalised: list[float | str] = []
    for gold in golds:
        normalised.extend(normalize_answer(gold))
    for candidate in candidates:
        if isinstance(candidate, str):
            if any(isinstance(gold, str) and gold in candidate for gold in normalised):
                return True
        elif any(isinstance(gold, float) and gold == candidate for gold in normalised):
            return True
    return False


def gold_answers(doc: dict[str, Any]) -> list[str]:
    """The gold answer(s): a list literal ("['1.5', '3/2']") means any of its items."""
    answer = doc.get("answer")
    if isinstance(answer, (list, tuple)):
        return [str(item) for item in answer]
    text = str(answer)
    stripped = text.strip()
    if stripped.startswith("[") and stripped.endswith("]"):
        try:
            parsed = ast.literal_eval(stripped)
        except (ValueError, SyntaxError):
            parsed = None
        if isinstance(parsed, (list, tuple)) and parsed:
            return [str(item) for item in parsed]
    return [text]


# ---------------------------------------------------------------------------------------
# Per-sample scores and aggregation
# ---------------------------------------------------------------------------------------


def mmmu_process_results(doc: dict[str, Any], results: list[str]) -> dict[str, Any]:
    response = results[0] if results else ""
    golds = gold_answers(doc)
    if is_multiple_choice(doc):
        parsed: Any = parse_multi_choice_response(response, parse_options(doc), fallback_rng(doc))
        correct = parsed in golds
    else:
        parsed = parse_open_response(response)
        correct = eval_open(golds, parsed)
    subject = subject_of(doc.get("id", ""))
    return {
        "mmmu_acc": float(correct),
        "mmmu_breakdown": {
            "id": doc.get("id"),
            "subject": subject,
            "question_type": doc.get("question_type"),
            "parsed_pred": parsed,
            "answer": golds,
            "correct": bool(correct),
        },
    }


def mmmu_breakdown(values: list[dict[str, Any]]) -> dict[str, float]:
    """Accuracy per subject, then per discipline ("Overall-<discipline>", instance-weighted:
    correct answers over questions of all its subjects), as fractions."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])  # name -> [correct, total]
    for value in values:
        subject = value["subject"]
        counts[subject][0] += int(bool(value["correct"]))
        counts[subject][1] += 1
    result: dict[str, float] = {}
    for discipline, subjects in DISCIPLINES.items():
        present = [subject for subject in subjects if subject in counts]
        if not present:
            continue
        correct = sum(counts[subject][0] for subject in present)
        total = sum(counts[subject][1] for subject in present)
        result[f"Overall-{discipline}"] = correct / total
        for subject in present:
            result[subject] = counts[subject][0] / counts[subject][1]
    for subject in sorted(set(counts) - set(DISCIPLINE_OF)):  # ids outside the 30 subjects
        result[subject] = counts[subject][0] / counts[subject][1]
    return result
