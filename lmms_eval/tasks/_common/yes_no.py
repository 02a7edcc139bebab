"""Reading a yes/no answer the way the MME tool does (MME and the demo suite score by it).

Here rather than in mme/utils.py: built-in tasks import shared code only from `_common`,
because `lmms_eval.tasks.mme` resolves to a user's own `mme/` folder first when an
--include_path copy of lmms-eval's library has one.
"""

from __future__ import annotations


def parse_mme_yes_no(text: str) -> str:
    """"yes", "no" or "other", read the way the MME tool reads answers.

    Lower-case, strip, delete every "."; an exact "yes"/"no" is taken as is; a single
    character counts only as "y"/"n"; anything longer is judged by its first four
    characters alone ("yes" anywhere in them wins over "no").
    """
    answer = text.lower().strip().replace(".", "")
    if answer in ("yes", "no"):
        return answer
    if len(answer) == 1:
        return {"y": "yes", "n": "no"}.get(answer, "other")
    prefix = answer[:4]
    if "yes" in prefix:
        return "yes"
    if "no" in prefix:
        return "no"
    return "other"
