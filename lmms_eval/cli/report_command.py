"""`lmms-eval report PATH...`: the HTML report rebuilt from results and samples files."""

from __future__ import annotations

from pathlib import Path

from lmms_eval.cli.args import Parser


def report_command(argv: list[str]) -> int:
    parser = Parser(
        prog="lmms-eval report",
        description="Build the static HTML report from results and samples files; several runs give one page, a run per column.",
    )
    parser.add_argument("paths", nargs="+", type=Path, help="<stamp>_results.json files, or folders (the newest results file in each)")
    parser.add_argument("--output", type=Path, help="the HTML file to write (default: <stamp>_report.html beside the first results file)")
    args = parser.parse_args(argv)

    from lmms_eval.cli.common import EXIT_OK
    from lmms_eval.report.files import write_atomic
    from lmms_eval.report.html import render_report
    from lmms_eval.report.html_build import results_file, report_path_for, run_from_files

    runs = [run_from_files(path) for path in args.paths]
    target = args.output or report_path_for(results_file(args.paths[0]))
    write_atomic(target, render_report(runs))
    print(target)
    return EXIT_OK
