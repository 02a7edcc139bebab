"""Progress: a rich line per task in a terminal (rate, ETA, failures, answers from the store);
plain log lines elsewhere."""

from __future__ import annotations

import io
import logging
import re

from lmms_eval.api.model import Model
from lmms_eval.api.request import Origin, Request, RequestType
from lmms_eval.api.response import FailureKind, Response
from lmms_eval.engine.inference import run_inference
from lmms_eval.engine.progress import TaskProgress
from lmms_eval.engine.requests import UnbuiltDoc


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class FailsOdd(Model):
    def generate_until(self, requests):
        for request in requests:
            if request.origin.doc_id % 2:
                yield Response.failed(request, FailureKind.SERVER_ERROR, "HTTP 500")
            else:
                yield Response.generated(request, "ok")


def requests(count: int) -> list:
    return [Request(RequestType.GENERATE_UNTIL, Origin("colours", doc_id), "Q?") for doc_id in range(count)]


def shown_lines(terminal: io.StringIO) -> list[str]:
    """What the terminal shows at the end: escape codes dropped, each redraw (\\r) replacing the line."""
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", terminal.getvalue())
    return [line.rsplit("\r", 1)[-1] for line in text.split("\n") if line.strip()]


def test_in_a_terminal_one_line_shows_rate_eta_failures_and_stored_answers(monkeypatch):
    monkeypatch.setenv("COLUMNS", "160")  # rich cuts a line to the terminal's width
    terminal = Terminal()
    progress = TaskProgress("colours", total=5, stream=terminal)
    with progress:
        run_inference(FailsOdd(), RequestType.GENERATE_UNTIL, [*requests(4), UnbuiltDoc(Origin("colours", 4), "doc 4: bad image")], progress)
    [last] = shown_lines(terminal)  # one line, kept when done
    assert last.startswith("colours ") and " 5/5 " in last and "100%" in last
    assert last.endswith("failed=3, from store=0")  # docs 1 and 3 failed, doc 4 could not be built
    assert re.search(r" [0-9.?]+ req/s ETA ", last)
    assert (progress.done, progress.failed, progress.from_store) == (5, 3, 0)


def test_each_task_keeps_its_own_line_in_a_terminal(monkeypatch):
    monkeypatch.setenv("COLUMNS", "160")
    terminal = Terminal()
    for task, total in (("colours", 2), ("shapes", None)):  # a task of unknown length too
        with TaskProgress(task, total=total, stream=terminal) as progress:
            progress.update(2)
    first, second = shown_lines(terminal)
    assert first.startswith("colours ") and " 2/2 " in first
    assert second.startswith("shapes ") and second.endswith("failed=0, from store=0")


def test_elsewhere_plain_log_lines_with_the_same_counts(caplog):
    caplog.set_level(logging.INFO, logger="lmms_eval.progress")
    progress = TaskProgress("colours", total=4, stream=io.StringIO(), interval=0.0)  # a line per answer
    with progress:
        run_inference(FailsOdd(), RequestType.GENERATE_UNTIL, requests(4), progress)
    lines = [record.getMessage() for record in caplog.records if record.name == "lmms_eval.progress"]
    assert lines[0].startswith("colours: 1/4 requests, ") and "ETA" in lines[0]
    assert lines[-1].startswith("colours: 4/4 requests in ") and lines[-1].endswith("2 failed, 0 from the store")
    assert "req/s" in lines[-1] and "ETA" not in lines[-1]


def test_answers_from_the_store_are_counted(tmp_path):
    from lmms_eval.engine.inference import ResponseCache
    from lmms_eval.store.identity import ModelIdentity
    from lmms_eval.store.sqlite import ResponseStore

    store = ResponseStore(str(tmp_path / "store.sqlite"))
    cache = ResponseCache(store, ModelIdentity("m", "m"))
    run_inference(FailsOdd(), RequestType.GENERATE_UNTIL, requests(4), None, cache)
    progress = TaskProgress("colours", total=4, stream=io.StringIO())
    with progress:
        run_inference(FailsOdd(), RequestType.GENERATE_UNTIL, requests(4), progress, cache)
    store.close()
    assert (progress.done, progress.failed, progress.from_store) == (4, 2, 2)  # failures are never stored: asked again


def test_a_cli_run_off_a_terminal_logs_the_tasks_closing_line(oracle, colour_task, tmp_path, capsys, monkeypatch):
    from lmms_eval.cli.main import main

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    args = ["--model", "openai", "--model_args", f"base_url={oracle.base_url},model=colour-oracle", "--tasks", "colours",
            "--include_path", str(colour_task)]
    assert main(args) == 0
    err = capsys.readouterr().err
    assert "colours: 10/10 requests in " in err and "0 failed, 0 from the store" in err
    assert "\rcolours" not in err  # no bar of ours redrawn into a log (datasets draws its own)
