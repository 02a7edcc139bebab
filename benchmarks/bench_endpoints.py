"""Figures for one run spread over several servers (issue 14, docs/scaling.md).

2,000 text requests at 100 ms latency with `num_concurrent` in flight per endpoint, by the
`openai_compatible` backend against:
- one local test server;
- three, as `base_url=URL1|URL2|URL3`;
- three, one of them killed (SIGKILL) a third of the way through: nothing may be lost.
Each server runs in its own process, on 127.0.0.1 only. With `num_concurrent` per endpoint
three servers hold three times the requests in flight, so the floor falls from
2,000 x 0.1 s / c to a third of it; one server with three times the concurrency shows the
client's own cost at that many requests in flight.

Run: uv run python benchmarks/bench_endpoints.py [--requests 2000] [--concurrency 64]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

from lmms_eval.api.request import Origin, Request, RequestType


def start_server(latency: float) -> tuple[subprocess.Popen, str]:
    command = [sys.executable, "-m", "lmms_eval.testing.server", "--latency", str(latency)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    line = process.stdout.readline().strip()  # "listening on http://127.0.0.1:PORT/v1"
    return process, line.rsplit(" ", 1)[-1]


def spread_seconds(urls: list[str], count: int, concurrency: int, kill: subprocess.Popen | None = None) -> tuple[float, int, int]:
    """Wall seconds, answers and failures; `kill` is SIGKILLed after a third of the answers."""
    from lmms_eval.models import MODELS

    model = MODELS.get("openai_compatible")(
        base_url="|".join(urls), model="colour-oracle", num_concurrent=concurrency, down_after=2, probe_interval=0.5, retry_base_delay=0.05,
    )
    requests = [Request(RequestType.GENERATE_UNTIL, Origin("bench", i), f"Question {i}?", (), gen_kwargs={}) for i in range(count)]
    answers = []
    started = time.perf_counter()
    for answer in model.generate_until(requests):
        answers.append(answer)
        if kill is not None and len(answers) == count // 3:
            kill.kill()  # its requests in flight never get an answer
    elapsed = time.perf_counter() - started
    assert sorted(answer.origin.doc_id for answer in answers) == list(range(count)), "a request was lost or answered twice"
    return elapsed, len(answers), sum(1 for answer in answers if answer.failure is not None)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=64, help="in flight per endpoint")
    parser.add_argument("--latency", type=float, default=0.1)
    args = parser.parse_args()
    n, c = args.requests, args.concurrency
    servers = [start_server(args.latency) for _ in range(3)]
    urls = [url for _, url in servers]
    try:
        spread_seconds(urls, n // 10, c)  # warm-up: imports, first connections
        figures = {
            "1 server": spread_seconds(urls[:1], n, c),
            "1 server, 3x in flight": spread_seconds(urls[:1], n, 3 * c),
            "3 servers": spread_seconds(urls, n, c),
            "3 servers, 1 killed mid-run": spread_seconds(urls, n, c, kill=servers[2][0]),
        }
    finally:
        for process, _ in servers:
            process.terminate()
            process.wait()
    baseline = figures["1 server"][0]
    print(f"{n} requests, {args.latency * 1000:g} ms latency, {c} in flight per endpoint (floor {n * args.latency / c:.2f} s for one server)")
    for name, (seconds, answered, failed) in figures.items():
        print(f"{name:28s} {seconds:6.2f} s  {n / seconds:7.0f} req/s  {baseline / seconds:4.2f}x one server  {answered} answered, {failed} failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
