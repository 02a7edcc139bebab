"""mmvp: the options regex, lmms-eval's reply patterns (the article "a" counts as A) and
pair accuracy as the headline next to per-question accuracy."""

from __future__ import annotations

import pytest

from benchmark_helpers import prompt_text, run_benchmark, solid_image, user_task, write_parquet

POST = "\nAnswer with the option's letter from the given choices directly."

# (Question, Options, Correct Answer, reply, correct?); rows 2k and 2k+1 form a pair.
DOCS = [
    ("[p1] Is the door open?", "(a) Open (b) Closed", "(a)", "A", True),
    ("[p2] Is the door open?", "(a) Open (b) Closed", "(b)", "(B)", True),  # pair 0: both right
    ("[p3] Which way is the dog facing?", "(a) Left (b) Right", "(b)", "The answer is B", True),
    ("[p4] Which way is the dog facing?", "(a) Left (b) Right", "(a)", "I see a dog", True),  # "a " reads A
    ("[p5] Can you see the sun?", "(a) Yes (b) No", "(b)", "A.", False),
    ("[p6] Can you see the sun?", "(a) Yes (b) No", "(a)", "option a", True),  # pair 2: one wrong
]


@pytest.mark.parametrize(
    ("reply", "letter"),
    [("b", "B"), ("(A) open", "A"), ("the answer is (b)", "B"), ("Option B", "B"), ("Bright", "B"), ("none", ""), ("", "")],
)
def test_reply_patterns(reply, letter):
    from benchmark_helpers import task_module

    assert task_module("mmvp").parse_letter(reply) == letter


def test_mmvp_end_to_end(tmp_path):
    import datasets

    text = datasets.Value("string")
    features = datasets.Features({"Index": datasets.Value("int64"), "Question": text, "Options": text, "Correct Answer": text, "image": datasets.Image()})
    rows = [{"Index": n + 1, "Question": q, "Options": o, "Correct Answer": a, "image": solid_image(n)} for n, (q, o, a, _, _) in enumerate(DOCS)]
    data = write_parquet(tmp_path / "data" / "train.parquet", rows, features)
    folder = tmp_path / "tasks"
    user_task(folder, "mmvp", "mmvp/mmvp.yaml", "train", data)
    run = run_benchmark(tmp_path, "mmvp", folder, {q: reply for q, _, _, reply, _ in DOCS})
    scores = run.scores("mmvp")
    assert scores["mmvp_pair_accuracy,none"] == pytest.approx(2 / 3)
    assert scores["mmvp_accuracy,none"] == pytest.approx(5 / 6)
    assert prompt_text(run.samples[0]) == f"[p1] Is the door open?\nA. Open\nB. Closed{POST}"
