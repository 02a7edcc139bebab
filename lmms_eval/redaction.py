"""Blanking secrets out of text that leaves the process (files, error messages, log lines).

A secret is found by its value, so the text must hold the whole value when it is
blanked: text is redacted *before* it is shortened, never after (a cut can leave half a
key behind, which no search for the key finds). `Redactor.shorten` is the one way this
project shortens text that may hold a secret, and it does both in that order.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable

REDACTED = "<redacted>"
ELLIPSIS = " ..."  # marks text that was shortened
# Environment variables whose values are credentials wherever they appear.
SECRET_ENVIRONMENT = ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "WANDB_API_KEY")
_MIN_SECRET_LENGTH = 4  # shorter values would blank out ordinary text


class Redactor:
    """Replaces known secret values (and those of SECRET_ENVIRONMENT) in text."""

    def __init__(self, secrets: Iterable[str | None] = ()):
        found = {str(s) for s in secrets if s and len(str(s)) >= _MIN_SECRET_LENGTH}
        found |= {os.environ[name] for name in SECRET_ENVIRONMENT if len(os.environ.get(name, "")) >= _MIN_SECRET_LENGTH}
        # Also as JSON escapes them (quotes, backslashes), since redaction runs on JSON text.
        found |= {json.dumps(secret)[1:-1] for secret in found}
        # Longest first, so a secret that contains another is removed whole.
        ordered = sorted(found, key=len, reverse=True)
        self._pattern = re.compile("|".join(re.escape(s) for s in ordered)) if ordered else None

    def __call__(self, text: str) -> str:
        return self._pattern.sub(REDACTED, text) if self._pattern else text

    def shorten(self, text: str, limit: int) -> str:
        """At most `limit` characters of `text` (plus an ellipsis), secrets blanked first."""
        redacted = self(text)
        return redacted if len(redacted) <= limit else redacted[:limit] + ELLIPSIS
