"""MathVerse (testmini): the dataset's own prompt (`query_wo`), then the official two-step
GPT scoring: extract the answer from the reply, then judge the extraction against the gold
answer as consistent (1) or not (0). See README.md for lmms-eval's one-call variant."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from lmms_eval.judge.runner import JudgeQuestion
from lmms_eval.judge.scoring import JudgedSample, JudgedValues, JudgeScoring

__all__ = [
    "doc_to_visual",
    "doc_to_text",
    "process_results",
    "extraction_prompt",
    "match_prompt",
    "judgement_of",
    "score",
    "judge_scoring",
    "mathverse_breakdown",
    "judgement_summary",
]

#: The official extraction prompt (MathVerse's `demo_prompt_extract`).
EXTRACT_DEMO = """I am providing you a response from a model to a math problem, termed 'Model Response'. You should extract the answer from the response as 'Extracted Answer'. Directly output the extracted answer with no explanation.

1.
Model response: 'Rounded to two decimal places, the perimeter of the sector is approximately:

(-2, 1)'
Extracted Answer: (-2, 1)

2.
Model response: 'at those points.

Therefore, the correct option that represents the meaning of the intersection points of the graphs is:

D. They give the solutions to the equation $f(t)=g(t)$.",'
Extracted Answer: D

3.
Model response: ' at 1 (there's a closed circle at y = 1), the range in interval notation is \\((-4, 1]\\).

Final values:
Domain: \\((-3, 3]\\)
Range: \\((-4, 1]\\)'
Extracted Answer: Domain: \\((-3, 3]\\)
Range: \\((-4, 1]\\)

4.
Model response: 'As it stands, I cannot provide the correct option letter because there isn't enough information to solve for 'y'.'
Extracted Answer: null

5.
Model response: 'Given that AB = 17.6 meters, we can now substitute into the equation:

d = 17.6 / cos(38\u00b0)

Therefore, to one decimal place, the distance d between Ned and Bart is approximately 22.3 meters.'
Extracted answer: 22.3

6.
Model response:  have all the coefficients for the quadratic function:
\\( f(x) = ax^2 + bx + c \\)
\\( f(x) = -1x^2 - 2x + 1 \\)

Therefore, the equation for the graphed function \\( f \\) is:
\\( f(x) = -x^2 - 2x + 1 \\)"'
Extracted answer: f(x) = -x^2 - 2x + 1

7."""

#: The official consistency prompt (MathVerse's `demo_prompt_score`); a str.format template.
MATCH_TEMPLATE = """Below are two answers to a math question. Question is [Question], [Standard Answer] is the standard answer to the question, and [Model_answer] is the answer extracted from a model's output to this question.  Determine whether these two answers are consistent.
Please note that only when the [Model_answer] completely matches the [Standard Answer] means they are consistent. For non-multiple-choice questions, if the meaning is expressed in the same way, it is also considered consistent, for example, 0.5m and 50cm.
If they are consistent, Judement is 1; if they are different, Judement is 0.

---

Examples:

[Question]: Write the set of numbers represented on the number line in interval notation.
[Standard Answer]: (-2,1]
[Model_answer] : Extracted Answer: \\((-2, 1)\\)
Judgement: 0

[Question]: As shown in the figure, circle O has a radius 1.0, if angle BAC = 60.0, then the length of BC is ()
Choices:
A:2
B:2\u221a{{3}}
C:\u221a{{3}}
D:2\u221a{{2}}
[Standard Answer]: C
[Model_answer] : B:2\u221a{{3}}
Judgement: 0

[Question]: Mike has built a construction, shown in the upper picture, from equal cubes. Lily has taken several cubes out of it, thus Mike's construction became such as we see in the lower picture. How many cubes has Lily taken?
[Standard Answer]: 10
[Model_answer] : 10 cubes
Judgement: 1

[Question]: Find the domain and range of the function f using interval notation.
[Standard Answer]: domain: [-4, 0) and range: (-3, 1]
[Model_answer] : Range: \\((-4, 1]\\)
Judgement: 0

[Question]: As shown in the figure, circle O has a radius 1.0, if angle BAC = 60.0, then the length of BC is ()
Choices:
A:2
B:2\u221a{{3}}
C:\u221a{{3}}
D:2\u221a{{2}}
[Standard Answer]: C
[Model_answer] : null
Judgement: 0

[Question]: Given the graph of the ellipse that intersects with x-axis at 9 and -9 and with y-axis at 3 and -3, determine its equation.A. \\frac{{x^2}}{{81}} + \\frac{{y^2}}{{9}} = 1 B. \\frac{{x^2}}{{81}} + \\frac{{y^2}}{{9}} = 2 C. Can not determine.

[Standard Answer]: A
[Model_answer] : \\frac{{x^2}}{{81}} + \\frac{{y^2}}{{9}} = 1
Judgement: 1

[Question]: Janet\u2019s ducks lay 16 eggs per day. She eats three for breakfast every morning and bakes muffins for her friends every day with four. She sells the remainder at the farmers' market daily for $2 per fresh duck egg. How much in dollars does she make every day at the farmers' market?
[Standard Answer]: 18
[Model_answer] : 18 dollars
Judgement: 1
---

Now please provide your judgement:

