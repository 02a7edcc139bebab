"""Issue 12, items 5, 8-11, 17 and 19 through the real CLI: empty answers, SIGTERM,
corrupted and foreign stores, stale temporary files, unwritable output folders, bad
numeric flags and rescore inputs, and the help texts."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import write, write_image_parquet

from lmms_eval.cli.main import main
from lmms_eval.report.files import _WRITER_TAG
from lmms_eval.testing.server import PALETTE

COLOURS = sorted(PALETTE)
DOCS = 16
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)


@pytest.fixture
def task_folder(tmp_path) -> Path:
    """DOCS docs, all gold answers right; the gold answer is in the prompt so the server can
    be scripted (canned replies) per answer colour."""
    folder = tmp_path / "tasks"
    write_image_parquet(folder / "data.parquet", [(COLOURS[i % 8], COLOURS[i % 8]) for i in range(DOCS)])
    write(
        folder / "colours.yaml",
        """
        task: colours
        dataset_path: parquet
        dataset_kwargs:
          data_files:
            test: data.parquet
        test_split: test
        doc_to_visual: image
        doc_to_text: "{{ question }} [{{ answer }}] Answer with one word."
        doc_to_target: answer
        metadata:
          version: 1
        """,
    )
    return folder


def cli_args(server, folder: Path, output: Path, store: Path | None = None, concurrency: int = 4) -> list[str]:
    args = [
        "--model", "openai", "--model_args",
        f"base_url={server.base_url},model=colour-oracle,num_concurrent={concurrency},max_retries=0,retry_base_delay=0.01",
        "--tasks", "colours", "--include_path", str(folder), "--output_path", str(output),
    ]  # fmt: skip
    return args + (["--use_cache", str(store)] if store is not None else [])


def results_of(output: Path) -> dict:
    [path] = output.glob("*/*_results.json")
    return json.loads(path.read_text())


def stored_answers(store: Path) -> int:
    with sqlite3.connect(store) as db:
        return db.execute("SELECT COUNT(*) FROM responses").fetchone()[0]


def stored_so_far(store: Path) -> int:
    """The answers another process has committed so far (0 before its store exists)."""
    if not store.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=1) as db:
            return db.execute("SELECT COUNT(*) FROM responses").fetchone()[0]
    except sqlite3.Error:  # the table is not created yet
        return 0


def error_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("lmms-eval: error:")]


def snapshot(path: Path) -> tuple[bytes, int]:
    return path.read_bytes(), path.stat().st_mtime_ns


# --- item 5: empty answers ---------------------------------------------------------------


def test_empty_answers_are_counted_warned_and_cleared_to_be_asked_again(start_oracle, task_folder, tmp_path, capsys):
    empty_per_run = DOCS // 8 * 2  # red and blue docs get ""
    server = start_oracle(canned={"[red]": "", "[blue]": ""})
    store, output = tmp_path / "store.db", tmp_path / "out"
    assert main(cli_args(server, task_folder, output, store)) == 0
    captured = capsys.readouterr()
    assert f"WARNING colours: {empty_per_run} of {DOCS} answers were empty" in captured.out
    assert captured.err.count(f"lmms-eval: warning: {empty_per_run} answers were empty (colours: {empty_per_run})") == 1
    results = results_of(output)
    assert results["requests"]["colours"]["empty"] == empty_per_run
    assert results["results"]["colours"]["exact_match,none"] == pytest.approx(1 - empty_per_run / DOCS)
    assert stored_answers(store) == DOCS

    assert main(["cache", "clear", str(store), "--empty"]) == 0
    assert f"deleted {empty_per_run} empty answers" in capsys.readouterr().out
    assert stored_answers(store) == DOCS - empty_per_run

    good = start_oracle()
    assert main(cli_args(good, task_folder, tmp_path / "again", store)) == 0
    assert good.chat_requests == empty_per_run  # exactly the cleared ones were asked again
    assert results_of(tmp_path / "again")["requests"]["colours"]["empty"] == 0
    assert results_of(tmp_path / "again")["results"]["colours"]["exact_match,none"] == 1.0


# --- item 8: SIGTERM ---------------------------------------------------------------------


def test_sigterm_keeps_answers_in_flight_says_one_line_and_exits_143(start_oracle, task_folder, tmp_path):
    slow = start_oracle(latency=0.1)
    store = tmp_path / "store.db"
    process = subprocess.Popen(
        [sys.executable, "-m", "lmms_eval", *cli_args(slow, task_folder, tmp_path / "out", store, concurrency=2)],
        env={**os.environ, "HF_HUB_OFFLINE": "1"}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while stored_so_far(store) < 4 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.02)
    committed_before_signal = stored_so_far(store)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 143, err
    assert "Traceback" not in err
    assert err.count("lmms-eval: terminated (SIGTERM)") == 1
    kept = stored_answers(store)
    assert committed_before_signal <= kept < DOCS  # nothing committed was lost, and the signal landed mid-run
    good = start_oracle()
    assert main(cli_args(good, task_folder, tmp_path / "resumed", store)) == 0
    assert good.chat_requests == DOCS - kept


# --- item 9: corrupted and foreign stores ------------------------------------------------


def corrupted_store(oracle, task_folder: Path, tmp_path: Path) -> Path:
    """A real store with garbage written over its second half (its data pages)."""
    store = tmp_path / "real.db"
    assert main(cli_args(oracle, task_folder, tmp_path / "first", store)) == 0
    data = bytearray(store.read_bytes())
    half = len(data) // 2
    data[half:] = os.urandom(len(data) - half)
    store.write_bytes(bytes(data))
    return store


@pytest.mark.parametrize("kind", ["random_bytes", "garbled_store"])
def test_a_corrupted_store_is_one_line_exit_2_and_left_untouched(oracle, task_folder, tmp_path, capsys, kind):
    if kind == "random_bytes":
        store = tmp_path / "random.db"
        store.write_bytes(os.urandom(8192))
    else:
        store = corrupted_store(oracle, task_folder, tmp_path)
    before = snapshot(store)
    asked = oracle.chat_requests
    capsys.readouterr()
    assert main(cli_args(oracle, task_folder, tmp_path / "out", store)) == 2
    err = capsys.readouterr().err
    assert len(error_lines(err)) == 1 and "Traceback" not in err and str(store) in err
    assert oracle.chat_requests == asked
    assert main(["cache", "info", str(store)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and str(store) in err
    assert snapshot(store) == before


def test_a_foreign_sqlite_database_is_refused_and_left_byte_for_byte_unchanged(oracle, task_folder, tmp_path, capsys):
    foreign = tmp_path / "notes.db"
    with sqlite3.connect(foreign) as db:
        db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
        db.execute("INSERT INTO notes (body) VALUES ('keep me')")
    db.close()
    before = snapshot(foreign)
    assert main(cli_args(oracle, task_folder, tmp_path / "out", foreign)) == 2
    [line] = error_lines(capsys.readouterr().err)
    assert "not a response store" in line and "notes" in line
    assert main(["cache", "clear", str(foreign)]) == 2
    assert main(["cache", "info", str(foreign)]) == 2
    assert oracle.chat_requests == 0
    assert snapshot(foreign) == before
    assert not list(tmp_path.glob("notes.db-*"))  # no journal or WAL file was created


# --- item 10: stale temporary files --------------------------------------------------------


def test_stale_temporaries_of_killed_writers_are_removed_and_nothing_else(oracle, task_folder, tmp_path):
    output = tmp_path / "out"
    assert main(cli_args(oracle, task_folder, output)) == 0
    [folder] = [path for path in output.iterdir() if path.is_dir()]
    dead_pid = 2**22 + 12345  # above the kernel's pid_max: no process has it
    stale = folder / f".x_results.json.{_WRITER_TAG}-{dead_pid}-abc123.tmp"
    live = folder / f".x_results.json.{_WRITER_TAG}-{os.getpid()}-abc123.tmp"
    other_host = folder / f".x_results.json.otherhost{_WRITER_TAG}-{dead_pid}-abc123.tmp"
    others = [folder / "notes.tmp", folder / ".hidden.tmp", folder / f"x.{_WRITER_TAG}-{dead_pid}-abc.tmp", live, other_host]
    for path in [stale, *others]:
        path.write_text("left behind")
    assert main(cli_args(oracle, task_folder, output)) == 0
    assert not stale.exists()
    assert all(path.read_text() == "left behind" for path in others)


# --- item 11: the output folder -----------------------------------------------------------


def unwritable_outputs(tmp_path: Path) -> dict[str, Path]:
    a_file = tmp_path / "a_file"
    a_file.write_text("not a folder")
    cases = {"a_file": a_file, "under_a_file": a_file / "results"}
    if not IS_ROOT:  # root writes into read-only folders
        read_only = tmp_path / "read_only"
        read_only.mkdir()
        read_only.chmod(0o500)
        cases["read_only"] = read_only
    return cases


@pytest.mark.parametrize("case", ["a_file", "under_a_file", "read_only"])
def test_an_unwritable_output_path_stops_the_run_before_the_first_request(oracle, task_folder, tmp_path, capsys, case):
    outputs = unwritable_outputs(tmp_path)
    if case not in outputs:
        pytest.skip("running as root: a read-only folder is still writable")
    output = outputs[case]
    assert main(cli_args(oracle, task_folder, output, tmp_path / "store.db")) == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines() == error_lines(err) and len(error_lines(err)) == 1
    assert f"--output_path {output}" in err
    assert oracle.chat_requests == 0
    assert (tmp_path / "a_file").read_text() == "not a folder"


def test_a_late_write_failure_still_prints_the_table_and_says_where_the_answers_are(oracle, task_folder, tmp_path, capsys):
    assert main(cli_args(oracle, task_folder, tmp_path / "probe")) == 0
    [model_folder] = (tmp_path / "probe").iterdir()
    output, store = tmp_path / "out", tmp_path / "store.db"
    output.mkdir()
    (output / model_folder.name).write_text("in the way")  # the run's own folder is a file: writes fail late
    asked = oracle.chat_requests
    assert main(cli_args(oracle, task_folder, output, store)) == 2
    captured = capsys.readouterr()
    assert "exact_match" in captured.out and "colours" in captured.out  # the table
    [line] = error_lines(captured.err)
    assert f"the answers are in the store {store}" in line
    assert stored_answers(store) == DOCS
    assert oracle.chat_requests - asked == DOCS


# --- item 17: bad numbers and bad rescore inputs -------------------------------------------


@pytest.mark.parametrize("flag, value", [("--limit", "nan"), ("--limit", "inf"), ("--limit", "-inf"), ("--seed", "-1"), ("--num_fewshot", "-1")])
def test_bad_numbers_are_one_line_exit_2_before_any_request(oracle, task_folder, tmp_path, capsys, flag, value):
    assert main([*cli_args(oracle, task_folder, tmp_path / "out"), flag, value]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and flag in err
    assert oracle.chat_requests == 0


@pytest.mark.parametrize("content", [b"", os.urandom(512) + b"\x00\xff", b"{not json\n"], ids=["empty", "binary", "malformed"])
def test_rescore_of_an_unreadable_samples_file_is_one_line_exit_2(task_folder, tmp_path, capsys, content):
    samples = tmp_path / "samples_colours_model_outputs.jsonl"
    samples.write_bytes(content)
    assert main(["rescore", str(samples), "--include_path", str(task_folder)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_bad_numbers_through_the_installed_command_are_one_stderr_line():
    for flag, value in (("--limit", "nan"), ("--seed", "-1"), ("--num_fewshot", "-1")):
        completed = subprocess.run(
            [sys.executable, "-m", "lmms_eval", "--model", "openai", "--tasks", "x", flag, value],
            capture_output=True, text=True, timeout=60, env={**os.environ, "HF_HUB_OFFLINE": "1"},
        )  # fmt: skip
        assert completed.returncode == 2, completed.stderr
        assert len(completed.stderr.strip().splitlines()) == 1 and flag in completed.stderr


# --- item 19: help -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv, options",
    [
        (["tasks", "--help"], ["check", "--include_path"]),
        (["cache", "info", "--help"], ["path"]),
        (["cache", "clear", "--help"], ["--model", "--task", "--empty"]),
    ],
)
def test_subcommand_help_describes_its_options(capsys, argv, options):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    assert all(option in text for option in options)
    assert len(text.splitlines()) > 5


def test_main_help_has_examples_and_exit_codes(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    text = capsys.readouterr().out
    assert "examples:" in text and "exit status:" in text
    exit_codes = text.split("exit status:")[1]
    for code in ("0", "2", "3", "130", "143"):
        assert re.search(rf"^\s+{code}\s+\w|; {code} \w", exit_codes, re.MULTILINE), code
