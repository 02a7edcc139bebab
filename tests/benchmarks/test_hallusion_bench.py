"""hallusion_bench_image: the teacher prompt, the verdict reading ("incorrect" before
"correct", else unclear), unclear counting as right only for visual-supplement questions
asked without their figure, failed judge calls read as unclear, and aAcc / fAcc / qAcc
against a hand computation."""

from __future__ import annotations

from benchmark_helpers import task_module
from judge_helpers import ALWAYS_FAILS, judge_prompts, judge_server, judged, samples_of

hallusion = task_module("hallusion_bench")

# category, subcategory, set_id, figure_id, question_id, model reply, judge reply, right?
ROWS = [
    ("VD", "chart", "0", "0", "0", "[a0] Yes, it is.", "Correct", True),
    ("VD", "chart", "0", "1", "0", "[a1] No.", "incorrect.", False),
    ("VD", "chart", "0", "0", "1", "[a2] Yes.", "correct", True),
    ("VD", "chart", "0", "1", "1", "[a3] Yes.", "correct", True),
    ("VS", "map", "1", "0", "0", "[a4] I cannot tell.", "It is unclear", True),  # no figure: unclear counts
    ("VS", "map", "1", "1", "0", "[a5] Maybe.", "unclear", False),
    ("VS", "map", "1", "0", "1", "[a6] No.", "INCORRECT", False),
    ("VS", "map", "1", "1", "1", "[a7] Yes.", "The prediction is correct", True),
]  # fmt: skip


def docs():
    return [
        {"category": c, "subcategory": s, "visual_input": "0" if f == "0" and c == "VS" else "1", "set_id": st, "figure_id": f,
         "sample_note": "", "question_id": q, "question": f"Is statement {n} true?", "gt_answer_details": f"Reference {n}.",
         "gt_answer": "1", "filename": f"{c}/{s}/{st}_{f}.png", "image": None}
        for n, (c, s, st, f, q, *_rest) in enumerate(ROWS)
    ]  # fmt: skip


def run(start_oracle, fault=None):
    canned = {reply.split("]")[0] + "]": verdict for *_k, reply, verdict, _r in ROWS}
    server = judge_server(start_oracle, canned, fault)
    values, judge = judged(hallusion.judge_scoring, server, "hallusion_bench_image", samples_of(docs(), [row[5] for row in ROWS]))
    return [values[i]["aAcc"] for i in range(len(ROWS))], judge, server


def test_scores_match_a_hand_computation(start_oracle):
    records, judge, server = run(start_oracle)
    assert [record["correct"] for record in records] == [row[-1] for row in ROWS]
    assert hallusion.question_accuracy(records) == 62.5  # 5 of 8
    assert hallusion.figure_accuracy(records) == 33.3333  # VD fig 0 of three figures shown
    assert hallusion.group_accuracy(records) == 25.0  # VD question 1 of four groups
    assert hallusion.judgement_counts(records) == {"incorrect": 2, "correct": 4, "unclear": 2, "judge_failed": 0}
    prompt = [p for p in judge_prompts(server) if "[a1]" in p][0]
    assert prompt.startswith("Imagine you are an intelligent teacher.")
    assert prompt.endswith("please generate \"unclear\". \n\n Question:Is statement 1 true?\nReference answer: Reference 1.\nPrediction answer:[a1] No.\nOutput:")
    assert {body["max_tokens"] for body in server.bodies} == {16} and judge.stats.calls == 8


def test_failed_judge_calls_read_as_unclear(start_oracle):
    records, judge, _ = run(start_oracle, ALWAYS_FAILS)
    assert judge.stats.failures == 8
    assert [record["correct"] for record in records] == [False, False, False, False, True, False, True, False]
    assert hallusion.question_accuracy(records) == 25.0
    assert hallusion.figure_accuracy(records) == 0.0 and hallusion.group_accuracy(records) == 0.0
    assert hallusion.judgement_counts(records)["judge_failed"] == 8
