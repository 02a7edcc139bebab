"""When the `openai` backend contacts its server, and what it says when it cannot.

With `model=` given, the server is first contacted just before the first request is sent:
a run answered entirely from the response store needs no server. The start-up check still
fails a run in one line, before any retries, when requests do need sending.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from lmms_eval.api.request import Origin, Request, RequestType
from lmms_eval.cli.main import main
from lmms_eval.errors import ModelError, ServerUnreachableError
from lmms_eval.models.api.openai_chat import OpenAIChat

FAST = {"retry_base_delay": 0.01, "max_retry_delay": 0.05}


def ask(doc_id: int) -> Request:
    return Request(RequestType.GENERATE_UNTIL, Origin("startup", doc_id), "What colour is this?", gen_kwargs={"max_new_tokens": 4})


def dead_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A base URL whose server accepts connections and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/v1"


def run_cli(*args: object) -> int:
    return main([str(arg) for arg in args])


# --- when the server is contacted ----------------------------------------------------


def test_a_named_model_is_built_without_contacting_the_server():
    model = OpenAIChat(model="m", base_url=f"http://127.0.0.1:{dead_port()}/v1", **FAST)
    assert model.identity == "m"


def test_without_a_model_the_server_is_asked_at_construction():
    started = time.monotonic()
    with pytest.raises(ServerUnreachableError, match="cannot reach http://127.0.0.1"):
        OpenAIChat(base_url=f"http://127.0.0.1:{dead_port()}/v1", **FAST)
    assert time.monotonic() - started < 2.0


def test_the_deferred_check_fails_before_the_first_request_is_retried():
    model = OpenAIChat(model="m", base_url=f"http://127.0.0.1:{dead_port()}/v1", max_retries=5, retry_base_delay=1.0)
    started = time.monotonic()
    with pytest.raises(ServerUnreachableError, match=r"^cannot reach http://127\.0\.0\.1:\d+/v1: "):
        list(model.generate_until([ask(doc_id) for doc_id in range(20)]))
    assert time.monotonic() - started < 2.0  # five retries one second apart would take far longer


def test_the_deferred_check_is_made_once_per_backend(start_oracle):
    server = start_oracle()
    model = OpenAIChat(model="colour-oracle", base_url=server.base_url, num_concurrent=8, max_retries=0, **FAST)
    assert all(response.ok for response in model.generate_until([ask(doc_id) for doc_id in range(20)]))
    server.stop()
    # Reached once: a later task meets a dead server through the retries and the breaker,
    # as a recorded failure, not a start-up error.
    [late] = model.generate_until([ask(99)])
    assert late.failure is not None and late.failure.kind.value == "connection"


def test_a_fully_cached_run_needs_no_server(start_oracle, colour_task, tmp_path, capsys):
    server = start_oracle()
    store = tmp_path / "answers.db"
    base = ["--model", "openai", "--tasks", "colours", "--include_path", colour_task, "--use_cache", store]
    args = f"base_url={server.base_url},model=colour-oracle,retry_base_delay=0.01"
    assert run_cli(*base, "--model_args", args, "--output_path", tmp_path / "live") == 0
    server.stop()
    capsys.readouterr()
    assert run_cli(*base, "--model_args", args, "--output_path", tmp_path / "cached") == 0
    assert "error" not in capsys.readouterr().err
    [live] = (tmp_path / "live").glob("*/*_results.json")
    [cached] = (tmp_path / "cached").glob("*/*_results.json")
    assert json.loads(cached.read_text())["results"] == json.loads(live.read_text())["results"]


# --- what it says when it cannot -------------------------------------------------------


def test_a_check_that_times_out_names_the_reason(silent_server):
    started = time.monotonic()
    with pytest.raises(ServerUnreachableError) as raised:
        OpenAIChat(base_url=silent_server, timeout=0.3, **FAST)
    assert str(raised.value) == f"cannot reach {silent_server}: no answer within 0.3 s"
    assert time.monotonic() - started < 2.0


def test_a_deferred_check_that_times_out_names_the_reason(silent_server):
    model = OpenAIChat(model="m", base_url=silent_server, timeout=0.3, **FAST)
    with pytest.raises(ServerUnreachableError, match=r"no answer within 0\.3 s$"):
        list(model.generate_until([ask(0)]))


@pytest.mark.parametrize(
    "url",
    ["notaurl", "localhost:8000/v1", "ftp://127.0.0.1/v1", "http://", "http:///v1", "http://127.0.0.1:port/v1", "127.0.0.1:8000"],
)
def test_a_base_url_that_is_not_an_http_url_is_refused_at_once(url):
    with pytest.raises(ModelError, match="base_url must be an http:// or https:// URL with a host"):
        OpenAIChat(model="m", base_url=url)


@pytest.mark.parametrize("url", ["http://127.0.0.1:8000/v1/", "https://api.example.com/v1", "http://[::1]:8000/v1", "http://localhost/v1"])
def test_http_base_urls_are_taken_as_given(url):
    assert OpenAIChat(model="m", base_url=url).base_url == url.rstrip("/")


def test_a_bad_base_url_is_one_line_and_exit_2(colour_task, tmp_path, capsys):
    started = time.monotonic()
    code = run_cli(
        "--model", "openai", "--model_args", "base_url=notaurl,model=m,max_retries=1,retry_base_delay=0.01",
        "--tasks", "colours", "--include_path", colour_task, "--output_path", tmp_path / "out",
    )
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert lines[-1] == (
        "lmms-eval: error: base_url must be an http:// or https:// URL with a host, such as http://127.0.0.1:8000/v1, not 'notaurl'"
    )
    assert time.monotonic() - started < 10
    assert not list(Path(tmp_path / "out").glob("**/*.json"))  # no results


def test_the_backend_sends_without_aiohttp_and_a_run_that_sends_nothing_opens_no_tls():
    """aiohttp's client cost 0.25 s to import and 0.3 ms per request: the backend uses its
    own HTTP client, which builds the TLS context (~35 ms) only for an https URL used."""
    probe = (
        "import sys\n"
        "from lmms_eval.testing.server import OracleServer\n"
        "from lmms_eval.models.api.openai_chat import OpenAIChat\n"
        "with OracleServer() as server:\n"
        "    sys.modules.pop('aiohttp', None)  # the test server's own aiohttp is not the client's\n"
        "    for name in [n for n in sys.modules if n.startswith('aiohttp.')]: sys.modules.pop(name)\n"
        "    model = OpenAIChat(model='m', base_url=server.base_url)\n"
        "    assert list(model.generate_until(iter([]))) == []\n"
        "    import asyncio; assert asyncio.run(model._list_models(required=True)) == ['colour-oracle']\n"
        "    print('aiohttp' in sys.modules, model._new_session()._tls is None)\n"
    )
    completed = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert completed.stdout.strip() == "False True", completed.stderr
