"""`hf`: text-only causal language models (AutoModelForCausalLM) for text tasks."""

from __future__ import annotations

from typing import Any

from lmms_eval.api.messages import ChatMessages
from lmms_eval.api.request import Request
from lmms_eval.errors import ModelError
from lmms_eval.models.hf.base import TransformersBackend
from lmms_eval.models.hf.loading import load_kwargs, resolve_device, split_gguf


class HFCausalLM(TransformersBackend):
    """Simple model: gets plain text prompts, or chat messages with --apply_chat_template."""

    def __init__(
        self,
        pretrained: str,
        revision: str | None = None,
        dtype: str = "auto",
        device: str | None = None,
        device_map: str | None = None,
        attn_implementation: str | None = None,
        trust_remote_code: bool = False,
        gguf_file: str | None = None,
        **rest: Any,
    ) -> None:
        super().__init__(pretrained, **rest)
        from transformers import AutoModelForCausalLM, AutoTokenizer

        folder, gguf = split_gguf(pretrained, gguf_file)
        kwargs = load_kwargs(revision, dtype, device_map, attn_implementation, trust_remote_code, gguf)
        tokenizer_kwargs = {"gguf_file": gguf} if gguf else {}
        try:
            self._tokenizer = AutoTokenizer.from_pretrained(folder, revision=revision, trust_remote_code=trust_remote_code, **tokenizer_kwargs)
            self.model = AutoModelForCausalLM.from_pretrained(folder, **kwargs).eval()
        except (OSError, ValueError) as error:
            raise ModelError(f"cannot load '{pretrained}' as a causal language model: {str(error).splitlines()[0]}") from None
        if self._tokenizer.pad_token_id is None:  # batching needs a pad token; it is masked out anyway
            self._tokenizer.pad_token = self._tokenizer.eos_token
        if device_map is None:
            self.model.to(resolve_device(device))

    @property
    def tokenizer(self) -> Any:
        return self._tokenizer

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
