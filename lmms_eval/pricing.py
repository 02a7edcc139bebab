"""What a run's tokens cost: prices the user gives in model_args, else a small table of
the list prices of the providers the project has backends for.

The prices are per million tokens, in US dollars. A model id is looked up exactly (no
prefix or substring matching): a dated snapshot that is not listed has no price, and the
user can always give one (`price_in_per_mtok=...,price_out_per_mtok=...`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from lmms_eval.errors import ConfigError

PRICE_ARGS = ("price_in_per_mtok", "price_out_per_mtok")

#: The date the table's list prices were read from the providers' pricing pages
#: (standard tier, text input, shortest-context price band, no batch or cache discount).
PRICE_TABLE_DATE = "2025-10-01"

#: provider -> model id -> (input, output) US dollars per million tokens, as of PRICE_TABLE_DATE.
PRICE_TABLE: dict[str, dict[str, tuple[float, float]]] = {
    "openai": {
        "gpt-4o": (2.50, 10.00),
        "gpt-4o-2024-05-13": (5.00, 15.00),
        "gpt-4o-2024-08-06": (2.50, 10.00),
        "gpt-4o-2024-11-20": (2.50, 10.00),
        "gpt-4o-mini": (0.15, 0.60),
        "gpt-4o-mini-2024-07-18": (0.15, 0.60),
        "gpt-4.1": (2.00, 8.00),
        "gpt-4.1-2025-04-14": (2.00, 8.00),
        "gpt-4.1-mini": (0.40, 1.60),
        "gpt-4.1-mini-2025-04-14": (0.40, 1.60),
        "gpt-4.1-nano": (0.10, 0.40),
        "gpt-4.1-nano-2025-04-14": (0.10, 0.40),
        "gpt-4-turbo": (10.00, 30.00),
        "gpt-4-turbo-2024-04-09": (10.00, 30.00),
        "gpt-5": (1.25, 10.00),
        "gpt-5-mini": (0.25, 2.00),
        "gpt-5-nano": (0.05, 0.40),
        "o3": (2.00, 8.00),
        "o4-mini": (1.10, 4.40),
    },
    "anthropic": {
        "claude-sonnet-4-5": (3.00, 15.00),
        "claude-sonnet-4-5-20250929": (3.00, 15.00),
        "claude-opus-4-1-20250805": (15.00, 75.00),
        "claude-opus-4-20250514": (15.00, 75.00),
        "claude-sonnet-4-20250514": (3.00, 15.00),
        "claude-3-7-sonnet-20250219": (3.00, 15.00),
        "claude-3-5-sonnet-20241022": (3.00, 15.00),
        "claude-3-5-sonnet-20240620": (3.00, 15.00),
        "claude-3-5-haiku-20241022": (0.80, 4.00),
        "claude-3-opus-20240229": (15.00, 75.00),
        "claude-3-haiku-20240307": (0.25, 1.25),
    },
    "google": {
        "gemini-2.5-pro": (1.25, 10.00),
        "gemini-2.5-flash": (0.30, 2.50),
        "gemini-2.0-flash": (0.10, 0.40),
        "gemini-2.0-flash-lite": (0.075, 0.30),
        "gemini-1.5-pro": (1.25, 5.00),
        "gemini-1.5-flash": (0.075, 0.30),
    },
}


@dataclass(frozen=True)
class Pricing:
    in_per_mtok: float
    out_per_mtok: float
    source: str  # "model_args", or the price table and its date

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        return (prompt_tokens * self.in_per_mtok + completion_tokens * self.out_per_mtok) / 1_000_000

    def entry(self) -> dict[str, Any]:
        return {"in_per_mtok": self.in_per_mtok, "out_per_mtok": self.out_per_mtok, "source": self.source}


def take_prices(model_args: dict[str, Any], where: str = "--model_args") -> tuple[Pricing | None, dict[str, Any]]:
    """The prices given among the model args (both or neither), and the args without them:
    they are not the backend's, and they must not change the answers' store identity."""
    given = {name: model_args[name] for name in PRICE_ARGS if name in model_args}
    rest = {name: value for name, value in model_args.items() if name not in PRICE_ARGS}
    if not given:
        return None, rest
    missing = [name for name in PRICE_ARGS if name not in given]
    if missing:
        raise ConfigError(f"{where}: {', '.join(given)} needs {', '.join(missing)} too (US dollars per million tokens)")
    prices = [_price(given[name], f"{where}: {name}") for name in PRICE_ARGS]
    return Pricing(prices[0], prices[1], "model_args"), rest


def _price(value: Any, where: str) -> float:
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise ConfigError(f"{where} must be a number of US dollars per million tokens, not {value!r}") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise ConfigError(f"{where} must be a number of US dollars per million tokens (0 or more), not {value!r}")
    return float(value)


def listed_pricing(provider: str | None, model: Any) -> Pricing | None:
    """The table's price for this provider's model id, if it lists one."""
    prices = PRICE_TABLE.get(provider or "", {}).get(model) if isinstance(model, str) else None
    if prices is None:
        return None
    return Pricing(prices[0], prices[1], f"price table ({provider}, list prices of {PRICE_TABLE_DATE})")


def pricing_for(model_class: type, model_id: str, given: Pricing | None) -> Pricing | None:
    """Given prices win; else the table's, for backends that name their provider
    (`model_id` is the backend's identity: the API model id)."""
    if given is not None:
        return given
    return listed_pricing(getattr(model_class, "provider", None), model_id)
