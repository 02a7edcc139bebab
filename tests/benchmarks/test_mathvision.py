"""mathvision_test / mathvision_testmini: the boxed-instruction prompt, answer extraction
(letter endings, "is <number>", the last \\boxed{}), symbolic equality via latex2sympy2_extended,
gold option text counting, and no blank-line stop (percent scale)."""

from __future__ import annotations

import pytest

from benchmark_helpers import prompt_text, run_benchmark, solid_image, task_module, user_task, write_parquet

INSTRUCTION = 'Please solve the problem step by step and put your answer in one "\\boxed{}".'
FIVE = ["3", "6", "12", "24", "48"]
# (question, options, answer, reply, correct?)
DOCS = [
    ("[m1] <image1> Which shape is shaded?", FIVE, "B", "Counting the sides, the answer is (B).", True),
    ("[m2] <image1> What is the angle?", [], "60", "The angle is 60", True),
    ("[m3] <image1> What fraction is shaded?", [], "0.5", "Half of it is shaded.\n\nSo \\boxed{\\frac{1}{2}}", True),  # after a blank line
    ("[m4] <image1> How many edges?", FIVE, "C", "\\boxed{12}", True),  # the gold option's text counts
    ("[m5] <image1> How long is it?", [], "7", "I cannot tell", False),
]


def test_mathvision_testmini_end_to_end(tmp_path):
    import datasets

    text = datasets.Value("string")
    features = datasets.Features({"id": text, "question": text, "options": datasets.List(text), "image": text, "decoded_image": datasets.Image(),
                                  "answer": text, "solution": text, "level": datasets.Value("int64"), "subject": text})  # fmt: skip
    rows = [{"id": str(n + 1), "question": q, "options": o, "image": f"images/{n + 1}.jpg", "decoded_image": solid_image(n), "answer": a,
             "solution": "", "level": 2, "subject": "metric geometry - angle"} for n, (q, o, a, _, _) in enumerate(DOCS)]  # fmt: skip
    data = write_parquet(tmp_path / "data" / "testmini.parquet", rows, features)
    folder = tmp_path / "tasks"
    user_task(folder, "mathvision_testmini", "mathvision/mathvision_testmini.yaml", "testmini", data)
    run = run_benchmark(tmp_path, "mathvision_testmini", folder, {q: reply for q, _, _, reply, _ in DOCS})
    assert [s["scores"]["none"]["mathvision_standard_eval"] for s in run.samples] == [100.0 * c for *_, c in DOCS]
    assert run.scores("mathvision_testmini")["mathvision_standard_eval,none"] == pytest.approx(80.0)
    choices = "\n".join(f"{letter}. {option}" for letter, option in zip("ABCDE", FIVE))
    assert prompt_text(run.samples[0]) == f"{INSTRUCTION}[m1] <image1> Which shape is shaded?\nChoices: {choices}\nAnswer the question with the option's letter from the given choices directly."
    assert prompt_text(run.samples[1]) == INSTRUCTION + DOCS[1][0]
    assert {body["max_tokens"] for body in run.bodies} == {16384}
    assert all(not body.get("stop") for body in run.bodies)  # no blank-line stop


@pytest.mark.parametrize(
    ("reply", "answer"),
    [
        ("(C)\nbecause", "C"),
        ("so the final answer is 2\\sqrt{3}. Done", "2\\sqrt{3}"),
        ("first \\boxed{1} then \\boxed{x = 5}", "5"),
        ("The answer is 3/4", "\\frac{3}{4}"),
        ("\\boxed{90^\\circ}", "90"),
    ],
)
def test_extract_answer(reply, answer):
    assert task_module("mathvision").extract_answer(reply) == answer


def test_is_equal():
    equal = task_module("mathvision").is_equal
    assert equal("\\frac{3}{4}", "0.75") and equal("2\\sqrt{3}", "3.464")
    assert equal("(1,2)", "(1.0, 2.0)") and not equal("(1,2)", "(2,1)")
    assert not equal("7", "") and not equal("x", "y")
