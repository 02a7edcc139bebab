"""What the Anthropic and Gemini backend tests share: requests, a CLI run, its results."""

from __future__ import annotations

import json
from pathlib import Path

from PIL import Image

from lmms_eval.api.messages import ChatMessages
from lmms_eval.api.request import Origin, Request, RequestType
from lmms_eval.cli.main import main
from lmms_eval.testing.server import PALETTE

FAST = {"retry_base_delay": 0.01, "max_retry_delay": 0.05, "api_key": "test-key"}


def ask(doc_id: int, colour: str = "red", text: str = "What colour?", **gen_kwargs) -> Request:
    image = Image.new("RGB", (8, 8), PALETTE[colour])
    return Request(RequestType.GENERATE_UNTIL, Origin("colours", doc_id), text, (image,), gen_kwargs=gen_kwargs)


def ask_with_system(doc_id: int, system: str, text: str) -> Request:
    return Request(RequestType.GENERATE_UNTIL, Origin("colours", doc_id), ChatMessages.build(text, (), system=system), gen_kwargs={})


def colour_scores(model: str, base_url: str, colour_task: Path, output: Path) -> dict:
    """Evaluate the image task through the CLI; the task's results and request counts."""
    args = f"base_url={base_url},model=colour-oracle,api_key=test-key,retry_base_delay=0.01"
    code = main(["--model", model, "--model_args", args, "--tasks", "colours", "--include_path", str(colour_task), "--output_path", str(output)])
    assert code == 0
    [path] = list(output.glob("*/*_results.json"))
    results = json.loads(path.read_text())
    return {"scores": results["results"]["colours"], "requests": results["requests"]["colours"]}
