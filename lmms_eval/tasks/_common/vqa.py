"""VQA accuracy with the VQA evaluation tool's answer normalisation, and small helpers
shared by the open-answer image tasks (VQAv2, TextVQA, GQA, DocVQA, InfoVQA, ChartQA,
OCRBench).

The normalisation tables (contractions, number words, articles, punctuation marks) are
data, read once from `vqa_answer_normalization.json` beside this file. The steps:

- punctuation: every mark of the table is deleted when it touches a space (either side)
  or when the text contains a digit-comma-digit run anywhere; otherwise it becomes a
  space. Then every "." not followed by a digit is deleted ("5." -> "5", "3.5" stays).
  The official tool passes `re.UNICODE` where `re.sub` expects a count, so it deletes at
  most 32 such periods; that limit is kept.
- digits and articles: lower-case, split on whitespace, number words "none"/"zero".."ten"
  become digits, the articles are dropped, words in the contraction table are replaced
  ("dont" -> "don't"; the table's keys are matched after lower-casing, so its capitalised
  keys such as "Im" never match), rejoined with single spaces.

Accuracy of one prediction against n human answers (n = 10 in VQAv2 and TextVQA): for each
answer i, min(1, matches among the other n - 1 answers / 3); the mean over the n.

Two rules decide what gets normalised (shared/benchmarks.md sections 8, 16, 35):
- VQAv2 (the original VQA tool): the prediction always gets both steps; the golds are
  only stripped of tabs/newlines, and get the punctuation step (alone) only when they are
  not all identical. `vqav2_accuracy`.
- TextVQA (its own evaluator, the EvalAI answer processor): prediction and every gold get
  the full processor, which first lower-cases, deletes "," and "?" and splits "'s" off.
  `textvqa_accuracy`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

TABLES_FILE = Path(__file__).with_name("vqa_answer_normalization.json")

# The official pattern reads "(?!<=\d)(\.)(?!\d)": its first group is a look-ahead (not the
# intended look-behind) that can never fail before a ".", so only "not followed by a digit" counts.
_PERIOD_NOT_BEFORE_DIGIT = re.compile(r"\.(?!\d)")
_OFFICIAL_PERIOD_LIMIT = 32  # int(re.UNICODE), passed as `count` by the official tool
_DIGIT_COMMA_DIGIT = re.compile(r"\d,\d")
AGREEMENT_FOR_FULL_CREDIT = 3


@dataclass(frozen=True)
class NormalisationTables:
    contractions: Mapping[str, str]
    number_words: Mapping[str, str]
    articles: frozenset[str]
    punctuation: tuple[str, ...]


@cache
def tables() -> NormalisationTables:
    """The tables, read from the JSON file on first use."""
    raw = json.loads(TABLES_FILE.read_text(encoding="utf-8"))
    return NormalisationTables(
        contractions=dict(raw["contractions"]),
        number_words=dict(raw["number_words"]),
        articles=frozenset(raw["articles"]),
        punctuation=tuple(raw["punctuation"]),
    )


def process_punctuation(text: str) -> str:
    delete_all = _DIGIT_COMMA_DIGIT.search(text) is not None
    result = text
    for mark in tables().punctuation:
        touches_space = f"{mark} " in text or f" {mark}" in text
        result = result.replace(mark, "" if delete_all or touches_space else " ")
    return _PERIOD_NOT_BEFORE_DIGIT.sub("", result, count=_OFFICIAL_PERIOD_LIMIT)


def process_digit_article(text: str) -> str:
    table = tables()
    words = (table.number_words.get(word, word) for word in text.lower().split())
    kept = [word for word in words if word not in table.articles]
    return " ".join(table.contractions.get(word, word) for word in kept)


def _flatten_whitespace(text: str) -> str:
    return text.replace("\n", " ").replace("\t", " ").strip()


def normalise_vqa_answer(text: str) -> str:
    """What the VQA tool does to a prediction: both steps."""
    return process_digit_article(process_punctuation(_flatten_whitespace(text)))


def evalai_answer(text: str) -> str:
    """The EvalAI answer processor of TextVQA's evaluator (applied to predictions and golds)."""
    tokenised = text.lower().replace(",", "").replace("?", "").replace("'s", " 's").strip()
    return process_digit_article(process_punctuation(_flatten_whitespace(tokenised)))


def leave_one_out_accuracy(prediction: str, golds: Sequence[str]) -> float:
    """Mean over the golds of min(1, matches of the prediction among the *other* golds / 3),
    compared as given (normalise first)."""
    if not golds:
        return 0.0
    matches = [gold == prediction for gold in golds]
    total = sum(matches)
    return sum(min(1.0, (total - match) / AGREEMENT_FOR_FULL_CREDIT) for match in matches) / len(golds)


def vqav2_accuracy(prediction: str, golds: Sequence[str]) -> float:
    """The original VQA evaluation tool's score of one answer."""
    references = [_flatten_whitespace(gold) for gold in golds]
    if len(set(references)) > 1:
        references = [process_punctuation(gold) for gold in references]
    return leave_one_out_accuracy(normalise_vqa_answer(prediction), references)


def textvqa_accuracy(prediction: str, golds: Sequence[str]) -> float:
    """TextVQA's evaluator: the EvalAI processor on the prediction and on every gold."""
    return leave_one_out_accuracy(evalai_answer(prediction), [evalai_answer(gold) for gold in golds])


# --- shared by the task families ----------------------------------------------------------


def doc_to_visual(doc: dict[str, Any]) -> list[Any]:
    return [doc["image"].convert("RGB")]


def question_prompt(question: str, lmms_eval_specific_kwargs: dict[str, Any] | None) -> str:
    """pre_prompt + question + post_prompt (a missing or null prompt counts as empty)."""
    kwargs = lmms_eval_specific_kwargs or {}
    return f"{kwargs.get('pre_prompt') or ''}{question}{kwargs.get('post_prompt') or ''}"


def as_list(value: Any) -> list[Any]:
    """A dataset field that may be a list, a single value or missing, as a list."""
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def categorised(score: float, categories: Iterable[str]) -> dict[str, Any]:
    """A per-sample value for `category_means`: the score and the categories it counts in."""
    return {"score": float(score), "categories": [str(category) for category in categories]}


def category_means(values: Sequence[dict[str, Any]]) -> dict[str, float]:
    """Mean score per category (a sample may count in several), categories sorted by name."""
    totals: dict[str, list[float]] = {}
    for value in values:
        for category in value["categories"]:
            totals.setdefault(category, []).append(value["score"])
    return {category: sum(scores) / len(scores) for category, scores in sorted(totals.items())}
