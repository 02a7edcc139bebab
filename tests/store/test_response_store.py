"""The SQLite response store on its own: round trips, refusals, bad files, concurrency."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import threading

import pytest

from lmms_eval.api.request import Origin, Request, RequestType
from lmms_eval.api.response import FailureKind, Response, Usage
from lmms_eval.store.identity import is_reusable, model_identity
from lmms_eval.store.sqlite import ResponseStore, StoreError
from lmms_eval.models.api.openai_chat import OpenAIChat


def request(doc_id: int = 0, **gen_kwargs) -> Request:
    return Request(RequestType.GENERATE_UNTIL, Origin("task", doc_id), f"question {doc_id}", gen_kwargs=gen_kwargs)


def test_round_trip_keeps_text_usage_and_loglikelihood(tmp_path):
    store = ResponseStore(tmp_path / "store.db")
    asked = request(1)
    store.put("model-a", "openai:a", Response.generated(asked, "  red ", Usage(12, 3)))
    scored = Request(RequestType.LOGLIKELIHOOD, Origin("task", 2), "ctx", continuation=" x")
    store.put("model-a", "openai:a", Response.scored(scored, -1.25, True))
    assert store.get("model-a", asked) == Response.generated(asked, "  red ", Usage(12, 3))
    assert store.get("model-a", scored).loglikelihood.logprob == -1.25
    assert store.get("model-b", asked) is None  # another model's identity
    assert store.get("model-a", request(3)) is None
    store.close()


def test_failures_are_never_stored(tmp_path):
    store = ResponseStore(tmp_path / "store.db")
    with pytest.raises(ValueError):
        store.put("m", "m", Response.failed(request(), FailureKind.SERVER_ERROR, "HTTP 500"))
    assert store.summary() == []


def test_answers_survive_a_crash_without_close(tmp_path):
    path = tmp_path / "store.db"
    store = ResponseStore(path)
    store.put("m", "label", Response.generated(request(), "blue"))
    # No close(): a killed process never gets to it. A new connection still sees the answer.
    assert ResponseStore(path).get("m", request()).text == "blue"


def test_undecodable_rows_count_as_missing(tmp_path):
    path = tmp_path / "store.db"
    store = ResponseStore(path)
    store.put("m", "label", Response.generated(request(), "blue"))
    raw = sqlite3.connect(path)
    raw.execute("UPDATE responses SET answer = '{not json'")
    raw.commit()
    assert store.get("m", request()) is None
    assert store.unreadable == 1


def test_not_a_store_is_refused_and_left_untouched(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("my precious notes")
    with pytest.raises(StoreError, match="is not a response store"):
        ResponseStore(path)
    assert path.read_text() == "my precious notes"


def make_read_only(folder, path) -> list[list[str]]:
    """Permission bits for ordinary users; root ignores them, so it gets the immutable
    attribute (chattr) on ext4-like filesystems. Returns the commands that undo it."""
    os.chmod(path, 0o444)
    os.chmod(folder, 0o555)
    undo = [["chmod", "755", str(folder)], ["chmod", "644", str(path)]]
    if os.access(path, os.W_OK):
        marked = subprocess.run(["chattr", "+i", str(path), str(folder)], capture_output=True)
        if marked.returncode != 0:
            return undo + [["skip"]]
        undo.insert(0, ["chattr", "-i", str(path), str(folder)])
    return undo


def test_read_only_store_gives_a_clear_error(tmp_path):
    folder = tmp_path / "stores"
    folder.mkdir()
    path = folder / "store.db"
    ResponseStore(path).close()
    undo = make_read_only(folder, path)
    try:
        if ["skip"] in undo:
            pytest.skip("this filesystem cannot make a file read-only for root")
        with pytest.raises(StoreError, match=str(path)):
            store = ResponseStore(path)
            store.put("m", "label", Response.generated(request(), "x"))
    finally:
        for command in undo:
            if command != ["skip"]:
                subprocess.run(command, check=False)


def test_locked_store_gives_a_clear_error(tmp_path):
    path = tmp_path / "store.db"
    ResponseStore(path).close()
    locker = sqlite3.connect(path, isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StoreError, match="locked"):
            store = ResponseStore(path, busy_timeout=0.2)
            store.put("m", "label", Response.generated(request(), "x"))
    finally:
        locker.execute("ROLLBACK")
        locker.close()


def test_schema_from_another_version_is_refused(tmp_path):
    path = tmp_path / "store.db"
    ResponseStore(path).close()
    raw = sqlite3.connect(path)
    raw.execute("UPDATE meta SET value = '99' WHERE name = 'schema'")
    raw.commit()
    with pytest.raises(StoreError, match="schema 99"):
        ResponseStore(path)


def test_concurrent_writers_from_threads_and_connections(tmp_path):
    path = tmp_path / "store.db"
    stores = [ResponseStore(path) for _ in range(3)]

    def write(store: ResponseStore, offset: int) -> None:
        for doc_id in range(offset, offset + 200):
            store.put("m", "label", Response.generated(request(doc_id), f"answer {doc_id}"))

    threads = [threading.Thread(target=write, args=(store, number * 200)) for number, store in enumerate(stores)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    check = ResponseStore(path)
    assert [(entry.task, entry.answers) for entry in check.summary()] == [("task", 600)]
    assert all(check.get("m", request(doc_id)).text == f"answer {doc_id}" for doc_id in range(600))


def test_clear_by_model_and_task(tmp_path):
    store = ResponseStore(tmp_path / "store.db")
    for label, task in (("openai:a", "t1"), ("openai:a", "t2"), ("openai:b", "t1")):
        asked = Request(RequestType.GENERATE_UNTIL, Origin(task, 0), "q")
        store.put(label, label, Response.generated(asked, "x"))
    assert store.clear(model="openai:a", task="t1") == 1
    assert [(e.model, e.task) for e in store.summary()] == [("openai:a", "t2"), ("openai:b", "t1")]
    assert store.clear() == 2


def test_reuse_rules():
    assert is_reusable(request())
    assert is_reusable(request(do_sample=False, temperature=0))
    assert not is_reusable(request(do_sample=True, temperature=0.7))
    assert not is_reusable(request(temperature=0.7))
    assert is_reusable(request(temperature=0.7, seed=3))
    assert is_reusable(Request(RequestType.LOGLIKELIHOOD, Origin("t", 0), "c", continuation="x"))


def test_model_identity_ignores_secrets_and_transport(oracle):
    first = OpenAIChat(base_url=oracle.base_url, api_key="key-one", num_concurrent=4)
    second = OpenAIChat(base_url=oracle.base_url, api_key="key-two", num_concurrent=256, timeout=5)
    args_one = {"base_url": oracle.base_url, "api_key": "key-one", "num_concurrent": 4}
    args_two = {"base_url": "http://elsewhere/v1", "api_key": "key-two", "num_concurrent": 256, "timeout": 5}
    same = model_identity("openai", OpenAIChat, args_one, first), model_identity("openai", OpenAIChat, args_two, second)
    assert same[0] == same[1] and same[0].label == "openai:colour-oracle"
    other = model_identity("openai", OpenAIChat, {**args_one, "max_new_tokens": 5}, first)
    assert other.key != same[0].key


def _write_from_process(path: str, number: int) -> None:
    store = ResponseStore(path)
    for doc_id in range(20):
        store.put("m", "label", Response.generated(Request(RequestType.GENERATE_UNTIL, Origin(f"t{number}", doc_id), "q"), "x"))


def test_processes_opening_a_new_store_at_once(tmp_path):
    """Switching a new file to WAL mode can find it busy without SQLite waiting: the
    store retries, so no process fails to open it."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    for trial in range(8):
        path = str(tmp_path / f"store{trial}.db")
        processes = [context.Process(target=_write_from_process, args=(path, number)) for number in range(4)]
        for process in processes:
            process.start()
        for process in processes:
            process.join(timeout=60)
        assert [process.exitcode for process in processes] == [0, 0, 0, 0]
        assert sum(entry.answers for entry in ResponseStore(path).summary()) == 80


