"""Which judge scores a task's open-ended answers, decided once before the first request.

A judge is any registered backend (`--judge_model`, default `openai`) with its own args
(`--judge_args`). Its model name comes, first match wins, from `--judge_args model=`,
lmms-eval's `MODEL_VERSION` environment variable, then the task's default
(`metadata.gpt_eval_model_name`). lmms-eval's `API_TYPE`, `OPENAI_API_KEY` and
`OPENAI_API_URL` fill the args the user did not give. See docs/judges.md.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lmms_eval.errors import ConfigError

#: The task metadata key lmms-eval task YAMLs use to name their default judge model.
DEFAULT_MODEL_KEY = "gpt_eval_model_name"
#: lmms-eval's API_TYPE values that mean "an OpenAI-protocol server" (its azure variant included).
OPENAI_API_TYPES = ("openai", "azure")
#: lmms-eval's OPENAI_API_URL is the full chat endpoint; the openai backend wants its base.
CHAT_PATH = "/chat/completions"

HOW_TO_CONFIGURE = (
    "pass --judge_model openai --judge_args model=NAME,api_key=KEY (or set OPENAI_API_KEY), "
    "or --judge_args base_url=URL for a local OpenAI-compatible judge (docs/judges.md)"
)


@dataclass(frozen=True)
class JudgeSpec:
    """One task's judge: the backend name and the args it is built with (secrets included;
    `public()` is what results record)."""

    backend: str
    args: Mapping[str, Any] = field(default_factory=dict)

    @property
    def model(self) -> str | None:
        value = self.args.get("model")
        return str(value) if value is not None else None

    def public(self) -> dict[str, Any]:
        """The identity results record: everything but the secrets."""
        return {"backend": self.backend, **{key: value for key, value in sorted(self.args.items()) if key != "api_key"}}

    def identity_hash(self) -> str:
        """Stable over runs: part of every judge answer's store key."""
        return hashlib.sha256(json.dumps(self.public(), sort_keys=True, default=str).encode()).hexdigest()[:16]


def task_default_model(metadata: Mapping[str, Any] | None) -> str | None:
    """The task YAML's default judge model, if it names one."""
    value = (metadata or {}).get(DEFAULT_MODEL_KEY)
    return str(value) if value else None


def needs_judge(metadata: Mapping[str, Any] | None) -> bool:
    """A task needs a judge exactly when its YAML names a default judge model."""
    return task_default_model(metadata) is not None


def environment_args(env: Mapping[str, str]) -> dict[str, Any]:
    """The judge args lmms-eval's environment variables give (only those that are set)."""
    args: dict[str, Any] = {}
    if env.get("OPENAI_API_KEY"):
        args["api_key"] = env["OPENAI_API_KEY"]
    url = env.get("OPENAI_API_URL", "").rstrip("/")
    if url:
        args["base_url"] = url[: -len(CHAT_PATH)] if url.endswith(CHAT_PATH) else url
    if env.get("MODEL_VERSION"):
        args["model"] = env["MODEL_VERSION"]
    return args


def resolve_judge(
    task: str,
    metadata: Mapping[str, Any] | None,
    judge_model: str | None,
    judge_args: Mapping[str, Any],
    env: Mapping[str, str] | None = None,
) -> JudgeSpec | None:
    """The task's judge, or None for a task that needs none (it never asks for a key).
    A task that needs one and cannot have one raises ConfigError naming the task."""
    if not needs_judge(metadata) and judge_model is None:
        return None
    env = os.environ if env is None else env
    api_type = env.get("API_TYPE", "openai")
    if judge_model is None and api_type not in OPENAI_API_TYPES:
        raise ConfigError(f"task {task}: API_TYPE={api_type} is not a judge this lmms-eval speaks; {HOW_TO_CONFIGURE}")
    backend = judge_model or "openai"
    args = {**environment_args(env), **dict(judge_args)}
    args.setdefault("model", task_default_model(metadata))
    if args["model"] is None:
        raise ConfigError(f"task {task}: no judge model named; {HOW_TO_CONFIGURE}")
    spec = JudgeSpec(backend, args)
    check_reachable_config(task, spec, env)
    return spec


def check_reachable_config(task: str, spec: JudgeSpec, env: Mapping[str, str]) -> None:
    """Before any request: a backend that declares an api_key secret and talks to its
    vendor's default endpoint needs a key (a local judge given by base_url needs none)."""
    from lmms_eval.models import MODELS

    try:
        backend_class = MODELS.get(spec.backend)
    except Exception as error:  # noqa: BLE001 - the registry's did-you-mean message is the one line
        raise ConfigError(f"task {task}: --judge_model: {error}") from None
    secrets = getattr(backend_class, "secret_args", ())
    has_endpoint = spec.args.get("base_url") or env.get("OPENAI_BASE_URL")
    if "api_key" in secrets and not spec.args.get("api_key") and not has_endpoint:
        raise ConfigError(f"task {task} needs an LLM judge and {spec.backend} has no API key; {HOW_TO_CONFIGURE}")


def resolve_judges(configs: Mapping[str, Any], judge_model: str | None, judge_args: Mapping[str, Any], env: Mapping[str, str] | None = None) -> dict[str, JudgeSpec]:
    """Every selected task's judge, checked before the model is built or asked anything;
    tasks that need no judge are left out (and nothing about keys is asked for them)."""
    judges = {}
    for name, config in configs.items():
        if not needs_judge(config.metadata):
            continue  # --judge_model alone does not make a task judged
        judges[name] = resolve_judge(name, config.metadata, judge_model, judge_args, env)
    return judges
