"""`lmms-eval demo`: a complete evaluation that needs no download and no GPU.

Evaluates the bundled demo model (a tiny LLaVA-architecture vision-language model in
`lmms_eval/demo/model`, loaded with `from_pretrained` by the `huggingface` backend) on the
bundled `demo` suite (generated scenes of coloured shapes) and prints the results table.
`--blank` adds the `demo_blank` control, the same questions on blank images, where the
scores fall to chance.
"""

from __future__ import annotations

from lmms_eval.cli.args import Parser
from lmms_eval.config import RunConfig


def run_demo(argv: list[str]) -> int:
    parser = Parser(prog="lmms-eval demo", description=__doc__.split("\n\n")[1])
    parser.add_argument("--blank", action="store_true", help="also run the demo_blank control (every image blank)")
    parser.add_argument("--output_path", help="also write results (and samples) here")
    parser.add_argument("--limit", type=int, help="docs per task")
    parser.add_argument("--batch_size", type=int, default=16, help="requests per forward pass (default: %(default)s)")
    parser.add_argument("--device", help="torch device (default: cuda when available, else cpu)")
    args = parser.parse_args(argv)

    from lmms_eval.cli.common import configure_logging, run_one
    from lmms_eval.demo import MODEL_DIR

    configure_logging("INFO")
    run = RunConfig(
        model="huggingface",
        model_args={"pretrained": str(MODEL_DIR)},
        batch_size=args.batch_size,
        device=args.device,
        tasks=["demo", "demo_blank"] if args.blank else ["demo"],
        limit=args.limit,
        output_path=args.output_path,
        log_samples=bool(args.output_path),
    )
    run.validate()
    return run_one(run)
