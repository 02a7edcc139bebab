"""VoiceBench's judged subsets: the official GPT-judge protocols, as `JudgeScoring`s for the
judge stage (docs/judges.md).

- open-ended (alpacaeval, commoneval, wildvoice): the judge rates the response against the
  instruction's transcript from 1 to 5; three sampled ratings per response, averaged.
- sd-qa: the judge says "Yes" or "No" (is the response right, given the reference); three
  samples, majority vote.

A failed judge call gives no rating: a response whose every call failed is left out of the
mean (and the failures are counted in the results' judge entry), never scored 0 or "No".
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from lmms_eval.judge.runner import JudgeQuestion
from lmms_eval.judge.scoring import JudgedSample, JudgedValues, JudgeScoring

SYSTEM = "You are a helpful assistant who tries to help answer the user's question."
OFFICIAL_SAMPLES = 3  # completions per response, as the official evaluator asks
SAMPLING_TEMPERATURE = 0.5
MAX_TOKENS = 10  # lmms-eval's limit for these score-only replies
# A reply with no number scores 0, lmms-eval's value (the official one was not verified).
UNREADABLE_RATING = 0.0
_NUMBER = re.compile(r"\d+(?:\.\d+)?")

OPEN_TEMPLATE = """I need your help to evaluate the performance of several models in the speech interaction scenario. The models will receive a speech input from the user, which they need to understand and respond to with a speech output.
Your task is to rate the model's responses based on the provided user input transcription [Instruction] and the model's output transcription [Response].

Please evaluate the response on a scale of 1 to 5:
1 point: The response is largely irrelevant, incorrect, or fails to address the user's query. It may be off-topic or provide incorrect information.
2 points: The response is somewhat relevant but lacks accuracy or completeness. It may only partially answer the user's question or include extraneous information.
3 points: The response is relevant and mostly accurate, but it may lack conciseness or include unnecessary details that don't contribute to the main point.
4 points: The response is relevant, accurate, and concise, providing a clear answer to the user's question without unnecessary elaboration.
5 points: The response is exceptionally relevant, accurate, and to the point. It directly addresses the user's query in a highly effective and efficient manner, providing exactly the information needed.

Below are the transcription of user's instruction and models' response:
### [Instruction]: {prompt}
### [Response]: {response}

After evaluating, please output the score only without anything else.
You don't need to provide any explanations."""

QA_TEMPLATE = """### Question
{prompt}

### Reference answer
{reference}

### Candidate answer
{response}

Is the candidate answer correct based on the question and reference answer? 
Please only output a single "Yes" or "No". Do not output anything else."""


def _text(answer: Any) -> str:
    value = answer[0] if isinstance(answer, list) else answer
    return "" if value is None else str(value).strip()


def _questions(sample: JudgedSample, prompt: str) -> list[JudgeQuestion]:
    return [JudgeQuestion(sample.doc_id, prompt, repeat=repeat, system=SYSTEM) for repeat in range(OFFICIAL_SAMPLES)]


def _replies(judge: Any, samples: list[JudgedSample], prompts: dict[int, str]) -> dict[int, list[str]]:
    """Each doc's answered replies (failed calls dropped), all docs asked at once."""
    questions = [question for sample in samples for question in _questions(sample, prompts[sample.doc_id])]
    answered = judge.ask(questions)
    replies: dict[int, list[str]] = {sample.doc_id: [] for sample in samples}
    for (doc_id, _repeat), response in sorted(answered.items()):
        if response.ok:
            replies[doc_id].append(response.text or "")
    return replies


# --- open-ended: a 1-5 rating -------------------------------------------------------------


def read_rating(reply: str) -> float | None:
    """The first number in the reply (the judge is told to output the score only, as lmms-eval
    reads it); None when there is none."""
    found = _NUMBER.search(reply)
    return float(found.group(0)) if found else None


def score_open(samples: list[JudgedSample], judge: Any) -> JudgedValues:
    prompts = {sample.doc_id: OPEN_TEMPLATE.format(prompt=sample.doc["prompt"], response=_text(sample.answer)) for sample in samples}
    values: JudgedValues = {}
    for doc_id, replies in _replies(judge, samples, prompts).items():
        if not replies:
            continue  # every call failed: no rating
        ratings = [read_rating(reply) for reply in replies]
        rating = sum(UNREADABLE_RATING if value is None else value for value in ratings) / len(ratings)
        record = {"rating": rating, "unreadable": sum(value is None for value in ratings)}
        values[doc_id] = {"llm_as_judge_eval": rating, "judge_readings": record}
    return values


# --- sd-qa: Yes / No ------------------------------------------------------------------------


def majority_yes(replies: list[str]) -> bool:
    """True when "yes" (case ignored, stripped) is strictly the most common reply."""
    counts = Counter(reply.strip().lower() for reply in replies)
    yes = counts.pop("yes", 0)
    return yes > 0 and all(yes > count for count in counts.values())


def score_qa(samples: list[JudgedSample], judge: Any) -> JudgedValues:
    prompts = {
        sample.doc_id: QA_TEMPLATE.format(prompt=sample.doc["prompt"], reference=sample.doc["reference"], response=_text(sample.answer))
        for sample in samples
    }
    values: JudgedValues = {}
    for doc_id, replies in _replies(judge, samples, prompts).items():
        if replies:
            values[doc_id] = {"gpt4_score": float(majority_yes(replies))}
    return values


def reading_counts(records: list[dict[str, Any]]) -> dict[str, float]:
    """How many responses were rated, and how many replies held no number (scored 0)."""
    return {"rated": len(records), "unreadable_ratings": sum(record["unreadable"] for record in records)}


open_scoring = JudgeScoring(template=OPEN_TEMPLATE, score=score_open, temperature=SAMPLING_TEMPERATURE, max_tokens=MAX_TOKENS)
qa_scoring = JudgeScoring(template=QA_TEMPLATE, score=score_qa, temperature=SAMPLING_TEMPERATURE, max_tokens=MAX_TOKENS)
