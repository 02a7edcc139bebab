"""MME: yes/no parsing, pair-based category scores, perception and cognition sums."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from benchmark_helpers import banded_image, evaluate, library_config, prompt_text, read_results, read_samples, task_module, user_task, write_parquet

mme = task_module("mme")


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        ("Yes", "yes"),
        ("No.", "no"),
        ("  yes  ", "yes"),
        ("y", "yes"),
        ("N", "no"),
        ("Y.", "yes"),  # periods are deleted before the single-character rule
        ("x", "other"),
        ("", "other"),
        ("...", "other"),
        ("yes, it is", "yes"),
        ("YES!", "yes"),
        ("Not at all", "no"),  # only the first four characters count: "not " holds "no"
        ("None", "no"),
        ("Nope", "no"),
        ("Yeah", "other"),
        ("I think yes", "other"),  # "yes" lies beyond the first four characters
        ("The answer is no", "other"),
        ("no yes", "no"),
        ("yesno", "yes"),  # "yes" wins when both appear in the prefix
        ("y.e.s", "yes"),
    ],
)
def test_parse_yes_no(response, expected):
    assert mme.parse_yes_no(response) == expected


def test_prompt_drops_the_yes_no_instruction_only_when_a_prompt_is_added():
    doc = {"question": " Is there a cat in this image? Please answer yes or no. "}
    doc_to_text = mme.doc_to_text
    assert doc_to_text(doc, {"pre_prompt": "", "post_prompt": ""}) == "Is there a cat in this image? Please answer yes or no."
    assert doc_to_text(doc, {"pre_prompt": "", "post_prompt": " Answer:"}) == "Is there a cat in this image? Answer:"
    assert doc_to_text(doc, {"pre_prompt": "Q: "}) == "Q: Is there a cat in this image?"
    assert doc_to_text(doc, None) == "Is there a cat in this image? Please answer yes or no."


def record(category, question_id, question, score):
    return {"category": category, "question_id": question_id, "question": question, "score": float(score)}


def test_category_score_is_accuracy_plus_accuracy_plus():
    records = [
        record("scene", "a", "q1", 1), record("scene", "a", "q2", 1),  # both right: 100 + 100
        record("scene", "b", "q3", 1), record("scene", "b", "q4", 0),  # one right: 50 + 0
        record("scene", "c", "q5", 0), record("scene", "c", "q6", 0),  # none: 0
        record("OCR", "a", "q7", 1), record("OCR", "a", "q8", 0),  # same id, other category: its own image
    ]
    # scene: 100 * 3/6 + 100 * 1/3
    assert mme.category_scores(records) == pytest.approx({"scene": 50 + 100 / 3, "OCR": 50.0})
    assert list(mme.category_scores(records)) == ["scene", "OCR"]  # the paper's order
    assert mme.total_score(records) == pytest.approx(100 + 100 / 3)


def test_unpaired_images_are_reported_but_not_for_bootstrap_resamples(caplog):
    single = [record("count", "a", "q1", 1), record("count", "b", "q2", 1), record("count", "b", "q3", 0)]
    with caplog.at_level(logging.WARNING):
        # image a: 100 + 100; image b: 50 + 0 -> 100 * 2/3 + 100 * 1/2
        assert mme.total_score(single) == pytest.approx(200 / 3 + 50)
    assert "1 image(s) do not have exactly 2" in caplog.text
    caplog.clear()
    resample = [single[0], single[0], single[1]]  # a resample repeats records
    with caplog.at_level(logging.WARNING):
        mme.total_score(resample)
    assert caplog.text == ""


def test_unknown_category_and_gold_are_errors():
    with pytest.raises(ValueError, match="unknown MME category"):
        mme.process_results({"category": "weather", "answer": "Yes", "question_id": "x", "question": "q"}, ["yes"])
    with pytest.raises(ValueError, match="Yes or No"):
        mme.process_results({"category": "OCR", "answer": "Maybe", "question_id": "x", "question": "q"}, ["yes"])


# (category, question_id, question, gold, reply)
ROWS = [
    ("existence", "0001.jpg", "Is there a red bus in this image?", "Yes", "Yes"),
    ("existence", "0001.jpg", "Is there a blue bus in this image?", "No", "No."),
    ("existence", "0002.jpg", "Is there a cat in this image?", "Yes", "yes, there is a cat"),
    ("existence", "0002.jpg", "Is there a dog in this image?", "No", "I think there is a dog"),
    # The same question_id in another category is another image.
    ("count", "0001.jpg", "Are there two apples in this image?", "Yes", "Not sure"),
    ("count", "0001.jpg", "Are there three apples in this image?", "No", "None"),
    ("OCR", "OCR/0001.jpg", 'Is the word in the logo "Sale"?', "Yes", "Yeah"),
    ("OCR", "OCR/0001.jpg", 'Is the word in the logo "Open"?', "No", "x"),
    ("code_reasoning", "code_reasoning/0001.png", "Will this code print 5?", "Yes", "Y."),
    ("code_reasoning", "code_reasoning/0001.png", "Will this code print 6?", "No", "n"),
    ("code_reasoning", "code_reasoning/0002.png", "Does this code raise an error?", "Yes", "YES!"),
    ("code_reasoning", "code_reasoning/0002.png", "Does this code loop forever?", "No", "no way"),
    ("numerical_calculation", "numerical_calculation/0001.png", "Is the answer to the equation 12?", "Yes", "The answer is yes"),
    ("numerical_calculation", "numerical_calculation/0001.png", "Is the answer to the equation 15?", "No", "no"),
]
# existence 100*3/4 + 100*1/2 = 125; count 50 + 0; OCR 0  -> perception 175
# code_reasoning 200; numerical_calculation 50 + 0       -> cognition 250
EXPECTED_CATEGORIES = {"existence": 125.0, "count": 50.0, "OCR": 0.0, "numerical_calculation": 50.0, "code_reasoning": 200.0}


def write_mme(folder: Path) -> None:
    import datasets

    features = datasets.Features(
        {
            "question_id": datasets.Value("string"),
            "image": datasets.Image(),
            "question": datasets.Value("string"),
            "answer": datasets.Value("string"),
            "category": datasets.Value("string"),
        }
    )
    images = {}
    rows = []
    for category, question_id, question, answer, _ in ROWS:
        image = images.setdefault((category, question_id), banded_image(len(images)))
        rows.append(
            {
                "question_id": question_id,
                "image": image,
                "question": f"{question} Please answer yes or no.",
                "answer": answer,
                "category": category,
            }
        )
    write_parquet(folder / "data" / "mme.parquet", rows, features)
    user_task(folder, "mme", "mme/mme.yaml", "test", "data/mme.parquet")


def test_mme_end_to_end(tmp_path):
    folder, output = tmp_path / "tasks", tmp_path / "out"
    write_mme(folder)
    canned = {question: reply for _, _, question, _, reply in ROWS}
    assert evaluate("mme", folder, output, canned) == 0

    scores = read_results(output)["results"]["mme"]
    assert scores["mme_perception_score,none"] == pytest.approx(175.0, abs=1e-9)
    assert scores["mme_cognition_score,none"] == pytest.approx(250.0, abs=1e-9)
    assert scores["mme_category_scores,none"] == pytest.approx(EXPECTED_CATEGORIES, abs=1e-9)
    assert list(scores["mme_category_scores,none"]) == list(EXPECTED_CATEGORIES)  # perception first, paper order
    assert isinstance(scores["mme_perception_score_stderr,none"], float)  # seeded bootstrap

    samples = read_samples(output, "mme")
    assert len(samples) == len(ROWS)
    first = samples[0]
    assert prompt_text(first) == "Is there a red bus in this image?\nAnswer the question using a single word or phrase."
    assert [part["type"] for part in first["prompt"][0]["content"]] == ["image", "text"]
    perception = {row["doc_id"]: row["scores"]["none"] for row in samples if "mme_perception_score" in row["scores"]["none"]}
    assert sorted(perception) == list(range(8))
    assert [perception[i]["mme_perception_score"]["prediction"] for i in range(8)] == [
        "yes", "no", "yes", "other", "no", "no", "other", "other"
    ]


def test_mme_reruns_give_the_same_scores_and_standard_errors(tmp_path):
    folder = tmp_path / "tasks"
    write_mme(folder)
    canned = {question: reply for _, _, question, _, reply in ROWS}
    results = []
    for name in ("a", "b"):
        assert evaluate("mme", folder, tmp_path / name, canned, "--bootstrap_iters", "50") == 0
        results.append(read_results(tmp_path / name)["results"]["mme"])
    assert results[0] == results[1]


def test_library_config():
    config = library_config("mme/mme.yaml")
    assert (config.dataset_path, config.dataset_name, config.test_split) == ("lmms-lab-encoder/MME", None, "test")
    assert config.generation_kwargs == {"max_new_tokens": 16, "temperature": 0, "top_p": 1.0, "num_beams": 1, "do_sample": False}
    assert config.lmms_eval_specific_kwargs["default"] == {
        "pre_prompt": "",
        "post_prompt": "\nAnswer the question using a single word or phrase.",
    }
    assert [entry["metric"] for entry in config.metric_list] == ["mme_perception_score", "mme_cognition_score", "mme_category_scores"]
    assert config.metadata == {"version": 1}
