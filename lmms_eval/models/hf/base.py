"""What the transformers backends share: windows of requests, length-sorted batches,
greedy/sampled generation, and log-likelihoods of continuations."""

from __future__ import annotations

import json
from abc import abstractmethod
from collections.abc import Callable, Iterable, Iterator
from typing import Any, ClassVar

from lmms_eval.api.model import Model
from lmms_eval.api.request import Request
from lmms_eval.api.response import Response
from lmms_eval.errors import ModelError
from lmms_eval.models.common import (
    by_generation_settings,
    failed_batch,
    truncate_at_stops,
    windows,
)
from lmms_eval.models.hf.loading import (
    free_memory,
    load_kwargs,
    require_transformers,
    resolve_device,
    split_gguf,
    weights_fingerprint,
)

# Requests are sorted by length within windows of this many batches: sorting everything
# would hold every request's decoded images at once.
SORT_WINDOW_BATCHES = 32


class TransformersBackend(Model):
    """Subclasses load a model and say how a batch of requests becomes model inputs."""

    transport_args = ("device", "device_map", "batch_size", "attn_implementation")
    #: Defaults a named family (e.g. `qwen2_5_vl`) sets; `--model_args` override them.
    family_defaults: ClassVar[dict[str, Any]] = {}

    #: What the backend loads, for error messages ("an image-text-to-text model").
    model_kind: ClassVar[str] = "a model"

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
        batch_size: int = 1,
        max_new_tokens: int = 1024,
        **unused: Any,
    ) -> None:
        super().__init__(**unused)
        if batch_size < 1:
            raise ModelError("batch_size must be at least 1")
        self.pretrained = pretrained
        self.batch_size = int(batch_size)
        self.max_new_tokens = int(max_new_tokens)
        folder, gguf = split_gguf(pretrained, gguf_file)
        weights = load_kwargs(revision, dtype, device_map, attn_implementation, trust_remote_code, gguf)
        try:
            self.model = self._load(folder, gguf, weights)
        except (OSError, ValueError) as error:
            raise ModelError(f"cannot load '{pretrained}' as {self.model_kind}: {str(error).splitlines()[0]}") from None
        if device_map is None:
            self.model.to(resolve_device(device))

    @abstractmethod
    def _load(self, folder: str, gguf_file: str | None, weights: dict[str, Any]) -> Any:
        """Load the tokenizer/processor and return the model (in eval mode)."""

    @classmethod
    def create(cls, model_args: dict[str, Any], *, batch_size: int = 1, device: str | None = None) -> Model:
        require_transformers()
        args = {**cls.family_defaults, "batch_size": batch_size, **model_args}
        if device is not None:
            args.setdefault("device", device)
        if "pretrained" not in args:
            raise ModelError(f"--model_args needs pretrained=<hub id or folder> for {cls.__name__}")
        return cls(**args)

    @property
    def identity(self) -> str:
        return self.pretrained.rstrip("/")

    def weights_fingerprint(self) -> str | None:
        return weights_fingerprint(self.pretrained, self.model)

    def close(self) -> None:
        self.model = None
        free_memory()

    # --- what subclasses provide ------------------------------------------------------------

    @property
    @abstractmethod
    def tokenizer(self) -> Any: ...

    @abstractmethod
    def encode(self, requests: list[Request], padding_side: str) -> dict[str, Any]:
        """Model inputs (tensors) for a batch of contexts, padded on `padding_side`."""

    # --- generation -----------------------------------------------------------------------

    def generate_until(self, requests: Iterable[Request]) -> Iterator[Response]:
        for batch in self._batches(requests):
            try:
                texts = self._generate(batch)
            except ModelError:
                raise  # a request this model can never answer (images to a text model): stop now
            except ValueError as error:  # bad input (an undecodable video): it fails only its own request
                yield from self._one_by_one(batch, error, self.generate_until)
                continue
            except Exception as error:  # noqa: BLE001 - e.g. out of memory: the batch fails, the run goes on
                yield from failed_batch(batch, error)
                continue
            for request, text in zip(batch, texts):
                yield Response.generated(request, truncate_at_stops(text, request.gen_kwargs.get("until")))

    def _generate(self, batch: list[Request]) -> list[str]:
        import torch

        inputs = self._on_device(self.encode(batch, padding_side="left"))
        options = self.generation_options(batch[0].gen_kwargs)
        with torch.inference_mode():
            output = self.model.generate(**inputs, **options)
        new_tokens = output[:, inputs["input_ids"].shape[1] :]
        return self.tokenizer.batch_decode(new_tokens, skip_special_tokens=True)

    def generation_options(self, gen_kwargs: Any) -> dict[str, Any]:
        """Task generation kwargs as `generate()` takes them."""
        sampling = bool(gen_kwargs.get("do_sample", False)) or float(gen_kwargs.get("temperature") or 0) > 0
        options: dict[str, Any] = {
            "max_new_tokens": int(gen_kwargs.get("max_new_tokens") or self.max_new_tokens),
            "do_sample": sampling,
            "num_beams": int(gen_kwargs.get("num_beams") or 1),
            "pad_token_id": self.tokenizer.pad_token_id,
        }
        if sampling:
            options["temperature"] = float(gen_kwargs.get("temperature") or 1.0)
            if gen_kwargs.get("top_p") is not None:
                options["top_p"] = float(gen_kwargs["top_p"])
        else:  # explicit, so a checkpoint's sampling defaults cannot turn greedy decoding off
            options.update(temperature=None, top_p=None, top_k=None)
        stops = [stop for stop in gen_kwargs.get("until") or [] if stop]
        if stops:
            options.update(stop_strings=stops, tokenizer=self.tokenizer)
        return options

    # --- log-likelihood ---------------------------------------------------------------------

    def loglikelihood(self, requests: Iterable[Request]) -> Iterator[Response]:
        for batch in self._batches(requests):
            try:
                scores = self._score(batch)
            except ModelError:
                raise
            except ValueError as error:
                yield from self._one_by_one(batch, error, self.loglikelihood)
                continue
            except Exception as error:  # noqa: BLE001 - as for generation
                yield from failed_batch(batch, error)
                continue
            for request, (logprob, greedy) in zip(batch, scores):
                yield Response.scored(request, logprob, greedy)

    def _score(self, batch: list[Request]) -> list[tuple[float, bool]]:
        """log P(continuation | context) and whether greedy decoding would produce it."""
        import torch

        inputs = self.encode(batch, padding_side="right")
        continuations = [self.tokenizer(request.continuation or "", add_special_tokens=False)["input_ids"] for request in batch]
        if any(not tokens for tokens in continuations):
            raise ModelError("a loglikelihood continuation encodes to no tokens")
        inputs, context_lengths = append_continuations(inputs, continuations, self.tokenizer.pad_token_id or 0)
        inputs = self._on_device(inputs)
        with torch.inference_mode():
            logits = self.model(**inputs).logits.float()
        scores = []
        for row, (length, tokens) in enumerate(zip(context_lengths, continuations)):
            # The logits at position p predict token p + 1.
            predicted = torch.log_softmax(logits[row, length - 1 : length - 1 + len(tokens)], dim=-1)
            target = torch.tensor(tokens, device=predicted.device)
            logprob = predicted.gather(1, target[:, None]).sum().item()
            greedy = bool((predicted.argmax(dim=-1) == target).all())
            scores.append((logprob, greedy))
        return scores

    # --- batching -------------------------------------------------------------------------------

    def _one_by_one(self, batch: list[Request], error: ValueError, run: Callable[[list[Request]], Iterator[Response]]) -> Iterator[Response]:
        """A batch that failed on bad input, asked again one request at a time, so that the
        one whose input is bad fails and the others in its batch are answered."""
        if len(batch) == 1:
            yield from failed_batch(batch, error)
            return
        for request in batch:
            yield from run([request])

    def _batches(self, requests: Iterable[Request]) -> Iterator[list[Request]]:
        """Batches of similar length and identical generation settings, from windows of
        the request stream: padding stays small and memory stays bounded."""
        for window in windows(requests, self.batch_size * SORT_WINDOW_BATCHES):
            for group in by_generation_settings(window):
                group.sort(key=_length, reverse=True)
                for start in range(0, len(group), self.batch_size):
                    yield group[start : start + self.batch_size]

    def _on_device(self, inputs: dict[str, Any]) -> dict[str, Any]:
        device = self.model.device
        return {name: value.to(device) if hasattr(value, "to") else value for name, value in inputs.items()}


