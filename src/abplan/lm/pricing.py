"""USD per million tokens (input, output). A small table; override with the config file's [prices]."""

from __future__ import annotations

PRICES: dict[str, tuple[float, float]] = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1": (2.00, 8.00),
    "gpt-5-mini": (0.25, 2.00),
    "gpt-5": (1.25, 10.00),
    "o3-mini": (1.10, 4.40),
    "o4-mini": (1.10, 4.40),
    "o3": (2.00, 8.00),
    "claude-3-5-sonnet": (3.00, 15.00),
    "claude-3.5-sonnet": (3.00, 15.00),
    "claude-sonnet-4": (3.00, 15.00),
    "claude-haiku-4": (1.00, 5.00),
    "claude-opus-4": (15.00, 75.00),
    "gemini-2.5-flash": (0.30, 2.50),
    "gemini-2.5-pro": (1.25, 10.00),
    "llama-3.1-405b-instruct": (3.00, 3.00),
}
LOCAL_PROVIDERS = {"ollama", "vllm", "llamacpp", "fake", "local"}


def price_of(
    model: str, overrides: dict[str, tuple[float, float]] | None = None
) -> tuple[float, float] | None:
    """Longest matching key wins: 'openai/gpt-4o-mini' matches 'gpt-4o-mini' before 'gpt-4o'."""
    provider, _, name = model.partition("/")
    if overrides and model in overrides:
        return overrides[model]
    if provider in LOCAL_PROVIDERS:
        return (0.0, 0.0)
    table = {**PRICES, **(overrides or {})}
    if model in table:
        return table[model]
    hits = [k for k in table if k in name or k in model]
    return table[max(hits, key=len)] if hits else None


def cost_of(
    model: str, input_tokens: int, output_tokens: int, overrides: dict[str, tuple[float, float]] | None = None
) -> float:
    p = price_of(model, overrides)
    if p is None:
        return 0.0
    return (input_tokens * p[0] + output_tokens * p[1]) / 1_000_000


def total_cost(
    calls: list[tuple[str, int, int]], overrides: dict[str, tuple[float, float]] | None = None
) -> tuple[float | None, list[str]]:
    """USD for (model, input tokens, output tokens) calls, or None when a model has no known price, with
    one note per unpriced model."""
    cost: float | None = 0.0
    notes: list[str] = []
    for model, tin, tout in calls:
        if price_of(model, overrides) is None:
            cost = None
            notes.append(f"no price known for {model}: add it under [prices] in the config file")
        elif cost is not None:
            cost += cost_of(model, tin, tout, overrides)
    return cost, list(dict.fromkeys(notes))
