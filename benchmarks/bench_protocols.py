"""Figures for the Claude and Gemini protocol targets (issue 14).

2,000 text requests at 100 ms latency, 256 in flight, against the local test server, by:
- the `openai`, `anthropic` and `gemini` backends (the shared HTTP engine);
- the official SDKs' async clients (anthropic.AsyncAnthropic, google-genai's client.aio)
  driven by asyncio with a semaphore of 256.
Target: each protocol within 1.5x of the `openai` backend's wall time. The floor is
2,000 x 0.1 s / 256 = 0.8 s. The server runs in its own process, on 127.0.0.1 only.

Run: uv run python benchmarks/bench_protocols.py [--requests 2000] [--concurrency 256]
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import time

from lmms_eval.api.request import Origin, Request, RequestType


def start_server(latency: float) -> tuple[subprocess.Popen, str]:
    command = [sys.executable, "-m", "lmms_eval.testing.server", "--latency", str(latency)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    line = process.stdout.readline().strip()  # "listening on http://127.0.0.1:PORT/v1"
    return process, line.rsplit(" ", 1)[-1].removesuffix("/v1")


def backend_seconds(name: str, base_url: str, count: int, concurrency: int) -> float:
    from lmms_eval.models import MODELS

    model = MODELS.get(name)(base_url=base_url, model="colour-oracle", api_key="k", num_concurrent=concurrency)
    requests = [Request(RequestType.GENERATE_UNTIL, Origin("bench", i), f"Question {i}?", (), gen_kwargs={}) for i in range(count)]
    started = time.perf_counter()
    answers = list(model.generate_until(requests))
    elapsed = time.perf_counter() - started
    assert len(answers) == count and all(answer.failure is None for answer in answers)
    return elapsed


async def _drive(call, count: int, concurrency: int) -> float:
    gate = asyncio.Semaphore(concurrency)

    async def one(i: int) -> None:
        async with gate:
            await call(i)

    started = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(count)))
    return time.perf_counter() - started


def anthropic_sdk_seconds(root: str, count: int, concurrency: int) -> float:
    import anthropic

    async def run() -> float:
        import httpx

        limits = httpx.Limits(max_connections=concurrency)  # the SDK's default pool is smaller than 256
        client = anthropic.AsyncAnthropic(base_url=root, api_key="k", max_retries=0, timeout=120.0, http_client=anthropic.DefaultAsyncHttpxClient(limits=limits, timeout=120.0))
        call = lambda i: client.messages.create(model="colour-oracle", max_tokens=16, messages=[{"role": "user", "content": f"Question {i}?"}])  # noqa: E731
        return await _drive(call, count, concurrency)

    return asyncio.run(run())


def gemini_sdk_seconds(root: str, count: int, concurrency: int) -> float:
    from google import genai
    from google.genai import types

    async def run() -> float:
        client = genai.Client(api_key="k", http_options=types.HttpOptions(base_url=root, api_version="v1beta", timeout=120_000))
        call = lambda i: client.aio.models.generate_content(model="colour-oracle", contents=f"Question {i}?")  # noqa: E731
        return await _drive(call, count, concurrency)

    return asyncio.run(run())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=256)
    parser.add_argument("--latency", type=float, default=0.1)
    args = parser.parse_args()
    process, root = start_server(args.latency)
    n, c = args.requests, args.concurrency
    try:
        figures = {
            "openai backend": backend_seconds("openai", f"{root}/v1", n, c),
            "anthropic backend (raw HTTP)": backend_seconds("anthropic", f"{root}/v1", n, c),
            "gemini backend (raw HTTP)": backend_seconds("gemini", f"{root}/v1beta", n, c),
            "anthropic SDK (AsyncAnthropic)": anthropic_sdk_seconds(root, n, c),
            "google-genai SDK (client.aio)": gemini_sdk_seconds(root, n, c),
        }
    finally:
        process.terminate()
        process.wait()
    baseline = figures["openai backend"]
    print(f"{n} requests, {args.latency * 1000:g} ms latency, {c} in flight (floor {n * args.latency / c:.2f} s)")
    for name, seconds in figures.items():
        print(f"{name:34s} {seconds:6.2f} s  {n / seconds:7.0f} req/s  {seconds / baseline:4.2f}x openai")
    return 0


if __name__ == "__main__":
    sys.exit(main())
