"""MM-Vet: each answer graded 0.0-1.0 by an LLM with the benchmark's few-shot grader prompt,
re-asked at higher temperatures while the grade does not parse; overall, per-capability
and per-capability-combination scores in percent (see README.md)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from lmms_eval.judge.runner import JudgeQuestion
from lmms_eval.judge.scoring import JudgedSample, JudgedValues, JudgeScoring
from lmms_eval.tasks._common.prompts import image_if_any, question_between_prompts

__all__ = [
    "doc_to_visual",
    "doc_to_text",
    "grade_of",
    "judge_prompt",
    "score",
    "judge_scoring",
    "overall_score",
    "capability_scores",
    "combination_scores",
    "grading_counts",
]

#: MM-Vet's grader prompt (its few-shot table), then the query row is appended.
GRADER_PROMPT = """Compare the ground truth and prediction from AI models, to give a correctness score for the prediction. <AND> in the ground truth means it is totally right only when all elements in the ground truth are present in the prediction, and <OR> means it is totally right when any one element in the ground truth is present in the prediction. The correctness score is 0.0 (totally wrong), 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, or 1.0 (totally right). Just complete the last space of the correctness score.

Question | Ground truth | Prediction | Correctness
--- | --- | --- | ---
What is x in the equation? | -1 <AND> -5 | x = 3 | 0.0
What is x in the equation? | -1 <AND> -5 | x = -1 | 0.5
What is x in the equation? | -1 <AND> -5 | x = -5 | 0.5
What is x in the equation? | -1 <AND> -5 | x = -5 or 5 | 0.5
What is x in the equation? | -1 <AND> -5 | x = -1 or x = -5 | 1.0
Can you explain this meme? | This meme is poking fun at the fact that the names of the countries Iceland and Greenland are misleading. Despite its name, Iceland is known for its beautiful green landscapes, while Greenland is mostly covered in ice and snow. The meme is saying that the person has trust issues because the names of these countries do not accurately represent their landscapes. | The meme talks about Iceland and Greenland. It's pointing out that despite their names, Iceland is not very icy and Greenland isn't very green. | 0.4
Can you explain this meme? | This meme is poking fun at the fact that the names of the countries Iceland and Greenland are misleading. Despite its name, Iceland is known for its beautiful green landscapes, while Greenland is mostly covered in ice and snow. The meme is saying that the person has trust issues because the names of these countries do not accurately represent their landscapes. | The meme is using humor to point out the misleading nature of Iceland's and Greenland's names. Iceland, despite its name, has lush green landscapes while Greenland is mostly covered in ice and snow. The text 'This is why I have trust issues' is a playful way to suggest that these contradictions can lead to distrust or confusion. The humor in this meme is derived from the unexpected contrast between the names of the countries and their actual physical characteristics. | 1.0
"""
#: The template whose hash keys stored grades: the prompt, then "question | truth | prediction | ".
TEMPLATE = GRADER_PROMPT + "\n{question} | {ground_truth} | {prediction} | "
#: The official rule: temperature 0, raised by 0.5 while the grade does not parse; at 2 it stops.
TEMPERATURES = (0.0, 0.5, 1.0, 1.5)
#: A grade that never parsed, and a judge call that failed after its retries, score 0 (MM-Vet's value).
FAILURE_GRADE = 0.0
#: The capability tags in the order combination names use.
CAPABILITIES = ("rec", "ocr", "know", "gen", "spat", "math")


doc_to_visual = image_if_any
doc_to_text = question_between_prompts


def grade_of(reply: str) -> float | None:
    """The first whitespace-separated token as a number in [0, 1]; None otherwise (the
    grade is asked again at the next temperature)."""
    tokens = reply.split()
    if not tokens:
        return None
    try:
        grade = float(tokens[0])
    except ValueError:
        return None
    return grade if 0.0 <= grade <= 1.0 else None


def judge_prompt(question: str, ground_truth: str, prediction: str) -> str:
    spaced = ground_truth.replace("<AND>", " <AND> ").replace("<OR>", " <OR> ")
    return TEMPLATE.format(question=question, ground_truth=spaced, prediction=prediction)


def capabilities_of(doc: dict[str, Any]) -> list[str]:
    return [tag.strip() for tag in str(doc.get("capability") or "").split(",") if tag.strip()]


def score(samples: list[JudgedSample], judge: Any) -> JudgedValues:
    """Every answer graded in one batch; ungraded replies re-asked at each next temperature."""
    questions = [JudgeQuestion(sample.doc_id, judge_prompt(sample.doc["question"], str(sample.target), str(sample.answer))) for sample in samples]
    replies = judge.ask_escalating(questions, lambda text: grade_of(text) is not None, TEMPERATURES)
    values: JudgedValues = {}
    for sample in samples:
        reply = replies[(sample.doc_id, 0)]
        grade = grade_of(reply.text or "") if reply.ok else None
        item = {
            "question_id": sample.doc.get("question_id"),
            "capabilities": capabilities_of(sample.doc),
            "score": FAILURE_GRADE if grade is None else grade,
            "judge_failed": not reply.ok,
            "ungraded": reply.ok and grade is None,
        }
        values[sample.doc_id] = {name: item for name in ("gpt_eval_score", "mmvet_capabilities", "mmvet_combinations", "mmvet_grading")}
    return values


#: 128 tokens at temperature 0 for the first ask (lmms-eval's call; MM-Vet's grader needs a few).
judge_scoring = JudgeScoring(template=TEMPLATE, score=score, temperature=0.0, max_tokens=128)


def _percent(grades: list[float]) -> float:
    return round(100.0 * sum(grades) / len(grades), 2) if grades else 0.0


def overall_score(items: list[dict[str, Any]]) -> float:
    """100 x the mean grade, over every sample."""
    return _percent([item["score"] for item in items])


def capability_scores(items: list[dict[str, Any]]) -> dict[str, float]:
    """Per capability: the mean over the samples whose capabilities include it."""
    return {tag: _percent([item["score"] for item in items if tag in item["capabilities"]]) for tag in CAPABILITIES if any(tag in item["capabilities"] for item in items)}


def combination_scores(items: list[dict[str, Any]]) -> dict[str, float]:
    """Per exact set of capabilities (rec_ocr, ocr_spat_math, ...): the mean over its samples."""
    grades: dict[str, list[float]] = defaultdict(list)
    for item in items:
        grades["_".join(tag for tag in CAPABILITIES if tag in item["capabilities"])].append(item["score"])
    return {name: _percent(values) for name, values in sorted(grades.items())}


def grading_counts(items: list[dict[str, Any]]) -> dict[str, int]:
    """Samples graded, never graded after the last temperature, and failed judge calls
    (both of those score 0)."""
    return {
        "graded": sum(not item["judge_failed"] and not item["ungraded"] for item in items),
        "ungraded": sum(item["ungraded"] for item in items),
        "judge_failed": sum(item["judge_failed"] for item in items),
    }
