"""Cost and throughput per task: prices, timing figures, the results entry and the table footer."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

from lmms_eval.api.model import Model
from lmms_eval.api.request import Origin, Request, RequestType
from lmms_eval.api.response import FailureKind, Response, Usage
from lmms_eval.cli.main import main
from lmms_eval.engine.inference import TaskResponses, run_inference
from lmms_eval.engine.throughput import Throughput, percentile
from lmms_eval.errors import ConfigError
from lmms_eval.pricing import PRICE_TABLE_DATE, Pricing, listed_pricing, pricing_for, take_prices
from lmms_eval.report.cost import judge_calls


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")


# --- prices -------------------------------------------------------------------------------


def test_given_prices_are_taken_out_of_the_backend_args():
    pricing, rest = take_prices({"model": "m", "price_in_per_mtok": 2, "price_out_per_mtok": "8.5"})
    assert rest == {"model": "m"}
    assert pricing == Pricing(2.0, 8.5, "model_args")
    assert pricing.cost(1_000_000, 2_000_000) == pytest.approx(19.0)


def test_no_prices_given_leaves_the_args_alone():
    assert take_prices({"model": "m"}) == (None, {"model": "m"})


@pytest.mark.parametrize(
    "args, message",
    [
        ({"price_in_per_mtok": 1}, "needs price_out_per_mtok"),
        ({"price_in_per_mtok": -1, "price_out_per_mtok": 1}, "price_in_per_mtok must be a number"),
        ({"price_in_per_mtok": "cheap", "price_out_per_mtok": 1}, "not 'cheap'"),
        ({"price_in_per_mtok": True, "price_out_per_mtok": 1}, "price_in_per_mtok must be a number"),
    ],
)
def test_bad_prices_are_one_error_naming_the_arg(args, message):
    with pytest.raises(ConfigError, match=message):
        take_prices(args, "--model_args")


def test_the_table_prices_exact_model_ids_of_its_providers_only():
    listed = listed_pricing("openai", "gpt-4o-mini")
    assert (listed.in_per_mtok, listed.out_per_mtok) == (0.15, 0.60)
    assert PRICE_TABLE_DATE in listed.source
    assert listed_pricing("openai", "gpt-4o-mini-some-future-snapshot") is None  # no prefix matching
    assert listed_pricing(None, "gpt-4o-mini") is None  # a local backend has no list price
    assert listed_pricing("anthropic", "gpt-4o") is None


def test_given_prices_win_over_the_table():
    class Vendor(Model):
        provider = "openai"

    given = Pricing(1.0, 1.0, "model_args")
    assert pricing_for(Vendor, "gpt-4o", given) is given
    assert pricing_for(Vendor, "gpt-4o", None).in_per_mtok == 2.50
    assert pricing_for(Model, "gpt-4o", None) is None


def test_judge_calls_are_priced_by_the_judge_model():
    entry = {"backend": "openai", "model": "gpt-4o-mini", "calls": 3, "from_store": 1, "failures": 1, "retries": 2,
             "tokens": {"prompt": 1_000_000, "completion": 100_000}}
    calls = judge_calls(entry)
    assert calls["calls"] == 3 and calls["from_store"] == 1 and calls["failures"] == 1 and calls["retries"] == 2
    assert calls["cost_usd"] == pytest.approx(0.15 + 0.06)
    assert judge_calls({**entry, "model": "local-judge"})["cost_usd"] is None


# --- timing -------------------------------------------------------------------------------


def test_percentile_is_nearest_rank():
    values = [float(value) for value in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 95) == 95.0
    assert percentile([3.0], 95) == 3.0
    assert percentile([], 50) is None


def test_ranks_merge_as_the_slowest_with_all_latencies():
    merged = Throughput.merge([Throughput(2.0, 2, [0.1, 0.2], 1, 10, 1), Throughput(3.0, 1, [0.3], 0, 5, 2)])
    assert (merged.wall_seconds, merged.asked, merged.latencies, merged.retries) == (3.0, 3, [0.1, 0.2, 0.3], 1)
    assert (merged.prompt_tokens, merged.completion_tokens) == (15, 3)
    assert merged.requests_per_second() == pytest.approx(1.0)


class Retrying(Model):
    """Doc 0 answered on the third try, doc 1 failed after four, doc 2 answered at once."""

    def generate_until(self, requests: Iterable[Request]) -> Iterator[Response]:
        for request in requests:
            if request.origin.doc_id == 0:
                yield Response.generated(request, "a", Usage(10, 2), attempts=3)
            elif request.origin.doc_id == 1:
                yield Response.failed(request, FailureKind.SERVER_ERROR, "HTTP 500", attempts=4)
            else:
                yield Response.generated(request, "b", Usage(5, 1))


def test_inference_counts_asked_requests_retries_and_latencies():
    requests = [Request(RequestType.GENERATE_UNTIL, Origin("t", doc_id), "Q") for doc_id in range(3)]
    answered = run_inference(Retrying(), RequestType.GENERATE_UNTIL, requests)
    timing = answered.throughput
    assert timing.asked == 3 and len(timing.latencies) == 3
    assert timing.retries == 2 + 3
    assert (timing.prompt_tokens, timing.completion_tokens) == (15, 3)
    assert timing.wall_seconds >= max(timing.latencies) >= 0
    assert TaskResponses.merge([answered]).throughput is timing


# --- through the CLI ----------------------------------------------------------------------


def run(oracle, colour_task: Path, output: Path, *extra: str, prices: str = "price_in_per_mtok=2,price_out_per_mtok=8") -> int:
    model_args = f"base_url={oracle.base_url},model=colour-oracle,retry_base_delay=0.01" + (f",{prices}" if prices else "")
    return main(["--model", "openai", "--model_args", model_args, "--tasks", "colours", "--include_path", str(colour_task),
                 "--output_path", str(output), *extra])


def results_of(output: Path) -> dict:
    [path] = output.glob("*/*_results.json")
    return json.loads(path.read_text())


def test_a_run_records_cost_and_throughput_and_prints_them(oracle, colour_task, tmp_path, capsys):
    store = tmp_path / "store.sqlite"
    assert run(oracle, colour_task, tmp_path / "out", "--use_cache", str(store)) == 0
    results = results_of(tmp_path / "out")
    figures = results["throughput"]["colours"]
    usage = results["requests"]["colours"]["usage"]
    assert figures["asked"] == 10 and figures["from_store"] == 0 and figures["retries"] == 0
    assert figures["asked_usage"] == usage
    assert figures["cost_usd"] == pytest.approx((usage["prompt_tokens"] * 2 + usage["completion_tokens"] * 8) / 1e6)
    assert figures["pricing"] == {"in_per_mtok": 2.0, "out_per_mtok": 8.0, "source": "model_args"}
    assert figures["latency_p50_seconds"] <= figures["latency_p95_seconds"] <= figures["wall_seconds"]
    assert figures["requests_per_second"] > 0
    assert "price_in_per_mtok" not in results["config"]["model_args"]  # not the backend's arg
    printed = capsys.readouterr().out
    header = next(line for line in printed.splitlines() if "Req/s" in line)
    assert [cell.strip() for cell in header.strip("|").split("|")][:4] == ["Task", "Calls", "Requests", "From store"]
    row = next(line for line in printed.splitlines() if line.startswith("| colours") and "| model" in line)
    assert [cell.strip() for cell in row.strip("|").split("|")][2:4] == ["10", "0"]
    assert "Total cost: $" in printed

    # Again from the store: nothing asked, nothing paid, ten answers from the store.
    assert run(oracle, colour_task, tmp_path / "again", "--use_cache", str(store)) == 0
    again = results_of(tmp_path / "again")["throughput"]["colours"]
    assert (again["asked"], again["from_store"], again["cost_usd"], again["latency_p50_seconds"]) == (10 - 10, 10, 0.0, None)


def test_without_prices_the_cost_is_unknown(oracle, colour_task, tmp_path, capsys):
    assert run(oracle, colour_task, tmp_path / "out", prices="") == 0
    figures = results_of(tmp_path / "out")["throughput"]["colours"]
    assert figures["cost_usd"] is None and figures["pricing"] is None
    assert "Total cost" not in capsys.readouterr().out


def test_a_bad_price_is_one_error_before_any_request(oracle, colour_task, tmp_path, capsys):
    assert run(oracle, colour_task, tmp_path / "out", prices="price_in_per_mtok=2") == 2
    assert "--model_args: price_in_per_mtok needs price_out_per_mtok" in capsys.readouterr().err
    assert oracle.chat_requests == 0


def test_the_footer_gives_judge_calls_a_row_of_their_own():
    from types import SimpleNamespace

    from lmms_eval.report.cost import footer_lines

    answered = run_inference(Retrying(), RequestType.GENERATE_UNTIL, [Request(RequestType.GENERATE_UNTIL, Origin("t", d), "Q") for d in range(3)])
    task_run = SimpleNamespace(task=SimpleNamespace(name="t"), answered=answered)
    judge = {"backend": "openai", "model": "gpt-4o-mini", "calls": 2, "from_store": 1, "failures": 0, "retries": 1,
             "tokens": {"prompt": 1000, "completion": 100}}
    evaluation = SimpleNamespace(source="live", task_runs={"t": task_run}, pricing=Pricing(1.0, 2.0, "model_args"), judge_entries={"t": judge})
    lines = footer_lines(evaluation)
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in lines if line.startswith("| t ")]
    model_row, judge_row = rows
    assert model_row[1:4] == ["model", "3", "0"] and model_row[10:12] == ["5", "1"]
    assert model_row[12] == f"{(15 * 1.0 + 3 * 2.0) / 1e6:.4f}"
    assert judge_row[1:6] == ["judge", "3", "1", "1000", "100"] and judge_row[10:12] == ["1", "0"]
    assert judge_row[12] == f"{(1000 * 0.15 + 100 * 0.60) / 1e6:.4f}"
    assert lines[-1].startswith("Total cost: $")
