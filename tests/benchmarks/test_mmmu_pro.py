"""mmmu_pro: the official evaluator's "Answer:" rule (default) and lmms-eval's scorers (named
versions), ten options, the sorted image tags, the vision screenshot setting and the group."""

from __future__ import annotations

import random

import pytest

from benchmark_helpers import evaluate, image_count, prompt_text, read_results, read_samples, sample_scores, solid_image, user_task, write_parquet

INSTRUCTION = "Answer with the option letter from the given choices directly."
OPTIONS = ["cat", "dog", "bird", "fish", "horse", "cow", "goat", "sheep", "duck", "mouse"]


def fallback(doc_id: str) -> str:
    return random.Random(f"42:{doc_id}").choice("ABCDEFGHIJ")


# (id, subject, question, answer, reply, official correct?, lmms-eval correct?)
STANDARD = [
    ("test_Art_1", "Art", "[s1] Which animal is in <image 1>?", "B", "B", True, True),
    # The official rule reads the letter after "Answer:"; the parser alone prefers "(A)".
    ("test_Art_2", "Art", "[s2] Which animal?", "D", "(A) looks tempting.\nAnswer: D", True, False),
    # Two letters after "Answer:" (I and B): both fall through to the parser, right-most "L ".
    ("test_Biology_1", "Biology", "[s3] Which animal?", "B", "Answer: I think B", True, True),
    # lmms-eval's "L " rule reads A out of "DNA ".
    ("test_Biology_2", "Biology", "[s4] Which animal?", "A", "the DNA is", True, True),
    ("test_Math_1", "Math", "[s5] Which animal?", "F", "Answer: (E) or (F)", True, True),
    # Nothing readable: the seeded random letter (correct only if it happens to be C).
    ("test_Math_2", "Math", "[s6] Which animal?", "C", "no idea", None, None),
]


def standard_features():
    import datasets

    text = datasets.Value("string")
    columns = {"id": text, "question": text, "options": text, "explanation": text}
    columns |= {f"image_{n}": datasets.Image() for n in range(1, 8)}
    columns |= {"img_type": text, "answer": text, "topic_difficulty": text, "subject": text}
    return datasets.Features(columns)


def standard_row(number: int, doc_id: str, subject: str, question: str, answer: str) -> dict:
    options = list(OPTIONS)
    if number == 0:
        options[9] = "<image 2>"  # an image as an option: its tag counts too
    images = {f"image_{n}": solid_image(number * 10 + n) if n <= 2 else None for n in range(1, 8)}
    return {"id": doc_id, "question": question, "options": str(options), "explanation": "", **images,
            "img_type": "['Photos']", "answer": answer, "topic_difficulty": "Easy", "subject": subject}  # fmt: skip


def vision_features():
    import datasets

    text = datasets.Value("string")
    return datasets.Features({"id": text, "image": datasets.Image(), "options": text, "answer": text, "subject": text})


VISION_ANSWERS = ["B", "B", "C", "D"]  # every screenshot gets the same reply, "Answer: B"


def write_fixture(tmp_path):
    standard = write_parquet(tmp_path / "data" / "standard.parquet", [standard_row(n, *doc[:4]) for n, doc in enumerate(STANDARD)], standard_features())
    rows = [{"id": f"test_Art_{n}", "image": solid_image(n), "options": str(OPTIONS), "answer": a, "subject": "Art"} for n, a in enumerate(VISION_ANSWERS)]
    vision = write_parquet(tmp_path / "data" / "vision.parquet", rows, vision_features())
    folder = tmp_path / "tasks"
    for name in ("mmmu_pro_standard", "mmmu_pro_standard_lmms_eval"):
        user_task(folder, name, f"mmmu_pro/{name}.yaml", "test", standard)
    for name in ("mmmu_pro_vision", "mmmu_pro_vision_lmms_eval"):
        user_task(folder, name, f"mmmu_pro/{name}.yaml", "test", vision)
    return folder


