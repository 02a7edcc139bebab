"""The evaluation flags, with lmms-eval's names so existing command lines work."""

from __future__ import annotations

import argparse
from typing import Any, NoReturn

from lmms_eval.config import RunConfig
from lmms_eval.errors import ConfigError

TASK_LISTINGS = ("list", "list_groups", "list_tags", "list_subtasks")


def _limit(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is neither a count nor a fraction below 1") from None
    return int(value) if value >= 1 and value.is_integer() else value


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (via ConfigError), like every other."""

    def error(self, message: str) -> NoReturn:
        raise ConfigError(f"{message} (see `{self.prog} --help`)")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="lmms-eval",
        description="Evaluate multimodal models on benchmarks. Other commands: `lmms-eval tasks|models|demo|prepare|cache|rescore --help`.",
        argument_default=argparse.SUPPRESS,  # so explicit flags can override a --config file
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    add = parser.add_argument
    add("--config", help="YAML file with any of these flags as keys; a list of mappings runs several evaluations")
    add("--model", help="backend name from the model registry (see `lmms-eval models`); default openai")
    add("--model_args", help="backend arguments as k=v,k=v (e.g. model=gpt-4o,num_concurrent=32)")
    add("--tasks", help=f"comma-separated tasks, groups, tags or wildcards; or one of {', '.join(TASK_LISTINGS)}")
    add("--include_path", action="append", help="extra folder (or YAML file) of tasks; repeatable")
    add("--limit", type=_limit, help="docs per task: an int, or a fraction below 1 (for smoke tests, not for reporting)")
    add("--offset", type=int, help="skip this many docs of each task first")
    add("--batch_size", type=int, help="requests per batch for local models (API backends use num_concurrent)")
    add("--device", help="device for local models, e.g. cuda:0 or cpu")
    add("--gen_kwargs", help="generation overrides for every task, k=v,k=v (e.g. temperature=0,max_new_tokens=64)")
    add("--num_fewshot", type=int, help="few-shot examples per prompt (overrides the task)")
    add("--apply_chat_template", action="store_true", help="give simple models chat messages and let them apply their chat template")
    add("--fewshot_as_multiturn", action="store_true", help="few-shot examples as alternating user/assistant turns (needs --apply_chat_template)")
    add("--system_instruction", help="system prompt for every request")
    add("--output_path", help="folder for results; files go to OUTPUT_PATH/<model name>/")
    add("--log_samples", action="store_true", help="also write each task's per-sample log (JSONL)")
    add("--log_samples_suffix", help="suffix of samples file names (default model_outputs)")
    add("--predict_only", action="store_true", help="generate and log answers without scoring them (implies --log_samples)")
    add("--seed", help="one int, or four comma-separated: python random, numpy, torch, few-shot (default 0,1234,1234,1234)")
    add("--bootstrap_iters", type=int, help="bootstrap resamples for standard errors of non-mean metrics; 0 turns them off (default 100000)")
    add("--verbosity", choices=["DEBUG", "INFO", "WARNING", "ERROR"], type=str.upper, help="log level; DEBUG also shows tracebacks (default INFO)")
    add("--use_cache", help="response store (SQLite file): answers are saved as they arrive and reused, so an interrupted run resumes")
    add("--show_config", action="store_true", help="print each task's resolved configuration before running")
    return parser


def flag_values(namespace: argparse.Namespace) -> dict[str, Any]:
    """Only the flags the user typed (argument_default=SUPPRESS leaves out the rest)."""
    values = vars(namespace).copy()
    values.pop("config", None)
    return {key: value for key, value in values.items() if key in RunConfig.keys()}
