"""mathverse_testmini: the official two-step scoring through the task's judge. Extraction
(empty replies are not asked), then the consistency judgement, which must be exactly 0 or 1
(re-asked up to three times, then scored 0 and reported); failed calls counted."""

from __future__ import annotations

from benchmark_helpers import task_module
from judge_helpers import ALWAYS_FAILS, judge_prompts, judge_server, judged, samples_of

mathverse = task_module("mathverse")

# question, gold, model reply, extraction reply, judgement reply, correct?
ROWS = [
    ("[q0] Which angle is largest?\nChoices:\nA:30\nB:60", "B", "[m0] The answer is B", "B", "1", True),
    ("[q1] How long is AB?", "11.8", "[m1] AB is about 11.8", "11.8", "Judgement: 1", False),  # never exactly 0/1
    ("[q2] What is the area?", "25", "[m2] I cannot tell", "null", "0", False),
    ("[q3] What is x?", "3", "", None, "0", False),  # empty reply: extracted as "" without asking
]


def docs():
    return [{"sample_index": str(n), "problem_index": str(n), "problem_version": "Text Lite", "question": q, "image": None,
             "answer": gold, "question_type": "multi-choice" if "Choices" in q else "free-form",
             "metadata": {"split": "testmini", "source": "fixture", "subject": "Plane Geometry", "subfield": "Length"},
             "query_wo": f"Please directly answer the question.\nQuestion: {q}", "query_cot": "", "question_for_eval": q}
            for n, (q, gold, *_rest) in enumerate(ROWS)]  # fmt: skip


def run(start_oracle, fault=None):
    canned = {}
    for question, _gold, reply, extraction, judgement, _ok in ROWS:
        if extraction is not None:
            canned[reply.split("]")[0] + "]"] = extraction
        canned[question.split("]")[0] + "]"] = judgement
    server = judge_server(start_oracle, canned, fault)
    values, judge = judged(mathverse.judge_scoring, server, "mathverse_testmini", samples_of(docs(), [row[2] for row in ROWS]))
    return [values[i] for i in range(len(ROWS))], judge, server


def test_two_step_scoring(start_oracle):
    values, judge, server = run(start_oracle)
    assert [v["gpt_eval_score"] for v in values] == [100.0 * row[-1] for row in ROWS]
    records = [v["mathverse_judgements"] for v in values]
    assert [r["extraction"] for r in records] == ["B", "11.8", "null", ""]
    assert mathverse.judgement_summary(records) == {"unjudged": 1, "extraction_failed": 0, "judge_failed": 0}
    assert judge.stats.calls == 3 + 4 + 2  # three extractions, four judgements, two re-asks of q1
    prompts = judge_prompts(server)
    assert prompts[0].startswith("I am providing you a response from a model to a math problem")
    assert any(p.endswith("7.\n\nModel response: '[m0] The answer is B'\nExtracted Answer: ") for p in prompts)
    assert any(p.endswith("[Question]: [q2] What is the area?\n[Standard Answer]: 25\n[Model_answer] : null\nJudgement:") for p in prompts)
    assert "B:2\u221a{3}" in mathverse.MATCH_TEMPLATE.format(question="", gt="", extraction="")
    assert mathverse.mathverse_breakdown([v["mathverse_breakdown"] for v in values]) == {"problem_version/Text Lite": 25.0, "subfield/Length": 25.0}


def test_failed_calls_score_zero_and_are_reported(start_oracle):
    values, judge, _ = run(start_oracle, ALWAYS_FAILS)
    assert judge.stats.failures == 3 + 4 * 3
    assert [v["gpt_eval_score"] for v in values] == [0.0] * 4
    records = [v["mathverse_judgements"] for v in values]
    assert mathverse.judgement_summary(records) == {"unjudged": 4, "extraction_failed": 3, "judge_failed": 4}
