"""COCO Caption tasks (coco2017_cap_val, coco_karpathy_test): corpus-level pycocoevalcap scores.

Expected numbers come from pycocoevalcap itself, called here directly the way the COCO
caption evaluation (COCOEvalCap) calls it; a few are also checked by hand. METEOR's Java
process takes seconds to start, so the expected METEOR values use pycocoevalcap's
`Meteor.compute_score` on the task module's already running process.
"""

from __future__ import annotations

import logging
import math
import shutil
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from benchmark_helpers import evaluate, library_config, palette_image, read_results, read_samples, user_task, write_parquet

from lmms_eval.errors import LmmsEvalError
from lmms_eval.taskdefs.functions import FunctionRef
from lmms_eval.taskdefs.library import BUILTIN_TASK_DIR
from lmms_eval.taskdefs.task import PromptSettings, Task
from lmms_eval.testing.server import PALETTE

pytest.importorskip("pycocoevalcap")
needs_java = pytest.mark.skipif(shutil.which("java") is None, reason="pycocoevalcap's tokenizer and METEOR need Java")

TASK_DIR = BUILTIN_TASK_DIR / "coco_cap"
METRICS = ("coco_Bleu_1", "coco_Bleu_2", "coco_Bleu_3", "coco_Bleu_4", "coco_METEOR", "coco_ROUGE_L", "coco_CIDEr")
AGGREGATIONS = {
    "coco_Bleu_1": "coco_bleu1",
    "coco_Bleu_2": "coco_bleu2",
    "coco_Bleu_3": "coco_bleu3",
    "coco_Bleu_4": "coco_bleu4",
    "coco_METEOR": "coco_meteor",
    "coco_ROUGE_L": "coco_rouge_l",
    "coco_CIDEr": "coco_cider",
}


def coco_utils() -> Any:
    """The task's utils module, loaded the way the YAML's `!function` loads it (so the
    CLI runs and these tests share one module, and one METEOR process)."""
    function = FunctionRef("utils.coco_cider", TASK_DIR).resolve()
    return sys.modules[function.__module__]


def record(image_id: int, prediction: str, references: list[str]) -> dict[str, Any]:
    return {"image_id": image_id, "prediction": prediction, "references": references}


# --- pycocoevalcap, called directly --------------------------------------------------------------


def official_tokenized(pairs: list[tuple[int, str, list[str]]]) -> tuple[dict, dict]:
    """COCOEvalCap's inputs: references and predictions keyed by image id, PTB-tokenized."""
    from pycocoevalcap.tokenizer.ptbtokenizer import PTBTokenizer

    tokenizer = PTBTokenizer()
    gts = tokenizer.tokenize({image_id: [{"caption": ref} for ref in refs] for image_id, _, refs in pairs})
    res = tokenizer.tokenize({image_id: [{"caption": prediction}] for image_id, prediction, _ in pairs})
    return gts, res


def official_scores(gts: dict, res: dict) -> dict[str, float]:
    from pycocoevalcap.bleu.bleu import Bleu
    from pycocoevalcap.cider.cider import Cider
    from pycocoevalcap.rouge.rouge import Rouge

    bleu, _ = Bleu(4).compute_score(gts, res, verbose=0)
    meteor, _ = coco_utils()._meteor().compute_score(gts, res)
    rouge, _ = Rouge().compute_score(gts, res)
    cider, _ = Cider().compute_score(gts, res)
    return {
        "coco_Bleu_1": bleu[0],
        "coco_Bleu_2": bleu[1],
        "coco_Bleu_3": bleu[2],
        "coco_Bleu_4": bleu[3],
        "coco_METEOR": meteor,
        "coco_ROUGE_L": rouge,
        "coco_CIDEr": cider,
    }


def harness_scores(values: list[dict[str, Any]]) -> dict[str, float]:
    utils = coco_utils()
    return {metric: getattr(utils, name)(values) for metric, name in AGGREGATIONS.items()}


# --- unit tests: records, prompts, images --------------------------------------------------------


def test_image_id_comes_from_the_file_name():
    utils = coco_utils()
    assert utils.coco2017_image_id({"question_id": "000000397133.jpg", "id": 1}) == 397133
    assert utils.coco2017_image_id({"question_id": "not-a-number.jpg", "id": 42}) == 42


