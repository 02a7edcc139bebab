"""Progress: a tqdm line per task in a terminal (rate, ETA, failures, answers from the store);
plain log lines elsewhere."""

from __future__ import annotations

import io
import logging

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


def test_in_a_terminal_one_line_shows_rate_eta_failures_and_stored_answers():
    terminal = Terminal()
    progress = TaskProgress("colours", total=5, stream=terminal)
    with progress:
        run_inference(FailsOdd(), RequestType.GENERATE_UNTIL, [*requests(4), UnbuiltDoc(Origin("colours", 4), "doc 4: bad image")], progress)
    shown = terminal.getvalue()
    last = shown.replace("\r", "\n").strip().splitlines()[-1]
    assert last.startswith("colours: 100%") and "5/5" in last
    assert "failed=3, from store=0" in last  # docs 1 and 3 failed, doc 4 could not be built
    assert "req/s" in last or "s/req" in last
    assert (progress.done, progress.failed, progress.from_store) == (5, 3, 0)


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
