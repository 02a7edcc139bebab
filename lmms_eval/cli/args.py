"""The evaluation flags, with lmms-eval's names so existing command lines work."""

from __future__ import annotations

import argparse
from typing import Any, NoReturn

from lmms_eval.config import RunConfig
from lmms_eval.errors import ConfigError

TASK_LISTINGS = ("list", "list_groups", "list_tags", "list_subtasks")


EXIT_CODES = """\
exit status:
  0    every request answered and scored
  1    a bug in lmms-eval (a traceback is printed)
  2    bad input: a flag, --config file, task YAML, model argument, dataset or store
       (also `tasks check` finding broken tasks); one line says what and where
  3    the run finished, but some requests failed (their docs are not scored), or
       some judge calls failed (the benchmark's failure value stands for them)
  130  interrupted (Ctrl-C); 143 terminated (SIGTERM). Answers already received are
       kept in the --use_cache store: run the same command again to resume
"""

EXAMPLES = """\
examples:
  lmms-eval demo
  lmms-eval --model openai --model_args model=gpt-4o-mini,num_concurrent=32 --tasks mme --output_path results/
  lmms-eval --model openai_compatible --model_args base_url=http://127.0.0.1:8000/v1 \\
      --tasks pope --limit 20 --use_cache answers.db
  lmms-eval --config runs.yaml                 # flags as YAML keys; a list runs several evaluations
  lmms-eval --tasks list                       # every task, group and tag
  lmms-eval cache info answers.db
  lmms-eval rescore results/<model>/
"""


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the examples and exit codes laid out as written."""


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (via ConfigError), like every other."""

    def error(self, message: str) -> NoReturn:
        raise ConfigError(f"{message} (see `{self.prog} --help`)")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="lmms-eval",
        description="Evaluate multimodal models on benchmarks. Other commands: `lmms-eval tasks|models|demo|prepare|cache|rescore --help`.",
        epilog=EXAMPLES + "\n" + EXIT_CODES,
        argument_default=argparse.SUPPRESS,  # so explicit flags can override a --config file
        formatter_class=HelpFormatter,
    )
    add = parser.add_argument  # values stay text here: RunConfig types and checks them, naming the flag
    add("--config", help="YAML file with any of these flags as keys; a list of mappings runs several evaluations")
    add("--model", help="backend name from the model registry (see `lmms-eval models`); default openai")
    add("--model_args", help="backend arguments as k=v,k=v (e.g. model=gpt-4o,num_concurrent=32)")
    add("--tasks", help=f"comma-separated tasks, groups, tags or wildcards; or one of {', '.join(TASK_LISTINGS)}")
    add("--include_path", action="append", help="extra folder (or YAML file) of tasks; repeatable")
    add("--limit", help="docs per task: an int, or a fraction below 1 (for smoke tests, not for reporting)")
    add("--offset", help="skip this many docs of each task first")
    add("--batch_size", help="requests per batch for local models (API backends use num_concurrent)")
    add("--device", help="device for local models, e.g. cuda:0 or cpu")
    add("--gen_kwargs", help="generation overrides for every task, k=v,k=v (e.g. temperature=0,max_new_tokens=64)")
    add("--num_fewshot", help="few-shot examples per prompt (overrides the task)")
    add("--apply_chat_template", action="store_true", help="give simple models chat messages and let them apply their chat template")
    add("--fewshot_as_multiturn", action="store_true", help="few-shot examples as alternating user/assistant turns (needs --apply_chat_template)")
    add("--system_instruction", help="system prompt for every request")
    add("--output_path", help="folder for results; files go to OUTPUT_PATH/<model name>/")
    add("--log_samples", action="store_true", help="also write each task's per-sample log (JSONL)")
    add("--log_samples_suffix", help="suffix of samples file names (default model_outputs)")
    add("--predict_only", action="store_true", help="generate and log answers without scoring them (implies --log_samples)")
    add("--seed", help="one int, or four comma-separated: python random, numpy, torch, few-shot (default 0,1234,1234,1234)")
    add("--bootstrap_iters", help="bootstrap resamples for standard errors of non-mean metrics; 0 turns them off (default 100000)")
    add("--verbosity", help="DEBUG, INFO, WARNING or ERROR; DEBUG also shows tracebacks (default INFO)")
    add("--use_cache", help="response store (SQLite file): answers are saved as they arrive and reused, so an interrupted run resumes")
    add("--judge_model", help="backend that judges open-ended answers (e.g. openai, openai_compatible); see docs/judges.md")
    add("--judge_args", help="judge backend arguments as k=v,k=v (e.g. model=gpt-4o-2024-11-20,num_concurrent=16); model= wins over the task's default")
    add("--judge_repeats", help="ask each judge question this many times and report the spread (MM-Vet's protocol: 5); default 1")
    add(
        "--reasoning_tags",
        help='reasoning blocks removed from answers after the filters, before scoring: a JSON list of [open, close] pairs, or none (default [["<think>", "</think>"], ["<analysis>", "</analysis>"]]; a task\'s reasoning_tags key wins)',
    )
    add("--show_config", action="store_true", help="print each task's resolved configuration before running")
    add("--cache_requests", help="cache built requests per task and config: true (use and fill), refresh (rebuild and rewrite) or delete (remove, run without)")
    add("--wandb_args", help="log to Weights & Biases (needs the wandb extra): k=v,k=v given to wandb.init, e.g. project=evals,name=run1,mode=offline")
    add("--wandb_log_samples", action="store_true", help="also log each task's samples as a W&B table (needs --wandb_args)")
    add("--hf_hub_log_args", help="push results and samples to the HF Hub as dataset repos: hub_results_org=ORG,push_results_to_hub=True,push_samples_to_hub=True,public_repo=False,...")
    return parser


def flag_values(namespace: argparse.Namespace) -> dict[str, Any]:
    """Only the flags the user typed (argument_default=SUPPRESS leaves out the rest)."""
    values = vars(namespace).copy()
    values.pop("config", None)
    return {key: value for key, value in values.items() if key in RunConfig.keys()}