def test_process_results_carries_the_record_for_every_metric():
    utils = coco_utils()
    doc = {"question_id": "000000000139.jpg", "answer": ["A dog.", "A brown dog."], "id": 139}
    returned = utils.process_results(doc, ["A dog on a bench."])
    assert set(returned) == set(METRICS)
    assert all(value == record(139, "A dog on a bench.", ["A dog.", "A brown dog."]) for value in returned.values())
    assert utils.process_results(doc, [])["coco_CIDEr"]["prediction"] == ""
    with pytest.raises(ValueError, match="no reference captions"):
        utils.process_results({**doc, "answer": []}, ["x"])


def test_karpathy_references_accept_strings_and_sentence_dicts():
    utils = coco_utils()
    assert utils.karpathy_references({"sentences": ["A cat.", "Two cats."]}) == ["A cat.", "Two cats."]
    assert utils.karpathy_references({"sentences": [{"raw": "A cat.", "tokens": ["a", "cat"]}]}) == ["A cat."]
    returned = utils.karpathy_process_results({"imgid": 7, "sentences": ["A cat."]}, ["cat"])
    assert returned["coco_Bleu_4"] == record(7, "cat", ["A cat."])


def test_java_line_breaks_become_spaces():
    # Java ends a line at each of these; pycocoevalcap only replaces "\n", so one of them in
    # a caption would move every later caption onto the wrong image.
    assert coco_utils().one_line("a\rb\x0bc\x0cd\u2028e\u2029f\ng") == "a b c d e f\ng"


def library_task(name: str, model: str = "openai") -> Task:
    return Task(library_config(f"coco_cap/{name}.yaml"), PromptSettings(model_name=model))


def test_library_prompts_and_generation_settings():
    coco = library_task("coco2017_cap_val")
    assert coco.text({"question": "ignored"}, 0) == "Provide a one-sentence caption for the provided image."
    assert coco.generation_kwargs == {
        "max_new_tokens": 64, "temperature": 0, "top_p": 1.0, "num_beams": 1, "do_sample": False, "until": ["\n\n"],
    }
    assert coco.config.dataset_path == "lmms-lab-encoder/COCO-Caption2017" and coco.config.eval_split == "val"
    karpathy = library_task("coco_karpathy_test")
    assert karpathy.text({}, 0) == "Describe the image briefly."
    assert karpathy.config.dataset_path == "yerevann/coco-karpathy" and karpathy.config.eval_split == "test"
    utils = coco_utils()
    assert utils.doc_to_text({}, {"pre_prompt": "<", "prompt": "P", "post_prompt": ">"}) == "<P>"
    assert utils.doc_to_text({}, {"post_prompt": " Be brief."}) == "Provide a one-sentence caption for the provided image. Be brief."


def png_file(path: Path, colour: str) -> Path:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (16, 16), PALETTE[colour]).save(path, format="PNG")
    return path


def test_karpathy_images_are_fetched_once_and_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("LMMS_EVAL_COCO_IMAGES", str(tmp_path / "cache"))
    source = png_file(tmp_path / "web" / "COCO_val2014_000000000042.jpg", "blue")
    doc = {"url": source.as_uri(), "filename": "COCO_val2014_000000000042.jpg"}
    [image] = coco_utils().karpathy_doc_to_visual(doc)
    assert image.mode == "RGB" and image.getpixel((0, 0)) == PALETTE["blue"]
    assert (tmp_path / "cache" / "COCO_val2014_000000000042.jpg").is_file()
    source.unlink()  # from now on only the cache has it
    [again] = coco_utils().karpathy_doc_to_visual(doc)
    assert again.getpixel((3, 3)) == PALETTE["blue"]


def test_missing_java_is_a_clear_error_and_an_early_warning(monkeypatch, caplog):
    utils = coco_utils()
    monkeypatch.setattr(utils.shutil, "which", lambda name: None)
    with caplog.at_level(logging.WARNING):
        assert utils.warn_if_scorer_missing(["doc"]) == ["doc"]
    assert "no `java` is on PATH" in caplog.text
    with pytest.raises(LmmsEvalError, match="COCO caption scoring: .*Java"):
        utils.coco_cider([record(987654, "a never scored caption", ["some reference"])])


# --- unit tests: the corpus scores ---------------------------------------------------------------

CORPUS = [
    (139, "A Dog, sitting on a  bench!", ["a dog sitting on a bench", "A brown dog rests on a wooden bench.", "dog on bench"]),
    (285, "two cats\non a sofa", ["Two cats sleeping on a couch.", "a pair of cats lying on a sofa", "cats on a red sofa"]),
    (632, "", ["A man riding a bike down the street.", "a cyclist on a city road"]),
    (700, "a man\ron a bike", ["A man riding a bike down the street.", "a man on a bike"]),
    (724, "a red square (on white)", ["a red square on white", "red square", "A RED SQUARE ON A WHITE BACKGROUND."]),
    (776, "the plane is on the runway", ["An airplane parked on a runway.", "a plane on the tarmac", "the plane waits on the runway"]),
]


