"""mmbench_en_dev_judged: MMBench's LLM answer extractor behind its rules. Questions the
rules decide never reach the judge; unread rows are asked with the extractor prompt and the
reply read by the same rules; three tries, then a seeded random letter among the options and
"E"; failed calls count as tries."""

from __future__ import annotations

import random

from benchmark_helpers import task_module
from judge_helpers import ALWAYS_FAILS, judge_prompts, judge_server, judged, samples_of

judged_mmbench = task_module("mmbench", "judged")
STRIDE = 1_000_000
OPTIONS = ["Red", "Blue", "Green", "Yellow"]

# question index, gold option (of OPTIONS), one reply per rotated copy
QUESTIONS = [
    (1, 0, ["A", "[r1] the colour of fire"]),  # rules right, extractor right ("D" on the rotated copy): hit
    (2, 1, ["[r2] hmm, hard to say", "A"]),  # extractor never readable: random fallback; copy 1 reads A = Blue: right
    (3, 0, ["B", "[r3] no idea"]),  # rules read a wrong letter: miss, the unread copy is never asked
    (4, 2, ["[r4] purple", "B"]),  # extractor says E: wrong, miss
]
CANNED = {"[r1]": "D", "[r2]": "I cannot decide between them", "[r4]": "E"}


def rows():
    docs, replies = [], []
    for index, gold, answers in QUESTIONS:
        for k, reply in enumerate(answers):
            rotated = OPTIONS[k:] + OPTIONS[:k]
            docs.append({"index": index + k * STRIDE, "question": f"[q{index}] Which colour is it", "hint": None,
                         **dict(zip("ABCD", rotated)), "answer": "ABCD"[rotated.index(OPTIONS[gold])], "category": "color",
                         "L2-category": "Perception", "image": None, "source": "fixture", "split": "dev", "comment": ""})  # fmt: skip
            replies.append(reply)
    return docs, replies


def run(start_oracle, fault=None):
    server = judge_server(start_oracle, CANNED, fault)
    docs, replies = rows()
    values, judge = judged(judged_mmbench.judge_scoring, server, "mmbench_en_dev_judged", samples_of(docs, replies))
    return values, judge, server


def test_extractor_behind_the_rules(start_oracle):
    values, judge, server = run(start_oracle)
    assert sorted(values) == [0, 2, 4, 6]  # one score per question, on its main row
    fallback = random.Random(2680).choice(list("ABCDE"))  # the one row left unread after three tries
    assert values[2]["mmbench_rows"][0] == {"letter": fallback, "how": "random", "judge_failed": False}
    q2_hit = fallback == "B"  # Blue is B on the unrotated copy
    assert [values[d]["circular_acc"] for d in (0, 2, 4, 6)] == [100.0, 100.0 * q2_hit, 0.0, 0.0]
    prompts = judge_prompts(server)
    assert not any("[r3]" in p for p in prompts)  # question 3 was lost to the rules
    assert sum("[r2]" in p for p in prompts) == 3 and judge.stats.calls == 5  # r1 and r4 once, r2 three times
    [first] = [p for p in prompts if "[r1]" in p]
    assert first.endswith(
        "Example 3: \nQuestion: [q1] Which colour is it?\nOptions: There are several options: \nA. Blue\nB. Green\nC. Yellow\nD. Red\n"
        "\nAnswer: [r1] the colour of fire\nYour output: "
    )
    assert sorted({body["temperature"] for body in server.bodies}) == [0.0, 0.5, 1.0]
    counts = judged_mmbench.row_counts([values[d]["mmbench_rows"] for d in values])
    assert counts == {"rows/rules": 4, "rows/judge": 2, "rows/random": 1, "rows/not_asked": 1, "rows/judge_failed": 0}
    breakdown = task_module("mmbench").mmbench_breakdown([values[d]["circular_breakdown"] for d in values])
    assert breakdown["count/questions"] == 4 and breakdown["count/unresolved_rows"] == 1


def test_failed_extractor_calls_fall_back_to_a_seeded_letter(start_oracle):
    values, judge, _ = run(start_oracle, ALWAYS_FAILS)
    assert judge.stats.failures == 9  # three rows asked, three tries each
    # The random letters are drawn in row index order: 2 (question 2), 4 (question 4), 1000001 (question 1's copy).
    rng = random.Random(2680)
    expected = [rng.choice(list("ABCDE")) for _ in range(3)]
    drawn = [values[2]["mmbench_rows"][0], values[6]["mmbench_rows"][0], values[0]["mmbench_rows"][1]]
    assert [row["letter"] for row in drawn] == expected
    assert all(row["how"] == "random" and row["judge_failed"] for row in drawn)
