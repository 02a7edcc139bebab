"""mmmu_val: the official MMMU parsing and scoring, end to end and rule by rule."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from benchmark_helpers import image_count, mean_stderr, palette_image, prompt_text, run_benchmark, user_task, write_parquet

from lmms_eval.taskdefs.functions import FunctionRef
from lmms_eval.taskdefs.library import BUILTIN_TASK_DIR

utils = FunctionRef("utils.mmmu_doc_to_text", BUILTIN_TASK_DIR / "mmmu").resolve().__globals__

MC_PROMPT = "Answer with the option's letter from the given choices directly."
OPEN_PROMPT = "Answer the question using a single word or phrase."


def fallback(doc_id: str, count: int) -> str:
    """The seeded random letter a response no rule can read gets."""
    return random.Random(f"42:{doc_id}").choice("ABCDEFGHI"[:count])


# --- the fixture split ---------------------------------------------------------------------

CELL = ["nucleus", "mitochondria", "ribosome", "golgi"]
PERIODS = ["Baroque", "Gothic", "Rococo", "Modern"]
MOLECULES = ["DNA", "RNA", "protein", "lipid"]

# (id, question_type, question, options, answer, scripted reply or None for the colour oracle, correct?)
DOCS = [
    ("validation_Art_1", "multiple-choice", "[q01] Which period is <image 1> from?", PERIODS, "B", "B", True),
    ("validation_Art_2", "multiple-choice", "[q02] Which period?", PERIODS, "C", "(C) because of the ornament", True),
    ("validation_Art_Theory_1", "multiple-choice", "[q03] Which period?", PERIODS, "D", "The answer is D.", True),
    # lmms-eval's "L " rule reads A out of "DNA "; the official " L " rule finds nothing.
    ("validation_Design_1", "multiple-choice", "[q04] Which molecule?", MOLECULES, "A", "the DNA is", False),
    ("validation_Biology_1", "multiple-choice", "[q05] Which organelle?", CELL, "B", "I think it is the mitochondria here", True),
    # Option text counts only in responses of more than five words: random fallback (C).
    ("validation_Biology_3", "multiple-choice", "[q06] Which organelle?", CELL, "B", "mitochondria", False),
    ("validation_Chemistry_1", "multiple-choice", "[q07] Which molecule?", MOLECULES, "C", "(A) is tempting but (C) fits", True),
    ("validation_Chemistry_2", "multiple-choice", "[q08] Which molecule?", MOLECULES, "D", "B or D", True),
    # "B,." is stripped "," first then ".", leaving "B,": no " B " (random fallback: C).
    ("validation_Math_2", "multiple-choice", "[q09] Which period?", PERIODS, "B", "B,.", False),
    ("validation_Math_1", "open", "[q10] What is the area of <image 1>?", [], "3.14", "The area is 3.14159", True),
    ("validation_Physics_1", "open", "[q11] How long?", [], "10", "10cm", False),
    ("validation_Physics_2", "open", "[q12] How long?", [], "10", "10 cm", True),
    ("validation_Chemistry_3", "open", "[q13] How many?", [], "['1000', 'one thousand']", "Therefore the answer is 1,000 molecules", True),
    # "mitosis " ends in "is ": the tail after the last "is " is "in plant cells".
    ("validation_Biology_2", "open", "[q14] Which process?", [], "mitosis", "This process is mitosis in plant cells", False),
    ("validation_Math_3", "open", "[q15] Solve for x.", [], "5", "x = 5", True),
    # No scripted reply: the oracle names the colours of the images it was sent, in order.
    ("validation_History_1", "open", "[q16] Compare <image 2> with <image 1>, then <image 2> again.", [], "green", None, True),
    ("validation_History_2", "multiple-choice", "[q17] Which option matches <image 1>?",
     ["<image 2>", "<image 3>", "neither"], "A", None, False),
    ("validation_Psychology_1", "open", "[q18] Which variable?", [], "x", "The variable is x", True),
    ("validation_Psychology_2", "open", "[q19] Which variable?", [], "x", "The value is xylophone", False),
]
# The colours in image_1..image_3 of the two multi-image questions.
IMAGES = {"validation_History_1": ["red", "green", "blue"], "validation_History_2": ["yellow", "black", "white"]}
CORRECT = sum(doc[-1] for doc in DOCS)


def write_split(path: Path) -> Path:
    import datasets

    features = {
        "id": datasets.Value("string"),
        "question": datasets.Value("string"),
        "options": datasets.Value("string"),
        "explanation": datasets.Value("string"),
        **{f"image_{n}": datasets.Image() for n in range(1, 8)},
        "img_type": datasets.Value("string"),
        "answer": datasets.Value("string"),
        "topic_difficulty": datasets.Value("string"),
        "question_type": datasets.Value("string"),
        "subfield": datasets.Value("string"),
    }
    rows = []
    for doc_id, kind, question, options, answer, _reply, _correct in DOCS:
        colours = IMAGES.get(doc_id, ["orange"])
        row = {
            "id": doc_id,
            "question": question,
            "options": str(options),
            "explanation": "",
            "img_type": "['Diagrams']",
            "answer": answer,
            "topic_difficulty": "Medium",
            "question_type": kind,
            "subfield": "x",
        }
        for n in range(1, 8):
            row[f"image_{n}"] = palette_image(colours[n - 1]) if n <= len(colours) else None
        rows.append(row)
    return write_parquet(path, rows, datasets.Features(features))


def test_mmmu_val_end_to_end(tmp_path, capsys):
    folder = tmp_path / "tasks"
    write_split(folder / "mmmu_val.parquet")
    user_task(folder, "mmmu_val", "mmmu/mmmu_val.yaml", "validation", "mmmu_val.parquet")
    canned = {question.split("]")[0] + "]": reply for _, _, question, _, _, reply, _ in DOCS if reply is not None}
    run = run_benchmark(tmp_path, "mmmu_val", folder, canned, capsys)

    scores = run.scores("mmmu_val")
    assert CORRECT == 12
    assert scores["mmmu_acc,none"] == pytest.approx(12 / 19, abs=1e-12)
    assert scores["mmmu_acc_stderr,none"] == pytest.approx(mean_stderr([1.0] * 12 + [0.0] * 7), abs=1e-12)
    assert scores["mmmu_breakdown,none"] == pytest.approx(
        {
            "Overall-Art and Design": 3 / 4, "Art": 1.0, "Art_Theory": 1.0, "Design": 0.0,
            "Overall-Science": 7 / 11, "Biology": 1 / 3, "Chemistry": 1.0, "Math": 2 / 3, "Physics": 1 / 2,
            "Overall-Humanities and Social Science": 2 / 4, "History": 1 / 2, "Psychology": 1 / 2,
        }  # fmt: skip
    )
    assert run.results["n-samples"]["mmmu_val"] == {"original": 19, "effective": 19}
    assert "mmmu_breakdown/Overall-Science" in run.table

    per_doc = [sample["scores"]["none"]["mmmu_acc"] for sample in run.samples]
    assert per_doc == [float(doc[-1]) for doc in DOCS]
    parsed = {doc[0]: sample["scores"]["none"]["mmmu_breakdown"]["parsed_pred"] for doc, sample in zip(DOCS, run.samples)}
    assert parsed["validation_Design_1"] == fallback("validation_Design_1", 4) == "D"
    assert parsed["validation_Biology_3"] == fallback("validation_Biology_3", 4) == "C"
    assert parsed["validation_Math_2"] == fallback("validation_Math_2", 4) == "C"
    assert parsed["validation_History_2"] == fallback("validation_History_2", 3) == "B"
    assert parsed["validation_Chemistry_1"] == "C" and parsed["validation_Chemistry_2"] == "D"
    assert parsed["validation_Biology_1"] == "B"
    assert set(parsed["validation_Chemistry_3"]) == {0.0, 1000.0, "1,000 molecules"}  # "000" is a number too
    assert parsed["validation_Physics_1"] == ["10cm"]
    assert parsed["validation_Biology_2"] == ["in plant cells"]

    # Prompts: options lettered, a blank line, the instruction; <image N> tags kept.
    assert prompt_text(run.samples[0]) == (
        f"[q01] Which period is <image 1> from?\nA. Baroque\nB. Gothic\nC. Rococo\nD. Modern\n\n{MC_PROMPT}"
    )
    assert prompt_text(run.samples[9]) == f"[q10] What is the area of <image 1>?\n\n{OPEN_PROMPT}"
    assert prompt_text(run.samples[16]) == (
        f"[q17] Which option matches <image 1>?\nA. <image 2>\nB. <image 3>\nC. neither\n\n{MC_PROMPT}"
    )
    # Images: each distinct tag once, ascending, tags in the options included.
    assert image_count(run.samples[15]) == 2 and run.samples[15]["resps"] == ["red, green"]
    assert image_count(run.samples[16]) == 3 and run.samples[16]["resps"] == ["yellow, black, white"]
    assert image_count(run.samples[1]) == 0
    # Generation: 128 new tokens, the framework's blank-line stop, greedy.
    assert {body["max_tokens"] for body in run.bodies} == {128}
    assert {tuple(body["stop"]) for body in run.bodies} == {("\n\n",)}
    assert {body["temperature"] for body in run.bodies} == {0.0}


# --- multiple choice parsing -----------------------------------------------------------------

OPTIONS = ["cat", "dog", "black cat", "bird"]


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        ("B", "B"),
        ("(B)", "B"),
        ("(B) dog", "B"),
        ("The answer is (D).", "D"),
        ("Answer: C.", "C"),  # the final "." is stripped, then " C " is found
        ("(A) or maybe (C)", "C"),  # several bracketed letters: the right-most
        ("(C) or maybe (A)", "A"),
        ("A or C", "C"),  # spaced letters, right-most
        ("C or A", "A"),
        ("(B) and D", "B"),  # a bracketed letter wins over spaced ones
        ("'B'", "B"),  # quotes are edge characters
        ("B?!", "B"),  # "!" is stripped, then "?"
        ("I would say the dog is right here", "B"),  # > 5 words: option text
        ("my final pick is the bird and not the dog", "B"),  # right-most option text
    ],
)
def test_multi_choice_rules(response, expected):
    rng = random.Random(0)
    assert utils["parse_multi_choice_response"](response, OPTIONS, rng) == expected


def test_multi_choice_text_tie_goes_to_the_right_most_start():
    parse = utils["parse_multi_choice_response"]
    # "black cat" starts at "black", "cat" at its own later position: "cat" is right-most.
    assert parse("I would say the black cat is right", OPTIONS) == "A"
    # Equal starts ("cat" inside "cat food" and "cat food" itself): the earlier letter.
    assert parse("it is surely the cat food I think", ["cat", "cat food", "zzz", "qqq"]) == "A"


def test_multi_choice_spaced_letter_needs_spaces_on_both_sides():
    parse = utils["parse_multi_choice_response"]
    rng = lambda: random.Random("fixed")  # noqa: E731
    expected = random.Random("fixed").choice("ABCD")
    # "DNA " ends in "A ": lmms-eval's "L " rule reads A; the official rule reads nothing.
    assert parse("the DNA is", OPTIONS, rng()) == expected
    assert parse("B.", OPTIONS, rng()) == "B"  # "." stripped first
    assert parse("B)", OPTIONS, rng()) == expected  # "B)" is neither "(B)" nor " B "
    assert parse("B:", OPTIONS, rng()) == "B"


def test_multi_choice_edge_characters_are_stripped_one_kind_at_a_time():
    parse = utils["parse_multi_choice_response"]
    expected = random.Random("fixed").choice("ABCD")
    assert parse("B.,", OPTIONS, random.Random("fixed")) == "B"  # "," then "."
    assert parse("B,.", OPTIONS, random.Random("fixed")) == expected  # "." leaves "B,"
    assert parse("B!?", OPTIONS, random.Random("fixed")) == expected  # "?" leaves "B!"


def test_multi_choice_option_text_needs_more_than_five_words():
    parse = utils["parse_multi_choice_response"]
    expected = random.Random("fixed").choice("ABCD")
    assert parse("it is the bird here", OPTIONS, random.Random("fixed")) == expected  # five words
    assert parse("it is the bird here now", OPTIONS, random.Random("fixed")) == "D"  # six


def test_random_fallback_is_seeded_per_question():
    process = utils["mmmu_process_results"]
    doc = {"id": "validation_Math_9", "question_type": "multiple-choice", "options": str(OPTIONS), "answer": "A"}
    first = process(doc, ["no idea"])["mmmu_breakdown"]["parsed_pred"]
    random.seed(123)  # the global generator plays no part
    assert process(doc, ["no idea"])["mmmu_breakdown"]["parsed_pred"] == first == fallback("validation_Math_9", 4)
    assert first in "ABCD"


# --- open answers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "numbers"),
    [
        ("10cm", []),
        ("10 cm", ["10"]),
        ("3.5cm", ["3.5"]),  # only integers need the word boundary (the official pattern)
        ("1,000 and 12,345,678", ["1,000", "12,345,678", "000", "678"]),
        ("1,0000", ["0000"]),  # not whole groups: no comma number
        ("6.02e23 atoms", ["6.02e23", "6", "23"]),  # the official patterns overlap like this
        ("-4 and .5", ["-4", ".5"]),
    ],
)
def test_extract_numbers(text, numbers):
    assert utils["extract_numbers"](text) == numbers


def test_key_subresponses():
    tails = utils["key_subresponses"]
    assert tails("This process is mitosis in plant cells") == ["in plant cells"]
    assert tails("So the result is 42.") == ["42"]  # "is " gives the shortest tail
    assert tails("The speed is 5 m/s\nso the final answer is 10 m/s.") == ["5 m/s", "10 m/s"]
    assert tails("x = 3\ny = 4") == ["4"]  # "=" counts on the last line only
    assert tails("Paris") == ["paris"]  # nothing found: the whole (lower-cased) response
    # "is " gives the shortest tail, ":", which is trivial: nothing found, the whole response.
    assert tails("The answer is :") == ["the answer is :"]
    # An empty tail ("is " at the end of a line) is replaced by any later indicator's tail.
    assert tails("The answer is \nParis") == ["is"]


def test_normalize_and_open_matching():
    normalize, evaluate, parse = utils["normalize_answer"], utils["eval_open"], utils["parse_open_response"]
    assert normalize("1,234.567") == [1234.57]
    assert normalize("x") == [" x", "x "]
    assert normalize(" Paris ") == ["paris"]
    assert evaluate(["3.14"], parse("The area is 3.14159"))  # floats rounded to 2 places
    assert not evaluate(["3.15"], parse("The area is 3.14159"))
    assert evaluate(["Paris"], parse("I believe it is Paris, France"))  # gold inside a candidate
    assert not evaluate(["Paris, France"], parse("paris"))  # but not the other way round
    assert evaluate(["1000"], parse("The total is 1,000"))
    assert not evaluate(["10"], parse("10cm"))
    assert evaluate(["x"], parse("The variable is x"))
    assert not evaluate(["x"], parse("The value is xylophone"))


def test_gold_lists_are_any_of():
    golds = utils["gold_answers"]
    assert golds({"answer": "['24/7', '3.429']"}) == ["24/7", "3.429"]
    assert golds({"answer": "3.429"}) == ["3.429"]
    assert golds({"answer": "[not a list"}) == ["[not a list"]
    process = utils["mmmu_process_results"]
    doc = {"id": "validation_Math_4", "question_type": "open", "options": "[]", "answer": "['24/7', '3.429']"}
    assert process(doc, ["The ratio is 3.429"])["mmmu_acc"] == 1.0
    assert process(doc, ["It is 24/7"])["mmmu_acc"] == 1.0
    assert process(doc, ["It is 7"])["mmmu_acc"] == 0.0


# --- prompts, images, aggregation -----------------------------------------------------------------


def test_visuals_follow_the_distinct_tags():
    from PIL import Image

    images = {f"image_{n}": Image.new("L", (2, 2), n) for n in range(1, 8)}
    doc = {"question": "<image 3> then <image 1> then <image 3>", "options": "['<image 5>', 'none']", **images}
    visuals = utils["mmmu_doc_to_visual"](doc)
    assert [img.getpixel((0, 0)) for img in visuals] == [(1, 1, 1), (3, 3, 3), (5, 5, 5)]
    assert all(img.mode == "RGB" for img in visuals)


def test_prompt_kwargs():
    doc = {"question": "Q?", "question_type": "multiple-choice", "options": "['x', 'y']"}
    kwargs = {"pre_prompt": "P: ", "post_prompt": " !", "multiple_choice_prompt": "Pick."}
    assert utils["mmmu_doc_to_text"](doc, kwargs) == "P: Q?\nA. x\nB. y\n\nPick. !"


def test_subjects_and_disciplines():
    assert utils["subject_of"]("validation_Diagnostics_and_Laboratory_Medicine_12") == "Diagnostics_and_Laboratory_Medicine"
    assert utils["subject_of"]("dev_Art_1") == "Art"
    assert len(utils["DISCIPLINE_OF"]) == 30
    values = [
        {"subject": "Art", "correct": True},
        {"subject": "Music", "correct": False},
        {"subject": "Music", "correct": False},
        {"subject": "Music", "correct": True},
    ]
    # Instance-weighted: 2 of 4, not the mean of subject accuracies (1 and 1/3).
    assert utils["mmmu_breakdown"](values) == {"Overall-Art and Design": 0.5, "Art": 1.0, "Music": 1 / 3}