def append_continuations(inputs: dict[str, Any], continuations: list[list[int]], pad_id: int) -> tuple[dict[str, Any], list[int]]:
    """Put each row's continuation tokens right after its (right-padded) context.

    Every per-token tensor the processor made (ids, mask, token-type ids) grows with it;
    image tensors are left as they are, since all images sit in the context.
    """
    import torch

    ids, mask = inputs["input_ids"], inputs["attention_mask"]
    context_lengths = [int(length) for length in mask.sum(dim=1)]
    width = max(length + len(tokens) for length, tokens in zip(context_lengths, continuations))
    grown = dict(inputs)
    for name, value in inputs.items():
        if hasattr(value, "shape") and tuple(value.shape) == tuple(ids.shape):
            grown[name] = torch.zeros((ids.shape[0], width), dtype=value.dtype)
            for row, length in enumerate(context_lengths):
                grown[name][row, :length] = value[row, :length]
    grown["input_ids"].fill_(pad_id)
    for row, (length, tokens) in enumerate(zip(context_lengths, continuations)):
        grown["input_ids"][row, :length] = ids[row, :length]
        grown["input_ids"][row, length : length + len(tokens)] = torch.tensor(tokens, dtype=ids.dtype)
        grown["attention_mask"][row, : length + len(tokens)] = 1
    return grown, context_lengths


def _length(request: Request) -> int:
    return len(json.dumps(request.prompt, default=str))
