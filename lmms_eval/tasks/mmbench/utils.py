"""MMBench (English, dev): prompt, the rule-based answer matcher and CircularEval.

CircularEval needs all rotated copies of a question at once, so it runs as a filter step
(`CircularEval`), which sees every scored row of the task: it reads each row's letter with
the MMBench rules, groups rows by `index mod 1,000,000`, and marks the question right only
if every copy is right. `process_results` then gives one score per question (on the
question's first row), so the headline is a plain mean over questions with its standard
error.

There is no LLM answer extractor yet: a row the rules cannot read counts as wrong, and the
questions lost that way are reported (`circular_unresolved`, `count/unresolved_rows`).
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

from lmms_eval.api.filter import Filter

OPTION_LETTERS = "ABCDE"
COPY_STRIDE = 1_000_000  # a rotated copy of question i has index i + k * 1,000,000

# ---------------------------------------------------------------------------------------
# Missing values: the dataset writes an absent hint or option as None or the string "nan"
# ---------------------------------------------------------------------------------------


def is_missing(value: Any) -> bool:
    """An absent option: None, NaN, "nan" or empty."""
    return has_no_hint(value) or value == ""


def has_no_hint(value: Any) -> bool:
    """An absent hint: None, NaN or "nan" (an empty string is kept, as lmms-eval does)."""
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and value == "nan"


def doc_options(doc: dict[str, Any]) -> dict[str, str]:
    """The options the question has, letter -> text, in letter order."""
    return {letter: str(doc[letter]) for letter in OPTION_LETTERS if letter in doc and not is_missing(doc[letter])}


# ---------------------------------------------------------------------------------------
# Prompt
# ---------------------------------------------------------------------------------------


def options_block(doc: dict[str, Any]) -> str:
    return "There are several options:" + "".join(f"\n{letter}. {text}" for letter, text in doc_options(doc).items())


def mmbench_doc_to_visual(doc: dict[str, Any]) -> list[Any]:
    return [doc["image"].convert("RGB")]


def mmbench_doc_to_text(doc: dict[str, Any], lmms_eval_specific_kwargs: dict[str, Any] | None = None) -> str:
    """`{hint} {question} {options}` (no hint: `{question} {options}`), then a newline and
    post_prompt (which itself starts with a newline)."""
    hint = doc.get("hint")
    question = doc["question"]
    query = f"{question} {options_block(doc)}" if has_no_hint(hint) else f"{hint} {question} {options_block(doc)}"
    if lmms_eval_specific_kwargs:
        pre_prompt = lmms_eval_specific_kwargs.get("pre_prompt", "") or ""
        query = f"{pre_prompt}{query}\n{lmms_eval_specific_kwargs.get('post_prompt', '') or ''}"
    return query


# ---------------------------------------------------------------------------------------
# Rule-based answer matching (MMBench's "prefetch" step)
# ---------------------------------------------------------------------------------------

# Decorated letters, tried in this order when bare letters do not decide: "B.", "B,", ...
_DECORATIONS = (
    ("", "."), ("", ","), ("", ":"), ("", ")"), ("", ")."), ("(", ")"), ("(", ")."),
    (":", ""), (":", ","), (":", "."), (":", ")"), (":", ")."),
)  # fmt: skip


def infer_option_letter(response: str) -> str | None:
    """A letter A-E written as a whole whitespace-separated token.

    First bare letters: exactly one of A-E as a token decides, unless "A" is a token of a
    response of more than three tokens (it may be the article), in which case the bare
    step is skipped. Then each decoration in turn: exactly one letter with it decides.
    """
    tokens = [token.strip() for token in response.split()]
    bare = [letter for letter in OPTION_LETTERS if letter in tokens]
    if len(bare) == 1 and not ("A" in tokens and len(tokens) > 3):
        return bare[0]
    for prefix, suffix in _DECORATIONS:
        found = [letter for letter in OPTION_LETTERS if f"{prefix}{letter}{suffix}" in tokens]
        if len(found) == 1:
            return found[0]
    return None


def infer_option_text(response: str, options: dict[str, str]) -> str | None:
    """The letter of the one option whose text (lower-cased) is inside the response."""
    lowered = response.lower()
    found = [letter for letter, text in options.items() if text.lower() in lowered]
    return found[0] if len(found) == 1 else None


def match_answer(response: str, doc: dict[str, Any]) -> str | None:
    """The option a response chose by MMBench's rules, or None when they cannot tell."""
    return infer_option_letter(response) or infer_option_text(response, doc_options(doc))


