"""`lmms-eval prepare`: datasets cached ahead of an offline run."""

from __future__ import annotations

from helpers import write

from lmms_eval.cli.main import main


def test_prepare_reports_each_split(colour_task, capsys, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert main(["prepare", "--tasks", "colours,demo_colours", "--include_path", str(colour_task)]) == 0
    out = capsys.readouterr().out
    assert "colours       test   10" in out and "demo_colours  test   40" in out
    assert "2 splits of 2 tasks ready" in out
    assert "demo_colours  test   40    in place" in out and "nothing is cached for it" in out  # parquet read directly


def test_a_dataset_loaded_through_datasets_reports_its_cache_size(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    write(tmp_path / "rows.jsonl", "".join(f'{{"q": "question {n}", "a": "{n}"}}\n' for n in range(5)))
    write(tmp_path / "qa.yaml", "task: qa\ndataset_path: json\ndataset_kwargs:\n  data_files:\n    test: rows.jsonl\ntest_split: test\ndoc_to_text: q\ndoc_to_target: a\n")
    assert main(["prepare", "--tasks", "qa", "--include_path", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    [row] = [line for line in out.splitlines() if line.startswith("qa ")]
    assert row.split()[:3] == ["qa", "test", "5"] and float(row.split()[3]) >= 0.0  # a size, not "in place"
    assert "in place" not in out


def test_a_dataset_that_cannot_load_is_one_line(tmp_path, capsys):
    write(tmp_path / "lost.yaml", "task: lost\ndataset_path: json\ndataset_kwargs:\n  data_files:\n    test: missing.jsonl\ntest_split: test\ndoc_to_text: q\n")
    assert main(["prepare", "--tasks", "lost", "--include_path", str(tmp_path)]) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and error[0].startswith("lmms-eval: error: task lost (") and "cannot load dataset 'json'" in error[0]