[Question]: {question}
[Standard Answer]: {gt}
[Model_answer] : {extraction}
Judgement:"""

#: Both steps' prompts: the hash that keys the stored judge answers covers the two.
TEMPLATE = EXTRACT_DEMO + "\n\nModel response: '{response}'\nExtracted Answer: \n\n" + MATCH_TEMPLATE
#: The official scorer re-asks until the reply is exactly 0 or 1; here three tries (sampled
#: re-asks with a pinned seed), then the answer counts as inconsistent (0) and is reported.
MATCH_TEMPERATURES = (0.0, 0.5, 1.0)


def doc_to_visual(doc: dict[str, Any]) -> list[Any]:
    image = doc.get("image")
    return [image.convert("RGB")] if image not in (None, "") else []


def doc_to_text(doc: dict[str, Any], lmms_eval_specific_kwargs: dict[str, Any] | None = None) -> str:
    """The dataset's prompt column (`query_wo` by default, `query_cot` for reasoning)."""
    kwargs = lmms_eval_specific_kwargs or {}
    return str(doc[kwargs.get("query_type", "query_wo")])


def process_results(doc: dict[str, Any], results: list[str]) -> dict[str, Any]:
    """Nothing before the judge stage: both scoring steps need the judge."""
    return {}


def extraction_prompt(response: str) -> str:
    return f"{EXTRACT_DEMO}\n\nModel response: '{response}'\nExtracted Answer: "


def match_prompt(doc: dict[str, Any], extraction: str) -> str:
    return MATCH_TEMPLATE.format(question=doc["question"], gt=doc["answer"], extraction=extraction)


def judgement_of(reply: str) -> int | None:
    """1 or 0 when the reply is exactly that (after stripping), else None."""
    text = reply.strip()
    return int(text) if text in ("0", "1") else None


def _text(answer: Any) -> str:
    value = answer[0] if isinstance(answer, list) else answer
    return "" if value is None else str(value)


def _extract(samples: list[JudgedSample], judge: Any) -> tuple[dict[int, str], set[int]]:
    """Step 1. An empty reply extracts as "" unasked; a failed call extracts as "" (the
    official script's value when the call raises)."""
    extractions = {s.doc_id: "" for s in samples}
    asked = [JudgeQuestion(s.doc_id, extraction_prompt(_text(s.answer))) for s in samples if _text(s.answer)]
    failed = set()
    for (doc_id, _repeat), reply in (judge.ask(asked) if asked else {}).items():
        if reply.ok:
            extractions[doc_id] = (reply.text or "").strip()
        else:
            failed.add(doc_id)
    return extractions, failed


def _match(samples: list[JudgedSample], extractions: dict[int, str], judge: Any) -> tuple[dict[int, int | None], set[int]]:
    """Step 2, re-asking replies that are not exactly 0 or 1 (and failed calls)."""
    pending = {s.doc_id: JudgeQuestion(s.doc_id, match_prompt(s.doc, extractions[s.doc_id])) for s in samples}
    judgements: dict[int, int | None] = {doc_id: None for doc_id in pending}
    failed: set[int] = set()
    for temperature in MATCH_TEMPERATURES:
        if not pending:
            break
        replies = judge.ask(list(pending.values()), temperature)
        for doc_id in list(pending):
            reply = replies[(doc_id, 0)]
            judgement = judgement_of(reply.text or "") if reply.ok else None
            if reply.ok:
                failed.discard(doc_id)
            else:
                failed.add(doc_id)  # stays failed unless a later try answers
            if judgement is not None:
                judgements[doc_id] = judgement
                del pending[doc_id]
    return judgements, failed


def score(samples: list[JudgedSample], judge: Any) -> JudgedValues:
    extractions, extraction_failed = _extract(samples, judge)
    judgements, match_failed = _match(samples, extractions, judge)
    values: JudgedValues = {}
    for sample in samples:
        judgement = judgements[sample.doc_id]
        metadata = sample.doc.get("metadata") or {}
        record = {
            "correct": judgement == 1,
            "problem_version": sample.doc.get("problem_version"),
            "subfield": metadata.get("subfield"),
            "extraction": extractions[sample.doc_id],
            "judgement": judgement,
            "extraction_failed": sample.doc_id in extraction_failed,
            "judge_failed": sample.doc_id in match_failed,
        }
        values[sample.doc_id] = {"gpt_eval_score": 100.0 if judgement == 1 else 0.0, "mathverse_breakdown": record, "mathverse_judgements": record}
    return values


#: The official calls: temperature 0; an extraction is short, a judgement one character.
judge_scoring = JudgeScoring(template=TEMPLATE, score=score, temperature=0.0, max_tokens=256)


def mathverse_breakdown(items: list[dict[str, Any]]) -> dict[str, float]:
    """Percent correct per problem version and per subfield."""
    groups: dict[str, list[bool]] = defaultdict(list)
    for item in items:
        for field in ("problem_version", "subfield"):
            if item.get(field) is not None:
                groups[f"{field}/{item[field]}"].append(item["correct"])
    return {name: round(100.0 * sum(hits) / len(hits), 2) for name, hits in sorted(groups.items())}


def judgement_summary(items: list[dict[str, Any]]) -> dict[str, int]:
    """Judgements that were never exactly 0 or 1 (scored 0), and failed calls of each step."""
    return {
        "unjudged": sum(item["judgement"] is None for item in items),
        "extraction_failed": sum(item["extraction_failed"] for item in items),
        "judge_failed": sum(item["judge_failed"] for item in items),
    }
