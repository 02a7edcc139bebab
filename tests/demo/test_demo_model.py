"""The bundled demo model on the demo suite, end to end through the CLI.

One run evaluates `demo` and `demo_blank` together (one model load). The demo model must
score at least 0.8 on every task's headline metric; with blank images it must fall to
chance: at most the task's chance level (`scenes.chance_level`: 0.5 for yes/no, 1/4 for
four-way loglikelihood, else the best constant answer per question kind) plus three
binomial standard errors at that level (`scenes.blank_margin`).
"""

from __future__ import annotations

import io
import json
import time

import pytest

from lmms_eval.demo import MODEL_DIR, TASK_DIR, scenes

# task -> (generator task, headline metric)
TASKS = {
    "demo_yesno": ("yesno", "acc"),
    "demo_mc": ("mc", "exact_match"),
    "demo_mc_ll": ("mc_ll", "acc"),
    "demo_short": ("short", "exact_match"),
    "demo_count": ("count", "exact_match"),
}
RUN_BUDGET_S = 60.0  # for demo and demo_blank together, i.e. about twice the demo group alone


def read_rows(task: str) -> list[dict]:
    import datasets

    # Iterating decodes the images (to_list would leave them as bytes).
    return list(datasets.load_dataset("parquet", data_files={"test": str(TASK_DIR / "data" / f"demo_{task}.parquet")})["test"])


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> tuple[dict, float]:
    import torch

    from lmms_eval.cli.main import main

    # One thread: the model is tiny, and on a machine whose other core is busy a second
    # OpenMP thread makes torch many times slower, not faster.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    output = tmp_path_factory.mktemp("demo_run")
    try:
        start = time.perf_counter()
        code = main(
            [
                "--model", "huggingface",
                "--model_args", f"pretrained={MODEL_DIR},batch_size=16",
                "--tasks", "demo,demo_blank",
                "--output_path", str(output),
                "--verbosity", "WARNING",
            ]
        )  # fmt: skip
        wall = time.perf_counter() - start
    finally:
        torch.set_num_threads(threads)
    assert code == 0
    (results_file,) = output.glob("*/*_results.json")
    return json.loads(results_file.read_text()), wall


def test_model_is_small_and_in_safetensors():
    files = {path.name: path.stat().st_size for path in MODEL_DIR.iterdir() if path.is_file()}
    assert "model.safetensors" in files and "config.json" in files and "processor_config.json" in files
    assert sum(files.values()) < 10e6


@pytest.mark.parametrize("task", TASKS)
def test_demo_model_scores_high(run, task):
    results, _ = run
    _, metric = TASKS[task]
    assert results["results"][task][f"{metric},none"] >= 0.8
    assert results["requests"][task]["failed"] == 0


def test_yes_no_pairs_are_both_right_mostly(run):
    results, _ = run
    assert results["results"]["demo_yesno"]["acc_plus,none"] >= 0.7
    assert results["results"]["demo_mc_ll"]["acc_norm,none"] >= 0.8


@pytest.mark.parametrize("task", TASKS)
def test_blank_images_fall_to_chance(run, task):
    results, _ = run
    name, metric = TASKS[task]
    rows = read_rows(name)
    chance = scenes.chance_level(name, rows)
    blank = results["results"][f"{task}_blank"][f"{metric},none"]
    assert blank <= chance + scenes.blank_margin(chance, len(rows)), (blank, chance)
    assert results["results"][task][f"{metric},none"] - blank >= 0.3


def test_blank_yes_no_pairs_are_never_both_right_by_luck(run):
    results, _ = run
    # A blind guesser gets both questions of a pair right a quarter of the time at best.
    assert results["results"]["demo_yesno_blank"]["acc_plus,none"] <= 0.25 + scenes.blank_margin(0.25, 150)


def test_demo_and_blank_run_fits_the_budget(run):
    _, wall = run
    assert wall < RUN_BUDGET_S


def test_other_backend_names_load_it(tmp_path):
    from lmms_eval.cli.main import main

    for name in ("llava_hf", "idefics3"):
        output = tmp_path / name
        args = ["--model", name, "--model_args", f"pretrained={MODEL_DIR}", "--tasks", "demo_short", "--limit", "16"]
        assert main([*args, "--output_path", str(output), "--verbosity", "WARNING"]) == 0
        (results_file,) = output.glob("*/*_results.json")
        assert json.loads(results_file.read_text())["results"]["demo_short"]["exact_match,none"] >= 0.75


def test_shipped_data_is_what_the_generator_makes():
    from PIL import Image

    fields = ("kind", "format", "question", "options", "answer", "image_id")
    for name in scenes.TASK_SIZES:
        shipped = read_rows(name)
        made = scenes.task_rows(name)
        assert len(shipped) == len(made) == scenes.TASK_SIZES[name]
        for row, fresh in zip(shipped, made):
            assert {k: row[k] for k in fields} == {k: fresh[k] for k in fields}
            # pixels, not PNG bytes: PNG encoders may differ between Pillow builds
            assert row["image"].convert("RGB").tobytes() == Image.open(io.BytesIO(fresh["image"]["bytes"])).convert("RGB").tobytes()


def test_yes_no_questions_come_in_balanced_pairs():
    rows = read_rows("yesno")
    by_image: dict[int, list[str]] = {}
    for row in rows:
        by_image.setdefault(row["image_id"], []).append(row["answer"])
    assert all(sorted(answers) == ["no", "yes"] for answers in by_image.values())


def test_training_never_shows_an_evaluation_scene():
    import itertools

    held_out = scenes.eval_layouts()
    assert len(held_out) > 700
    stream = itertools.islice(scenes.training_examples(), 3000)
    assert not any(scene.layout in held_out for scene, _ in stream)


def demo_utils():
    """The task folder's `demo_utils.py`, loaded as the task loader loads it (by path)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("demo_utils_under_test", TASK_DIR / "demo_utils.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_prompts_match_training():
    """The task's prompt text comes from `scenes.prompt`, the function the training
    script renders with."""
    module = demo_utils()
    row = read_rows("mc")[0]
    assert module.doc_to_text(row) == scenes.prompt("mc", row["question"], row["options"])
    assert module.doc_to_text(row).endswith(scenes.INSTRUCTIONS["mc"])


@pytest.mark.parametrize("task", TASKS)
def test_blind_guessing_stays_far_below_the_bar(task):
    """The blank control only means something if no constant answer comes near 0.8."""
    name, _ = TASKS[task]
    rows = read_rows(name)
    chance = scenes.chance_level(name, rows)
    assert chance + scenes.blank_margin(chance, len(rows)) < 0.6


def test_loglikelihood_targets_are_option_indices_and_blank_images_are_blank():
    module = demo_utils()
    for row in read_rows("mc_ll"):
        assert row["options"][module.choice_index(row)] == row["answer"]
    blank = module.blank_visual(read_rows("count")[0])[0]
    assert blank.size == (scenes.SIZE, scenes.SIZE) and blank.getcolors() == [(scenes.SIZE**2, module.BLANK_COLOUR)]