def standard_prompt(number: int, question: str) -> str:
    options = OPTIONS[:9] + ["<image 2>"] if number == 0 else OPTIONS
    block = "\n".join(f"{letter}. {option}" for letter, option in zip("ABCDEFGHIJ", options))
    return f"{question}\n{block}\n\n{INSTRUCTION}"


# The longest key found wins: each whole standard prompt beats the bare vision instruction.
CANNED = {standard_prompt(n, doc[2]): doc[4] for n, doc in enumerate(STANDARD)} | {INSTRUCTION: "Answer: B"}


def expected(column: int) -> list[float]:
    scores = []
    for doc in STANDARD:
        correct = doc[column]
        scores.append(float(fallback(doc[0]) == doc[3] if correct is None else correct))
    return scores


def test_mmmu_pro_group_official_rule(tmp_path):
    folder = write_fixture(tmp_path)
    output = tmp_path / "out"
    bodies: list[dict] = []
    assert evaluate("mmmu_pro", folder, output, CANNED, bodies=bodies) == 0
    results = read_results(output)["results"]
    standard = expected(5)
    assert results["mmmu_pro_standard"]["mmmu_acc,none"] == pytest.approx(sum(standard) / len(standard))
    assert results["mmmu_pro_vision"]["mmmu_acc,none"] == pytest.approx(0.5)  # "Answer: B" on B, B, C, D
    assert "mmmu_acc,none" not in results.get("mmmu_pro", {})  # no combined number
    breakdown = results["mmmu_pro_standard"]["mmmu_breakdown,none"]
    assert breakdown["Art"] == 1.0 and breakdown["Overall-Science"] == pytest.approx(sum(standard[2:]) / 4)

    samples = read_samples(output, "mmmu_pro_standard")
    assert sample_scores(samples, "mmmu_acc") == standard
    options = "\n".join(f"{letter}. {option}" for letter, option in zip("ABCDEFGHIJ", OPTIONS[:9] + ["<image 2>"]))
    assert prompt_text(samples[0]) == f"[s1] Which animal is in <image 1>?\n{options}\n\n{INSTRUCTION}"
    assert image_count(samples[0]) == 2 and image_count(samples[1]) == 0
    vision = read_samples(output, "mmmu_pro_vision")
    assert prompt_text(vision[0]) == INSTRUCTION and image_count(vision[0]) == 1
    assert {body["max_tokens"] for body in bodies} == {256}
    assert {tuple(body["stop"]) for body in bodies} == {("\n\n",)}


def test_mmmu_pro_lmms_eval_versions(tmp_path):
    folder = write_fixture(tmp_path)
    output = tmp_path / "out"
    assert evaluate("mmmu_pro_standard_lmms_eval,mmmu_pro_vision_lmms_eval", folder, output, CANNED) == 0
    results = read_results(output)["results"]
    assert sample_scores(read_samples(output, "mmmu_pro_standard_lmms_eval"), "mmmu_acc") == expected(6)
    assert results["mmmu_pro_vision_lmms_eval"]["mmmu_acc,none"] == 0.0  # "Answer: B" is not "B"


@pytest.mark.parametrize(
    ("reply", "official", "parser_only"),
    [
        ("Answer: C", "C", "C"),
        ("(B) first, but\nAnswer: C", "C", "B"),
        ("Answer: A\nthen more\nAnswer: J.", "J", "J"),  # the last "Answer:" counts
        ("Answer: D. horse", "D", "D"),  # one letter in the tail (lower-case words have none)
        ("It is E.", "E", "E"),  # no "Answer:": the parser ("L." after stripping: "E ")
    ],
)
def test_answer_mark_then_parser(reply, official, parser_only):
    from benchmark_helpers import task_module

    utils = task_module("mmmu_pro")
    rng = random.Random(0)
    assert utils.parse_official(reply, OPTIONS, rng) == official
    assert utils.parse_mmmu_choice(reply, OPTIONS, rng) == parser_only
