"""lmms-eval's `lmms_eval.api.metrics` names that task files import.

`levenshtein_distance` is the project's edit distance (lmms_eval/metrics/sample.py).
`anls` keeps lmms-eval's function shape and its small differences from the project's
`anls` metric, because task files that call it are scored by these rules:

- it returns `{"anls": value}` for the first prediction (or the first item of it, when the
  first prediction is itself a list);
- the distance is divided by the longer of the two *unnormalised* strings (the comparison
  itself is lower-cased and whitespace-collapsed);
- a score below `thresh_hold` counts 0, so a score exactly at the threshold is kept
  (the project's metric drops it);
- no references is an error (`ValueError`), not a score of 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lmms_eval.metrics.sample import levenshtein


def levenshtein_distance(first: Sequence[Any], second: Sequence[Any]) -> int:
    """Insertions, deletions and substitutions (cost 1 each) between two sequences."""
    return levenshtein(first, second)  # type: ignore[arg-type]  # any sequence works


def anls(references: Sequence[str], predictions: Sequence[Any], thresh_hold: float = 0.5) -> dict[str, float]:
    prediction = predictions[0] if isinstance(predictions[0], str) else predictions[0][0]
    distances = [_normalised_distance(reference, prediction) for reference in references]
    if not distances:
        raise ValueError("anls: no references to compare the prediction with")
    score = 1 - min(distances)
    return {"anls": score if score >= thresh_hold else 0}


def _normalised_distance(reference: str, prediction: str) -> float:
    longest = max(len(reference), len(prediction))
    if longest == 0:
        return 0.0
    return levenshtein(_collapse(reference), _collapse(prediction)) / longest


def _collapse(text: str) -> str:
    return " ".join(text.strip().lower().split())
