"""flickr30k_test and nocaps_val: each dataset's reference field and image id feed the COCO
caption scorer of coco_cap (pycocoevalcap, corpus-level)."""

from __future__ import annotations

import pytest

from benchmark_helpers import evaluate, prompt_text, read_results, read_samples, solid_image, user_task, write_parquet
from test_coco_cap import METRICS, needs_java

PROMPT = "Provide a one-sentence caption for the provided image."

# (image id, references, reply): every reply is one of its references word for word.
FLICKR = [
    (1000092795, ["Two young guys with shaggy hair look at their hands.", "Two young men outside.", "Two men in green shirts.", "A man in a blue shirt.", "Two friends enjoy time."], "Two young men outside."),
    (10002456, ["Several men in hard hats are operating a giant pulley system.", "Workers look down from up above.", "Two men working on a machine.", "Four men on top of a tall structure.", "Three men on a large rig."], "Two men working on a machine."),
]
NOCAPS = [
    (0, [f"a red car parked on the street number {n}" for n in range(9)] + ["a small red car on a road"], "a small red car on a road"),
    (1, [f"a dog running in a green park {n}" for n in range(9)] + ["a brown dog in the grass"], "a brown dog in the grass"),
]


def flickr_rows():
    import datasets

    text = datasets.Value("string")
    features = datasets.Features({"image": datasets.Image(), "caption": datasets.List(text), "sentids": datasets.List(text), "img_id": text, "filename": text})
    rows = [{"image": solid_image(n), "caption": refs, "sentids": [str(5 * n + k) for k in range(5)], "img_id": str(i), "filename": f"{i}.jpg"} for n, (i, refs, _) in enumerate(FLICKR)]
    return rows, features


def nocaps_rows():
    import datasets

    text = datasets.Value("string")
    features = datasets.Features({"image": datasets.Image(), "image_coco_url": text, "image_date_captured": text, "image_file_name": text,
                                  "image_height": datasets.Value("int32"), "image_width": datasets.Value("int32"), "image_id": datasets.Value("int32"),
                                  "image_license": datasets.Value("int8"), "image_open_images_id": text,
                                  "annotations_ids": datasets.List(datasets.Value("int32")), "annotations_captions": datasets.List(text)})  # fmt: skip
    rows = [{"image": solid_image(n + 5), "image_coco_url": f"https://example.org/{i}.jpg", "image_date_captured": "2018-11-21 11:04:33", "image_file_name": f"{i}.jpg",
             "image_height": 10, "image_width": 10, "image_id": i, "image_license": 0, "image_open_images_id": f"{i:016x}",
             "annotations_ids": list(range(10 * n, 10 * n + 10)), "annotations_captions": refs} for n, (i, refs, _) in enumerate(NOCAPS)]  # fmt: skip
    return rows, features


@needs_java
def test_flickr30k_and_nocaps_score_with_the_coco_metrics(tmp_path):
    folder = tmp_path / "tasks"
    canned = {}
    for task, include, split, rows_of, key, docs in (
        ("flickr30k_test", "flickr30k/flickr30k_test.yaml", "test", flickr_rows, "img_id", FLICKR),
        ("nocaps_val", "nocaps/nocaps_val.yaml", "validation", nocaps_rows, "image_id", NOCAPS),
    ):
        rows, features = rows_of()
        data = write_parquet(tmp_path / "data" / f"{task}.parquet", rows, features)
        # The library prompt is the same for every image: the user task puts the id in front.
        user_task(folder, task, include, split, data, f'doc_to_text: "[{{{{ {key} }}}}] {PROMPT}"\n')
        canned |= {f"[{image_id}]": reply for image_id, _, reply in docs}
    output = tmp_path / "out"
    # No bootstrap standard errors: they would re-score resampled corpora (slow, and not under test here).
    assert evaluate("flickr30k_test,nocaps_val", folder, output, canned, "--bootstrap_iters", "0") == 0
    results = read_results(output)["results"]
    for task, docs in (("flickr30k_test", FLICKR), ("nocaps_val", NOCAPS)):
        # Scorer equality with pycocoevalcap is test_coco_cap's job; here: the wiring.
        assert set(METRICS) <= {key.split(",")[0] for key in results[task]}
        assert 0 < results[task]["coco_CIDEr,none"] and 0 < results[task]["coco_METEOR,none"] <= 1
        assert results[task]["coco_ROUGE_L,none"] == pytest.approx(1.0)  # every reply is a reference
        assert results[task]["coco_Bleu_4,none"] == pytest.approx(1.0, abs=1e-6)
        samples = read_samples(output, task)
        assert samples[0]["target"] == docs[0][1]
        assert prompt_text(samples[0]) == f"[{docs[0][0]}] {PROMPT}"


def test_library_prompt_and_ids():
    from benchmark_helpers import task_module

    flickr, nocaps = task_module("flickr30k"), task_module("nocaps")
    assert flickr.doc_to_text({}, {"pre_prompt": "", "prompt": PROMPT, "post_prompt": ""}) == PROMPT
    assert flickr.process_results({"img_id": "42", "caption": ["a b"]}, ["x"])["coco_CIDEr"]["image_id"] == 42
    assert nocaps.process_results({"image_id": 7, "annotations_captions": ["a b"]}, ["x"])["coco_CIDEr"]["references"] == ["a b"]
