"""Secrets are blanked before text is shortened, so no cut leaves part of one behind."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from lmms_eval.redaction import ELLIPSIS, REDACTED, Redactor

KEY = "sk-secret1234567890"


def test_a_secret_across_the_cut_is_blanked_whole(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    text = "x" * 289 + KEY + " and more text after it"
    shortened = Redactor([KEY]).shorten(text, 300)
    assert "sk-" not in shortened and "secret" not in shortened
    assert shortened == ("x" * 289 + REDACTED + " and more text after it")[:300] + ELLIPSIS


def test_short_text_is_kept_whole_without_an_ellipsis(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    assert Redactor([KEY]).shorten(f"key {KEY}", 300) == f"key {REDACTED}"
    assert Redactor().shorten("plain", 5) == "plain"


def test_environment_secrets_are_blanked_too(monkeypatch):
    monkeypatch.setenv("HF_TOKEN", "hf_abcdefghijk")
    assert Redactor().shorten("token=hf_abcdefghijk", 100) == f"token={REDACTED}"


def test_short_values_are_not_secrets(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    assert Redactor(["abc", None, ""])("abc def") == "abc def"


filler = st.text(alphabet="xyz .:", max_size=400)


@given(filler, filler, st.integers(min_value=0, max_value=500))
def test_no_cut_leaves_a_piece_of_a_key(before, after, limit):
    shortened = Redactor([KEY]).shorten(before + KEY + after, limit)
    assert "sk-s" not in shortened and len(shortened) <= limit + len(ELLIPSIS)
