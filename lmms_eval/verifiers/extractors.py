"""Answer extractors for `VerificationPipeline` (lmms-eval's `lmms_eval.verifiers.extractors`)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

DEFAULT_TAG_PAIRS = (("<think>", "</think>"), ("<thinking>", "</thinking>"))


class StripReasoningExtractor:
    """Removes reasoning blocks between tag pairs; None becomes "", other values their str."""

    def __init__(self, tag_pairs: Sequence[tuple[str, str]] | None = None) -> None:
        pairs = tag_pairs or DEFAULT_TAG_PAIRS
        self._patterns = [re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL) for start, end in pairs]

    def extract(self, prediction: Any) -> str:
        if prediction is None:
            return ""
        text = prediction if isinstance(prediction, str) else str(prediction)
        for pattern in self._patterns:
            text = pattern.sub("", text)
        return text.strip()
