"""Tiny models, built once per test session (each in well under a second)."""

from __future__ import annotations

from pathlib import Path

import pytest
import tiny_models


@pytest.fixture(scope="session")
def tiny_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("tiny_models")


@pytest.fixture(scope="session")
def qwen_path(tiny_dir) -> Path:
    return tiny_models.build_qwen2_5_vl(tiny_dir)


@pytest.fixture(scope="session")
def llava_path(tiny_dir) -> Path:
    return tiny_models.build_llava(tiny_dir)


@pytest.fixture(scope="session")
def idefics3_path(tiny_dir) -> Path:
    return tiny_models.build_idefics3(tiny_dir)


@pytest.fixture(scope="session")
def text_lm_path(tiny_dir) -> Path:
    return tiny_models.build_text_lm(tiny_dir)


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
