"""GQA (testdev balanced): exact match after lower-casing and deleting punctuation (no
article removal), the per-type breakdown, and the image join on imageId."""

from __future__ import annotations


import pytest

from benchmark_helpers import evaluate, prompt_text, read_results, read_samples, sample_scores, solid_image, user_task, write_parquet

from lmms_eval.tasks.gqa import utils

# (question, answer, structural type, semantic type, canned reply, expected score)
DOCS = [
    ("Is the sky blue?", "yes", "verify", "attr", "Yes.", 1.0),
    ("What is on the table?", "cup", "query", "rel", "the cup", 0.0),  # no article removal
    ("Which color is the car?", "red", "query", "attr", "Red", 1.0),
    ("Are there both cars and trucks?", "no", "logical", "obj", "No, there are not.", 0.0),
    ("What is the man wearing?", "t-shirt", "query", "rel", "tshirt", 1.0),  # punctuation deleted, not spaced
]
BY_TYPE = {
    "semantic/attr": 1.0,
    "semantic/obj": 0.0,
    "semantic/rel": 0.5,
    "structural/logical": 0.0,
    "structural/query": 2 / 3,
    "structural/verify": 1.0,
}


def instruction_features(with_image: bool):
    """testdev_balanced_instructions as the Hub card describes it (plus the joined image)."""
    import datasets

    text = datasets.Value("string")
    annotation = {"objectId": text, "value": text}
    columns = {
        "id": text,
        "imageId": text,
        "question": text,
        "answer": text,
        "fullAnswer": text,
        "isBalanced": datasets.Value("bool"),
        "groups": {"global": text, "local": text},
        "entailed": text,
        "equivalent": text,
        "types": {"structural": text, "semantic": text, "detailed": text},
        "annotations": datasets.Sequence({"question": annotation, "answer": annotation, "fullAnswer": annotation}),
        "semantic": datasets.List({"operation": text, "argument": text, "dependencies": datasets.List(datasets.Value("int32"))}),
        "semanticStr": text,
    }
    if with_image:
        columns["image"] = datasets.Image()
    return datasets.Features(columns)


def row(number: int, question: str, answer: str, structural: str, semantic: str, with_image: bool) -> dict:
    values = {
        "id": f"20{number:07d}",
        "imageId": f"n{161313 + number}",
        "question": question,
        "answer": answer,
        "fullAnswer": f"The answer is {answer}.",
        "isBalanced": True,
        "groups": {"global": "", "local": f"10c-{structural}"},
        "entailed": "",
        "equivalent": f"20{number:07d}",
        "types": {"structural": structural, "semantic": semantic, "detailed": f"{semantic}{structural.capitalize()}"},
        "annotations": {"question": [], "answer": [], "fullAnswer": []},
        "semantic": [{"operation": "select", "argument": "scene", "dependencies": []}],
        "semanticStr": "select: scene",
    }
    if with_image:
        values["image"] = solid_image(number)
    return values


def test_gqa_end_to_end(tmp_path):
    rows = [row(n, q, a, st, se, with_image=True) for n, (q, a, st, se, _, _) in enumerate(DOCS)]
    data = write_parquet(tmp_path / "data" / "testdev.parquet", rows, instruction_features(with_image=True))
    folder = tmp_path / "tasks"
    user_task(folder, "gqa", "gqa/gqa.yaml", "testdev", data)
    canned = {question: reply for question, _, _, _, reply, _ in DOCS}
    output = tmp_path / "out"
    assert evaluate("gqa", folder, output, canned) == 0

    scores = read_results(output)["results"]["gqa"]
    assert scores["exact_match,none"] == pytest.approx(0.6, abs=1e-12)
    assert scores["exact_match_by_type,none"] == pytest.approx(BY_TYPE, abs=1e-12)
    samples = read_samples(output, "gqa")
    assert sample_scores(samples, "exact_match") == [score for *_, score in DOCS]
    assert prompt_text(samples[0]) == "Is the sky blue?\nAnswer the question using a single word or phrase."
    assert samples[0]["target"] == "yes"


def test_images_are_looked_up_by_image_id_when_the_doc_has_none(tmp_path, monkeypatch):
    import datasets

    images = write_parquet(
        tmp_path / "images.parquet",
        [{"id": f"n{161313 + n}", "image": solid_image(n)} for n in range(3)],
        datasets.Features({"id": datasets.Value("string"), "image": datasets.Image()}),
    )
    table = utils.ImageTable(datasets.load_dataset("parquet", data_files={"testdev": str(images)}, split="testdev"))
    monkeypatch.setattr(utils, "hub_images", lambda: table)
    doc = row(2, *DOCS[2][:4], with_image=False)
    [picture] = utils.doc_to_visual(doc)
    assert picture.mode == "RGB" and picture.getpixel((0, 0)) == ((2 * 41) % 256, (2 * 89) % 256, (2 * 23) % 256)
    with pytest.raises(ValueError, match="not in the GQA image table"):
        utils.doc_to_visual({**doc, "imageId": "n0"})
