"""One run over several servers of one model (docs/scaling.md): spread, failover, joining
through base_url_file, the model check, and the results' record of who answered what."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from helpers import COLOUR_DOCS, write_image_parquet

from lmms_eval.api.request import Origin, Request, RequestType
from lmms_eval.api.response import Response
from lmms_eval.cli.main import main
from lmms_eval.errors import ModelError
from lmms_eval.models.api.endpoints import endpoint_source, public_url, read_url_file
from lmms_eval.models.api.openai_chat import OpenAIChat
from lmms_eval.store.identity import model_identity
from lmms_eval.testing.server import Misbehaviour, MisbehaviourPlan

FAST = {"retry_base_delay": 0.01, "probe_interval": 0.2, "timeout": 5}


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")


def text_requests(count: int) -> list[Request]:
    return [
        Request(type=RequestType.GENERATE_UNTIL, context=f"Question {number}: what colour?", origin=Origin("spread", number, 0), gen_kwargs={"max_new_tokens": 8})
        for number in range(count)
    ]


def wait_until(condition, seconds: float = 20.0) -> None:
    """For the threads that change servers mid-run: a test that goes wrong fails, not hangs."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the run never reached the state this test waits for")
        time.sleep(0.01)


def generate_while(model: OpenAIChat, count: int, change: Callable[[], None]) -> list[Response]:
    """`count` text requests generated while `change` (the servers' story) runs on its own
    thread; every doc comes back exactly once, answered or failed."""
    changer = threading.Thread(target=change)
    changer.start()
    responses = list(model.generate_until(text_requests(count)))
    changer.join()
    assert sorted(response.origin.doc_id for response in responses) == list(range(count))
    return responses


def write_urls(path: Path, *servers) -> None:
    lines = ["# servers of one model"] + [server.base_url for server in servers]
    temporary = path.with_suffix(".tmp")
    temporary.write_text("\n".join(lines) + "\n")
    temporary.replace(path)  # as a job script should: never a half-written file


def test_a_list_of_urls_is_spread_over_and_recorded_per_answer(start_oracle):
    servers = [start_oracle(latency=0.02) for _ in range(3)]
    model = OpenAIChat(base_url="|".join(server.base_url for server in servers), model="colour-oracle", num_concurrent=4, **FAST)
    responses = list(model.generate_until(text_requests(60)))
    assert sorted(response.origin.doc_id for response in responses) == list(range(60))
    assert all(response.ok for response in responses)
    assert {response.endpoint for response in responses} == {server.base_url for server in servers}
    assert sum(server.answered for server in servers) == 60


@pytest.mark.parametrize("backend", ["claude", "gemini"])
def test_the_other_http_protocols_spread_too(start_oracle, backend):
    from lmms_eval.models import MODELS

    servers = [start_oracle() for _ in range(2)]
    roots = [server.base_url if backend == "claude" else server.base_url.removesuffix("/v1") + "/v1beta" for server in servers]
    model = MODELS.get(backend)(base_urls=roots, model="colour-oracle", api_key="k", num_concurrent=2, **FAST)
    responses = list(model.generate_until(text_requests(20)))
    assert all(response.ok for response in responses) and len(responses) == 20
    assert {response.endpoint for response in responses} == set(roots)
    assert all(server.answered > 0 for server in servers)


def test_one_killed_and_one_added_mid_run_lose_nothing_and_answer_once(start_oracle, tmp_path, caplog):
    first, late = start_oracle(latency=0.05), start_oracle(latency=0.05)
    # After 10 answers it holds every request it gets without answering, until it is killed.
    doomed = start_oracle(latency=0.05, misbehaviour=MisbehaviourPlan(Misbehaviour.HANG, after=10))
    stranger = start_oracle(model_name="another-model")  # joins the file too, and is refused
    url_file = tmp_path / "servers.txt"
    write_urls(url_file, first, doomed)
    model = OpenAIChat(base_url_file=str(url_file), model="colour-oracle", num_concurrent=4, down_after=2, **FAST)
    killed = threading.Event()
    joined = threading.Event()

    def change_servers() -> None:
        wait_until(lambda: doomed.chat_requests > doomed.answered + 2)  # it holds requests
        doomed.kill()  # mid-answer: its requests in flight never get a reply
        killed.set()
        first.latency = 0.3  # slow until the new server has joined, so that requests are left for it
        write_urls(url_file, first, late, stranger)
        wait_until(lambda: late.answered > 0)
        first.latency = 0.05
        joined.set()

    responses = generate_while(model, 240, change_servers)
    assert killed.is_set() and joined.is_set()
    assert all(response.ok for response in responses), [response.failure for response in responses if not response.ok][:3]
    answered_by = {response.endpoint for response in responses}
    assert late.base_url in answered_by and first.base_url in answered_by
    assert late.answered > 0 and stranger.chat_requests == 0
    assert f"endpoints serve different models: {stranger.base_url} serves another-model, not 'colour-oracle'" in caplog.text
    assert doomed.chat_requests > doomed.answered  # requests it held when it died were answered elsewhere
    assert any(response.attempts > 1 for response in responses)  # and their answers count the try that died