@pytest.fixture(scope="module")
def corpus_expected() -> tuple[dict, dict, dict[str, float]]:
    coco_utils()._meteor()  # METEOR's JVM loads its tables (seconds) while the tokenizer runs
    # Given "\r" as is, PTBTokenizer would read two lines and shift every later prediction
    # onto the wrong image; the harness scores it as the space it stands for.
    gts, res = official_tokenized([(image_id, prediction.replace("\r", " "), refs) for image_id, prediction, refs in CORPUS])
    return gts, res, official_scores(gts, res)


@needs_java
def test_corpus_scores_equal_pycocoevalcap(corpus_expected):
    _, res, expected = corpus_expected
    assert res[139] == ["a dog sitting on a bench"]  # lower-cased, punctuation dropped
    assert res[700] == ["a man on a bike"]
    assert res[724] == ["a red square -lrb- on white -rrb-"]  # pycocoevalcap keeps these: its list is upper-case
    got = harness_scores([record(*row) for row in CORPUS])
    assert got == expected  # exactly, every metric
    assert 0 < got["coco_Bleu_4"] < got["coco_Bleu_1"] < 1 and got["coco_CIDEr"] > 1


@needs_java
def test_hand_checked_values():
    # One image, the prediction equal to a reference once tokenized.
    exact = harness_scores([record(1, "A dog on a bench.", ["a dog on a bench", "a dog sits on the wooden bench"])])
    for metric in ("coco_Bleu_1", "coco_Bleu_2", "coco_Bleu_3", "coco_Bleu_4"):
        assert exact[metric] == pytest.approx(1.0, abs=1e-9)  # pycocoevalcap's 1e-9 smoothing keeps it just under
    assert exact["coco_ROUGE_L"] == 1.0
    # Two images. BLEU-1: 6 of 6 predicted words match; lengths 6 against the closest
    # references 5 + 3 = 8, so the brevity penalty is exp(1 - 8/6).
    two = [record(1, "a dog on a bench", ["a dog on a bench", "a dog sits on the wooden bench"]), record(2, "red", ["a red car", "the car is red"])]
    scores = harness_scores(two)
    assert scores["coco_Bleu_1"] == pytest.approx(math.exp(1 - 8 / 6), abs=1e-9)
    # ROUGE-L: image 1 scores 1; image 2 has precision 1 and recall 1/3 (best over references).
    beta2 = 1.2**2
    image2 = (1 + beta2) * 1 * (1 / 3) / (1 / 3 + beta2 * 1)
    assert scores["coco_ROUGE_L"] == pytest.approx((1 + image2) / 2, abs=1e-12)


@needs_java
def test_bootstrap_resamples_score_the_resampled_images(corpus_expected):
    """The bootstrap calls each aggregation again on resampled lists; BLEU, METEOR and
    ROUGE-L then equal pycocoevalcap on the resampled image list (a repeat is one more
    image), CIDEr is the mean of per-image CIDEr-D with the full set's IDF."""
    from pycocoevalcap.bleu.bleu import Bleu
    from pycocoevalcap.cider.cider import Cider
    from pycocoevalcap.rouge.rouge import Rouge

    from lmms_eval.metrics.aggregation import stderr_for

    gts, res, _ = corpus_expected
    ids = [row[0] for row in CORPUS]
    values = [record(*row) for row in CORPUS]
    harness_scores(values)  # the full set first, as the framework does
    _, cider_per_image = Cider().compute_score(gts, res)
    utils = coco_utils()
    expected: dict[str, list[float]] = {metric: [] for metric in ("coco_Bleu_4", "coco_METEOR", "coco_ROUGE_L", "coco_CIDEr")}
    rng = np.random.default_rng(0)
    for _ in range(100):  # the framework's draws: 100 resamples for a custom aggregation
        positions = rng.integers(0, len(values), size=len(values))
        sub_gts = {k: gts[ids[i]] for k, i in enumerate(positions)}
        sub_res = {k: res[ids[i]] for k, i in enumerate(positions)}
        expected["coco_Bleu_4"].append(Bleu(4).compute_score(sub_gts, sub_res, verbose=0)[0][3])
        expected["coco_METEOR"].append(utils._meteor().compute_score(sub_gts, sub_res)[0])
        expected["coco_ROUGE_L"].append(Rouge().compute_score(sub_gts, sub_res)[0])
        expected["coco_CIDEr"].append(float(np.mean(cider_per_image[positions])))
    for metric, statistics in expected.items():
        aggregation = getattr(utils, AGGREGATIONS[metric])
        stderr = stderr_for(aggregation, values, 100000, 0)
        assert stderr == pytest.approx(float(np.std(statistics, ddof=1)), rel=1e-9), metric
        assert stderr > 0


