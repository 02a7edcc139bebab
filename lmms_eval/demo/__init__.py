"""The bundled demo model: a tiny LLaVA-architecture vision-language model trained on
procedurally generated scenes (coloured shapes on plain backgrounds), and the generator
of those scenes.

- `lmms_eval.demo.scenes`: the scene and question generator (training data and the `demo`
  tasks' data in `lmms_eval/tasks/demo/data/`).
- `lmms_eval.demo.build`: the tokenizer, the processor and the untrained model.
- `lmms_eval.demo.train`: trains the model and writes it to `MODEL_DIR`
  (`python -m lmms_eval.demo.train`).

Evaluate it like any Hub model::

    lmms-eval --model huggingface --model_args pretrained=lmms_eval/demo/model --tasks demo
"""

from __future__ import annotations

from pathlib import Path

MODEL_DIR = Path(__file__).resolve().parent / "model"
TASK_DIR = Path(__file__).resolve().parent.parent / "tasks" / "demo"

__all__ = ["MODEL_DIR", "TASK_DIR"]
