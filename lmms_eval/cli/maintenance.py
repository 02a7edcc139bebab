"""`lmms-eval rescore` and `lmms-eval cache`: working on past runs without a model."""

from __future__ import annotations

from pathlib import Path

from lmms_eval.cli.args import Parser
from lmms_eval.api.reasoning import DEFAULT_REASONING_TAGS
from lmms_eval.config import DEFAULT_SEEDS


def rescore_command(argv: list[str]) -> int:
    parser = Parser(
        prog="lmms-eval rescore",
        description="Score logged answers again with the current task code (filters, metrics, aggregation), without loading any model.",
    )
    parser.add_argument("paths", nargs="+", type=Path, help="samples JSONL files, or output folders to search for them")
    parser.add_argument("--include_path", action="append", default=[], help="folder of the tasks' YAMLs, if not built in; repeatable")
    parser.add_argument("--output_path", type=Path, help="where to write the new results (default: beside the first samples file)")
    parser.add_argument("--bootstrap_iters", type=int, default=100000, help="as for an evaluation")
    parser.add_argument("--seed", default=",".join(map(str, DEFAULT_SEEDS)), help="as for an evaluation (the bootstrap uses the first)")
    parser.add_argument("--reasoning_tags", default=DEFAULT_REASONING_TAGS, help="as for an evaluation (default: <think> and <analysis> blocks)")
    parser.add_argument("--judge_model", help="re-judge judged tasks with this backend (as for an evaluation; docs/judges.md)")
    parser.add_argument("--judge_args", default="", help="the judge backend's args, k=v,... (as for an evaluation)")
    parser.add_argument("--judge_repeats", type=int, default=1, help="ask each judge question this many times and report the spread")
    parser.add_argument("--use_cache", help="response store: judge answers in it are reused, new ones stored")
    args = parser.parse_args(argv)

    from lmms_eval.cli.common import configure_logging, logger, report_end, report_unwritten
    from lmms_eval.report.writer import OutputWriter
    from lmms_eval.rescore import JudgeChoice, find_sample_files, rescore

    configure_logging("INFO")
    output_folder = args.output_path or find_sample_files(args.paths)[0].parent.parent
    writer = OutputWriter(output_folder)
    writer.check_writable()
    judging = JudgeChoice(args.judge_model, args.judge_args, args.judge_repeats, args.use_cache)
    evaluation = rescore(args.paths, args.include_path, args.bootstrap_iters, args.seed, output_folder, args.reasoning_tags, judging)
    path = writer.finish(evaluation)
    if not writer.errors:
        logger.info("wrote %s", path)
    status = report_end(evaluation)
    return report_unwritten(writer, "the samples logs are unchanged") if writer.errors else status


def prepare_command(argv: list[str]) -> int:
    parser = Parser(
        prog="lmms-eval prepare",
        description="Download and cache every dataset the tasks need, so a later run works with HF_HUB_OFFLINE=1. "
        "Mirrors work through HF_ENDPOINT.",
    )
    parser.add_argument("--tasks", required=True, help="comma-separated tasks, groups, tags or wildcards, as for an evaluation")
    parser.add_argument("--include_path", action="append", default=[], help="extra task folder; repeatable")
    args = parser.parse_args(argv)

    from tqdm import tqdm

    from lmms_eval.cli.listing import columns
    from lmms_eval.cli.common import configure_logging
    from lmms_eval.taskdefs.index import TaskIndex
    from lmms_eval.taskdefs.prepare import prepare

    configure_logging("WARNING")
    selection = TaskIndex.build(args.include_path).select([name.strip() for name in args.tasks.split(",") if name.strip()])
    prepared = list(tqdm(prepare(selection), desc="datasets", unit="split", disable=None))
    rows = [(entry.task, entry.split, str(entry.rows), "in place" if entry.read_in_place else f"{entry.cache_bytes / 1e6:.1f}") for entry in prepared]
    total = sum(entry.cache_bytes for entry in prepared) / 1e6
    print(columns(rows, ("Task", "Split", "Rows", "Cache MB")))
    print(f"\n{len(prepared)} splits of {len(selection.configs)} tasks ready; {total:.1f} MB in the datasets cache")
    if any(entry.read_in_place for entry in prepared):
        print("in place: the task's own parquet files are read directly, so nothing is cached for it")
    media = {entry.media_folder: entry.media_bytes for entry in prepared if entry.media_folder}
    for folder, size in media.items():
        print(f"videos: {folder} ({size / 1e6:.1f} MB extracted)")
    bad_rows = [f"{entry.task} {entry.split} doc {doc_id}: {reason}" for entry in prepared for doc_id, reason in entry.undecodable]
    if bad_rows:  # a run records these docs as bad_input failures and scores the rest
        print("\n" + "\n".join(bad_rows) + f"\n{len(bad_rows)} rows whose media do not decode; a run does not ask about them")
    return 0


def cache_command(argv: list[str]) -> int:
    from lmms_eval.cli.args import HelpFormatter

    parser = Parser(
        prog="lmms-eval cache",
        description="Inspect or clear a response store: the SQLite file a run given --use_cache FILE keeps its answers in.",
        epilog="examples:\n  lmms-eval cache info answers.db\n  lmms-eval cache clear answers.db --empty\n"
        "  lmms-eval cache clear answers.db --model openai:gpt-4o --task mme",
        formatter_class=HelpFormatter,
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="{info,clear}")
    info = actions.add_parser(
        "info",
        help="answers by model and task, and the file's size",
        description="Show how many answers the store holds for each model and task, how many are empty, and the file's size. "
        "Reads the file without changing it; a file that is not a store (or is corrupted) is refused.",
    )
    info.add_argument("path", type=Path, help="the store file (as given to --use_cache)")
    clear = actions.add_parser(
        "clear",
        help="delete stored answers (all, one model's or task's, or the empty ones)",
        description="Delete stored answers, so that the next run with this store asks for them again. "
        "Without options every answer is deleted; --model, --task and --empty narrow that down and combine.",
        epilog="examples:\n  lmms-eval cache clear answers.db --empty     # ask the empty answers again\n"
        "  lmms-eval cache clear answers.db --task mme",
        formatter_class=HelpFormatter,
    )
    clear.add_argument("path", type=Path, help="the store file (as given to --use_cache)")
    clear.add_argument("--model", help="only this model's answers: its label as `cache info` shows it, e.g. openai:gpt-4o")
    clear.add_argument("--task", help="only this task's answers")
    clear.add_argument("--empty", action="store_true", help="only answers that are empty or whitespace (scored as wrong)")
    args = parser.parse_args(argv)

    from lmms_eval.store.sqlite import ResponseStore

    store = ResponseStore(args.path, create=False, read_only=args.action == "info")
    try:
        if args.action == "clear":
            deleted = store.clear(model=args.model, task=args.task, empty=args.empty)
            print(f"deleted {deleted} {'empty ' if args.empty else ''}answers from {args.path}")
        else:
            print(_info_text(store))
    finally:
        store.close()
    return 0


def _info_text(store) -> str:
    from lmms_eval.cli.listing import columns

    summary = store.summary()
    total = sum(entry.answers for entry in summary)
    rows = [(entry.model, entry.task, str(entry.answers)) for entry in summary]
    empty = store.empty_answers()
    header = f"{store.path}: {total} answers ({empty} empty), {store.size_bytes() / 1e6:.2f} MB"
    return header + ("\n\n" + columns(rows, ("Model", "Task", "Answers")) if rows else "")
