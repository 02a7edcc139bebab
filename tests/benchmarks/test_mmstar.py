"""MMStar: the authors' answer matching, the L2 macro average and its breakdowns."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmark_helpers import banded_image, evaluate, library_config, prompt_text, read_results, read_samples, task_module, user_task, write_parquet

mmstar = task_module("mmstar")


@pytest.mark.parametrize(
    ("response", "gold", "expected"),
    [
        ("B", "B", True),
        ("b", "B", True),
        ("  B. a city", "B", True),
        ("(C) a beach", "C", True),
        ("( C)", "C", False),
        ("Option D", "D", True),
        ("option\nc", "C", True),  # newlines become spaces before the prefix test
        ("Option: D", "D", False),
        ("The answer is D.", "D", True),
        ("the answer is (b)", "B", False),  # the 15th character is "("
        ("The answer is: B", "B", False),
        ("Answer: B", "B", False),
        ("Answer: B", "A", True),  # the first character "a" is read as option A
        ("A dog is sitting", "A", True),
        ("I think C", "C", False),
        ("", "A", False),
        ("(", "A", False),
        ("The answer is", "A", False),
    ],
)
def test_matches(response, gold, expected):
    assert mmstar.matches(response, gold) is expected


def test_prompt_drops_the_yes_no_instruction_only_with_a_prompt():
    doc = {"question": "Is it raining? Please answer yes or no.\nOptions: A: yes, B: no\n"}
    assert mmstar.doc_to_text(doc, {"pre_prompt": "", "post_prompt": ""}) == "Is it raining? Please answer yes or no.\nOptions: A: yes, B: no"
    assert mmstar.doc_to_text(doc, {"post_prompt": "\nAnswer."}) == "Is it raining?\nOptions: A: yes, B: no\nAnswer."


def records(*rows):
    return [{"category": core, "l2_category": l2, "score": float(score)} for core, l2, score in rows]


def test_macro_average_weights_every_l2_category_equally():
    sample = records(
        ("math", "geometry", 1), ("math", "geometry", 1), ("math", "geometry", 1), ("math", "geometry", 0),
        ("math", "statistical reasoning", 0),
        ("coarse perception", "image emotion", 1),
    )
    assert mmstar.macro_average(sample) == pytest.approx((0.75 + 0.0 + 1.0) / 3)
    assert mmstar.core_scores(sample) == pytest.approx({"coarse perception": 1.0, "math": 0.375})
    assert list(mmstar.core_scores(sample)) == ["coarse perception", "math"]  # the paper's order
    assert list(mmstar.l2_accuracies(sample)) == ["image emotion", "geometry", "statistical reasoning"]


# (core category, l2 category, question stem, gold, reply)
ROWS = [
    ("coarse perception", "image scene and topic", "What is the main topic of the image?", "B", "B"),
    ("coarse perception", "image scene and topic", "Where was this photo taken?", "C", "(C) a beach"),
    ("coarse perception", "image scene and topic", "What time of day is shown?", "B", "Answer: B"),
    ("coarse perception", "image emotion", "What emotion does the person show?", "D", "Option D"),
    ("math", "geometry", "What is the measure of angle ABC?", "D", "The answer is D."),
    ("math", "geometry", "Which shape has the largest area?", "B", "the answer is (b)"),
    ("math", "statistical reasoning", "What is the mean of the plotted values?", "C", "I think C"),
]
# L2 accuracies: scene 2/3, emotion 1, geometry 1/2, statistical 0
EXPECTED_L2 = {"image scene and topic": 2 / 3, "image emotion": 1.0, "geometry": 0.5, "statistical reasoning": 0.0}
OPTIONS = "\nOptions: A: first, B: second, C: third, D: fourth"


def write_mmstar(folder: Path) -> None:
    import datasets

    features = datasets.Features(
        {
            "index": datasets.Value("int64"),
            "question": datasets.Value("string"),
            "image": datasets.Image(),
            "answer": datasets.Value("string"),
            "category": datasets.Value("string"),
            "l2_category": datasets.Value("string"),
            "meta_info": {
                "source": datasets.Value("string"),
                "split": datasets.Value("string"),
                "image_path": datasets.Value("string"),
            },
        }
    )
    rows = [
        {
            "index": index,
            "question": stem + OPTIONS,
            "image": banded_image(index),
            "answer": gold,
            "category": core,
            "l2_category": l2,
            "meta_info": {"source": "MMBench", "split": "val", "image_path": f"images/{index}.jpg"},
        }
        for index, (core, l2, stem, gold, _) in enumerate(ROWS)
    ]
    write_parquet(folder / "data" / "val.parquet", rows, features)
    user_task(folder, "mmstar", "mmstar/mmstar.yaml", "val", "data/val.parquet")


def test_mmstar_end_to_end(tmp_path):
    folder, output = tmp_path / "tasks", tmp_path / "out"
    write_mmstar(folder)
    assert evaluate("mmstar", folder, output, {stem: reply for *_, stem, _, reply in ROWS}) == 0

    results = read_results(output)
    scores = results["results"]["mmstar"]
    assert scores["average,none"] == pytest.approx((2 / 3 + 1.0 + 0.5 + 0.0) / 4, abs=1e-12)  # 13/24
    assert scores["micro_average,none"] == pytest.approx(4 / 7, abs=1e-12)
    assert scores["micro_average_stderr,none"] == pytest.approx((4 / 7 * 3 / 7 * 7 / 6) ** 0.5 / 7**0.5, abs=1e-12)
    assert isinstance(scores["average_stderr,none"], float)
    assert scores["core_categories,none"] == pytest.approx({"coarse perception": 5 / 6, "math": 0.25}, abs=1e-12)
    assert scores["l2_categories,none"] == pytest.approx(EXPECTED_L2, abs=1e-12)
    # Framework defaults: no generation_kwargs in the task.
    assert results["configs"]["mmstar"]["generation_kwargs"] is None

    samples = read_samples(output, "mmstar")
    assert prompt_text(samples[0]) == (
        "What is the main topic of the image?" + OPTIONS + "\nAnswer with the option's letter from the given choices directly"
    )
    assert [row["scores"]["none"]["micro_average"] for row in samples] == [1.0, 1.0, 0.0, 1.0, 1.0, 0.0, 0.0]


def test_library_config():
    config = library_config("mmstar/mmstar.yaml")
    assert (config.dataset_path, config.test_split) == ("Lin-Chen/MMStar", "val")
    assert config.generation_kwargs is None  # lmms-eval's default: greedy, stop at a blank line
    assert config.lmms_eval_specific_kwargs["default"]["post_prompt"] == "\nAnswer with the option's letter from the given choices directly"
    assert config.metric_list[0]["metric"] == "average"
