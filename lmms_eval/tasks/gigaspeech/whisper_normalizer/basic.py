"""`lmms_eval.tasks.gigaspeech.whisper_normalizer.basic`: Whisper's basic normaliser."""

from whisper_normalizer.basic import BasicTextNormalizer

__all__ = ["BasicTextNormalizer"]
