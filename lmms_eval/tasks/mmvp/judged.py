"""MMVP graded as its paper grades: an LLM told the question, the correct option and the
model's reply answers yes or no (the official grader used gpt-4-0314 at temperature 0.2).

The grader's reply must be exactly "yes" or "no" (case and surrounding space aside). The
official script asks again until it is; here a reply that is neither is asked again twice
more (as other asks of the same question: each try is its own stored answer), then counts
as "no". A failed judge call counts as "no" too; both are counted in `mmvp_grading`.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

from lmms_eval.judge.runner import JudgeQuestion
from lmms_eval.judge.scoring import JudgedSample, JudgedValues, JudgeScoring

__all__ = ["judge_scoring", "grading_counts", "verdict_of"]

SYSTEM = "You are a helpful and precise assistant for checking the quality of the answer. Please answer in only yes or no."
TEMPLATE = "Given the following question {prompt}, the correct answer is {answer}. Does the following answer correctly answers the question, answer:{response}?"
TRIES = 3
_VERDICT = re.compile(r"^(yes|no)$", re.IGNORECASE)


def verdict_of(reply: str) -> bool | None:
    """True for "yes", False for "no", None for anything else."""
    match = _VERDICT.match(reply.strip())
    return None if match is None else match.group(1).lower() == "yes"


def judge_prompt(doc: dict[str, Any], response: str) -> str:
    """The official grader's question: MMVP's raw question and options, its answer "(a)"."""
    return TEMPLATE.format(prompt=f"{doc['Question']} {doc['Options']}", answer=doc["Correct Answer"], response=response)


def _grades(samples: list[JudgedSample], judge: Any) -> dict[int, str]:
    """Each doc's outcome: "yes", "no", "unparsable" (no verdict in TRIES replies) or "failed"."""
    outcomes: dict[int, str] = {}
    pending = list(samples)
    for attempt in range(TRIES):
        questions = [JudgeQuestion(sample.doc_id, judge_prompt(dict(sample.doc), str(sample.answer)), repeat=attempt, system=SYSTEM) for sample in pending]
        replies = judge.ask(questions)
        unsure = []
        for sample in pending:
            reply = replies[(sample.doc_id, attempt)]
            verdict = verdict_of(reply.text or "") if reply.ok else None
            if not reply.ok:
                outcomes[sample.doc_id] = "failed"
            elif verdict is None:
                unsure.append(sample)
            else:
                outcomes[sample.doc_id] = "yes" if verdict else "no"
        pending = unsure
        if not pending:
            break
    outcomes.update({sample.doc_id: "unparsable" for sample in pending})
    return outcomes


def score(samples: list[JudgedSample], judge: Any) -> JudgedValues:
    outcomes = _grades(samples, judge)
    values: JudgedValues = {}
    for sample in samples:
        outcome = outcomes[sample.doc_id]
        correct = outcome == "yes"
        values[sample.doc_id] = {
            "mmvp_pair_accuracy": {"index": int(sample.doc["Index"]), "correct": correct},
            "mmvp_accuracy": float(correct),
            "mmvp_grading": outcome,
        }
    return values


def grading_counts(items: Sequence[str]) -> dict[str, int]:
    """How the grader's replies came out: yes, no, unparsable, failed."""
    counts = Counter(items)
    return {outcome: counts.get(outcome, 0) for outcome in ("yes", "no", "unparsable", "failed")}


#: The official grader's temperature; 16 tokens are plenty for "yes" or "no".
judge_scoring = JudgeScoring(template=SYSTEM + "\n" + TEMPLATE, score=score, temperature=0.2, max_tokens=16)
