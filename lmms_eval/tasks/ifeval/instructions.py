"""IFEval's 25 verifiable instructions, written from their published definitions (Zhou et
al., 2023, Table 1 and the dataset's kwargs). Each checker takes the response and the
instruction's kwargs and says whether the response follows it.

Words are runs of word characters (\\w+). Sentences come from pysbd, a rule-based
segmenter that needs no downloaded data (nltk's punkt models cannot be fetched offline).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from functools import cache
from typing import Any

Checker = Callable[..., bool]
CHECKERS: dict[str, Checker] = {}


def checker(instruction_id: str) -> Callable[[Checker], Checker]:
    def register(function: Checker) -> Checker:
        CHECKERS[instruction_id] = function
        return function

    return register


def _compare(count: int, relation: str, target: int) -> bool:
    """The two relations IFEval uses: "less than" (strictly) and "at least"."""
    if relation == "less than":
        return count < target
    if relation == "at least":
        return count >= target
    raise ValueError(f"unknown relation {relation!r}")


def words(text: str) -> list[str]:
    return re.findall(r"\w+", text)


@cache
def _segmenter() -> Any:
    import pysbd

    return pysbd.Segmenter(language="en", clean=False)


def sentences(text: str) -> list[str]:
    return [part for part in _segmenter().segment(text) if part.strip()]


def _detect_language(text: str) -> str | None:
    import langdetect

    langdetect.DetectorFactory.seed = 0  # langdetect is random unless seeded
    try:
        return langdetect.detect(text)
    except langdetect.LangDetectException:
        return None


# --- keywords ---------------------------------------------------------------------------


def _occurrences(word: str, text: str) -> int:
    return len(re.findall(rf"\b{re.escape(word)}\b", text, flags=re.IGNORECASE))


@checker("keywords:existence")
def keywords_exist(response: str, keywords: list[str]) -> bool:
    return all(_occurrences(word, response) > 0 for word in keywords)


@checker("keywords:frequency")
def keyword_frequency(response: str, keyword: str, frequency: int, relation: str) -> bool:
    return _compare(_occurrences(keyword, response), relation, frequency)


@checker("keywords:forbidden_words")
def no_forbidden_words(response: str, forbidden_words: list[str]) -> bool:
    return not any(_occurrences(word, response) for word in forbidden_words)


@checker("keywords:letter_frequency")
def letter_frequency(response: str, letter: str, let_frequency: int, let_relation: str) -> bool:
    return _compare(response.lower().count(letter.lower()), let_relation, let_frequency)


# --- language ---------------------------------------------------------------------------


@checker("language:response_language")
def response_language(response: str, language: str) -> bool:
    detected = _detect_language(response)
    return detected is None or detected == language  # undetectable text is given the benefit of the doubt


# --- length -----------------------------------------------------------------------------


@checker("length_constraints:number_sentences")
def number_sentences(response: str, num_sentences: int, relation: str) -> bool:
    return _compare(len(sentences(response)), relation, num_sentences)


@checker("length_constraints:number_words")
def number_words(response: str, num_words: int, relation: str) -> bool:
    return _compare(len(words(response)), relation, num_words)


def _divided_paragraphs(response: str) -> list[str] | None:
    """Paragraphs separated by the markdown divider ***; None when one is empty."""
    parts = [part.strip() for part in re.split(r"\s?\*\*\*\s?", response)]
    inner = parts[1:-1]
    if any(not part for part in inner):
        return None
    return [part for part in parts if part]


@checker("length_constraints:number_paragraphs")
def number_paragraphs(response: str, num_paragraphs: int) -> bool:
    paragraphs = _divided_paragraphs(response)
    return paragraphs is not None and len(paragraphs) == num_paragraphs


@checker("length_constraints:nth_paragraph_first_word")
def nth_paragraph_first_word(response: str, num_paragraphs: int, nth_paragraph: int, first_word: str) -> bool:
    paragraphs = [part.strip() for part in re.split(r"\n\s*\n", response) if part.strip()]
    if len(paragraphs) != num_paragraphs or not 1 <= nth_paragraph <= len(paragraphs):
        return False
    found = words(paragraphs[nth_paragraph - 1])
    return bool(found) and found[0].lower() == first_word.lower()


# --- detectable content and format --------------------------------------------------------


@checker("detectable_content:number_placeholders")
def number_placeholders(response: str, num_placeholders: int) -> bool:
    return len(re.findall(r"\[[^\]]*\]", response)) >= num_placeholders


@checker("detectable_content:postscript")
def postscript(response: str, postscript_marker: str) -> bool:
    marker = re.escape(postscript_marker.strip())
    return re.search(rf"^\s*{marker}", response, flags=re.IGNORECASE | re.MULTILINE) is not None


@checker("detectable_format:number_bullet_lists")
def number_bullet_lists(response: str, num_bullets: int) -> bool:
    bullets = re.findall(r"^\s*[*-]\s+\S", response, flags=re.MULTILINE)
    return len(bullets) == num_bullets


CONSTRAINED_ANSWERS = ("My answer is yes.", "My answer is no.", "My answer is maybe.")


@checker("detectable_format:constrained_response")
def constrained_response(response: str) -> bool:
    return any(answer in response.strip() for answer in CONSTRAINED_ANSWERS)


@checker("detectable_format:number_highlighted_sections")
def number_highlighted_sections(response: str, num_highlights: int) -> bool:
    spans = re.findall(r"\*\*([^*\n]+)\*\*|\*([^*\n]+)\*", response)
    return sum(1 for pair in spans if any(part.strip() for part in pair)) >= num_highlights


@checker("detectable_format:multiple_sections")
def multiple_sections(response: str, section_spliter: str, num_sections: int) -> bool:
    parts = re.split(rf"\s?{re.escape(section_spliter.strip())}\s?\d+\s?", response)
    return len(parts) - 1 >= num_sections


@checker("detectable_format:json_format")
def json_format(response: str) -> bool:
    text = response.strip()
    text = re.sub(r"^```(?:json|Json|JSON)?\s*", "", text)
    text = re.sub(r"\s*```$", "", text)
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


@checker("detectable_format:title")
def title(response: str) -> bool:
    return any(inner.strip() for inner in re.findall(r"<<([^\n]+?)>>", response))


# --- combinations, start and end ------------------------------------------------------------


@checker("combination:two_responses")
def two_responses(response: str) -> bool:
    """Exactly two different responses separated by six asterisks."""
    parts = [part.strip() for part in response.split("******")]
    if parts and not parts[0]:
        parts = parts[1:]
    if parts and not parts[-1]:
        parts = parts[:-1]
    return len(parts) == 2 and all(parts) and parts[0] != parts[1]


@checker("combination:repeat_prompt")
def repeat_prompt(response: str, prompt_to_repeat: str) -> bool:
    return response.strip().lower().startswith(prompt_to_repeat.strip().lower())


@checker("startend:end_checker")
def end_checker(response: str, end_phrase: str) -> bool:
    return response.strip().strip('"').lower().endswith(end_phrase.strip().lower())


@checker("startend:quotation")
def quotation(response: str) -> bool:
    text = response.strip()
    return len(text) > 1 and text.startswith('"') and text.endswith('"')


# --- case and punctuation ---------------------------------------------------------------


@checker("change_case:capital_word_frequency")
def capital_word_frequency(response: str, capital_frequency: int, capital_relation: str) -> bool:
    capitals = [word for word in words(response) if word.isupper()]
    return _compare(len(capitals), capital_relation, capital_frequency)


@checker("change_case:english_capital")
def english_capital(response: str) -> bool:
    return response.isupper() and _detect_language(response) == "en"


@checker("change_case:english_lowercase")
def english_lowercase(response: str) -> bool:
    return response.islower() and _detect_language(response) == "en"


@checker("punctuation:no_comma")
def no_comma(response: str) -> bool:
    return "," not in response
