"""MathVista (testmini): the three prompt styles, rule-based answer reading, LLM answer
extraction through the task's judge, and the official normalisation (see README.md).

Scoring runs in the judge stage (`judge_scoring`): a reply the rules can read (an exact
choice text, or a bare integer / float for those answer types) is never sent to the judge;
every other reply goes to it in one batch with the official extraction prompt. The
extraction is then normalised by answer type and compared with the gold as strings.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from lmms_eval.judge.runner import JudgeQuestion
from lmms_eval.judge.scoring import JudgedSample, JudgedValues, JudgeScoring
from lmms_eval.metrics.sample import levenshtein
from lmms_eval.tasks._common.letters import choice_letters

__all__ = [
    "doc_to_visual",
    "doc_to_text",
    "process_results",
    "rule_extraction",
    "extraction_prompt",
    "normalize_extraction",
    "is_correct",
    "score",
    "judge_scoring",
    "mathvista_breakdown",
    "extraction_summary",
]

#: The official few-shot extraction prompt (MathVista's `ext_ans.py` demo prompt).
DEMO_PROMPT = """Please read the following example. Then extract the answer from the model response and type it at the end of the prompt.

Hint: Please answer the question requiring an integer answer and provide the final value, e.g., 1, 2, 3, at the end.
Question: Which number is missing?

Model response: The number missing in the sequence is 14.

Extracted answer: 14

Hint: Please answer the question requiring a floating-point number with one decimal place and provide the final value, e.g., 1.2, 1.3, 1.4, at the end.
Question: What is the fraction of females facing the camera?

Model response: The fraction of females facing the camera is 0.6, which means that six out of ten females in the group are facing the camera.

Extracted answer: 0.6

Hint: Please answer the question requiring a floating-point number with two decimal places and provide the final value, e.g., 1.23, 1.34, 1.45, at the end.
Question: How much money does Luca need to buy a sour apple candy and a butterscotch candy? (Unit: $)

Model response: Luca needs $1.45 to buy a sour apple candy and a butterscotch candy.

Extracted answer: 1.45

Hint: Please answer the question requiring a Python list as an answer and provide the final list, e.g., [1, 2, 3], [1.2, 1.3, 1.4], at the end.
Question: Between which two years does the line  graph saw its maximum peak?

Model response: The line graph saw its maximum peak between 2007 and 2008.

Extracted answer: [2007, 2008]

Hint: Please answer the question and provide the correct option letter, e.g., A, B, C, D, at the end.
Question: What fraction of the shape is blue?
Choices:
(A) 3/11
(B) 8/11
(C) 6/11
(D) 3/5

Model response: The correct answer is (B) 8/11.

