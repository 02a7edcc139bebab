"""MMBench dev with MMBench's LLM answer extractor (task `mmbench_en_dev_judged`, version 2).

The rule-only task (`mmbench_en_dev`, version 1) counts a row its rules cannot read as
wrong. This version follows MMBench's evaluator further: a question whose rows the rules
read all right is a hit without a judge; one with a row read as a wrong letter is a miss
without a judge; the unread rows of the remaining questions go to the LLM extractor, whose
reply is read with the same rules. A row still unread after three tries (a failed call
counts as a try) gets a seeded random letter among its options and "E", as MMBench does.
It all runs in the judge stage, which hands over every row of the task at once.
"""

from __future__ import annotations

import random
from collections import defaultdict
from typing import Any

from lmms_eval.judge.runner import JudgeQuestion
from lmms_eval.judge.scoring import JudgedSample, JudgedValues, JudgeScoring
from lmms_eval.tasks._builtin.mmbench.utils import doc_options, match_answer, question_of

__all__ = ["process_results", "extractor_prompt", "score", "judge_scoring", "row_counts"]

#: MMBench's extractor prompt (English), filled with the question, its options and the reply.
TEMPLATE = (
    "You are an AI assistant who will help me to match an answer with several options of a single-choice question. "
    "You are provided with a question, several options, and an answer, and you need to find which option is most similar "
    "to the answer. If the meaning of all options are significantly different from the answer, output E. Your should output "
    "a single uppercase character in A, B, C, D (if they are valid options), and E. \n"
    "Example 1: \nQuestion: What is the main object in image?\nOptions: A. teddy bear B. rabbit C. cat D. dog\n"
    "Answer: a cute teddy bear\nYour output: A\n"
    "Example 2: \nQuestion: What is the main object in image?\nOptions: A. teddy bear B. rabbit C. cat D. dog\n"
    "Answer: Spider\nYour output: E\n"
    "Example 3: \nQuestion: {question}?\nOptions: {options}\nAnswer: {answer}\nYour output: "
)
#: Three tries, as MMBench's evaluator. Re-asks are sampled (a re-ask at temperature 0 would
#: return the stored first reply); their seed is pinned, so they are stored too.
TEMPERATURES = (0.0, 0.5, 1.0)
FALLBACK_SEED = 2680  # MMBench's evaluator seeds its random fallback with this


def process_results(doc: dict[str, Any], results: list[str]) -> dict[str, Any]:
    """Nothing before the judge stage: CircularEval needs every row of a question at once."""
    return {}


def extractor_prompt(doc: dict[str, Any], response: str) -> str:
    options = "There are several options: \n" + "".join(f"{letter}. {text}\n" for letter, text in doc_options(doc).items())
    return TEMPLATE.format(question=doc["question"], options=options, answer=response)


def _text(answer: Any) -> str:
    value = answer[0] if isinstance(answer, list) else answer
    return "" if value is None else str(value)


def _gold(sample: JudgedSample) -> str:
    return str(sample.doc["answer"])


def _by_question(samples: list[JudgedSample]) -> dict[int, list[JudgedSample]]:
    """The task's rows grouped by question (CircularEval's copies of one question together)."""
    by_question: dict[int, list[JudgedSample]] = defaultdict(list)
    for sample in samples:
        by_question[question_of(sample.doc)].append(sample)
    return by_question


def _rows_to_ask(samples: list[JudgedSample], read: dict[int, str | None]) -> list[JudgedSample]:
    """Unread rows of questions no row of which the rules read as a wrong letter."""
    by_question = _by_question(samples)
    lost = {q for q, rows in by_question.items() if any(read[r.doc_id] is not None and read[r.doc_id] != _gold(r) for r in rows)}
    return [s for s in samples if read[s.doc_id] is None and question_of(s.doc) not in lost]


def _extract(rows: list[JudgedSample], judge: Any) -> tuple[dict[int, str], dict[int, bool]]:
    """The letter the extractor gives each row (tries in TEMPERATURES order), and whether a
    row's last try failed. Rows left unread are absent."""
    pending = {row.doc_id: row for row in rows}
    letters: dict[int, str] = {}
    failed: dict[int, bool] = {}
    for temperature in TEMPERATURES:
        if not pending:
            break
        replies = judge.ask([JudgeQuestion(row.doc_id, extractor_prompt(row.doc, _text(row.answer))) for row in pending.values()], temperature)
        for doc_id, row in list(pending.items()):
            reply = replies[(doc_id, 0)]
            failed[doc_id] = not reply.ok
            letter = match_answer(reply.text or "", row.doc) if reply.ok else None
            if letter is not None:
                letters[doc_id] = letter
                del pending[doc_id]
    return letters, failed


def _fallback(sample: JudgedSample, rng: random.Random) -> str | None:
    """A random letter among the row's options and "E" (rows with fewer than two options stay unread)."""
    letters = list(doc_options(sample.doc))
    return rng.choice(letters + ["E"]) if len(letters) >= 2 else None


def score(samples: list[JudgedSample], judge: Any) -> JudgedValues:
    read = {s.doc_id: match_answer(_text(s.answer), s.doc) for s in samples}
    asked = _rows_to_ask(samples, read)
    letters, failed = _extract(asked, judge) if asked else ({}, {})
    asked_ids = {sample.doc_id for sample in asked}
    rng = random.Random(FALLBACK_SEED)
    rows: dict[int, dict[str, Any]] = {}
    for sample in sorted(samples, key=lambda s: int(s.doc["index"])):
        how = "rules" if read[sample.doc_id] is not None else "not_asked"
        letter = read[sample.doc_id]
        if sample.doc_id in asked_ids:
            how = "judge" if sample.doc_id in letters else "random"
            letter = letters.get(sample.doc_id) or _fallback(sample, rng)
        rows[sample.doc_id] = {"letter": letter, "how": how, "judge_failed": failed.get(sample.doc_id, False)}
    return _question_values(samples, rows)


def _question_values(samples: list[JudgedSample], rows: dict[int, dict[str, Any]]) -> JudgedValues:
    """One score per question on its main (lowest-index) row; copies carry none."""
    by_question = _by_question(samples)
    values: JudgedValues = {}
    for members in by_question.values():
        hit = all(rows[m.doc_id]["letter"] == _gold(m) for m in members)
        main = min(members, key=lambda m: int(m.doc["index"]))
        breakdown = {
            "category": main.doc.get("category"),
            "l2_category": main.doc.get("L2-category"),
            "hit": hit,
            "copies": len(members),
            "unresolved_copies": sum(rows[m.doc_id]["how"] == "random" for m in members),
        }
        values[main.doc_id] = {"circular_acc": 100.0 if hit else 0.0, "circular_breakdown": breakdown, "mmbench_rows": [rows[m.doc_id] for m in members]}
    return values


judge_scoring = JudgeScoring(template=TEMPLATE, score=score, temperature=TEMPERATURES[0], max_tokens=1024)


def row_counts(items: list[list[dict[str, Any]]]) -> dict[str, int]:
    """How the task's rows were read: by the rules, by the extractor, by the random
    fallback; rows of questions already lost that were not asked; extractor calls whose
    last try failed."""
    rows = [row for question in items for row in question]
    counts = {f"rows/{how}": sum(row["how"] == how for row in rows) for how in ("rules", "judge", "random", "not_asked")}
    counts["rows/judge_failed"] = sum(row["judge_failed"] for row in rows)
    return counts
