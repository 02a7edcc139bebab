"""activitynetqa: the Video-ChatGPT judge protocol (system and user messages, 64 tokens),
the review reading (the first {...}, int(score), pred by "yes"), out-of-range scores clamped
and counted, unparsable reviews and failed calls as ("no", 0); accuracy and mean score."""

from __future__ import annotations

import pytest

from benchmark_helpers import task_module
from judge_helpers import ALWAYS_FAILS, judge_server, judged, samples_of

activitynetqa = task_module("activitynetqa")

# model reply, judge review, (pred, score, how)
ROWS = [
    ("[p0] a dog", "{'pred': 'yes', 'score': 4.8}", ("yes", 4, "ok")),
    ("[p1] in a park", "Here you go: {'pred': 'no', 'score': 1} thanks", ("no", 1, "ok")),
    ("[p2] swimming", "{'pred': 'Yes', 'score': 7}", ("yes", 5, "out_of_range")),
    ("[p3] two", "I think it matches", ("no", 0, "unparsable")),
    ("[p4] red", "{'pred': 'yes', 'score': 'high'}", ("no", 0, "unparsable")),
]


def docs():
    return [{"video_name": f"vid{n % 2}", "question_id": f"v_{n}", "question": f"what is shown {n}", "answer": f"gold {n}", "type": str(n % 3)}
            for n in range(len(ROWS))]  # fmt: skip


def text_of(message):
    content = message["content"]
    return content if isinstance(content, str) else "".join(part.get("text", "") for part in content)


def run(start_oracle, fault=None):
    server = judge_server(start_oracle, {reply.split("]")[0] + "]": review for reply, review, _ in ROWS}, fault)
    values, judge = judged(activitynetqa.judge_scoring, server, "activitynetqa", samples_of(docs(), [row[0] for row in ROWS]))
    return [values[i]["gpt_eval_accuracy"] for i in range(len(ROWS))], judge, server


def test_reviews_read_by_the_protocol(start_oracle):
    records, judge, server = run(start_oracle)
    assert [(r["pred"], r["score"], r["how"]) for r in records] == [row[2] for row in ROWS]
    assert activitynetqa.accuracy(records) == pytest.approx(40.0)
    assert activitynetqa.mean_score(records) == pytest.approx(2.0)
    assert activitynetqa.review_counts(records) == {"ok": 2, "out_of_range": 1, "unparsable": 2, "judge_failed": 0}
    body = next(b for b in server.bodies if "[p0]" in text_of(b["messages"][-1]))
    system, user = body["messages"]
    assert system["role"] == "system" and text_of(system).startswith("You are an intelligent chatbot designed for evaluating")
    assert text_of(user).startswith("Please evaluate the following video-based question-answer pair:\n\nQuestion: what is shown 0\nCorrect Answer: gold 0\nPredicted Answer: [p0] a dog\n\n")
    assert text_of(user).endswith("{'pred': 'yes', 'score': 4.8}.") and body["max_tokens"] == 64 and judge.stats.calls == 5


def test_failed_calls_are_no_match(start_oracle):
    records, judge, _ = run(start_oracle, ALWAYS_FAILS)
    assert judge.stats.failures == 5
    assert activitynetqa.accuracy(records) == 0.0 and activitynetqa.mean_score(records) == 0.0
    assert activitynetqa.review_counts(records)["judge_failed"] == 5


def test_prompt():
    assert activitynetqa.doc_to_text({"question": "what is the man doing"}, {"post_prompt": " Answer the question using a single word or phrase."}) == (
        "What is the man doing? Answer the question using a single word or phrase."
    )
