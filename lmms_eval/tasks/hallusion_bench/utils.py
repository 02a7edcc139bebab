"""HallusionBench (image split): each answer judged correct / incorrect / unclear by an LLM
with the benchmark's teacher prompt, then question accuracy (aAcc), per-figure accuracy
(fAcc) and per-question-group accuracy (qAcc), in percent (see README.md)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from lmms_eval.judge.runner import JudgeQuestion
from lmms_eval.judge.scoring import JudgedSample, JudgedValues, JudgeScoring
from lmms_eval.tasks._common.prompts import image_if_any, question_between_prompts

__all__ = [
    "doc_to_visual",
    "doc_to_text",
    "process_results",
    "judgement_of",
    "is_correct",
    "score",
    "judge_scoring",
    "question_accuracy",
    "figure_accuracy",
    "group_accuracy",
    "judgement_counts",
]

#: The benchmark's judge prompt (HallusionBench's evaluation script); "{question}" etc. are filled in.
TEMPLATE = (
    "Imagine you are an intelligent teacher. Thoroughly read the question, reference answer and the prediction answer to "
    "ensure a clear understanding of the information provided. Assess the correctness of the predictions. If the prediction "
    "answer does not conflict with the reference answer, please generate “correct”. If the prediction answer conflict with "
    "the reference answer, please generate “incorrect”. If the prediction answer is unclear about the answer, please "
    'generate "unclear". \n\n Question:{question}\nReference answer: {reference}\nPrediction answer:{prediction}\nOutput:'
)
INCORRECT, CORRECT, UNCLEAR = 0, 1, 2
#: A failed judge call reads as "unclear", as lmms-eval's evaluator does when the API gives nothing.
FAILED_CALL_JUDGEMENT = UNCLEAR
NAMES = {INCORRECT: "incorrect", CORRECT: "correct", UNCLEAR: "unclear"}


doc_to_visual = image_if_any
doc_to_text = question_between_prompts


def process_results(doc: dict[str, Any], results: list[str]) -> dict[str, Any]:
    """Nothing before the judge stage: every score needs the judge's verdict."""
    return {}


def judgement_of(reply: str) -> int:
    """The script's reading: "incorrect" anywhere (any case) is 0, else "correct" is 1,
    else 2 (unclear)."""
    lowered = reply.lower()
    if "incorrect" in lowered:
        return INCORRECT
    return CORRECT if "correct" in lowered else UNCLEAR


def is_correct(doc: dict[str, Any], judgement: int) -> bool:
    """A visual-supplement question asked without its figure (figure_id 0) is also right
    when the answer is unclear: the model may decline without the figure."""
    if doc["category"] == "VS" and int(doc["figure_id"]) == 0:
        return judgement in (CORRECT, UNCLEAR)
    return judgement == CORRECT


def _text(answer: Any) -> str:
    value = answer[0] if isinstance(answer, list) else answer
    return "" if value is None else str(value)


def judge_prompt(doc: dict[str, Any], prediction: str) -> str:
    return TEMPLATE.format(question=doc["question"], reference=doc["gt_answer_details"], prediction=prediction)


def _record(doc: dict[str, Any], judgement: int, failed: bool) -> dict[str, Any]:
    keys = {key: str(doc[key]) for key in ("category", "subcategory", "set_id", "figure_id", "question_id")}
    return {**keys, "judgement": NAMES[judgement], "judge_failed": failed, "correct": is_correct(doc, judgement)}


def score(samples: list[JudgedSample], judge: Any) -> JudgedValues:
    replies = judge.ask([JudgeQuestion(sample.doc_id, judge_prompt(sample.doc, _text(sample.answer))) for sample in samples])
    values: JudgedValues = {}
    for sample in samples:
        reply = replies[(sample.doc_id, 0)]
        judgement = judgement_of(reply.text or "") if reply.ok else FAILED_CALL_JUDGEMENT
        record = _record(sample.doc, judgement, failed=not reply.ok)
        values[sample.doc_id] = {"aAcc": record, "fAcc": record, "qAcc": record, "hallusion_judgements": record}
    return values


#: 16 tokens, as lmms-eval's judge call; temperature 0 (the paper's setting).
judge_scoring = JudgeScoring(template=TEMPLATE, score=score, temperature=0.0, max_tokens=16)


# --- aggregation -------------------------------------------------------------------------------


def _percent(hits: list[bool]) -> float:
    return round(100.0 * sum(hits) / len(hits), 4) if hits else 0.0


def _all_right(items: list[dict[str, Any]], fields: tuple[str, ...]) -> float:
    groups: dict[tuple[str, ...], list[bool]] = defaultdict(list)
    for item in items:
        groups[tuple(item[field] for field in fields)].append(item["correct"])
    return _percent([all(hits) for hits in groups.values()])


def question_accuracy(items: list[dict[str, Any]]) -> float:
    """aAcc: percent of questions answered right."""
    return _percent([item["correct"] for item in items])


def figure_accuracy(items: list[dict[str, Any]]) -> float:
    """fAcc: percent of figures whose questions are all right (questions asked without a
    figure, VS figure 0, are left out)."""
    shown = [item for item in items if not (item["category"] == "VS" and int(item["figure_id"]) == 0)]
    return _all_right(shown, ("category", "subcategory", "set_id", "figure_id"))


def group_accuracy(items: list[dict[str, Any]]) -> float:
    """qAcc: percent of question groups (one question asked of the original and the edited
    figures) whose answers are all right."""
    return _all_right(items, ("category", "subcategory", "set_id", "question_id"))


def judgement_counts(items: list[dict[str, Any]]) -> dict[str, int]:
    counts = {name: 0 for name in NAMES.values()}
    for item in items:
        counts[item["judgement"]] += 1
    counts["judge_failed"] = sum(item["judge_failed"] for item in items)
    return counts
