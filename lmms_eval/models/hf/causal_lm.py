"""`hf`: text-only causal language models (AutoModelForCausalLM) for text tasks."""

from __future__ import annotations

from typing import Any

from lmms_eval.api.messages import ChatMessages
from lmms_eval.api.request import Request
from lmms_eval.errors import ModelError
from lmms_eval.models.hf.base import TransformersBackend


class HFCausalLM(TransformersBackend):
    """Simple model: gets plain text prompts, or chat messages with --apply_chat_template."""

    model_kind = "a causal language model"

    def _load(self, folder: str, gguf_file: str | None, weights: dict[str, Any]) -> Any:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        tokenizer_kwargs = {"gguf_file": gguf_file} if gguf_file else {}
        self._tokenizer = AutoTokenizer.from_pretrained(
            folder, revision=weights.get("revision"), trust_remote_code=weights["trust_remote_code"], **tokenizer_kwargs
        )
        if self._tokenizer.pad_token_id is None:  # batching needs a pad token; it is masked out anyway
            self._tokenizer.pad_token = self._tokenizer.eos_token
        return AutoModelForCausalLM.from_pretrained(folder, **weights).eval()

    @property
    def tokenizer(self) -> Any:
        return self._tokenizer

    def accepts(self, kind: str) -> bool:
        return False  # text only

    def encode(self, requests: list[Request], padding_side: str) -> dict[str, Any]:
        texts, special_tokens = [], True
        for request in requests:
            if request.visuals or (isinstance(request.context, ChatMessages) and request.context.media()):
                raise ModelError(f"{self.identity} is a text model; task {request.origin.task} sends images")
            if isinstance(request.context, ChatMessages):
                # The template writes its own special tokens (BOS included).
                texts.append(self._tokenizer.apply_chat_template(_text_messages(request.context), tokenize=False, add_generation_prompt=True))
                special_tokens = False
            else:
                texts.append(request.context)
        self._tokenizer.padding_side = padding_side
        return dict(self._tokenizer(texts, padding=True, return_tensors="pt", add_special_tokens=special_tokens))


def _text_messages(messages: ChatMessages) -> list[dict[str, str]]:
    return [{"role": message.role, "content": message.text} for message in messages]
