"""Speech recognition scoring: the Qwen-Audio recipe lmms-eval's ASR tasks use, and the
`lmms_eval.tasks.asr_wer_utils` names their task files import.

The rule (shared/benchmarks.md §26): strip `<|...|>` tags and stray spaces (`remove_sp`),
normalise (Whisper's English normaliser, then its basic one, for English), tokenise (lower
case, drop tokens made only of punctuation), then **corpus** WER: total word edits over total
reference words. Edit distances come from jiwer; the normalisers from `whisper-normalizer`,
which carries OpenAI Whisper's rules unchanged.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Collection, Sequence

_SPECIAL_TAG = re.compile(r"<\|.*?\|>")
_SPACES = re.compile(r"\s+")

Normalizer = Callable[[str], str]


def remove_sp(text: str, language: str, *, puncs: str = "!,.?;:", no_space_languages: Collection[str] = ()) -> str:
    """Special tags become spaces, spaces collapse, a space before punctuation goes."""
    text = _SPACES.sub(" ", _SPECIAL_TAG.sub(" ", text))
    text = re.sub(f" ([{re.escape(puncs)}])", r"\1", text).lstrip()
    if language in no_space_languages:
        text = _SPACES.sub("", text)
    return text


def _is_punctuation_token(token: str) -> bool:
    return all(unicodedata.category(char).startswith("P") for char in token)


class EvaluationTokenizer:
    """Tokenise before counting errors. `none` is built in (the ASR tasks use only it); the
    sacrebleu types (13a, intl, zh, ja-mecab, char) need sacrebleu installed."""

    SPACE = "\u2581"
    ALL_TOKENIZER_TYPES = ("none", "13a", "intl", "zh", "ja-mecab", "char")

    def __init__(self, tokenizer_type: str = "13a", lowercase: bool = False, punctuation_removal: bool = False, character_tokenization: bool = False):
        assert tokenizer_type in self.ALL_TOKENIZER_TYPES, f"{tokenizer_type}, {self.ALL_TOKENIZER_TYPES}"
        self.tokenizer_type = tokenizer_type
        self.lowercase = lowercase
        self.punctuation_removal = punctuation_removal
        self.character_tokenization = character_tokenization

    @classmethod
    def remove_punctuation(cls, sent: str) -> str:
        return " ".join(token for token in sent.split(" ") if not _is_punctuation_token(token))

    def _base_tokenize(self, sent: str) -> str:
        if self.tokenizer_type == "none":
            return sent
        from sacrebleu.tokenizers import get_tokenizer  # optional: only the sacrebleu types need it

        return get_tokenizer(self.tokenizer_type)()(sent)

    def tokenize(self, sent: str) -> str:
        tokenized = self._base_tokenize(sent)
        if self.punctuation_removal:
            tokenized = self.remove_punctuation(tokenized)
        if self.character_tokenization:
            tokenized = " ".join(list(tokenized.replace(" ", self.SPACE)))
        if self.lowercase:
            tokenized = tokenized.lower()
        return tokenized


def normalize_text(
    text: str,
    language: str,
    *,
    english_languages: Collection[str] = (),
    chinese_languages: Collection[str] = (),
    yue_languages: Collection[str] = (),
    yue_converter: Callable[[str, str], str] | None = None,
    english_normalizer: Normalizer | None = None,
    chinese_normalizer: Normalizer | None = None,
    basic_normalizer: Normalizer | None = None,
) -> str:
    """One text through the language's normalisers, in the recipe's order: the basic one runs
    after the English one (so English gets both), the Chinese one instead of it."""
    if language in yue_languages and yue_converter is not None:
        text = yue_converter(text, "zh-cn")
    if language in english_languages and english_normalizer is not None:
        text = english_normalizer(text)
    if language in chinese_languages:
        return chinese_normalizer(text) if chinese_normalizer is not None else text
    return basic_normalizer(text) if basic_normalizer is not None else text


_WORD_TOKENIZER = EvaluationTokenizer("none", lowercase=True, punctuation_removal=True)


def corpus_error_rate(references: Sequence[Sequence[str]], hypotheses: Sequence[Sequence[str]]) -> float:
    """Total edit distance over total reference tokens, as a fraction (tokens already split)."""
    if len(references) != len(hypotheses):
        raise ValueError(f"{len(references)} references but {len(hypotheses)} hypotheses")
    total = sum(len(tokens) for tokens in references)
    if total == 0:
        raise ValueError("no reference words: the error rate is undefined")
    return sum(_edit_distance(ref, hyp) for ref, hyp in zip(references, hypotheses)) / total


def _edit_distance(reference: Sequence[str], hypothesis: Sequence[str]) -> int:
    if not reference:
        return len(hypothesis)
    import jiwer

    # jiwer takes whitespace-joined words; tokens never hold spaces (they were split on them).
    alignment = jiwer.process_words(" ".join(reference), " ".join(hypothesis) if hypothesis else "")
    return alignment.substitutions + alignment.deletions + alignment.insertions


def compute_wer(
    refs: Sequence[str],
    hyps: Sequence[str],
    language: str,
    *,
    yue_languages: Collection[str] = (),
    english_languages: Collection[str] = (),
    chinese_languages: Collection[str] = (),
    char_languages: Collection[str] = (),
    yue_converter: Callable[[str, str], str] | None = None,
    english_normalizer: Normalizer | None = None,
    chinese_normalizer: Normalizer | None = None,
    basic_normalizer: Normalizer | None = None,
) -> float:
    """Corpus word (or, for `char_languages`, character) error rate, as a fraction."""
    options = dict(
        english_languages=english_languages, chinese_languages=chinese_languages, yue_languages=yue_languages,
        yue_converter=yue_converter, english_normalizer=english_normalizer,
        chinese_normalizer=chinese_normalizer, basic_normalizer=basic_normalizer,
    )  # fmt: skip

    def tokens(text: str) -> list[str]:
        words = _WORD_TOKENIZER.tokenize(normalize_text(text, language, **options)).split()
        return list("".join(words)) if language in char_languages else words

    return corpus_error_rate([tokens(ref) for ref in refs], [tokens(hyp) for hyp in hyps])


def english_normalizers() -> tuple[Normalizer, Normalizer]:
    """Whisper's English and basic normalisers (from the `whisper-normalizer` package)."""
    from whisper_normalizer.basic import BasicTextNormalizer
    from whisper_normalizer.english import EnglishTextNormalizer

    return EnglishTextNormalizer(), BasicTextNormalizer()


def zhconv_convert(text: str, target: str) -> str:
    import zhconv  # optional: only Cantonese tasks need it

    return zhconv.convert(text, target)
