"""`lmms_eval.tasks.gigaspeech.whisper_normalizer.english`: Whisper's English normaliser."""

from whisper_normalizer.english import EnglishTextNormalizer

__all__ = ["EnglishTextNormalizer"]
