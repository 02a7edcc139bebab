"""POPE: the official yes/no reading, per-split metrics and the group's mean F1."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmark_helpers import banded_image, evaluate, library_config, prompt_text, read_results, read_samples, task_module, user_task, write_parquet

pope = task_module("pope")


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        ("yes", "yes"),
        ("Yes.", "yes"),
        ("No", "no"),
        ("no", "no"),
        ("No.", "no"),
        ("NO", "yes"),  # case-sensitive: only "No", "no" and "not" count
        ("Not really", "yes"),  # "Not" is not "not"
        ("There is not a dog.", "no"),
        ("Yes, there is no dog.", "no"),  # a negative word anywhere in the first sentence
        ("Yes. There is no dog.", "yes"),  # only the first sentence is read
        ("no, there is nothing", "no"),
        ("no,there is nothing", "yes"),  # commas are deleted, not replaced: "nothere"
        ("nope", "yes"),
        ("no\nthere is none", "yes"),  # split on spaces only: "no\nthere" is one word
        ("", "yes"),
        (".No", "yes"),  # the first sentence is empty
        ("Maybe, no", "no"),
    ],
)
def test_parse_yes_no(response, expected):
    assert pope.parse_yes_no(response) == expected


def outcomes(*pairs):
    return [{"gold": gold, "prediction": prediction} for gold, prediction in pairs]


def test_precision_recall_f1_and_empty_denominators():
    # TP 2, FP 1, FN 1, TN 1
    sample = outcomes(("yes", "yes"), ("yes", "yes"), ("no", "yes"), ("yes", "no"), ("no", "no"))
    assert pope.precision(sample) == pytest.approx(2 / 3)
    assert pope.recall(sample) == pytest.approx(2 / 3)
    assert pope.f1_score(sample) == pytest.approx(2 / 3)
    never_yes = outcomes(("yes", "no"), ("no", "no"))  # TP + FP = 0
    assert pope.precision(never_yes) == 0.0
    assert pope.recall(never_yes) == 0.0
    assert pope.f1_score(never_yes) == 0.0
    no_positives = outcomes(("no", "yes"), ("no", "no"))  # TP + FN = 0
    assert pope.recall(no_positives) == 0.0
    assert pope.precision(no_positives) == 0.0


def test_process_results_yes_ratio_counts_predictions():
    scores = pope.process_results({"answer": "no"}, ["Yes, it is."])
    assert scores["pope_accuracy"] == 0.0
    assert scores["pope_yes_ratio"] == 1.0  # the predicted yes, not the gold one
    assert scores["pope_f1_score"] == {"gold": "no", "prediction": "yes"}


# split -> [(object, gold, reply)]
SPLITS = {
    "adversarial": [
        ("dog", "yes", "Yes, there is a dog."),  # TP
        ("bench", "yes", "NO"),  # reads as yes: TP
        ("cat", "yes", "There is not a cat."),  # FN
        ("car", "no", "No."),  # TN
        ("horse", "no", "Not really"),  # FP
        ("kite", "no", "no,there is nothing"),  # FP
    ],
    "popular": [
        ("person", "yes", "yes"),
        ("chair", "no", "no"),
        ("cup", "yes", "Yes. But no dog."),
        ("bowl", "no", "There is no bowl."),
    ],
    "random": [
        ("train", "yes", "No"),  # FN
        ("clock", "yes", "no"),  # FN
        ("vase", "no", "No, no."),  # TN
        ("sheep", "no", "nope"),  # FP
    ],
}
TASKS = {"adversarial": "pope_adv", "popular": "pope_pop", "random": "pope_random"}
# adversarial: TP 2, FP 2, FN 1, TN 1; popular: all right; random: TP 0, FP 1, FN 2, TN 1
EXPECTED = {
    "pope_adv": {"pope_accuracy": 3 / 6, "pope_precision": 2 / 4, "pope_recall": 2 / 3, "pope_f1_score": 4 / 7, "pope_yes_ratio": 4 / 6},
    "pope_pop": {"pope_accuracy": 1.0, "pope_precision": 1.0, "pope_recall": 1.0, "pope_f1_score": 1.0, "pope_yes_ratio": 0.5},
    "pope_random": {"pope_accuracy": 1 / 4, "pope_precision": 0.0, "pope_recall": 0.0, "pope_f1_score": 0.0, "pope_yes_ratio": 1 / 4},
}


def question(obj: str) -> str:
    return f"Is there a {obj} in the image?"


def write_pope(folder: Path) -> None:
    import datasets

    features = datasets.Features(
        {
            "id": datasets.Value("string"),
            "question_id": datasets.Value("string"),
            "question": datasets.Value("string"),
            "answer": datasets.Value("string"),
            "image_source": datasets.Value("string"),
            "image": datasets.Image(),
            "category": datasets.Value("string"),
        }
    )
    number = 0
    for split, rows in SPLITS.items():
        records = []
        for obj, answer, _ in rows:
            number += 1
            records.append(
                {
                    "id": str(number),
                    "question_id": str(number),
                    "question": question(obj) + " ",  # the task strips the question
                    "answer": answer,
                    "image_source": f"COCO_val2014_{number:012d}",
                    "image": banded_image(number),
                    "category": split,
                }
            )
        write_parquet(folder / "data" / f"{split}.parquet", records, features)
        # The library's subtasks keep dataset_name "Full"; parquet ignores it.
        user_task(folder, TASKS[split], f"pope/{TASKS[split]}.yaml", split, f"data/{split}.parquet", keep_dataset_name=True)


def test_pope_group_end_to_end(tmp_path):
    folder, output = tmp_path / "tasks", tmp_path / "out"
    write_pope(folder)
    canned = {question(obj): reply for rows in SPLITS.values() for obj, _, reply in rows}
    assert evaluate("pope", folder, output, canned) == 0

    results = read_results(output)
    for task, expected in EXPECTED.items():
        scores = results["results"][task]
        for metric, value in expected.items():
            assert scores[f"{metric},none"] == pytest.approx(value, abs=1e-12), (task, metric)
    assert results["group_subtasks"]["pope"] == ["pope_adv", "pope_pop", "pope_random"]
    group = results["groups"]["pope"]
    assert group["pope_f1_score,none"] == pytest.approx((4 / 7 + 1.0 + 0.0) / 3, abs=1e-12)
    assert set(group) == {"alias", "pope_f1_score,none", "pope_f1_score_stderr,none"}
    assert results["results"]["pope_adv"]["alias"] == "POPE (Adversarial)"

    samples = read_samples(output, "pope_adv")
    assert prompt_text(samples[0]) == "Is there a dog in the image?\nAnswer the question using a single word or phrase."
    assert [row["scores"]["none"]["pope_f1_score"]["prediction"] for row in samples] == ["yes", "yes", "no", "no", "yes", "yes"]


def test_pope_subtask_runs_alone(tmp_path):
    folder, output = tmp_path / "tasks", tmp_path / "out"
    write_pope(folder)
    canned = {question(obj): reply for rows in SPLITS.values() for obj, _, reply in rows}
    assert evaluate("pope_random", folder, output, canned) == 0
    results = read_results(output)
    assert results["results"]["pope_random"]["pope_accuracy,none"] == pytest.approx(0.25)
    assert results["groups"] == {}


def test_library_configs():
    from lmms_eval.taskdefs.config import GroupConfig
    from lmms_eval.taskdefs.library import BUILTIN_TASK_DIR
    from lmms_eval.taskdefs.yaml_io import load_with_includes

    for split, task in TASKS.items():
        config = library_config(f"pope/{task}.yaml")
        assert (config.task, config.dataset_path, config.dataset_name, config.test_split) == (task, "lmms-lab-encoder/POPE", "Full", split)
        assert config.generation_kwargs["max_new_tokens"] == 128
        assert config.lmms_eval_specific_kwargs["default"]["post_prompt"] == "\nAnswer the question using a single word or phrase."
        assert config.metadata == {"version": 1}
    group = GroupConfig.from_dict(load_with_includes(BUILTIN_TASK_DIR / "pope" / "pope.yaml"))
    assert group.task == ["pope_adv", "pope_pop", "pope_random"]
    [aggregate] = group.aggregate_metric_list
    assert (aggregate.metric, aggregate.weight_by_size) == ("pope_f1_score", False)
