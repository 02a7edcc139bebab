"""Figures for the HuggingFace backends (issue: local models).

Prints samples/s of greedy generation at batch sizes 1 and 8 on a tiny random-weight
Qwen2.5-VL (built offline, as the tests build it), the same for log-likelihood
scoring, and the process's peak memory.

Run: uv run python benchmarks/bench_hf.py [--requests 64] [--new-tokens 16]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "models" / "hf"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def requests(count: int, new_tokens: int, loglikelihood: bool) -> list:
    from PIL import Image

    from lmms_eval.api.messages import ChatMessages
    from lmms_eval.api.request import Origin, Request, RequestType

    built = []
    for number in range(count):
        image = Image.new("RGB", (56 + 8 * (number % 5), 56), ((number * 37) % 255, 90, 160))
        messages = ChatMessages.build("What colour is" + " this" * (number % 7) + " image?", [image])
        if loglikelihood:
            built.append(Request(RequestType.LOGLIKELIHOOD, Origin("bench", number), messages, continuation=" red square"))
        else:
            built.append(Request(RequestType.GENERATE_UNTIL, Origin("bench", number), messages, gen_kwargs={"max_new_tokens": new_tokens}))
    return built


def measure(model, batch_size: int, asked: list, kind: str) -> float:
    model.batch_size = batch_size
    method = model.loglikelihood if kind == "loglikelihood" else model.generate_until
    start = time.perf_counter()
    answered = list(method(asked))
    elapsed = time.perf_counter() - start
    assert all(response.ok for response in answered)
    return len(answered) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=64)
    parser.add_argument("--new-tokens", type=int, default=16)
    args = parser.parse_args()

    import torch
    import tiny_models

    from lmms_eval.models import MODELS

    torch.set_num_threads(max(1, os.cpu_count() or 1))
    with tempfile.TemporaryDirectory() as folder:
        path = tiny_models.build_qwen2_5_vl(Path(folder))
        model = MODELS.get("qwen2_5_vl").create({"pretrained": str(path), "device": "cpu"})
        for kind in ("generate_until", "loglikelihood"):
            asked = requests(args.requests, args.new_tokens, kind == "loglikelihood")
            measure(model, 8, asked[:8], kind)  # warm-up
            figures = {batch: measure(model, batch, asked, kind) for batch in (1, 8)}
            print(f"{kind}: {args.requests} requests, tiny Qwen2.5-VL on CPU: "
                  + ", ".join(f"batch {batch}: {rate:.1f} samples/s" for batch, rate in figures.items()))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory of this process: {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