def test_a_server_taken_out_of_the_file_drains_and_rejoins_when_put_back(start_oracle, tmp_path):
    stays, leaves = start_oracle(latency=0.05), start_oracle(latency=0.05)
    url_file = tmp_path / "servers.txt"
    write_urls(url_file, stays, leaves)
    model = OpenAIChat(base_url_file=str(url_file), model="colour-oracle", num_concurrent=4, **FAST)
    counts = []

    def out_and_back() -> None:
        wait_until(lambda: leaves.answered >= 8)
        write_urls(url_file, stays)
        time.sleep(1.5)  # the file is read every second: it has drained by now
        counts.append(leaves.chat_requests)
        stays.latency = 0.3  # slow until the server put back has rejoined
        write_urls(url_file, stays, leaves)
        wait_until(lambda: leaves.chat_requests > counts[0])
        stays.latency = 0.05

    responses = generate_while(model, 300, out_and_back)
    assert all(response.ok for response in responses)
    assert leaves.answered == leaves.chat_requests  # drained: what it held was answered, not cut off
    assert leaves.chat_requests > counts[0]  # back in the file, it got requests again


def test_a_server_that_comes_back_is_probed_back_in(start_oracle):
    steady, flaky = start_oracle(latency=0.05), start_oracle(latency=0.05)
    model = OpenAIChat(base_url=f"{steady.base_url}|{flaky.base_url}", model="colour-oracle", num_concurrent=4, down_after=2, **FAST)
    answered_before = []

    def restart() -> None:
        wait_until(lambda: flaky.answered >= 8)
        flaky.kill()
        answered_before.append(flaky.answered)
        time.sleep(0.3)
        steady.latency = 0.3  # slow until the server is back in, so that requests are left for it
        flaky.start()  # the same port: the same endpoint, back
        wait_until(lambda: flaky.answered > answered_before[0])
        steady.latency = 0.05

    responses = generate_while(model, 200, restart)
    assert all(response.ok for response in responses)
    assert flaky.answered > answered_before[0]


def test_requests_fail_only_when_no_endpoint_answers(start_oracle):
    servers = [start_oracle(latency=0.05) for _ in range(2)]
    model = OpenAIChat(base_urls=[server.base_url for server in servers], model="colour-oracle", num_concurrent=2, down_after=1, give_up_after=0.3, **FAST)

    def kill_all() -> None:
        wait_until(lambda: sum(server.answered for server in servers) >= 4)
        for server in servers:
            server.kill()

    responses = generate_while(model, 40, kill_all)
    failed = [response for response in responses if not response.ok]
    assert failed and all("no endpoint answered for 0.3 s" in response.failure.message for response in failed)
    assert len(responses) - len(failed) <= sum(server.answered for server in servers)


def test_endpoints_that_serve_different_models_are_refused_in_one_line(start_oracle):
    one, other = start_oracle(), start_oracle(model_name="another-model")
    with pytest.raises(ModelError, match=r"endpoints serve different models: .* serves another-model, not 'colour-oracle'"):
        OpenAIChat(base_url=f"{one.base_url}|{other.base_url}")
    named = OpenAIChat(base_url=f"{one.base_url}|{other.base_url}", model="colour-oracle", **FAST)
    with pytest.raises(ModelError, match="endpoints serve different models"):
        list(named.generate_until(text_requests(2)))


def test_url_lists_and_files_are_checked_when_given(tmp_path):
    with pytest.raises(ModelError, match="does not exist"):
        endpoint_source(None, None, str(tmp_path / "missing.txt"))
    (tmp_path / "empty.txt").write_text("# nothing yet\n\n")
    with pytest.raises(ModelError, match="lists no server URL"):
        endpoint_source(None, None, str(tmp_path / "empty.txt"))
    (tmp_path / "bad.txt").write_text("http://127.0.0.1:1/v1\nnot a url\n")
    with pytest.raises(ModelError, match="bad.txt, line 2"):
        endpoint_source(None, None, str(tmp_path / "bad.txt"))
    (tmp_path / "ok.txt").write_text("http://a:1/v1  # node 1\nhttp://a:1/v1/\n\nhttp://b:2/v1\n")
    assert read_url_file(tmp_path / "ok.txt") == ["http://a:1/v1", "http://b:2/v1"]
    with pytest.raises(ModelError, match="not base_url and base_url_file"):
        endpoint_source("http://a:1/v1", None, str(tmp_path / "ok.txt"))
    with pytest.raises(ModelError, match="each URL of base_url"):
        endpoint_source("http://a:1/v1||http://b:2/v1", None, None)
    assert endpoint_source("http://a:1/v1", None, None) is None
    assert public_url("http://user:secret@host:8000/v1") == "http://host:8000/v1"


