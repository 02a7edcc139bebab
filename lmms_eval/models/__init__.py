"""The model registry: `--model NAME` -> backend class, imported only when chosen.

Third-party packages add backends through the `lmms_eval.models` entry-point group.
"""

from __future__ import annotations

from lmms_eval.registry import Registry

MODELS: Registry[type] = Registry("model", entry_point_group="lmms_eval.models")
MODELS.add_lazy("openai", "lmms_eval.models.api.openai_chat:OpenAIChat", "openai_compatible")
MODELS.add_lazy("anthropic", "lmms_eval.models.api.anthropic_messages:AnthropicMessages", "claude")
MODELS.add_lazy("gemini", "lmms_eval.models.api.gemini_generate:GeminiGenerate", "gemini_api")
MODELS.add_lazy("huggingface", "lmms_eval.models.hf.vlm:HFVisionLanguageModel", "llava_hf", "llava_onevision", "idefics3", "smolvlm")
MODELS.add_lazy("qwen2_5_vl", "lmms_eval.models.hf.vlm:Qwen2VL", "qwen2_vl", "qwen3_vl")
MODELS.add_lazy("gemma3", "lmms_eval.models.hf.vlm:Gemma3")
MODELS.add_lazy("qwen2_audio", "lmms_eval.models.hf.audio_lm:Qwen2Audio")
MODELS.add_lazy("qwen2_5_omni", "lmms_eval.models.hf.omni:Qwen2_5Omni")
MODELS.add_lazy("hf", "lmms_eval.models.hf.causal_lm:HFCausalLM")
MODELS.add_lazy("vllm", "lmms_eval.models.servers.engines:VLLMModel")
MODELS.add_lazy("sglang", "lmms_eval.models.servers.engines:SGLangModel")
