"""The import path lmms-eval's ASR task files use for Whisper's text normalisers; the rules
themselves come from the `whisper-normalizer` package (OpenAI Whisper's, unchanged)."""