def _statements(store: ResponseStore) -> list[str]:
    seen: list[str] = []
    store._db.set_trace_callback(seen.append)
    return seen


def test_a_models_answers_are_read_in_one_query_and_handed_out_once(tmp_path):
    store = ResponseStore(tmp_path / "store.db")
    asked = [request(doc_id) for doc_id in range(20)]
    for number, one in enumerate(asked):
        store.put("model-a", "openai:a", Response.generated(one, f"answer {number}"))
    store.put("model-b", "openai:b", Response.generated(asked[0], "another model's"))
    reopened = ResponseStore(tmp_path / "store.db")
    statements = _statements(reopened)
    assert [reopened.get("model-a", one).text for one in asked] == [f"answer {number}" for number in range(20)]
    assert len(statements) == 1  # one read ahead, no query per request
    assert reopened.get("model-a", asked[3]).text == "answer 3"  # asked again: read from the file
    assert reopened.get("model-b", asked[0]).text == "another model's"


def test_answers_stored_after_the_read_ahead_or_beyond_it_are_found(tmp_path, monkeypatch):
    path = tmp_path / "store.db"
    store = ResponseStore(path)
    for doc_id in range(10):
        store.put("m", "m", Response.generated(request(doc_id), f"old {doc_id}"))
    monkeypatch.setattr("lmms_eval.store.sqlite.READ_AHEAD_BYTES", 400)  # about four answers
    reader = ResponseStore(path)
    assert reader.get("m", request(0)).text == "old 0"  # the read ahead happened
    store.put("m", "m", Response.generated(request(10), "from another process"))
    reader.put("m", "m", Response.generated(request(1), "replaced here"))
    assert reader.get("m", request(10)).text == "from another process"
    assert reader.get("m", request(1)).text == "replaced here"
    assert [reader.get("m", request(doc_id)).text for doc_id in range(2, 10)] == [f"old {doc_id}" for doc_id in range(2, 10)]
    reader.clear(task="task")
    assert reader.get("m", request(5)) is None  # cleared: nothing read ahead is handed out
