"""ActivityNet-QA (test): open-ended questions on ActivityNet videos, judged by an LLM with
the Video-ChatGPT protocol (a yes/no match and an integer score 0-5 per answer). Videos:
`$HF_HOME/<cache_dir>/all_test/v_<video_name>.<mp4|webm|mkv>` (see README.md)."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

from lmms_eval.judge.runner import JudgeQuestion
from lmms_eval.judge.scoring import JudgedSample, JudgedValues, JudgeScoring
from lmms_eval.tasks._common.video import find_media

__all__ = [
    "doc_to_visual",
    "doc_to_text",
    "process_results",
    "parse_review",
    "score",
    "judge_scoring",
    "accuracy",
    "mean_score",
    "review_counts",
]

TASK_YAML = Path(__file__).with_name("activitynetqa.yaml")

#: The Video-ChatGPT evaluation messages (system, then user), as the benchmark's judges are asked.
SYSTEM = (
    "You are an intelligent chatbot designed for evaluating the correctness of generative outputs for question-answer pairs. "
    "Your task is to compare the predicted answer with the correct answer and determine if they match meaningfully. Here's how "
    "you can accomplish the task:------##INSTRUCTIONS: - Focus on the meaningful match between the predicted answer and the "
    "correct answer.\n- Consider synonyms or paraphrases as valid matches.\n- Evaluate the correctness of the prediction "
    "compared to the answer."
)
USER = (
    "Please evaluate the following video-based question-answer pair:\n\nQuestion: {question}\nCorrect Answer: {answer}\n"
    "Predicted Answer: {prediction}\n\nProvide your evaluation only as a yes/no and score where the score is an integer value "
    "between 0 and 5, with 5 indicating the highest meaningful match. Please generate the response in the form of a Python "
    "dictionary string with keys 'pred' and 'score', where value of 'pred' is  a string of 'yes' or 'no' and value of 'score' "
    "is in INTEGER, not STRING.DO NOT PROVIDE ANY OTHER OUTPUT TEXT OR EXPLANATION. Only provide the Python dictionary "
    "string. For example, your response should look like this: {{'pred': 'yes', 'score': 4.8}}."
)
TEMPLATE = SYSTEM + "\n\n" + USER
SCORE_RANGE = (0, 5)
#: What an unreadable review and a failed judge call count as: no match, score 0.
NO_MATCH = ("no", 0)


def doc_to_visual(doc: dict[str, Any]) -> list[Any]:
    return [find_media(f"v_{doc['video_name']}.mp4", TASK_YAML, ["all_test"])]


def doc_to_text(doc: dict[str, Any], lmms_eval_specific_kwargs: dict[str, Any] | None = None) -> str:
    """The question (stored lower-case, without "?") capitalised with a "?", then post_prompt."""
    kwargs = lmms_eval_specific_kwargs or {}
    return f"{kwargs.get('pre_prompt', '') or ''}{doc['question'].capitalize()}?{kwargs.get('post_prompt', '') or ''}"


def process_results(doc: dict[str, Any], results: list[str]) -> dict[str, Any]:
    """Nothing before the judge stage: both metrics are the judge's."""
    return {}


def parse_review(reply: str) -> tuple[str, int, str]:
    """(pred, score, how): the dictionary between the first "{" and the next "}". pred is
    "yes" when its text holds "yes", else "no"; score is int(score) (4.8 -> 4), clamped to
    0-5 when out of range. `how` is "ok", "out_of_range" or "unparsable" (then NO_MATCH)."""
    start = reply.find("{")
    end = reply.find("}", start + 1)
    if start < 0 or end < 0:
        return (*NO_MATCH, "unparsable")
    try:
        review = ast.literal_eval(reply[start : end + 1])
        pred = "yes" if "yes" in str(review.get("pred", "no")).lower() else "no"
        value = int(review.get("score", 0))
    except (ValueError, TypeError, SyntaxError, AttributeError, MemoryError, RecursionError):
        return (*NO_MATCH, "unparsable")
    low, high = SCORE_RANGE
    if not low <= value <= high:
        return (pred, min(max(value, low), high), "out_of_range")
    return (pred, value, "ok")


def _text(answer: Any) -> str:
    value = answer[0] if isinstance(answer, list) else answer
    return "" if value is None else str(value)


def judge_question(sample: JudgedSample) -> JudgeQuestion:
    doc = sample.doc
    prompt = USER.format(question=doc["question"], answer=doc["answer"], prediction=_text(sample.answer))
    return JudgeQuestion(sample.doc_id, prompt, system=SYSTEM)


def score(samples: list[JudgedSample], judge: Any) -> JudgedValues:
    replies = judge.ask([judge_question(sample) for sample in samples])
    values: JudgedValues = {}
    for sample in samples:
        reply = replies[(sample.doc_id, 0)]
        pred, value, how = parse_review(reply.text or "") if reply.ok else (*NO_MATCH, "judge_failed")
        record = {"pred": pred, "score": value, "how": how, "type": sample.doc.get("type")}
        values[sample.doc_id] = {"gpt_eval_accuracy": record, "gpt_eval_score": record, "activitynetqa_reviews": record}
    return values


#: Temperature 0 and 64 tokens, as the benchmark's judge call.
judge_scoring = JudgeScoring(template=TEMPLATE, score=score, temperature=0.0, max_tokens=64)


def accuracy(items: list[dict[str, Any]]) -> float:
    """Percent of answers the judge matched ("yes" of yes + no)."""
    return 100.0 * sum(item["pred"] == "yes" for item in items) / len(items) if items else 0.0


def mean_score(items: list[dict[str, Any]]) -> float:
    """The mean integer score, 0-5."""
    return sum(item["score"] for item in items) / len(items) if items else 0.0


def review_counts(items: list[dict[str, Any]]) -> dict[str, int]:
    """How the reviews read: ok, out of range (clamped), unparsable and failed calls (no, 0)."""
    return {how: sum(item["how"] == how for item in items) for how in ("ok", "out_of_range", "unparsable", "judge_failed")}
