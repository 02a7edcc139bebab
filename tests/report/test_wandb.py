"""--wandb_args in W&B's offline mode: the run folder's records hold the config, the scores,
the metrics and sample tables (with images) and the results artefact; no network."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest

from lmms_eval.cli.main import main

pytest.importorskip("wandb")

SECRET = "sk-test-wandb-never-logged-0123"


@pytest.fixture(autouse=True)
def offline(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    for name in ("WANDB_DIR", "WANDB_DATA_DIR", "WANDB_CACHE_DIR", "WANDB_CONFIG_DIR", "WANDB_ARTIFACT_DIR"):
        folder = tmp_path / "wandb-home" / name.lower()
        folder.mkdir(parents=True)
        monkeypatch.setenv(name, str(folder))
    monkeypatch.setenv("WANDB_SILENT", "true")
    monkeypatch.delenv("WANDB_API_KEY", raising=False)


def read_records(run_file: Path) -> list:
    """The run's records, read from W&B's own log format (a LevelDB-style log of protobuf Records)."""
    from wandb.proto import wandb_internal_pb2

    data = run_file.read_bytes()
    assert data[:4] == b":W&B"
    records, pending, position, block = [], b"", 7, 32768
    while position + 7 <= len(data):
        if block - position % block < 7:  # a block's tail too short for a header is padding
            position += block - position % block
            continue
        _crc, length, kind = struct.unpack("<IHB", data[position : position + 7])
        chunk = data[position + 7 : position + 7 + length]
        position += 7 + length
        if kind == 1:
            records.append(chunk)
        elif kind == 2:
            pending = chunk
        elif kind == 3:
            pending += chunk
        elif kind == 4:
            records.append(pending + chunk)
    parsed = []
    for raw in records:
        record = wandb_internal_pb2.Record()
        record.ParseFromString(raw)
        parsed.append(record)
    return parsed


def run_cli(oracle, colour_task: Path, output: Path, *extra: str) -> int:
    model_args = f"base_url={oracle.base_url},model=colour-oracle,api_key={SECRET},retry_base_delay=0.01"
    return main(["--model", "openai", "--model_args", model_args, "--tasks", "colours", "--include_path", str(colour_task),
                 "--output_path", str(output), "--log_samples", *extra])


def test_an_offline_run_holds_config_scores_tables_and_the_results_artefact(oracle, colour_task, tmp_path):
    output = tmp_path / "out"
    assert run_cli(oracle, colour_task, output, "--wandb_args", "project=evals,name=colours-run,mode=offline", "--wandb_log_samples") == 0
    [run_file] = (tmp_path / "wandb-home" / "wandb_dir").glob("wandb/offline-run-*/run-*.wandb")
    records = read_records(run_file)
    kinds = [record.WhichOneof("record_type") for record in records]
    [run] = [record.run for record, kind in zip(records, kinds) if kind == "run"]
    assert (run.project, run.display_name) == ("evals", "colours-run")
    config = {item.key: json.loads(item.value_json) for item in run.config.update}
    assert config["model"] == "openai" and config["model_args"]["model"] == "colour-oracle"
    assert config["model_args"]["api_key"] == "<redacted>"

    results = json.loads(next(output.glob("*/*_results.json")).read_text())
    summary = {item.key: json.loads(item.value_json) for record, kind in zip(records, kinds) if kind == "summary" for item in record.summary.update if item.key}
    assert summary["colours/exact_match,none"] == pytest.approx(results["results"]["colours"]["exact_match,none"])
    assert summary["colours/throughput/asked"] == 10

    artifacts = {record.artifact.name: record.artifact for record, kind in zip(records, kinds) if kind == "artifact"}
    [results_artifact] = [artifact for artifact in artifacts.values() if artifact.type == "eval_results"]
    entries = {entry.path: entry for entry in results_artifact.manifest.contents}
    assert "results.json" in entries and any(path.endswith(".jsonl") for path in entries)
    staged = json.loads(Path(entries["results.json"].local_path).read_text())
    assert staged["results"] == results["results"]

    # The metrics table and the samples table (with its images) are run tables of their own.
    tables = {name: artifact for name, artifact in artifacts.items() if artifact.type == "run_table"}
    metrics_file = next((tmp_path / "wandb-home" / "wandb_dir").glob("wandb/offline-run-*/files/media/table/evaluation/metrics_*.table.json"))
    metrics = json.loads(metrics_file.read_text())
    assert metrics["columns"][:5] == ["Task", "Version", "Filter", "n-shot", "Metric"]
    assert ["colours", "2", "none", "0", "exact_match"] == metrics["data"][0][:5]
    [samples_table] = [artifact for name, artifact in tables.items() if "samplescolours" in name]
    stored = {entry.path: entry for entry in samples_table.manifest.contents}
    [table_path] = [path for path in stored if path.endswith(".table.json")]
    samples = json.loads(Path(stored[table_path].local_path).read_text())
    assert len(samples["data"]) == 10
    image_column = samples["columns"].index("image")
    images = [row[image_column] for row in samples["data"]]
    assert all(image["_type"] == "image-file" for image in images)
    from PIL import Image

    from lmms_eval.testing.server import PALETTE

    response_column = samples["columns"].index("response")
    for row, image in zip(samples["data"], images):  # each row shows the image its doc showed (the oracle names its colour)
        with Image.open(stored[image["path"]].local_path) as shown:
            assert shown.size == (16, 16)
            assert shown.convert("RGB").getpixel((0, 0)) == PALETTE[json.loads(row[response_column])[0]]

    # No secret anywhere W&B wrote.
    for path in (tmp_path / "wandb-home").rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path


def test_without_the_wandb_flags_wandb_is_not_imported(oracle, colour_task, tmp_path):
    import subprocess
    import sys

    code = "import sys; from lmms_eval.cli.main import main; main(sys.argv[1:]); print('wandb' in sys.modules)"
    args = ["--model", "openai", "--model_args", f"base_url={oracle.base_url},model=colour-oracle", "--tasks", "colours",
            "--include_path", str(colour_task)]
    completed = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120)
    assert completed.stdout.strip().splitlines()[-1] == "False", completed.stderr


def test_an_unknown_wandb_arg_is_one_error_before_any_request(oracle, colour_task, tmp_path, capsys):
    assert run_cli(oracle, colour_task, tmp_path / "out", "--wandb_args", "project=p,colour=red,mode=offline") == 2
    assert "--wandb_args: wandb.init takes no argument colour" in capsys.readouterr().err
    assert oracle.chat_requests == 0


def exit_codes(tmp_path: Path) -> list[int]:
    [run_file] = (tmp_path / "wandb-home" / "wandb_dir").glob("wandb/offline-run-*/run-*.wandb")
    return [record.exit.exit_code for record in read_records(run_file) if record.WhichOneof("record_type") == "exit"]


def test_a_run_logged_whole_ends_with_exit_code_0(oracle, colour_task, tmp_path):
    assert run_cli(oracle, colour_task, tmp_path / "out", "--wandb_args", "project=evals,mode=offline") == 0
    assert exit_codes(tmp_path) == [0]


def test_a_run_whose_logging_failed_is_marked_failed_in_wandb(oracle, colour_task, tmp_path, monkeypatch, capsys):
    def broken(*args, **kwargs):
        raise OSError("no space left on device")

    monkeypatch.setattr("lmms_eval.report.tracking._results_artifact", broken)
    assert run_cli(oracle, colour_task, tmp_path / "out", "--wandb_args", "project=evals,mode=offline") == 2
    assert "no space left on device" in capsys.readouterr().err
    assert exit_codes(tmp_path) == [1]  # W&B shows the run as failed, not finished
    assert next((tmp_path / "out").glob("*/*_results.json")).is_file()  # the results are written all the same
