"""Inference engines driven through their offline Python APIs (extras `vllm`, `sglang`)."""
