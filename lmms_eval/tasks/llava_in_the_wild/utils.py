"""LLaVA-Bench (In-the-Wild): an LLM judge rates the reference answer (text-only GPT-4's)
and the model's answer 1-10; the score per category is the model's mean rating relative
to the reference's, in percent (see README.md)."""

from __future__ import annotations

from typing import Any

from lmms_eval.judge.runner import JudgeQuestion
from lmms_eval.judge.scoring import JudgedSample, JudgedValues, JudgeScoring
from lmms_eval.tasks._common.prompts import image_if_any, question_between_prompts

__all__ = [
    "doc_to_visual",
    "doc_to_text",
    "review_scores",
    "judge_prompt",
    "score",
    "judge_scoring",
    "relative_all",
    "relative_conv",
    "relative_detail",
    "relative_complex",
    "review_counts",
]

#: LLaVA's judge system message.
SYSTEM = "You are a helpful and precise assistant for checking the quality of the answer."
#: LLaVA's rule for its bench categories (llava_bench_conv, _detail and _complex give this text).
RULE = (
    "We would like to request your feedback on the performance of two AI assistants in response to the user question displayed above. "
    "The user asks the question on observing an image. For your reference, the visual content in the image is represented with a few "
    "sentences describing the image. \nPlease rate the helpfulness, relevance, accuracy, level of details of their responses. Each "
    "assistant receives an overall score on a scale of 1 to 10, where a higher score indicates better overall performance.\nPlease first "
    "output a single line containing only two values indicating the scores for Assistant 1 and 2, respectively. The two scores are "
    "separated by a space.\nIn the subsequent line, please provide a comprehensive explanation of your evaluation, avoiding any potential "
    "bias and ensuring that the order in which the responses were presented does not affect your judgment."
)
TEMPLATE = (
    "[Context]\n{context}\n\n[Question]\n{question}\n\n[Assistant 1]\n{reference}\n\n[End of Assistant 1]\n\n"
    "[Assistant 2]\n{prediction}\n\n[End of Assistant 2]\n\n[System]\n{rule}\n\n"
)
#: A review whose first line is not two numbers, and a judge call that failed, count as
#: (-1, -1): kept in the averages, as LLaVA's and lmms-eval's summaries do.
FAILED_REVIEW = (-1.0, -1.0)
CATEGORIES = ("conv", "detail", "complex")


doc_to_visual = image_if_any
doc_to_text = question_between_prompts


def review_scores(review: str) -> tuple[float, float] | None:
    """The first line, commas and semicolons read as spaces, must be exactly two numbers:
    (reference's rating, model's rating). Out-of-range ratings are kept as they are."""
    first_line = review.split("\n", 1)[0].replace(",", " ").replace(";", " ")
    parts = first_line.split()
    if len(parts) != 2:
        return None
    try:
        return float(parts[0]), float(parts[1])
    except ValueError:
        return None


def _context(doc: dict[str, Any]) -> str:
    caption = doc.get("caption")
    return "\n".join(str(line) for line in caption) if isinstance(caption, list) else str(caption or "")


def judge_prompt(doc: dict[str, Any], prediction: str) -> str:
    return TEMPLATE.format(context=_context(doc), question=doc["question"], reference=doc["gpt_answer"], prediction=prediction, rule=RULE)


def score(samples: list[JudgedSample], judge: Any) -> JudgedValues:
    """Every answer reviewed in one batch."""
    questions = [JudgeQuestion(sample.doc_id, judge_prompt(sample.doc, str(sample.answer)), system=SYSTEM) for sample in samples]
    replies = judge.ask(questions)
    values: JudgedValues = {}
    for sample in samples:
        reply = replies[(sample.doc_id, 0)]
        parsed = review_scores(reply.text or "") if reply.ok else None
        item = {
            "question_id": sample.doc.get("question_id"),
            "category": sample.doc.get("category"),
            "scores": list(parsed or FAILED_REVIEW),
            "judge_failed": not reply.ok,
            "unparsable": reply.ok and parsed is None,
        }
        names = ("gpt_eval_llava_all", *(f"gpt_eval_llava_{category}" for category in CATEGORIES), "llava_reviews")
        values[sample.doc_id] = {name: item for name in names}
    return values


#: LLaVA's review call: temperature 0.2, 1024 tokens (sampled, so the Judge pins a seed).
judge_scoring = JudgeScoring(template=SYSTEM + "\n" + TEMPLATE + RULE, score=score, temperature=0.2, max_tokens=1024)


def _relative(items: list[dict[str, Any]]) -> float:
    """100 x mean(model ratings) / mean(reference ratings), 1 decimal (0 when there is nothing to compare)."""
    if not items:
        return 0.0
    reference = sum(item["scores"][0] for item in items) / len(items)
    model = sum(item["scores"][1] for item in items) / len(items)
    return round(100.0 * model / reference, 1) if reference else 0.0


def relative_all(items: list[dict[str, Any]]) -> float:
    return _relative(items)


def relative_conv(items: list[dict[str, Any]]) -> float:
    return _relative([item for item in items if item["category"] == "conv"])


def relative_detail(items: list[dict[str, Any]]) -> float:
    return _relative([item for item in items if item["category"] == "detail"])


def relative_complex(items: list[dict[str, Any]]) -> float:
    return _relative([item for item in items if item["category"] == "complex"])


def review_counts(items: list[dict[str, Any]]) -> dict[str, Any]:
    """Reviews read, unparsable ones and failed judge calls (both counted as -1, -1), and the
    mean ratings behind the relative score."""
    count = len(items) or 1
    return {
        "reviewed": sum(not item["judge_failed"] and not item["unparsable"] for item in items),
        "unparsable": sum(item["unparsable"] for item in items),
        "judge_failed": sum(item["judge_failed"] for item in items),
        "reference_mean": round(sum(item["scores"][0] for item in items) / count, 3),
        "model_mean": round(sum(item["scores"][1] for item in items) / count, 3),
    }
