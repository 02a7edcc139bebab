"""`lmms-eval demo`: a complete evaluation that needs no download and no GPU.

It starts the bundled colour-oracle server (an OpenAI-compatible endpoint whose "model"
reads the average colour of each image) on 127.0.0.1, evaluates the bundled
`demo_colours` task against it through the `openai` backend over real HTTP, prints the
table and stops the server. It exercises every stage of the pipeline; the scores say
how well averaging colours answers "what is the background colour?".
"""

from __future__ import annotations

from lmms_eval.cli.args import Parser
from lmms_eval.config import RunConfig


def run_demo(argv: list[str]) -> int:
    parser = Parser(prog="lmms-eval demo", description=__doc__.split("\n\n")[1])
    parser.add_argument("--output_path", help="also write results (and samples) here")
    parser.add_argument("--limit", type=int, help="docs to evaluate")
    args = parser.parse_args(argv)

    from lmms_eval.cli.main import _configure_logging, run_one
    from lmms_eval.testing.server import OracleServer

    _configure_logging("INFO")
    with OracleServer() as server:
        run = RunConfig(
            model="openai",
            model_args={"base_url": server.base_url, "model": "colour-oracle", "num_concurrent": 8},
            tasks=["demo_colours"],
            limit=args.limit,
            output_path=args.output_path,
            log_samples=bool(args.output_path),
        )
        run.validate()
        return run_one(run)