# --- the CLI, end to end -------------------------------------------------------------------------

QUESTION = "Please carefully observe the image and come up with a caption for the image."
LONG_REPLY = " ".join(["a cat on a mat"] * 14)  # 70 words; the request allows 64

# (question_id, image colour, references, canned reply, the response the harness scores).
# The server cuts replies at the "\n\n" stop and after the 64th word (max_tokens),
# keeping the reply's own whitespace.
COCO2017_DOCS = [
    ("000000000139.jpg", "red", ["A dog sitting on a wooden bench.", "a brown dog rests on a bench", "Dog on a park bench.", "A dog on a bench outside.", "The dog is sitting on the bench."],
     "A Dog, sitting on a  wooden BENCH!", "A Dog, sitting on a  wooden BENCH!"),
    ("000000000285.jpg", "blue", ["Two cats sleeping on a couch.", "a pair of cats lying on a sofa", "cats on a red sofa", "Two cats nap together.", "Cats resting on a sofa."],
     "Two cats sleep on a sofa ||| or a couch", "Two cats sleep on a sofa ||| or a couch"),  # METEOR's field separator
    ("000000000632.jpg", "green", ["A man riding a bike down the street.", "a cyclist on a city road", "A person on a bicycle.", "Man cycling in traffic.", "A bike rider on the street."],
     "", ""),
    ("000000000724.jpg", "yellow", ["A red square on a white background.", "red square", "a square that is red", "A red shape.", "Red square, white field."],
     'A "red" square (on white).', 'A "red" square (on white).'),
    ("000000000776.jpg", "white", ["An airplane parked on a runway.", "a plane on the tarmac", "the plane waits on the runway", "A jet at the airport.", "A plane on the ground."],
     "A plane on a runway.\n\nIt is a sunny day.", "A plane on a runway."),
    ("000000000785.jpg", "black", ["A cat sitting on a mat.", "a cat on a rug", "The cat lies on the mat.", "A small cat.", "Cat on a mat."],
     LONG_REPLY, " ".join(LONG_REPLY.split()[:64])),
]


def write_coco2017_parquet(path: Path) -> None:
    """COCO-Caption2017's schema: question_id is the file name, answer the reference list."""
    import datasets

    features = datasets.Features(
        {
            "question_id": datasets.Value("string"),
            "image": datasets.Image(),
            "question": datasets.Value("string"),
            "answer": datasets.Sequence(datasets.Value("string")),
            "id": datasets.Value("int64"),
            "license": datasets.Value("int8"),
            "file_name": datasets.Value("string"),
            "coco_url": datasets.Value("string"),
            "height": datasets.Value("int32"),
            "width": datasets.Value("int32"),
            "date_captured": datasets.Value("string"),
        }
    )
    rows = []
    for question_id, colour, references, _, _ in COCO2017_DOCS:
        rows.append(
            {
                "question_id": question_id,
                "image": palette_image(colour),
                "question": QUESTION,
                "answer": references,
                "id": int(question_id.removesuffix(".jpg")),
                "license": 3,
                "file_name": question_id,
                "coco_url": f"http://images.cocodataset.org/val2017/{question_id}",
                "height": 16,
                "width": 16,
                "date_captured": "2013-11-14 16:28:13",
            }
        )
    write_parquet(path, rows, features)


