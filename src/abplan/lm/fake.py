"""A scripted model for tests and benchmarks: `fake/<name>` answers with what `register_fake` gave it.

`abplan.testing` offers the same `FakeModel` and pytest fixtures built on it.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable, Sequence

from abplan.errors import ConfigError
from abplan.lm.types import LMRequest, LMResponse, ProviderError
from abplan.registry import Registry

Reply = str | LMResponse | BaseException
ReplyFn = Callable[[LMRequest], Reply | Awaitable[Reply]]


class FakeModel:
    """A scripted model: a list of replies (used in order, the last one repeated) or a callable.

    A reply may be a string, a full `LMResponse`, or an exception to raise (e.g. a `ProviderError`).
    `calls` records every request that reached it.
    """

    def __init__(self, replies: Sequence[Reply] | ReplyFn, latency: float = 0.0) -> None:
        self._replies = replies
        self.latency = latency
        self.calls: list[LMRequest] = []

    async def complete(self, req: LMRequest, timeout: float) -> LMResponse:
        self.calls.append(req)
        if self.latency:
            await asyncio.sleep(self.latency)
        if callable(self._replies):
            got = self._replies(req)
            if type(got) is str:  # the usual reply: nothing to await (and no ABC check to ask)
                reply: Reply = got
            else:
                reply = await got if inspect.isawaitable(got) else got  # type: ignore[assignment]
        else:
            seq = list(self._replies)
            if not seq:
                raise ProviderError("fake model has no scripted replies", retryable=False)
            reply = seq[min(len(self.calls) - 1, len(seq) - 1)]
        if isinstance(reply, BaseException):
            raise reply
        if isinstance(reply, LMResponse):
            return reply
        prompt = sum(len(c) for _, c in req.messages) // 4
        return LMResponse(
            text=reply, input_tokens=prompt, output_tokens=len(reply) // 4, cost_usd=0.0, model=req.model_name
        )

    async def aclose(self) -> None:
        return None


FAKES: Registry[FakeModel] = Registry("fake model")


def register_fake(name: str, model: FakeModel | Sequence[Reply] | ReplyFn) -> FakeModel:
    """Make `fake/<name>` answer with `model` (replacing any earlier one). Its `.calls` count requests."""
    fm = model if isinstance(model, FakeModel) else FakeModel(model)
    FAKES.register(name, fm, replace=True)
    return fm


def unregister_fake(name: str) -> None:
    FAKES.unregister(name)


def fake_model(name: str) -> FakeModel:
    if name not in FAKES:
        raise ConfigError(f"fake model '{name}' is not registered (abplan.lm.register_fake)")
    return FAKES.get(name)
