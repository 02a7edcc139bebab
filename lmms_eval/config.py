"""RunConfig: one evaluation's settings. Defaults < --config YAML < explicit flags."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from lmms_eval.errors import ConfigError

DEFAULT_SEEDS = (0, 1234, 1234, 1234)  # python random, numpy, torch, few-shot sampling


@dataclass
class RunConfig:
    model: str = "openai"
    model_args: str | dict[str, Any] = ""
    tasks: list[str] = field(default_factory=list)
    include_path: list[str] = field(default_factory=list)
    limit: float | None = None
    offset: int = 0
    batch_size: int = 1
    device: str | None = None
    gen_kwargs: str | dict[str, Any] = ""
    num_fewshot: int | None = None
    apply_chat_template: bool = False
    fewshot_as_multiturn: bool = False
    system_instruction: str | None = None
    output_path: str | None = None
    log_samples: bool = False
    log_samples_suffix: str = "model_outputs"
    predict_only: bool = False
    seed: str | int | list[int] = "0,1234,1234,1234"
    bootstrap_iters: int = 100000
    verbosity: str = "INFO"
    show_config: bool = False
    use_cache: str | None = None

    @classmethod
    def keys(cls) -> set[str]:
        return {f.name for f in fields(cls)}

    @classmethod
    def from_layers(cls, file_values: dict[str, Any], flag_values: dict[str, Any]) -> RunConfig:
        unknown = sorted(set(file_values) - cls.keys())
        if unknown:
            raise ConfigError(f"--config: unknown key(s) {', '.join(unknown)}")
        merged = {**file_values, **flag_values}
        if isinstance(merged.get("tasks"), str):
            merged["tasks"] = [name.strip() for name in merged["tasks"].split(",") if name.strip()]
        if isinstance(merged.get("include_path"), str):
            merged["include_path"] = [merged["include_path"]]
        config = cls(**merged)
        config.validate()
        return config

    def validate(self) -> None:
        if not self.tasks:
            raise ConfigError("no tasks given: pass --tasks NAME[,NAME...] (or --tasks list to see them)")
        if self.limit is not None and self.limit <= 0:
            raise ConfigError("--limit must be positive (an int, or a fraction below 1)")
        if self.offset < 0:
            raise ConfigError("--offset must not be negative")
        if self.fewshot_as_multiturn and not self.apply_chat_template:
            raise ConfigError("--fewshot_as_multiturn needs --apply_chat_template")
        if self.predict_only:
            self.log_samples = True
        if self.log_samples and not self.output_path:
            raise ConfigError("--log_samples (and --predict_only) need --output_path")
        self.seeds()  # fail early on a malformed --seed

    def seeds(self) -> tuple[int, int, int, int]:
        """--seed: one int for all four seeds, or four comma-separated values."""
        raw = self.seed
        values = raw if isinstance(raw, list) else [raw] if isinstance(raw, int) else str(raw).split(",")
        try:
            parsed = [int(value) for value in values]
        except ValueError:
            raise ConfigError(f"--seed must be an int or four comma-separated ints, not {raw!r}") from None
        if len(parsed) == 1:
            parsed *= 4
        if len(parsed) != 4:
            raise ConfigError(f"--seed takes one or four values, not {len(parsed)}")
        return tuple(parsed)  # type: ignore[return-value]

    def parsed_model_args(self) -> dict[str, Any]:
        return parse_key_values(self.model_args, "--model_args")

    def parsed_gen_kwargs(self) -> dict[str, Any]:
        return parse_key_values(self.gen_kwargs, "--gen_kwargs")

    def output_dir(self) -> Path | None:
        return Path(self.output_path) if self.output_path else None


def parse_key_values(raw: str | dict[str, Any] | None, flag: str) -> dict[str, Any]:
    """`k=v,k=v` with values typed as bool, int, float or None where they look like one."""
    if isinstance(raw, dict):
        return dict(raw)
    parsed: dict[str, Any] = {}
    for item in (raw or "").split(","):
        if not item.strip():
            continue
        key, separator, value = item.partition("=")
        if not separator or not key.strip():
            raise ConfigError(f"{flag}: '{item}' is not key=value")
        parsed[key.strip()] = parse_scalar(value.strip())
    return parsed


def parse_scalar(text: str) -> Any:
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("none", "null"):
        return None
    for convert in (int, float):
        try:
            return convert(text)
        except ValueError:
            pass
    return text
