"""mmlu_pro: 14 subjects filtered out of one split by category, 5-shot worked examples, the
custom-extract ("answer is (X)"), strict-match and flexible-extract filters; the group reads flexible-extract."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmark_helpers import evaluate, prompt_text, read_results, run_benchmark, task_module, write_parquet

SUBJECTS = "biology business chemistry computer_science economics engineering health history law math other philosophy physics psychology".split()
WORDS = ["apple", "banana", "cherry", "date", "echo", "fig", "grape", "hazel", "iris", "juniper"]
DESCRIPTION = (
    "The following are multiple choice questions (with answers) about {}. Think step by step and then finish your answer"
    ' with "the answer is (X)" where X is the correct letter choice.\n'
)

# Biology: (gold, option count, reply, custom-extract value, flexible-extract value); right? is below.
BIOLOGY = [
    ("B", 10, "Cells divide, so the answer is (B).", "B", "(B)"),
    ("C", 10, "The answer is C", "C", "[invalid]"),
    ("D", 10, "I pick (A) first, but finally (D).", "[invalid]", "(D)"),  # the last bracketed letter
    ("E", 10, "It must be the Echo option.", "[invalid]", "(E)"),  # an option's text
    ("F", 10, "Final: F", "[invalid]", "(F)"),  # a letter after a colon
    ("G", 10, "answer is (g)", "[invalid]", "[invalid]"),  # lower case is no letter
    ("A", 4, "Note: J is wrong, answer: A", "[invalid]", "(A)"),  # only this question's letters count
]
CUSTOM_RIGHT = [True, True, False, False, False, False, False]
# strict-match: the rest of the line after "answer is " (or "The answer is ", "The answer: ",
# "The final answer: ") less its last character; "(g" is right once case and punctuation are ignored.
STRICT = ["(B)", "[invalid]", "[invalid]", "[invalid]", "[invalid]", "(g", "[invalid]"]
STRICT_RIGHT = [True, False, False, False, False, True, False]
FLEXIBLE_RIGHT = [True, False, True, True, True, False, True]


def write_fixture(folder: Path) -> dict[str, str]:
    import datasets

    features = datasets.Features(
        {
            "question_id": datasets.Value("int64"),
            "question": datasets.Value("string"),
            "options": datasets.Sequence(datasets.Value("string")),
            "answer": datasets.Value("string"),
            "answer_index": datasets.Value("int64"),
            "cot_content": datasets.Value("string"),
            "category": datasets.Value("string"),
            "src": datasets.Value("string"),
        }
    )
    validation, test, canned = [], [], {}
    for subject in SUBJECTS:
        category = subject.replace("_", " ")
        for k in range(6):  # one more than five: the sixth must not be used
            cot = f"A: Let's think step by step. Reason {k}. The answer is (A)."
            validation.append({"question_id": len(validation), "question": f"Shot {category} {k}?", "options": WORDS[:3], "answer": "A",
                               "answer_index": 0, "cot_content": cot, "category": category, "src": "ori"})
        plan = BIOLOGY if subject == "biology" else [("A", 10, "So the answer is (A).", "A", "(A)")]
        for gold, count, reply, *_values in plan:
            tag = f"[p{len(test):02d}]"
            canned[tag] = reply
            test.append({"question_id": 1000 + len(test), "question": f"{tag} A {category} question?", "options": WORDS[:count],
                         "answer": gold, "answer_index": "ABCDEFGHIJ".index(gold), "cot_content": "", "category": category, "src": "ori"})
    write_parquet(folder / "validation.parquet", validation, features)
    write_parquet(folder / "test.parquet", test, features)
    for subject in SUBJECTS:
        (folder / f"mmlu_pro_{subject}.yaml").write_text(
            f"include: mmlu_pro/mmlu_pro_{subject}.yaml\ntask: mmlu_pro_{subject}\ndataset_path: parquet\n"
            "dataset_kwargs:\n  data_files:\n    validation: validation.parquet\n    test: test.parquet\n",
            encoding="utf-8",
        )
    return canned


def test_mmlu_pro_end_to_end(tmp_path, capsys):
    folder = tmp_path / "tasks"
    folder.mkdir()
    canned = write_fixture(folder)
    assert evaluate("mmlu_pro", folder, tmp_path / "out", canned) == 0
    written = read_results(tmp_path / "out")

    biology = written["results"]["mmlu_pro_biology"]
    assert biology["exact_match,custom-extract"] == pytest.approx(2 / 7)
    assert biology["exact_match,flexible-extract"] == pytest.approx(5 / 7)
    assert biology["exact_match,strict-match"] == pytest.approx(2 / 7)
    assert written["results"]["mmlu_pro_law"]["exact_match,flexible-extract"] == 1.0
    # The group: flexible-extract only, pooled over 7 + 13 questions.
    group = written["groups"]["mmlu_pro"]
    assert group["exact_match,flexible-extract"] == pytest.approx(18 / 20)
    assert not any("custom-extract" in key or "strict-match" in key for key in group)


def test_mmlu_pro_biology_filters_and_prompt(tmp_path, capsys):
    folder = tmp_path / "tasks"
    folder.mkdir()
    canned = write_fixture(folder)
    run = run_benchmark(tmp_path, "mmlu_pro_biology", folder, canned, capsys)
    assert [s["filtered_resps"]["custom-extract"] for s in run.samples] == [row[3] for row in BIOLOGY]
    assert [s["filtered_resps"]["flexible-extract"] for s in run.samples] == [row[4] for row in BIOLOGY]
    assert [s["scores"]["custom-extract"]["exact_match"] for s in run.samples] == list(map(float, CUSTOM_RIGHT))
    assert [s["scores"]["flexible-extract"]["exact_match"] for s in run.samples] == list(map(float, FLEXIBLE_RIGHT))
    assert [s["filtered_resps"]["strict-match"] for s in run.samples] == STRICT
    assert [s["scores"]["strict-match"]["exact_match"] for s in run.samples] == list(map(float, STRICT_RIGHT))

    shots = "".join(
        f"Question:\nShot biology {k}?\nOptions:\nA. apple\nB. banana\nC. cherry\n"
        f"Answer: Let's think step by step. Reason {k}. The answer is (A).\n\n"
        for k in range(5)
    )
    options = "".join(f"{letter}. {word}\n" for letter, word in zip("ABCDEFGHIJ", WORDS))
    expected = DESCRIPTION.format("biology") + shots + f"Question:\n[p00] A biology question?\nOptions:\n{options}Answer: Let's think step by step."
    assert prompt_text(run.samples[0]) == expected
    assert {(tuple(b["stop"]), b["max_tokens"]) for b in run.bodies} == {(("</s>", "Q:", "<|im_end|>"), 2048)}


@pytest.mark.parametrize(
    ("response", "options", "expected"),
    [
        ("(A) or (C)", WORDS, "(C)"),
        ("maybe Banana, or rather cherry!", WORDS, "(C)"),  # the last option text found
        ("it is: B then: C", WORDS[:2], "(B)"),  # C is not an option here
        ("nothing", WORDS, "[invalid]"),
    ],
)
def test_flexible_extract(response, options, expected):
    utils = task_module("mmlu_pro")
    assert utils.FlexibleExtract().map(response, {"options": options}) == expected
