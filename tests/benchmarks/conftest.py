"""Fixtures shared by the benchmark tests."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    """Every benchmark test runs on local fixture files: the Hub must not be asked."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