@needs_java
def test_coco2017_cli_scores_equal_pycocoevalcap(tmp_path):
    data = tmp_path / "tasks" / "val.parquet"
    write_coco2017_parquet(data)
    # The library prompt is the same for every image; the user task adds the image's file
    # name in front so the canned replies can differ per image (the rest is the library task).
    user_task(
        tmp_path / "tasks",
        "coco2017_cap_val",
        "coco_cap/coco2017_cap_val.yaml",
        "val",
        data,
        'doc_to_text: "[{{ question_id }}] Provide a one-sentence caption for the provided image."\n',
    )
    canned = {f"[{question_id}]": reply for question_id, _, _, reply, _ in COCO2017_DOCS}
    assert evaluate("coco2017_cap_val", tmp_path / "tasks", tmp_path / "out", canned) == 0
    results = read_results(tmp_path / "out")

    scored = [(int(qid.removesuffix(".jpg")), seen, refs) for qid, _, refs, _, seen in COCO2017_DOCS]
    expected = official_scores(*official_tokenized(scored))
    scores = results["results"]["coco2017_cap_val"]
    for metric in METRICS:
        assert scores[f"{metric},none"] == expected[metric], metric
        assert scores[f"{metric}_stderr,none"] > 0
    assert results["n-samples"]["coco2017_cap_val"] == {"original": 6, "effective": 6}

    samples = read_samples(tmp_path / "out", "coco2017_cap_val")
    assert [row["resps"] for row in samples] == [[seen] for *_, seen in COCO2017_DOCS]
    assert samples[0]["target"] == COCO2017_DOCS[0][2]
    assert samples[3]["scores"]["none"]["coco_CIDEr"] == record(724, 'A "red" square (on white).', COCO2017_DOCS[3][2])
    content = samples[0]["prompt"][0]["content"]
    assert content[0]["type"] == "image" and content[-1]["text"] == "[000000000139.jpg] Provide a one-sentence caption for the provided image."


KARPATHY_DOCS = [  # (imgid, cocoid, colour, references); the colour oracle answers the colour
    (0, 391895, "red", ["A red square on a white wall.", "a red tile", "Something red.", "A red panel.", "red paint on a board"]),
    (1, 522418, "blue", ["A blue sky with no clouds.", "a clear blue sky", "Blue.", "The sky is blue.", "a blue background"]),
    (2, 184613, "green", ["A green field of grass.", "green grass", "A lawn that is green.", "Grass.", "a green meadow"]),
    (3, 318219, "red", ["A red car parked on a street.", "a car that is red", "Red sports car.", "A shiny car.", "a parked red vehicle"]),
]


def write_karpathy_parquet(path: Path, image_dir: Path) -> None:
    """yerevann/coco-karpathy's schema: no image column; `url` points at the image."""
    import datasets

    features = datasets.Features(
        {
            "filepath": datasets.Value("string"),
            "sentids": datasets.Sequence(datasets.Value("int32")),
            "filename": datasets.Value("string"),
            "imgid": datasets.Value("int32"),
            "split": datasets.Value("string"),
            "sentences": datasets.Sequence(datasets.Value("string")),
            "cocoid": datasets.Value("int32"),
            "url": datasets.Value("string"),
        }
    )
    rows = []
    for imgid, cocoid, colour, references in KARPATHY_DOCS:
        filename = f"COCO_val2014_{cocoid:012d}.jpg"
        rows.append(
            {
                "filepath": "val2014",
                "sentids": [imgid * 5 + k for k in range(len(references))],
                "filename": filename,
                "imgid": imgid,
                "split": "test",
                "sentences": references,
                "cocoid": cocoid,
                "url": png_file(image_dir / filename, colour).as_uri(),
            }
        )
    write_parquet(path, rows, features)


@needs_java
def test_karpathy_cli_fetches_images_and_scores_equal_pycocoevalcap(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    data = tmp_path / "tasks" / "test.parquet"
    write_karpathy_parquet(data, tmp_path / "web")
    user_task(tmp_path / "tasks", "coco_karpathy_test", "coco_cap/coco_karpathy_test.yaml", "test", data)
    assert evaluate("coco_karpathy_test", tmp_path / "tasks", tmp_path / "out", {"no such prompt": "unused"}) == 0
    results = read_results(tmp_path / "out")

    expected = official_scores(*official_tokenized([(imgid, colour, refs) for imgid, _, colour, refs in KARPATHY_DOCS]))
    scores = results["results"]["coco_karpathy_test"]
    for metric in METRICS:
        assert scores[f"{metric},none"] == expected[metric], metric
    samples = read_samples(tmp_path / "out", "coco_karpathy_test")
    assert [row["resps"] for row in samples] == [[colour] for _, _, colour, _ in KARPATHY_DOCS]
    assert samples[0]["prompt"][0]["content"][-1]["text"] == "Describe the image briefly."
    assert samples[1]["target"] == KARPATHY_DOCS[1][3]
    cached = sorted(p.name for p in (tmp_path / "hf" / "lmms_eval" / "coco_karpathy_images").iterdir())
    assert cached == sorted(f"COCO_val2014_{cocoid:012d}.jpg" for _, cocoid, _, _ in KARPATHY_DOCS)
