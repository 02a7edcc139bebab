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
    folder = write_mmvp(tmp_path)
    run = run_benchmark(tmp_path, "mmvp", folder, {q: reply for q, _, _, reply, _ in DOCS})
    scores = run.scores("mmvp")
    assert scores["mmvp_pair_accuracy,none"] == pytest.approx(2 / 3)
    assert scores["mmvp_accuracy,none"] == pytest.approx(5 / 6)
    assert prompt_text(run.samples[0]) == f"[p1] Is the door open?\nA. Open\nB. Closed{POST}"


# mmvp_judged: (model reply, grader reply, counted right?); the grader's reply must be yes/no.
JUDGED = [
    ("[r1] A", "Yes", True),
    ("[r2] B", "yes", True),  # pair 0: both right
    ("[r3] B", "no", False),
    ("[r4] A", " YES \n", True),  # pair 1: one wrong
    ("[r5] hmm", "maybe yes", False),  # never a verdict: asked three times, then "no"
    ("[r6] A", "No", False),
]


def text_of(content) -> str:
    return content if isinstance(content, str) else "".join(part.get("text", "") for part in content)


def write_mmvp(tmp_path):
    import datasets

    text = datasets.Value("string")
    features = datasets.Features({"Index": datasets.Value("int64"), "Question": text, "Options": text, "Correct Answer": text, "image": datasets.Image()})
    rows = [{"Index": n + 1, "Question": q, "Options": o, "Correct Answer": a, "image": solid_image(n)} for n, (q, o, a, _, _) in enumerate(DOCS)]
    data = write_parquet(tmp_path / "data" / "train.parquet", rows, features)
    folder = tmp_path / "tasks"
    user_task(folder, "mmvp", "mmvp/mmvp.yaml", "train", data)
    user_task(folder, "mmvp_judged", "mmvp/mmvp_judged.yaml", "train", data)
    return folder


def test_mmvp_judged_grades_with_the_papers_yes_no_grader(tmp_path):
    from judge_helpers import ALWAYS_FAILS, judge_prompts, run_judged

    folder = write_mmvp(tmp_path)
    model = {question: reply for (question, *_), (reply, _, _) in zip(DOCS, JUDGED)}
    judge = {reply.split()[0]: verdict for reply, verdict, _ in JUDGED}
    store = str(tmp_path / "store.sqlite")
    run = run_judged(tmp_path, "mmvp_judged", folder, model, judge, "--use_cache", store)
    assert run.code == 0
    scores = run.scores("mmvp_judged")
    assert scores["mmvp_pair_accuracy,none"] == pytest.approx(1 / 3)
    assert scores["mmvp_accuracy,none"] == pytest.approx(3 / 6)
    assert scores["mmvp_grading,none"] == {"yes": 3, "no": 2, "unparsable": 1, "failed": 0}
    prompts = judge_prompts(run.judge)
    assert len(prompts) == 6 + 2  # the unparsable verdict was asked twice more
    assert (
        "Given the following question [p1] Is the door open? (a) Open (b) Closed, the correct answer is (a). "
        "Does the following answer correctly answers the question, answer:[r1] A?"
    ) in prompts
    system = {text_of(body["messages"][0]["content"]) for body in run.judge.bodies}
    assert system == {"You are a helpful and precise assistant for checking the quality of the answer. Please answer in only yes or no."}
    assert {body["temperature"] for body in run.judge.bodies} == {0.2}
    assert run.results["judges"]["mmvp_judged"]["calls"] == 8

    again = run_judged(tmp_path, "mmvp_judged", folder, model, judge, "--use_cache", store, output_name="again")
    assert again.scores("mmvp_judged") == scores and again.results["judges"]["mmvp_judged"]["calls"] == 0

    failed = run_judged(tmp_path, "mmvp_judged", folder, model, {}, judge_fault=ALWAYS_FAILS, output_name="failed")
    assert failed.code == 3  # judge calls failed: the exit status says so
    assert failed.scores("mmvp_judged")["mmvp_grading,none"] == {"yes": 0, "no": 0, "unparsable": 0, "failed": 6}
    assert failed.results["judges"]["mmvp_judged"]["failures"] == 6
