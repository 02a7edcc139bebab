"""charxiv_val_reasoning / charxiv_val_descriptive: the official response instructions, the
official grading prompts (one per reasoning question; descriptive ones batched five per query
by template id), JSON grades read strictly (a score other than 0 or 1, a missing key or a
failed call is the official -1, counted as 0)."""

from __future__ import annotations

import json

import pytest

from benchmark_helpers import task_module
from judge_helpers import ALWAYS_FAILS, judge_prompts, judge_server, judged, samples_of

charxiv = task_module("charxiv")


def grade(**pairs):
    return json.dumps(pairs)


# answer type, gold, model reply, judge reply, score
REASONING = [
    (1, "P1", "[c0] The curve is P1.", grade(extracted_answer="P1", score=1), 1),
    (3, "0.5", "[c1] About 0.4", "```json\n" + grade(extract_answer="0.4", score=0) + "\n```", 0),  # fenced, prompt's key name
    (4, "2.50", "[c2] 2.5", "I would say it is right", -1),  # not JSON
    (2, "up", "[c3] it rises", grade(extracted_answer="rises", score=2), -1),  # score out of {0, 1}
]


def reasoning_docs():
    return [{"figure_path": f"images/{n}.jpg", "reasoning_q": f"Question {n}?", "reasoning_q_source": t, "reasoning_a": gold, "image": None}
            for n, (t, gold, *_rest) in enumerate(REASONING)]  # fmt: skip


@pytest.mark.parametrize("fault", [None, ALWAYS_FAILS])
def test_reasoning_grades(start_oracle, fault):
    server = judge_server(start_oracle, {reply.split("]")[0] + "]": review for _t, _g, reply, review, _s in REASONING}, fault)
    values, judge = judged(charxiv.reasoning_scoring, server, "charxiv_val_reasoning", samples_of(reasoning_docs(), [r[2] for r in REASONING]))
    records = [values[i]["charxiv_grading"] for i in range(len(REASONING))]
    expected = [r[-1] for r in REASONING] if fault is None else [-1] * 4
    assert [r["score"] for r in records] == expected
    assert [values[i]["charxiv_reasoning_acc"] for i in range(4)] == [100.0 * (s == 1) for s in expected]
    assert charxiv.grading_counts(records)["failed"] == expected.count(-1)
    if fault is None:
        assert records[1]["extracted_answer"] == "0.4"
        assert charxiv.accuracy_breakdown(records)["answer_type/text-in-chart"] == 100.0
        [prompt] = [p for p in judge_prompts(server) if "[c0]" in p]
        assert prompt.startswith("\nYou will be given a question, an ground truth answer and a model response.")
        assert prompt.endswith("### Your Turn ###\n    * Question: Question 0?\n    * Ground Truth: P1\n    * Response: [c0] The curve is P1.\n\n    ")
    else:
        assert judge.stats.failures == 4


def test_reasoning_instructions():
    question = charxiv.reasoning_question({"reasoning_q": "What is the gap?", "reasoning_q_source": 4, "reasoning_a": "2.50"})
    assert question == "What is the gap?\n    * Your final answer must be a number with 2 decimal places.\n    "
    assert "must be an exact integer" in charxiv.reasoning_question({"reasoning_q": "q", "reasoning_q_source": 4, "reasoning_a": "7"})


# Two charts, four template questions each: (templates, subplot_loc)
CHARTS = [([1, 2, 18, 19], [0, 0]), ([1, 2, 4, 19], [2, 1])]
CANNED = {
    "[d-0-0]": grade(extract_answer_T1="t", score_T1=1, extract_answer_T2="u", score_T2=0),  # template 1: charts 0 and 1
    "[d-0-1]": grade(extract_answer_T1="x", score_T1=1, extract_answer_T2="y"),  # template 2: score_T2 missing, both fail
    "[d-0-2]": grade(extract_answer_T1="1 by 2", score_T1=1),  # template 18
    "[d-0-3]": grade(extract_answer_T1="2", score_T1=1, extract_answer_T2="3", score_T2=1),  # template 19
}  # template 4 (chart 1 alone) gets the oracle's colour answer: not JSON, fails


def descriptive_docs():
    import datasets

    rows = [{"figure_path": f"images/{c}.jpg", "subplot_loc": json.dumps(loc), "image": None,
             **{f"descriptive_q{i + 1}": t for i, t in enumerate(templates)}, **{f"descriptive_a{i + 1}": f"gold {c}-{i}" for i in range(4)}}
            for c, (templates, loc) in enumerate(CHARTS)]  # fmt: skip
    return list(charxiv.explode_descriptive(datasets.Dataset.from_list(rows)))


def test_descriptive_batches(start_oracle):
    docs = descriptive_docs()
    assert [(d["figure_path"], d["descriptive_template"], d["descriptive_index"]) for d in docs[:5]] == [
        ("images/0.jpg", 1, 0), ("images/0.jpg", 2, 1), ("images/0.jpg", 18, 2), ("images/0.jpg", 19, 3), ("images/1.jpg", 1, 0)]  # fmt: skip
    server = judge_server(start_oracle, CANNED)
    replies = [f"[d-{n // 4}-{n % 4}] answer" for n in range(8)]
    values, judge = judged(charxiv.descriptive_scoring, server, "charxiv_val_descriptive", samples_of(docs, replies))
    assert [values[i]["charxiv_grading"]["score"] for i in range(8)] == [1, -1, 1, 1, 0, -1, -1, 1]
    assert [values[i]["charxiv_descriptive_acc"] for i in range(8)] == [100.0, 0.0, 100.0, 100.0, 0.0, 0.0, 0.0, 100.0]
    assert judge.stats.calls == 5  # templates 1, 2, 4, 18, 19
    [first] = [p for p in judge_prompts(server) if "[d-0-0]" in p]
    assert first.startswith("\nYou will be given 2 pairs of ground truth answers and model responses under an overarching question.")
    assert "keys [['extract_answer_T1', 'score_T1', 'extract_answer_T2', 'score_T2']]" in first
    assert "Overarching Question: What is the title of the plot?\n\nRubric: " in first
    assert first.endswith("T1:\nResponse 1: [d-0-0] answer\nGround Truth 1: gold 0-0\n\nT2:\nResponse 2: [d-1-0] answer\nGround Truth 2: gold 1-0\n\n")
    assert charxiv.grading_counts([values[i]["charxiv_grading"] for i in range(8)]) == {"score_1": 4, "score_0": 1, "failed": 3}


def test_descriptive_questions():
    assert charxiv.descriptive_question(1, "[0, 0]").startswith("For the current plot, what is its title?\n    * Your final answer")
    assert charxiv.descriptive_question(2, [2, 1]).startswith("For the subplot at row 2 and column 1, what is the label of the x-axis?")
    assert charxiv.descriptive_question(4, "the left panel").startswith("For the left panel, what is the leftmost")
    assert charxiv.descriptive_question(19, None).startswith("What is the number of subplots?")
