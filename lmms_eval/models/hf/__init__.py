"""Local HuggingFace models through transformers (extra `hf`)."""
