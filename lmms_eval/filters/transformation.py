"""lmms-eval's `lmms_eval.filters.transformation.MapFilter`, which task folders subclass
(number words to digits, say) and whose `apply` they override."""

from __future__ import annotations

from typing import Any

from lmms_eval.filters.text import MapValues


class MapFilter(MapValues):
    """Each response replaced by `mapping_dict[response]`; an unknown response becomes
    `default_value`, None included.

    That last rule is where it differs from the `map` filter (`MapValues`), which keeps an
    unknown response when no `default_value` is given. Task code reads `mapping_dict` and
    `default_value`.
    """

    def __init__(self, mapping_dict: dict[Any, Any] | None = None, default_value: Any = None) -> None:
        mapping_dict = {} if mapping_dict is None else mapping_dict
        if not isinstance(mapping_dict, dict):
            raise AssertionError(f"MapFilter: mapping_dict must be a dict, not {type(mapping_dict).__name__}")
        super().__init__(mapping_dict, default_value)
        self.mapping_dict = mapping_dict

    def map(self, response: Any, doc: dict[str, Any]) -> Any:
        return self.mapping_dict.get(response, self.default_value)
