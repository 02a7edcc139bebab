"""MMLU-Pro: prompts with up to ten lettered options, and the flexible-extract filter."""

from __future__ import annotations

import re
import string
from typing import Any

from lmms_eval.api.filter import ResponseMap

LETTERS = "ABCDEFGHIJ"
COT_OPENING = "A: Let's think step by step."
ANSWER_OPENING = "Answer: Let's think step by step."
INVALID = "[invalid]"


def _question_block(doc: dict[str, Any]) -> str:
    options = "".join(f"{LETTERS[i]}. {option}\n" for i, option in enumerate(doc["options"]))
    return f"Question:\n{doc['question']}\nOptions:\n{options}"


def doc_to_text(doc: dict[str, Any]) -> str:
    """The question asked: its options, then the opening of a worked answer."""
    return _question_block(doc) + ANSWER_OPENING


def fewshot_to_text(doc: dict[str, Any]) -> str:
    """An example's question; its answer (fewshot_to_target) follows directly."""
    return _question_block(doc)


def fewshot_to_target(doc: dict[str, Any]) -> str:
    """An example's worked solution, starting "Answer: Let's think step by step."."""
    return doc["cot_content"].replace(COT_OPENING, ANSWER_OPENING)


def category_filter(category: str):
    """process_docs keeping one subject's rows (the dataset holds all 14 in one split)."""

    def keep(dataset: Any) -> Any:
        return dataset.filter(lambda doc: doc["category"] == category)

    return keep


def _strip_punctuation_lower(text: str) -> str:
    return text.lower().translate(str.maketrans("", "", string.punctuation)).strip()


class FlexibleExtract(ResponseMap):
    """The group's headline filter, in order:
    1. the last "(X)" in the response, kept with its brackets ("(B)");
    2. else the last occurrence of an option's text in the lower-cased, punctuation-free
       response, as "(L)";
    3. else the last ":" followed by an option letter, as "(L)";
    4. else "[invalid]".
    The exact_match metric ignores punctuation, so "(B)" equals the gold "B"."""

    bracketed = re.compile(r"\([A-Z]\)")

    def map(self, response: Any, doc: dict[str, Any]) -> Any:
        found = self.bracketed.findall(response)
        if found:
            return found[-1]
        letter = self._letter_of_option_text(response, doc["options"]) or self._letter_after_colon(response, len(doc["options"]))
        return f"({letter})" if letter else INVALID

    @staticmethod
    def _letter_of_option_text(response: str, options: list[str]) -> str | None:
        texts = [_strip_punctuation_lower(str(option)) for option in options]
        alternatives = [re.escape(text) for text in texts if text]
        if not alternatives:
            return None
        matches = re.findall("|".join(alternatives), _strip_punctuation_lower(response))
        return LETTERS[texts.index(matches[-1])] if matches else None

    @staticmethod
    def _letter_after_colon(response: str, option_count: int) -> str | None:
        matches = re.findall(rf":\s*([{LETTERS[:option_count]}])", response)
        return matches[-1] if matches else None


# process_docs per subject (the dataset's `category` values).
biology_docs = category_filter("biology")
business_docs = category_filter("business")
chemistry_docs = category_filter("chemistry")
computer_science_docs = category_filter("computer science")
economics_docs = category_filter("economics")
engineering_docs = category_filter("engineering")
health_docs = category_filter("health")
history_docs = category_filter("history")
law_docs = category_filter("law")
math_docs = category_filter("math")
other_docs = category_filter("other")
philosophy_docs = category_filter("philosophy")
physics_docs = category_filter("physics")
psychology_docs = category_filter("psychology")
