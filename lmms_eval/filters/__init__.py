"""Built-in filters, registered by the names task YAMLs use.

`Filter` is re-exported because lmms-eval task files import it from here.
"""

from __future__ import annotations

from lmms_eval.api.filter import Filter
from lmms_eval.registry import Registry

__all__ = ["FILTERS", "Filter"]

FILTERS: Registry[type] = Registry("filter", entry_point_group="lmms_eval.filters")
for _name, _target in {
    "take_first": "lmms_eval.filters.selection:TakeFirst",
    "take_first_k": "lmms_eval.filters.selection:TakeFirstK",
    "majority_vote": "lmms_eval.filters.selection:MajorityVote",
    "regex": "lmms_eval.filters.extraction:RegexFilter",
    "multi_choice_regex": "lmms_eval.filters.extraction:MultiChoiceRegexFilter",
    "lowercase": "lmms_eval.filters.text:Lowercase",
    "uppercase": "lmms_eval.filters.text:Uppercase",
    "remove_whitespace": "lmms_eval.filters.text:RemoveLeadingWhitespace",
    "map": "lmms_eval.filters.text:MapValues",
    "strip_thinking": "lmms_eval.filters.text:StripThinking",
}.items():
    FILTERS.add_lazy(_name, _target)
