"""Docs and task folders that cannot be evaluated (issue 12, items 12, 14 and 15), through
the CLI against the local server: a corrupt image fails its doc only; template errors and
runs that would evaluate nothing are one-line errors before the model is asked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import COLOUR_DOCS, UTILS_PY, png_bytes, write, write_jsonl

from lmms_eval.cli.main import main


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")


def model_args(server) -> str:
    return f"base_url={server.base_url},model=colour-oracle,retry_base_delay=0.01"


def write_image_rows(path: Path, images: list[bytes], answers: list[str]) -> None:
    import datasets

    features = datasets.Features({"image": datasets.Image(), "question": datasets.Value("string"), "answer": datasets.Value("string")})
    rows = [{"image": {"bytes": data, "path": None}, "question": "What colour is this image?", "answer": answer} for data, answer in zip(images, answers)]
    path.parent.mkdir(parents=True, exist_ok=True)
    datasets.Dataset.from_list(rows, features=features).to_parquet(str(path))


TASK_YAML = """
task: colours
dataset_path: parquet
dataset_kwargs:
  data_files:
    test: data/test.parquet
test_split: test
doc_to_visual: !function utils.doc_to_visual
doc_to_text: !function utils.doc_to_text
doc_to_target: answer
generation_kwargs:
  max_new_tokens: 16
