"""refcoco_bbox_rec_val and screenspot_rec: RefCOCO's exploded expressions and normalised
COCO boxes with the square-bracket reader; ScreenSpot's square-or-round reader with the
0-1000 grid and click-in-box Center_ACC; the IoU thresholds."""

from __future__ import annotations

import pytest

from benchmark_helpers import evaluate, prompt_text, read_results, read_samples, sample_scores, user_task, write_parquet


def picture(width: int, height: int) -> dict:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (30, 120, 200)).save(buffer, format="PNG")
    return {"bytes": buffer.getvalue(), "path": None}


# RefCOCO: a 20x10 image; COCO pixel boxes [x, y, w, h].
REFCOCO = [  # (bbox, expressions, replies)
    ([2.0, 1.0, 8.0, 4.0], ["man on left", "guy in red"], ["[0.1, 0.1, 0.5, 0.5]", "(0.1, 0.1, 0.5, 0.5)"]),  # exact; round brackets unread
    ([0.0, 0.0, 10.0, 10.0], ["left half"], ["The box is [0.0, 0.0, 0.5, 0.5] I think"]),  # IoU 0.5, centre inside
]


def test_refcoco_end_to_end(tmp_path):
    import datasets

    text = datasets.Value("string")
    features = datasets.Features({"question_id": text, "image": datasets.Image(), "question": text, "answer": datasets.List(text),
                                  "segmentation": datasets.List(datasets.Value("float32")), "bbox": datasets.List(datasets.Value("float32")),
                                  "iscrowd": datasets.Value("int8"), "file_name": text})  # fmt: skip
    rows = [{"question_id": str(n), "image": picture(20, 10), "question": "Please carefully observe the area circled in the image and come up with a caption for the area.",
             "answer": expressions, "segmentation": [0.0] * 8, "bbox": bbox, "iscrowd": 0, "file_name": f"COCO_train2014_{n:012d}.jpg"}
            for n, (bbox, expressions, _) in enumerate(REFCOCO)]  # fmt: skip
    data = write_parquet(tmp_path / "data" / "val.parquet", rows, features)
    folder = tmp_path / "tasks"
    user_task(folder, "refcoco_bbox_rec_val", "refcoco/refcoco_bbox_rec_val.yaml", "val", data)
    canned = {f"describes: {expression}": reply for _, expressions, replies in REFCOCO for expression, reply in zip(expressions, replies)}
    output = tmp_path / "out"
    assert evaluate("refcoco_bbox_rec_val", folder, output, canned) == 0
    scores = read_results(output)["results"]["refcoco_bbox_rec_val"]
    assert read_results(output)["n-samples"]["refcoco_bbox_rec_val"]["effective"] == 3  # one per expression
    assert scores["refcoco_IoU,none"] == pytest.approx(0.5)
    assert scores["refcoco_ACC@0.5,none"] == pytest.approx(2 / 3)
    assert scores["refcoco_ACC@0.7,none"] == pytest.approx(1 / 3)
    assert scores["refcoco_Center_ACC,none"] == pytest.approx(2 / 3)
    samples = read_samples(output, "refcoco_bbox_rec_val")
    assert samples[0]["target"] == pytest.approx([0.1, 0.1, 0.5, 0.5])
    assert prompt_text(samples[1]).endswith("Please provide the bounding box coordinate of the region this sentence describes: guy in red")
    assert prompt_text(samples[0]).startswith("Bounding box coordinates are specified in the format (top-left x, top-left y, bottom-right x, bottom-right y). All values")


SCREENSPOT = [  # (instruction, gold box, reply, IoU, centre inside?)
    ("open settings", [0.1, 0.1, 0.5, 0.5], "[0.1, 0.1, 0.5, 0.5]", 1.0, True),
    ("close the window", [0.1, 0.1, 0.5, 0.5], "(100, 100, 500, 500)", 1.0, True),  # round brackets, 0-1000 grid
    ("search", [0.2, 0.2, 0.4, 0.4], "click at 0.3 0.3", 0.0, False),  # no box
    ("play music", [0.2, 0.2, 0.4, 0.4], "[0.0, 0.0, 0.6, 0.6]", 1 / 9, True),  # a loose box, right click
]


def test_screenspot_group_end_to_end(tmp_path):
    import datasets

    text = datasets.Value("string")
    features = datasets.Features({"file_name": text, "bbox": datasets.List(datasets.Value("float64")), "instruction": text,
                                  "data_type": text, "data_source": text, "image": datasets.Image()})  # fmt: skip
    rows = [{"file_name": f"shot_{n}.png", "bbox": box, "instruction": instruction, "data_type": "icon", "data_source": "ios", "image": picture(16, 16)}
            for n, (instruction, box, *_) in enumerate(SCREENSPOT)]  # fmt: skip
    data = write_parquet(tmp_path / "data" / "test.parquet", rows, features)
    folder = tmp_path / "tasks"
    user_task(folder, "screenspot_rec_test", "screenspot/screenspot_rec_test.yaml", "test", data)
    output = tmp_path / "out"
    assert evaluate("screenspot_rec", folder, output, {f"command: {i}": reply for i, _, reply, _, _ in SCREENSPOT}) == 0
    scores = read_results(output)["results"]["screenspot_rec_test"]
    assert scores["screenspot_Center_ACC,none"] == pytest.approx(0.75)
    assert scores["screenspot_IoU,none"] == pytest.approx((2 + 1 / 9) / 4)
    assert scores["screenspot_ACC@0.1,none"] == pytest.approx(0.75)
    assert scores["screenspot_ACC@0.5,none"] == pytest.approx(0.5)
    assert sample_scores(read_samples(output, "screenspot_rec_test"), "screenspot_IoU") == pytest.approx([iou for *_, iou, _ in SCREENSPOT])
