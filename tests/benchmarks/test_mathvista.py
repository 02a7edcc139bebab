"""mathvista_testmini_{format,cot,solution}: the three prompt styles, rule-read answers that
never reach the judge, LLM extraction through the task's judge, the official normalisation
(float precision taken as an int, unlike lmms-eval's float64), and failed judge calls
scored as an empty extraction."""

from __future__ import annotations

import pytest

from benchmark_helpers import task_module
from judge_helpers import ALWAYS_FAILS, judge_prompts, judge_server, judged, samples_of

mathvista = task_module("mathvista")
FRACTIONS = ["3/11", "8/11", "6/11", "3/5"]


def doc(pid, question, answer, question_type="free_form", answer_type="integer", choices=None, precision=None, unit=None):
    return {
        "pid": pid, "question": question, "image": f"images/{pid}.jpg", "decoded_image": None, "choices": choices, "unit": unit,
        "precision": precision, "answer": answer, "question_type": question_type, "answer_type": answer_type,
        "metadata": {"category": "math-targeted-vqa", "context": "synthetic scene", "grade": "elementary school", "img_height": 10,
                     "img_width": 10, "language": "english", "skills": ["arithmetic reasoning"], "source": "fixture", "split": "testmini",
                     "task": "math word problem"},
        "query": f"Hint: fixture hint.\nQuestion: {question}",
    }  # fmt: skip


# (doc, model reply, judge reply or None when the rules read it, correct?)
CASES = [
    (doc("1", "[q1] What fraction is blue?", "8/11", "multi_choice", "text", FRACTIONS), "8/11", None, True),
    (doc("2", "[q2] What fraction is red?", "8/11", "multi_choice", "text", FRACTIONS), "[reply-2] so it is (B).", "(B) 8/11", True),
    (doc("3", "[q3] How many?", "14"), "14", None, True),
    (doc("4", "[q4] What fraction faces us?", "0.6", answer_type="float", precision=1.0), "0.60", None, True),  # rules: str(float)
    (doc("5", "[q5] How much money?", "1.45", answer_type="float", precision=2.0, unit="$"), "[reply-5] It costs $1.45", "1.450", True),
    (doc("6", "[q6] Which years?", "[2007, 2008]", answer_type="list"), "[reply-6] 2007 and 2008", "[2007, 2008]", True),
    (doc("7", "[q7] How many apples?", "5"), "[reply-7] five apples", "I cannot tell", False),  # unparsable: None
    (doc("8", "[q8] Which fraction?", "8/11", "multi_choice", "text", FRACTIONS), "[reply-8] maybe C", "C", False),
    (doc("9", "[q9] How tall?", "2.5", answer_type="float", precision=1.0), "", None, False),  # empty reply: "" without a judge
]
CANNED = {reply.split("]")[0] + "]": judge for _, reply, judge, _ in CASES if judge is not None}


def run(start_oracle, fault=None):
    server = judge_server(start_oracle, CANNED, fault)
    docs = [case[0] for case in CASES]
    values, judge = judged(mathvista.judge_scoring, server, "mathvista_testmini_format", samples_of(docs, [case[1] for case in CASES]))
    return values, judge, server


def test_scores_by_the_official_rules(start_oracle):
    values, judge, server = run(start_oracle)
    assert [values[i]["gpt_eval_score"] for i in range(len(CASES))] == [100.0 * correct for *_, correct in CASES]
    # Only replies the rules cannot read reach the judge, each with the demo, the item's query and the reply.
    prompts = judge_prompts(server)
    assert len(prompts) == judge.stats.calls == 5
    [second] = [p for p in prompts if "[reply-2]" in p]
    assert second == mathvista.DEMO_PROMPT + "\n\nHint: fixture hint.\nQuestion: [q2] What fraction is red?\n\n[reply-2] so it is (B).\n\nExtracted answer: "
    assert {body["max_tokens"] for body in server.bodies} == {256} and {body["temperature"] for body in server.bodies} == {0.0}
    assert values[4]["mathvista_extraction"]["prediction"] == "1.45"
    assert values[6]["mathvista_extraction"] == {"extraction": "I cannot tell", "prediction": None, "judged": True, "judge_failed": False}
    summary = mathvista.extraction_summary([values[i]["mathvista_extraction"] for i in range(len(CASES))])
    assert summary == {"by_rules": 4, "by_judge": 5, "judge_failed": 0, "unparsable": 2}  # "five apples" and the empty reply
    breakdown = mathvista.mathvista_breakdown([values[i]["mathvista_breakdown"] for i in range(len(CASES))])
    assert breakdown["question_type/multi_choice"] == pytest.approx(100 * 2 / 3, abs=0.01) and breakdown["skills/arithmetic reasoning"] == 66.67


def test_failed_judge_calls_extract_as_empty(start_oracle):
    values, judge, _ = run(start_oracle, ALWAYS_FAILS)
    assert judge.stats.failures == 5
    # Rule-read answers keep their scores; a failed multiple-choice extraction ("") becomes the
    # nearest choice by edit distance (the shortest, "3/5"), free-form ones do not parse.
    assert [values[i]["gpt_eval_score"] for i in range(len(CASES))] == [100.0, 0.0, 100.0, 100.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    assert values[1]["mathvista_extraction"] == {"extraction": "", "prediction": "3/5", "judged": True, "judge_failed": True}


@pytest.mark.parametrize(
    ("extraction", "kind", "expected"),
    [
        ("(b) 8/11", ("multi_choice", "text", None), "8/11"),
        ("D", ("multi_choice", "text", None), "3/5"),
        ("6/12", ("multi_choice", "text", None), "6/11"),  # nearest by edit distance
        ("3.0", ("free_form", "integer", None), "3"),
        ("1.456", ("free_form", "float", 2.0), "1.46"),
        ("0.64", ("free_form", "float", 1.0), "0.6"),
        ("about 3", ("free_form", "float", 1.0), None),
        ("[1, 2]", ("free_form", "list", None), "[1, 2]"),
    ],
)
def test_normalisation(extraction, kind, expected):
    question_type, answer_type, precision = kind
    item = doc("x", "q", "?", question_type, answer_type, FRACTIONS if question_type == "multi_choice" else None, precision)
    assert mathvista.normalize_extraction(extraction, item) == expected


def test_prompt_styles():
    item = doc("p", "What is the area?", "2.5", answer_type="float", precision=1.0, unit="cm^2")
    mc = doc("m", "Which is larger?", "8/11", "multi_choice", "text", FRACTIONS[:2])
    text = mathvista.doc_to_text
    assert text(item, {"shot_type": "format-prompt"}) == (
        "What is the area? (Unit: cm^2)\nAnswer the question using a single floating-point number with one decimal place."
    )
    assert text(mc, {"shot_type": "format-prompt"}) == "Which is larger?\nA. 3/11\nB. 8/11\nAnswer with the option's letter from the given choices directly."
    assert text(mc, {"shot_type": "step-by-step"}) == (
        "Question: Which is larger?\nChoices:\n(A) 3/11\n(B) 8/11\n"
        "Hint: Please answer the question and provide the correct option letter, e.g., A, B, C, D, at the end."
    )
    assert text(item, {"shot_type": "solution"}).endswith("e.g., 1.2, 1.3, 1.4, at the end.\nSolution:")