Extracted answer: B"""

#: The judge prompt template (its hash keys stored extractions): demo, item query, reply.
TEMPLATE = DEMO_PROMPT + "\n\n{query}\n\n{response}\n\nExtracted answer: "

# Hints by prompt style. Keys: "multi_choice", "integer", ("float", precision), "list".
_FORMAT_HINTS: dict[Any, str] = {
    "multi_choice": "Answer with the option's letter from the given choices directly.",
    "integer": "Answer the question using a single integer number.",
    ("float", 1): "Answer the question using a single floating-point number with one decimal place.",
    ("float", 2): "Answer the question using a single floating-point number with two decimal places.",
    "list": "Answer the question using a Python list.",
}
_REASONING_HINTS: dict[Any, str] = {
    "multi_choice": "Hint: Please answer the question and provide the correct option letter, e.g., A, B, C, D, at the end.",
    "integer": "Hint: Please answer the question requiring an integer answer and provide the final value, e.g., 1, 2, 3, at the end.",
    ("float", 1): "Hint: Please answer the question requiring a floating-point number with one decimal place and provide the final value, e.g., 1.2, 1.3, 1.4, at the end.",
    ("float", 2): "Hint: Please answer the question requiring a floating-point number with two decimal places and provide the final value, e.g., 1.23, 1.34, 1.45, at the end.",
    "list": "Hint: Please answer the question requiring a Python list as an answer and provide the final list, e.g., [1, 2, 3], [1.2, 1.3, 1.4], at the end.",
}
SHOT_TYPES = ("format-prompt", "step-by-step", "solution")
#: The metadata fields the breakdown reports accuracy over (as the official script does).
BREAKDOWN_FIELDS = ("question_type", "answer_type", "language", "source", "category", "task", "context", "grade", "skills")


# --- prompt ----------------------------------------------------------------------------------


def doc_to_visual(doc: dict[str, Any]) -> list[Any]:
    return [doc["decoded_image"].convert("RGB")]


def _precision(doc: dict[str, Any]) -> int:
    """The dataset stores precision as float64 (1.0, 2.0); it counts decimal places."""
    return int(doc["precision"])


def _hint_key(doc: dict[str, Any]) -> Any:
    if doc["question_type"] == "multi_choice":
        return "multi_choice"
    if doc["answer_type"] == "float":
        return ("float", _precision(doc))
    return doc["answer_type"]


def _hint(doc: dict[str, Any], shot_type: str) -> str:
    hints = _FORMAT_HINTS if shot_type == "format-prompt" else _REASONING_HINTS
    key = _hint_key(doc)
    if key not in hints:
        raise ValueError(f"MathVista doc {doc.get('pid')}: no hint for answer type {key!r}")
    return hints[key]


def _choices_block(choices: list[str], shot_type: str) -> str:
    letters = choice_letters(len(choices))
    if shot_type == "format-prompt":
        return "\n".join(f"{letter}. {choice}" for letter, choice in zip(letters, choices))
    return "\n".join(["Choices:"] + [f"({letter}) {choice}" for letter, choice in zip(letters, choices)])


def doc_to_text(doc: dict[str, Any], lmms_eval_specific_kwargs: dict[str, Any] | None = None) -> str:
    """Question (with its unit), choices, hint and, for `solution`, "Solution: ", one per
    line; `shot_type` (a prompt kwarg) picks the style."""
    shot_type = (lmms_eval_specific_kwargs or {}).get("shot_type", "format-prompt")
    if shot_type not in SHOT_TYPES:
        raise ValueError(f"MathVista: shot_type {shot_type!r} is not one of {', '.join(SHOT_TYPES)}")
    question = doc["question"] if shot_type == "format-prompt" else f"Question: {doc['question']}"
    if doc.get("unit"):
        question += f" (Unit: {doc['unit']})"
    choices = list(doc.get("choices") or [])
    parts = [question, _choices_block(choices, shot_type) if choices else "", _hint(doc, shot_type), "Solution: " if shot_type == "solution" else ""]
    return "\n".join(part for part in parts if part).strip()


def process_results(doc: dict[str, Any], results: list[str]) -> dict[str, Any]:
    """Nothing before the judge stage: every score needs the extraction step."""
    return {}


# --- extraction and normalisation -------------------------------------------------------------


def rule_extraction(response: str, doc: dict[str, Any]) -> str | None:
    """The answer the official rules read without a judge, or None when the judge must
    extract it. An empty reply extracts as "" (the judge is not asked)."""
    if not response:
        return ""
    if doc["question_type"] == "multi_choice" and response in list(doc.get("choices") or []):
        return response
    if doc["answer_type"] == "integer":
        try:
            return str(int(response))
        except ValueError:
            pass
    if doc["answer_type"] == "float":
        try:
            return str(float(response))
        except ValueError:
            pass
    return None


def extraction_prompt(response: str, doc: dict[str, Any]) -> str:
    return TEMPLATE.format(query=doc["query"], response=response)


def _nearest_choice(text: str, choices: list[str]) -> str:
    distances = [levenshtein(text, choice) for choice in choices]
    return choices[distances.index(min(distances))]


def normalize_extraction(extraction: str, doc: dict[str, Any]) -> str | None:
    """The official normalisation: a choice text for multiple choice (an "(X)" letter or a
    bare option letter maps to its choice, anything else to the nearest choice by edit
    distance); integers and floats re-printed (floats rounded to the precision, an int);
    lists as they are. None when a number does not parse."""
    if doc["question_type"] == "multi_choice":
        choices = list(doc["choices"])
        text = extraction.strip()
        letters = re.findall(r"\(([a-zA-Z])\)", text)
        if letters:
            text = letters[0].upper()
        options = choice_letters(len(choices))
        return choices[options.index(text)] if text in options else _nearest_choice(text, choices)
    try:
        if doc["answer_type"] == "integer":
            return str(int(float(extraction)))
        if doc["answer_type"] == "float":
            # int(): the dataset's float64 precision would make round() raise (§12's defect).
            return str(round(float(extraction), _precision(doc)))
    except (ValueError, OverflowError):
        return None
    return str(extraction)


def is_correct(prediction: str | None, doc: dict[str, Any]) -> bool:
    return prediction is not None and str(prediction).strip() == str(doc["answer"]).strip()


# --- the judge stage ---------------------------------------------------------------------------


def _text(answer: Any) -> str:
    value = answer[0] if isinstance(answer, list) else answer
    return "" if value is None else str(value)


def _values(doc: dict[str, Any], extraction: str, judged: bool, failed: bool) -> dict[str, Any]:
    prediction = normalize_extraction(extraction, doc)
    correct = is_correct(prediction, doc)
    metadata = doc.get("metadata") or {}
    details = {"question_type": doc["question_type"], "answer_type": doc["answer_type"]}
    details.update({field: metadata.get(field) for field in BREAKDOWN_FIELDS[2:]})
    return {
        "gpt_eval_score": 100.0 if correct else 0.0,
        "mathvista_breakdown": {**details, "correct": correct},
        "mathvista_extraction": {"extraction": extraction, "prediction": prediction, "judged": judged, "judge_failed": failed},
    }


def score(samples: list[JudgedSample], judge: Any) -> JudgedValues:
    """Rules first; the rest extracted by the judge in one batch. A failed judge call
    extracts as "" (the official script's value when extraction raises)."""
    extractions: dict[int, str] = {}
    questions = []
    for sample in samples:
        response = _text(sample.answer)
        ruled = rule_extraction(response, sample.doc)
        if ruled is None:
            questions.append(JudgeQuestion(sample.doc_id, extraction_prompt(response, sample.doc)))
        else:
            extractions[sample.doc_id] = ruled
    replies = judge.ask(questions) if questions else {}
    values: JudgedValues = {}
    for sample in samples:
        reply = replies.get((sample.doc_id, 0))
        if reply is None:
            values[sample.doc_id] = _values(sample.doc, extractions[sample.doc_id], judged=False, failed=False)
        else:
            extraction = reply.text if reply.ok else ""
            values[sample.doc_id] = _values(sample.doc, extraction or "", judged=True, failed=not reply.ok)
    return values


#: Temperature 0 and 256 tokens, as the official extraction call.
judge_scoring = JudgeScoring(template=TEMPLATE, score=score, temperature=0.0, max_tokens=256)


# --- aggregation -----------------------------------------------------------------------------


def mathvista_breakdown(items: list[dict[str, Any]]) -> dict[str, float]:
    """Percent correct per value of each breakdown field (skills: per skill listed)."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for item in items:
        for field in BREAKDOWN_FIELDS:
            value = item.get(field)
            for member in value if isinstance(value, list) else [value]:
                if member is None:
                    continue
                tally = counts[f"{field}/{member}"]
                tally[0] += int(item["correct"])
                tally[1] += 1
    return {key: round(100.0 * right / total, 2) for key, (right, total) in sorted(counts.items())}


def extraction_summary(items: list[dict[str, Any]]) -> dict[str, int]:
    """How the answers were read: by the rules, by the judge, judge calls that failed
    (scored as an empty extraction), and numbers that did not parse."""
    return {
        "by_rules": sum(not item["judged"] for item in items),
        "by_judge": sum(item["judged"] and not item["judge_failed"] for item in items),
        "judge_failed": sum(item["judge_failed"] for item in items),
        "unparsable": sum(item["prediction"] is None for item in items),
    }