# ---------------------------------------------------------------------------------------
# CircularEval
# ---------------------------------------------------------------------------------------


def question_of(doc: dict[str, Any]) -> int:
    return int(doc["index"]) % COPY_STRIDE


def circular_eval(responses: list[Any], docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per row: its matched letter and whether it is right; per question (shown on every
    row of it): hit = every copy right; lost_to_unresolved = not a hit, and no copy was
    read as a wrong letter (so an answer extractor might still turn it into a hit)."""
    rows = []
    for value, doc in zip(responses, docs):
        response = value[0] if isinstance(value, list) else value
        response = "" if response is None else str(response)
        prediction = match_answer(response, doc)
        rows.append({"prediction": prediction, "row_correct": prediction is not None and prediction == str(doc["answer"])})
    members: dict[int, list[int]] = defaultdict(list)
    for position, doc in enumerate(docs):
        members[question_of(doc)].append(position)
    for question, positions in members.items():
        group = [rows[p] for p in positions]
        hit = all(row["row_correct"] for row in group)
        read_wrong = any(row["prediction"] is not None and not row["row_correct"] for row in group)
        unresolved = sum(row["prediction"] is None for row in group)
        first = min(positions, key=lambda p: int(docs[p]["index"]))  # the main row when present
        for p in positions:
            rows[p].update(
                question=question,
                scores_question=p == first,
                copies=len(positions),
                question_hit=hit,
                unresolved_copies=unresolved,
                lost_to_unresolved=not hit and not read_wrong,
            )
    return rows


class CircularEval(Filter):
    """Filter step running `circular_eval` over all scored rows of the task."""

    def apply(self, responses: Any, docs: Any) -> list[dict[str, Any]]:
        return circular_eval(list(responses), list(docs))


def mmbench_process_results(doc: dict[str, Any], results: list[Any]) -> dict[str, Any]:
    """Scores only on each question's first row (the others return nothing), in percent."""
    info = results[0]
    if not isinstance(info, dict) or not info.get("scores_question"):
        return {}
    return {
        "circular_acc": 100.0 * info["question_hit"],
        "circular_unresolved": 100.0 * info["lost_to_unresolved"],
        "circular_breakdown": {
            "category": doc.get("category"),
            "l2_category": doc.get("L2-category"),
            "hit": bool(info["question_hit"]),
            "copies": info["copies"],
            "unresolved_copies": info["unresolved_copies"],
        },
    }


def mmbench_breakdown(values: list[dict[str, Any]]) -> dict[str, float | int]:
    """CircularEval accuracy (percent) per L2 category and per category, and counts of
    questions, rows and rows the rules could not read."""
    groups: dict[str, list[bool]] = defaultdict(list)
    for value in values:
        if value.get("l2_category") is not None:
            groups[f"L2-category/{value['l2_category']}"].append(value["hit"])
        if value.get("category") is not None:
            groups[f"category/{value['category']}"].append(value["hit"])
    result: dict[str, float | int] = {
        "count/questions": len(values),
        "count/rows": sum(value["copies"] for value in values),
        "count/unresolved_rows": sum(value["unresolved_copies"] for value in values),
    }
    for name in sorted(groups):
        result[name] = 100.0 * sum(groups[name]) / len(groups[name])
    return result
