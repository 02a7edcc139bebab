"""Shared fixtures: the local OpenAI-compatible server and task folders built on the fly."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import COLOUR_DOCS, UTILS_PY, write, write_image_parquet

from lmms_eval.testing.server import OracleServer


@pytest.fixture(autouse=True, scope="session")
def _own_plain_png_digests(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The digests of PNG files found plain go to a folder of the test session's, not to
    the user's cache (subprocesses inherit the variable)."""
    os.environ.setdefault("LMMS_EVAL_PNG_CHECKS", str(tmp_path_factory.mktemp("png-checks")))


@pytest.fixture
def oracle() -> Iterator[OracleServer]:
    with OracleServer() as server:
        yield server


@pytest.fixture
def start_oracle() -> Iterator:
    """Start servers with custom settings; every one is stopped after the test."""
    started: list[OracleServer] = []

    def start(**options) -> OracleServer:
        server = OracleServer(**options).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def colour_task(tmp_path: Path) -> Path:
    """A task folder: `colours` on parquet with images, scored by exact match."""
    folder = tmp_path / "tasks"
    write_image_parquet(folder / "data" / "test.parquet", COLOUR_DOCS)
    write(folder / "utils.py", UTILS_PY)
    write(
        folder / "colours.yaml",
        """
        task: colours
        dataset_path: parquet
        dataset_kwargs:
          data_files:
            test: data/test.parquet
        test_split: test
        doc_to_visual: !function utils.doc_to_visual
        doc_to_text: !function utils.doc_to_text
        doc_to_target: answer
        lmms_eval_specific_kwargs:
          default:
            post_prompt: " Answer with one word."
        generation_kwargs:
          max_new_tokens: 16
        metric_list:
          - metric: exact_match
            aggregation: mean
            higher_is_better: true
        metadata:
          version: 2
        """,
    )
    return folder
