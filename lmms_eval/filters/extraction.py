"""Filters that extract an answer from a longer response.

`RegexFilter` and `ExtendedRegexFilter` are also lmms-eval's import paths
(`lmms_eval.filters.extraction`): task folders subclass them, so their attributes and
helper methods keep lmms-eval's names.
"""

from __future__ import annotations

import re
import string
import sys
import unicodedata
from functools import cache
from typing import Any

from lmms_eval.api.filter import ResponseMap


class RegexFilter(ResponseMap):
    """`regex`: the `group_select`-th match of `regex_pattern` (negative counts from the end).

    With capture groups the first non-empty group of that match is kept, stripped. No
    match, a `group_select` past the matches, or an empty match gives `fallback`.
    Attributes as lmms-eval task code reads them: `regex_pattern`, `regex` (compiled),
    `group_select`, `fallback`.
    """

    def __init__(self, regex_pattern: str = r"#### (\-?[0-9\.\,]+)", group_select: int = 0, fallback: str = "[invalid]") -> None:
        super().__init__()
        self.regex_pattern = regex_pattern
        self.regex = re.compile(regex_pattern)
        self.group_select = group_select
        self.fallback = fallback

    def map(self, response: Any, doc: dict[str, Any]) -> Any:
        return self._select(self.regex.findall(response)) or self.fallback

    def _select(self, matches: list[Any]) -> str | None:
        """The chosen match, stripped; None when there is no such match."""
        try:
            match = matches[self.group_select]
        except IndexError:
            return None
        if isinstance(match, tuple):
            match = next((group for group in match if group), "")
        return match.strip()


@cache
def _unicode_punctuation_table() -> dict[int, None]:
    return dict.fromkeys(code for code in range(sys.maxunicode) if unicodedata.category(chr(code)).startswith("P"))


class _PunctuationTable:
    """`punct_tbl`: a `str.translate` table deleting every Unicode punctuation character
    (categories P*). Scanning all code points takes a noticeable fraction of a second, so
    the table is built on first use instead of at import."""

    def __get__(self, instance: Any, owner: type | None = None) -> dict[int, None]:
        return _unicode_punctuation_table()


class ExtendedRegexFilter(RegexFilter):
    """lmms-eval's base class for task filters (9 task files subclass it and override
    `apply`); applied as is, it is `RegexFilter`.

    `filter_ignores(text)`: each of `regexes_to_ignore` removed, then lower-cased with
    `ignore_case`, then punctuation deleted with `ignore_punctuation`.
    `find_match(regex, response, convert_dict)`: the filter's match rule for any compiled
    pattern, mapped through `convert_dict`; no match gives an empty list (falsy, as task
    code tests it), not `fallback`.
    """

    punct_tbl = _PunctuationTable()

    def __init__(
        self,
        regex_pattern: str = r"#### (\-?[0-9\.\,]+)",
        group_select: int = 0,
        fallback: str = "[invalid]",
        ignore_case: bool = False,
        ignore_punctuation: bool = False,
        regexes_to_ignore: list[str] | None = None,
    ) -> None:
        super().__init__(regex_pattern, group_select, fallback)
        self.ignore_case = ignore_case
        self.ignore_punctuation = ignore_punctuation
        self.regexes_to_ignore = regexes_to_ignore

    def filter_ignores(self, st: str) -> str:
        for pattern in self.regexes_to_ignore or ():
            st = re.sub(pattern, "", st)
        if self.ignore_case:
            st = st.lower()
        if self.ignore_punctuation:
            st = st.translate(self.punct_tbl)
        return st

    def find_match(self, regex: re.Pattern[str], resp: str, convert_dict: dict[str, Any] | None = None) -> Any:
        match = self._select(regex.findall(resp))
        if match is None:
            return []
        if match and convert_dict and match in convert_dict:
            return convert_dict[match]
        return match


class MultiChoiceRegexFilter(ExtendedRegexFilter):
    """`multi_choice_regex`: read a choice letter out of a free-form answer.

    In order: the task's own `regex_pattern` (case-insensitive with `ignore_case`); the text
    of one of the doc's choices (from `choices_key`, default "choices") mapped to its letter,
    both compared after `filter_ignores`; a lone letter such as "B", "(B)" or "B." . The
    result is "(B)"; with nothing found, `fallback`.
    """

    def __init__(
        self,
        regex_pattern: str = r"\(([A-Z])\)",
        group_select: int = 0,
        fallback: str = "[invalid]",
        ignore_case: bool = False,
        ignore_punctuation: bool = False,
        choices_key: str = "choices",
        regexes_to_ignore: list[str] | None = None,
    ) -> None:
        super().__init__(regex_pattern, group_select, fallback, ignore_case, ignore_punctuation, regexes_to_ignore)
        if ignore_case:
            self.regex = re.compile(regex_pattern, re.IGNORECASE)
        self.choices_key = choices_key

    def map(self, response: Any, doc: dict[str, Any]) -> Any:
        found = super().map(response, doc)
        if found != self.fallback:
            letter = found.strip("() .")
            letter = letter.upper() if self.ignore_case else letter
            return f"({letter})" if len(letter) == 1 else found
        letter = self._letter_from_choice_text(response, doc) or self._lone_letter(response, doc)
        return f"({letter})" if letter else self.fallback

    def _normalise(self, text: str) -> str:
        return self.filter_ignores(text).strip()

    def _choices(self, doc: dict[str, Any]) -> list[str]:
        choices = doc.get(self.choices_key) or []
        return [str(choice) for choice in choices]

    def _letter_from_choice_text(self, response: str, doc: dict[str, Any]) -> str | None:
        normalised = self._normalise(response)
        texts = [self._normalise(choice) for choice in self._choices(doc)]
        found = [index for index, text in enumerate(texts) if text and text in normalised]
        # The longest choice found wins: "12" also contains "1", "black cat" also "cat".
        return string.ascii_uppercase[max(found, key=lambda index: len(texts[index]))] if found else None

    def _lone_letter(self, response: str, doc: dict[str, Any]) -> str | None:
        count = len(self._choices(doc)) or 26
        letters = string.ascii_uppercase[:count]
        match = re.search(rf"(?:^|[\s(])([{letters}])(?:$|[\s).:,])", response.strip())
        return match.group(1) if match else None