"""


def corrupt_task(folder: Path, extra: str = "") -> Path:
    images = [png_bytes(shown) for shown, _ in COLOUR_DOCS]
    images[3] = png_bytes("yellow")[: len(images[3]) // 2]  # a truncated PNG
    images[7] = b"this is not an image"
    write_image_rows(folder / "data" / "test.parquet", images, [answer for _, answer in COLOUR_DOCS])
    write(folder / "utils.py", UTILS_PY + "\n\ndef results(doc, results):\n    return {'seen': float(doc['image'].size == (16, 16))}\n")
    write(folder / "colours.yaml", TASK_YAML + extra)
    return folder


def evaluate(server, folder: Path, output: Path, *extra: str) -> int:
    return main(
        ["--model", "openai", "--model_args", model_args(server), "--tasks", "colours", "--include_path", str(folder),
         "--output_path", str(output), "--log_samples", *extra]
    )


def read_results(output: Path) -> dict:
    [path] = list(output.glob("*/*_results.json"))
    return json.loads(path.read_text())


def read_samples(output: Path) -> list[dict]:
    [path] = list(output.glob("*/*_samples_colours_*.jsonl"))
    return [json.loads(line) for line in path.read_text().splitlines()]


# --- item 12: one corrupt image -------------------------------------------------------------------


def test_corrupt_images_fail_their_docs_only_and_are_never_stored(oracle, tmp_path, capsys):
    folder = corrupt_task(tmp_path / "tasks")
    store = tmp_path / "answers.db"
    assert evaluate(oracle, folder, tmp_path / "out", "--use_cache", str(store)) == 3
    assert oracle.answered == 8  # the two bad docs are never sent

    results = read_results(tmp_path / "out")
    assert results["requests"]["colours"]["failed"] == 2
    assert results["requests"]["colours"]["failure_kinds"] == {"bad_input": 2}
    # The eight good docs score exactly: 2, 5 and 8 (gold differs) are wrong; 3 and 7 are not scored.
    assert results["results"]["colours"]["exact_match,none"] == pytest.approx(5 / 8, abs=1e-12)
    rows = {row["doc_id"]: row for row in read_samples(tmp_path / "out")}
    assert rows[3]["failures"][0]["kind"] == "bad_input"
    assert rows[3]["failures"][0]["message"].startswith("doc 3: cannot decode image (column 'image'): image file is truncated")
    assert rows[7]["failures"][0]["message"] == "doc 7: cannot decode image (column 'image'): not an image file, or a format Pillow does not read"
    assert rows[3]["scores"] == {} and rows[3]["resps"] == [None]
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    assert "task colours doc 7: cannot decode image (column 'image')" in captured.err

    # Failures are never stored: a rerun asks no good doc again and fails the same two.
    assert evaluate(oracle, folder, tmp_path / "again", "--use_cache", str(store)) == 3
    assert oracle.answered == 8
    assert read_results(tmp_path / "again")["requests"]["colours"]["failure_kinds"] == {"bad_input": 2}


def test_a_task_scored_with_its_images_skips_the_corrupt_ones(oracle, tmp_path):
    extra = "process_results: !function utils.results\nprocess_results_use_image: true\nmetric_list:\n  - metric: seen\n"
    folder = corrupt_task(tmp_path / "tasks", extra)
    assert evaluate(oracle, folder, tmp_path / "out") == 3
    scores = read_results(tmp_path / "out")["results"]["colours"]
    assert scores["seen,none"] == 1.0  # the 8 decodable docs, scored with their images
    assert read_results(tmp_path / "out")["n-samples"]["colours"]["effective"] == 10


def test_prepare_reports_rows_whose_media_do_not_decode(tmp_path, capsys):
    folder = corrupt_task(tmp_path / "tasks")
    assert main(["prepare", "--tasks", "colours", "--include_path", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "colours  test   10" in out
    assert "colours test doc 3: cannot decode image (column 'image'): image file is truncated" in out
    assert "colours test doc 7: cannot decode image (column 'image'): not an image file" in out
    assert "2 rows whose media do not decode" in out


# --- item 14: templates ---------------------------------------------------------------------------


def jsonl_task(folder: Path, rows: list[dict], extra: str) -> Path:
    write_jsonl(folder / "docs.jsonl", rows)
    write(
        folder / "plain.yaml",
        "task: colours\ndataset_path: json\ndataset_kwargs:\n  data_files:\n    test: docs.jsonl\ntest_split: test\n"
        "doc_to_target: answer\n" + extra,
    )
    return folder


ROWS = [{"question": f"Q{i}?", "answer": "no image"} for i in range(5)]


def one_line_error(capsys) -> str:
    """The error line, checked to be the only one and to come without a traceback (log
    lines and progress bars share stderr)."""
    err = capsys.readouterr().err
    assert "Traceback" not in err and "Logging error" not in err, err
    lines = [line for line in err.splitlines() if line.startswith("lmms-eval:")]
    assert len(lines) == 1, lines
    return lines[0]


def test_jinja_syntax_error_is_one_line_with_file_and_key(oracle, tmp_path, capsys):
    folder = jsonl_task(tmp_path / "tasks", ROWS, "doc_to_text: '{{ question '\n")
    assert evaluate(oracle, folder, tmp_path / "out") == 2
    line = one_line_error(capsys)
    assert line.startswith(f"lmms-eval: error: {folder / 'plain.yaml'}, key 'doc_to_text': Jinja syntax error on line 1 of the template: ")
    assert oracle.chat_requests == 0


def test_a_null_prompt_field_names_task_doc_and_field(oracle, tmp_path, capsys):
    rows = [*ROWS[:3], {"question": None, "answer": "x"}, ROWS[4]]
    folder = jsonl_task(tmp_path / "tasks", rows, "doc_to_text: 'Q: {{ question }}'\n")
    assert evaluate(oracle, folder, tmp_path / "out") == 2
    assert one_line_error(capsys) == (
        "lmms-eval: error: task colours doc 3: doc_to_text: field 'question' is null or missing, so the template would print None"
    )


def test_a_missing_prompt_field_names_task_doc_and_field(oracle, tmp_path, capsys):
    rows = [*ROWS[:2], {"answer": "x"}, *ROWS[3:]]  # JSONL rows without the key read as null
    folder = jsonl_task(tmp_path / "tasks", rows, "doc_to_text: question\n")
    assert evaluate(oracle, folder, tmp_path / "out") == 2
    assert one_line_error(capsys) == "lmms-eval: error: task colours doc 2: field 'question' is null or missing, so there is no prompt"


# --- item 15: nothing to evaluate -----------------------------------------------------------------


def empty_parquet(path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({"question": pa.array([], pa.string()), "answer": pa.array([], pa.string())}), str(path))


@pytest.mark.parametrize("kind", ["jsonl", "parquet", "zero-byte parquet"])
def test_an_empty_data_file_is_an_error_before_any_request(oracle, tmp_path, capsys, kind):
    folder = tmp_path / "tasks"
    name = "docs.jsonl" if kind == "jsonl" else "docs.parquet"
    if kind == "parquet":
        empty_parquet(folder / name)
    else:
        write(folder / name, "")
    dataset = "json" if kind == "jsonl" else "parquet"
    write(folder / "t.yaml", f"task: colours\ndataset_path: {dataset}\ndataset_kwargs:\n  data_files:\n    test: {name}\ntest_split: test\ndoc_to_text: question\n")
    assert evaluate(oracle, folder, tmp_path / "out") == 2
    assert one_line_error(capsys) == f"lmms-eval: error: task colours ({folder / 't.yaml'}): data file {folder / name} has no rows: nothing to evaluate"
    assert oracle.chat_requests == 0


def test_process_docs_returning_nothing_is_an_error(oracle, tmp_path, capsys):
    folder = jsonl_task(tmp_path / "tasks", ROWS, "doc_to_text: question\nprocess_docs: !function utils.drop_all\n")
    write(folder / "utils.py", "def drop_all(dataset):\n    return dataset.filter(lambda doc: False)\n")
    assert evaluate(oracle, folder, tmp_path / "out") == 2
    assert one_line_error(capsys) == (
        f"lmms-eval: error: task colours ({folder / 'plain.yaml'}): process_docs returned no docs (from 5 rows of split 'test'): nothing to evaluate"
    )
    assert oracle.chat_requests == 0


def test_an_offset_beyond_the_dataset_is_an_error(oracle, tmp_path, capsys):
    folder = jsonl_task(tmp_path / "tasks", ROWS, "doc_to_text: question\n")
    assert evaluate(oracle, folder, tmp_path / "out", "--offset", "5") == 2
    assert one_line_error(capsys) == "lmms-eval: error: --offset 5 is beyond the 5 docs of task colours: nothing to evaluate"
    assert oracle.chat_requests == 0
    assert evaluate(oracle, folder, tmp_path / "out", "--offset", "4") == 0
    assert oracle.chat_requests == 1


def test_an_empty_task_stops_the_run_before_another_task_is_asked(oracle, tmp_path, capsys):
    folder = jsonl_task(tmp_path / "tasks", ROWS, "doc_to_text: question\n")
    write(folder / "empty.jsonl", "")
    write(folder / "empty.yaml", "task: empty\ndataset_path: json\ndataset_kwargs:\n  data_files:\n    test: empty.jsonl\ntest_split: test\ndoc_to_text: question\n")
    code = main(["--model", "openai", "--model_args", model_args(oracle), "--tasks", "colours,empty", "--include_path", str(folder)])
    assert code == 2
    assert "data file" in one_line_error(capsys)
    assert oracle.chat_requests == 0
