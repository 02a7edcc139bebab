"""The printed tables: rich in a terminal, lmms-eval's markdown layout elsewhere, from the same cells."""

from __future__ import annotations

import io
import re
import sys

import pytest

from lmms_eval.cli.main import main
from lmms_eval.report.grid import Grid, print_blocks, render_plain


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("COLUMNS", "200")  # rich fits a table to the terminal's width


GRID = Grid(("Task", "Value"), (("colours", "0.7000"), ("[bold]x[/bold]", "1")))


def test_off_a_terminal_the_markdown_layout():
    stream = io.StringIO()
    print_blocks([GRID, "", "WARNING colours: 1 of 2 requests failed"], stream)
    assert stream.getvalue() == (
        "| Task           | Value  |\n"
        "|----------------|--------|\n"
        "| colours        | 0.7000 |\n"
        "| [bold]x[/bold] | 1      |\n"
        "\n"
        "WARNING colours: 1 of 2 requests failed\n"
    )
    assert stream.getvalue() == render_plain([GRID, "", "WARNING colours: 1 of 2 requests failed"]) + "\n"


def test_in_a_terminal_a_rich_table_of_the_same_cells():
    terminal = Terminal()
    print_blocks([GRID, "", "WARNING [x]"], terminal)
    shown = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", terminal.getvalue())
    assert "|---" not in shown and "┃ Task" in shown  # box drawing, not markdown
    assert re.search(r"│ colours\s+│ 0\.7000 │", shown)
    assert "[bold]x[/bold]" in shown and "WARNING [x]" in shown  # cells and lines are text, never rich markup


def cli_run(oracle, colour_task, tmp_path) -> int:
    args = ["--model", "openai", "--model_args", f"base_url={oracle.base_url},model=colour-oracle,price_in_per_mtok=2,price_out_per_mtok=8",
            "--tasks", "colours", "--include_path", str(colour_task)]
    return main(args)


def test_a_run_prints_markdown_off_a_terminal_and_rich_in_one(oracle, colour_task, tmp_path, capsys, monkeypatch):
    assert cli_run(oracle, colour_task, tmp_path) == 0
    plain = capsys.readouterr().out
    assert "| Task    | Version | Filter | n-shot | Metric" in plain and "Total cost: $" in plain
    score_row = next(line for line in plain.splitlines() if line.startswith("| colours") and "exact_match" in line)
    cells = [cell.strip() for cell in score_row.strip("|").split("|")]

    terminal = Terminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    assert cli_run(oracle, colour_task, tmp_path) == 0
    shown = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", terminal.getvalue())
    assert "| Task" not in shown and "┃ Task" in shown and "┃ Req/s" in shown and "Total cost: $" in shown
    rich_row = next(line for line in shown.splitlines() if line.startswith("│ colours") and "exact_match" in line)
    assert [cell.strip() for cell in rich_row.strip("│").split("│")] == cells  # the same cells
