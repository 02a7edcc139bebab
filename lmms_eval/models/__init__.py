"""The model registry: `--model NAME` -> backend class, imported only when chosen.

Third-party packages add backends through the `lmms_eval.models` entry-point group.
"""

from __future__ import annotations

from lmms_eval.registry import Registry

MODELS: Registry[type] = Registry("model", entry_point_group="lmms_eval.models")
MODELS.add_lazy("openai", "lmms_eval.models.api.openai_chat:OpenAIChat", "openai_compatible")