def test_stored_answers_do_not_depend_on_the_endpoints(start_oracle):
    one, two = start_oracle(), start_oracle()
    single_args = {"model": "colour-oracle", "base_url": one.base_url}
    spread_args = {"model": "colour-oracle", "base_urls": [two.base_url, one.base_url], "num_concurrent": 3}
    single = model_identity("openai", OpenAIChat, single_args, OpenAIChat(**single_args))
    spread = model_identity("openai", OpenAIChat, spread_args, OpenAIChat(**spread_args))
    assert single == spread


def run_colours(colour_task: Path, output: Path, model_args: str) -> dict:
    code = main([
        "--model", "openai_compatible", "--model_args", model_args, "--tasks", "colours",
        "--include_path", str(colour_task), "--output_path", str(output), "--log_samples",
    ])
    assert code == 0
    [results] = list(output.glob("*/*_results.json"))
    [samples] = list(output.glob("*/*_samples_colours_*.jsonl"))
    return {"results": json.loads(results.read_text()), "samples": [json.loads(line) for line in samples.read_text().splitlines()]}


def test_a_spread_run_scores_as_one_server_and_records_who_answered(start_oracle, colour_task, tmp_path):
    servers = [start_oracle() for _ in range(3)]
    single = run_colours(colour_task, tmp_path / "one", f"base_url={servers[0].base_url},model=colour-oracle")
    joined = "|".join(server.base_url for server in servers)
    spread = run_colours(colour_task, tmp_path / "three", f"base_url={joined},model=colour-oracle,num_concurrent=2")
    assert spread["results"]["results"]["colours"] == single["results"]["results"]["colours"]
    counts = spread["results"]["requests"]["colours"]["endpoints"]
    assert set(counts) <= {server.base_url for server in servers} and sum(counts.values()) == 10
    assert "endpoints" not in single["results"]["requests"]["colours"]
    assert all(len(row["endpoints"]) == 1 and row["endpoints"][0] in counts for row in spread["samples"])
    assert [row["request_keys"] for row in spread["samples"]] == [row["request_keys"] for row in single["samples"]]


def test_an_evaluation_through_a_kill_and_a_join_scores_as_one_server(start_oracle, colour_task, tmp_path):
    write_image_parquet(colour_task / "data" / "test.parquet", COLOUR_DOCS * 6)  # 60 docs: long enough to change servers mid-run
    alone = start_oracle()
    single = run_colours(colour_task, tmp_path / "one", f"base_url={alone.base_url},model=colour-oracle")
    first, late = start_oracle(latency=0.03), start_oracle(latency=0.03)
    doomed = start_oracle(latency=0.03, misbehaviour=MisbehaviourPlan(Misbehaviour.HANG, after=5))
    url_file = tmp_path / "servers.txt"
    write_urls(url_file, first, doomed)

    def kill_and_add() -> None:
        wait_until(lambda: doomed.chat_requests > doomed.answered)  # it holds a request
        doomed.kill()
        first.latency = 0.3  # slow until the new server has joined, so that requests are left for it
        write_urls(url_file, first, late)
        wait_until(lambda: late.answered > 0)
        first.latency = 0.03

    changer = threading.Thread(target=kill_and_add)
    changer.start()
    spread = run_colours(colour_task, tmp_path / "spread", f"base_url_file={url_file},model=colour-oracle,num_concurrent=2,down_after=1,probe_interval=0.2")
    changer.join()
    assert spread["results"]["results"]["colours"] == single["results"]["results"]["colours"]
    assert spread["results"]["requests"]["colours"]["failed"] == 0
    assert [row["doc_id"] for row in spread["samples"]] == list(range(60))  # each doc once
    counts = spread["results"]["requests"]["colours"]["endpoints"]
    assert sum(counts.values()) == 60 and counts.get(late.base_url, 0) > 0


def test_base_urls_in_a_config_file_and_a_missing_url_file_at_start(start_oracle, colour_task, tmp_path, capsys):
    servers = [start_oracle() for _ in range(2)]
    config = tmp_path / "run.yaml"
    config.write_text(
        "model: openai_compatible\n"
        "model_args:\n  model: colour-oracle\n  base_urls:\n" + "".join(f"    - {server.base_url}\n" for server in servers)
        + f"tasks: colours\ninclude_path: {colour_task}\noutput_path: {tmp_path / 'out'}\n"
    )
    assert main(["--config", str(config)]) == 0
    [results] = list((tmp_path / "out").glob("*/*_results.json"))
    assert sum(json.loads(results.read_text())["requests"]["colours"]["endpoints"].values()) == 10
    missing = tmp_path / "nowhere.txt"
    code = main(["--model", "openai_compatible", "--model_args", f"base_url_file={missing},model=colour-oracle", "--tasks", "colours", "--include_path", str(colour_task)])
    assert code == 2
    assert f"base_url_file {missing} does not exist" in capsys.readouterr().err
