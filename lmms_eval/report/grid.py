"""A table's cells, computed once and rendered two ways: lmms-eval's markdown layout (a pipe,
a log, a script that parses it) or a rich table (a terminal)."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import TextIO, Union

from lmms_eval.engine.progress import is_terminal


@dataclass(frozen=True)
class Grid:
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]

    def plain(self) -> str:
        """Markdown: `| a | b |` rows padded to each column's width, a `|---|` rule under the header."""
        widths = [max(len(row[i]) for row in (self.header, *self.rows)) for i in range(len(self.header))]

        def line(cells: tuple[str, ...]) -> str:
            return "| " + " | ".join(cell.ljust(width) for cell, width in zip(cells, widths)) + " |"

        separator = "|" + "|".join("-" * (width + 2) for width in widths) + "|"
        return "\n".join([line(self.header), separator, *(line(row) for row in self.rows)])


#: What a report prints: tables and lines of text ("" is a blank line), in order.
Block = Union[Grid, str]


def render_plain(blocks: list[Block]) -> str:
    return "\n".join(block.plain() if isinstance(block, Grid) else block for block in blocks)


def print_blocks(blocks: list[Block], stream: TextIO | None = None) -> None:
    """The one place that chooses: rich tables in a terminal, the markdown text elsewhere."""
    stream = stream if stream is not None else sys.stdout
    if is_terminal(stream):
        _print_rich(blocks, stream)
    else:
        print(render_plain(blocks), file=stream)


def _print_rich(blocks: list[Block], stream: TextIO) -> None:
    from rich.console import Console  # only in a terminal: --help and --tasks list stay fast
    from rich.table import Table
    from rich.text import Text

    console = Console(file=stream, highlight=False)
    for block in blocks:
        if isinstance(block, Grid):  # cells as Text: a task named "[x]" is not rich markup
            table = Table()
            for name in block.header:
                table.add_column(Text(name))
            for row in block.rows:
                table.add_row(*(Text(cell) for cell in row))
            console.print(table)
        else:
            console.print(Text(block))

