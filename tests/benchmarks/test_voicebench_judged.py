"""VoiceBench's judged subsets: the official judge prompts, three sampled asks per response,
the rating mean and the Yes/No majority, failed judge calls left out; the judge is a local
oracle server."""

from __future__ import annotations

import pytest
from benchmark_helpers import task_module
from judge_helpers import ALWAYS_FAILS, judge_prompts, judge_server, judged, samples_of

judged_module = task_module("voicebench", "judged")

OPEN_DOCS = [{"prompt": "Tell me a fun fact."}, {"prompt": "How tall is Everest?"}, {"prompt": "Say hi."}]
OPEN_ANSWERS = ["[r0] Octopuses have three hearts.", "[r1] About 8,849 metres.", "[r2] Hello!"]


def test_open_ratings(start_oracle):
    server = judge_server(start_oracle, {"[r0]": "5", "[r1]": "Score: 4.5", "[r2]": "excellent"})
    values, judge = judged(judged_module.open_scoring, server, "voicebench_alpacaeval", samples_of(OPEN_DOCS, OPEN_ANSWERS))
    assert {doc_id: value["llm_as_judge_eval"] for doc_id, value in values.items()} == {0: 5.0, 1: 4.5, 2: 0.0}  # the first number; none: 0
    assert values[2]["judge_readings"] == {"rating": 0.0, "unreadable": 3}
    assert judged_module.reading_counts([value["judge_readings"] for value in values.values()]) == {"rated": 3, "unreadable_ratings": 3}
    assert judge.stats.calls == 9  # three samples per response
    prompts = judge_prompts(server)
    assert prompts[0].startswith("I need your help to evaluate the performance of several models in the speech interaction scenario.")
    assert "### [Instruction]: Tell me a fun fact.\n### [Response]: [r0] Octopuses have three hearts.\n" in "".join(prompts)
    [body] = server.bodies[:1]
    assert body["messages"][0] == {"role": "system", "content": [{"type": "text", "text": judged_module.SYSTEM}]}
    assert body["temperature"] == 0.5
    assert body["max_tokens"] == 10 or body.get("max_completion_tokens") == 10


def test_failed_judge_calls_give_no_rating(start_oracle):
    server = judge_server(start_oracle, fault=ALWAYS_FAILS)
    values, judge = judged(judged_module.open_scoring, server, "voicebench_alpacaeval", samples_of(OPEN_DOCS[:1], OPEN_ANSWERS[:1]))
    assert values == {}
    assert judge.stats.failures == 3


@pytest.mark.parametrize(
    ("replies", "right"),
    [
        (["Yes", "yes", "No"], True),
        (["No", "No", "Yes"], False),
        (["Yes", "No", "Maybe"], False),  # a tie is not a majority
        ([" YES\n"], True),
        ([], False),
    ],
)
def test_majority_yes(replies, right):
    assert judged_module.majority_yes(replies) is right


def test_sd_qa_judgement(start_oracle):
    docs = [{"prompt": "Capital of France?", "reference": "Paris"}, {"prompt": "Two plus two?", "reference": "four"}]
    server = judge_server(start_oracle, {"[a0]": "Yes", "[a1]": "No."})
    values, _ = judged(judged_module.qa_scoring, server, "voicebench_sd-qa_usa", samples_of(docs, ["[a0] Paris", "[a1] five"]))
    assert values == {0: {"gpt4_score": 1.0}, 1: {"gpt4_score": 0.0}}  # "No." is not "yes"
    prompt = judge_prompts(server)[0]
    assert prompt.startswith("### Question\nCapital of France?\n\n### Reference answer\nParis\n\n### Candidate answer\n[a0] Paris\n\n")
    assert prompt.endswith('Please only output a single "Yes" or "No". Do not output anything else.')
