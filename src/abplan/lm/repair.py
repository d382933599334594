"""Ask once, and once more to repair a reply from which nothing usable could be read.

Planners and judges share this: with `ask_with_repair` a reply still unusable after the repair is an
error that names both cached replies, so a retry drops them and asks again (it is never read as an empty
plan or "no match"); `ask_twice` returns it instead, for a caller with a fallback of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from abplan.errors import LMError
from abplan.lm.client import LMClient
from abplan.lm.types import LMRequest, LMResponse

T = TypeVar("T")


def repair_request(req: LMRequest, reply: str, prompt: str) -> LMRequest:
    """`req` continued with the model's unusable `reply` and a request to answer again."""
    return LMRequest(
        model=req.model,
        messages=(*req.messages, ("assistant", reply), ("user", prompt)),
        temperature=req.temperature,
        max_tokens=req.max_tokens,
        json_schema=req.json_schema,
        seed=req.seed,
        tag=f"{req.tag}-repair",
    )


@dataclass(frozen=True)
class Asked(Generic[T]):
    """What `ask_twice` got: the last value read, the unusable first value (when a repair was asked),
    the requests and responses in order, the first reply's problem and the repair's (None: usable)."""

    value: T
    first: T | None
    requests: list[LMRequest]
    responses: list[LMResponse]
    problem: str | None
    repair_problem: str | None

    @property
    def usable(self) -> bool:
        return self.repair_problem is None


async def ask_twice(
    lm: LMClient,
    req: LMRequest,
    parse: Callable[[str], tuple[T, str | None]],
    repair_prompt: Callable[[str], str],
) -> Asked[T]:
    """Ask, and once more to repair an unusable reply; an unreadable repair is returned, not raised."""
    first = await lm.complete(req)
    value, problem = parse(first.text)
    if problem is None:
        return Asked(value, None, [req], [first], None, None)
    repair = repair_request(req, first.text, repair_prompt(problem))
    second = await lm.complete(repair)
    fixed, problem2 = parse(second.text)
    return Asked(fixed, value, [req, repair], [first, second], problem, problem2)


async def ask_with_repair(
    lm: LMClient,
    req: LMRequest,
    parse: Callable[[str], tuple[T, str | None]],
    repair_prompt: Callable[[str], str],
    what: str,
) -> tuple[T, T | None, list[LMResponse], str | None]:
    """`parse(text)` gives (value, problem); problem None means usable.

    Returns (usable value, the unusable first value or None, the responses, the first problem or None).
    """
    got = await ask_twice(lm, req, parse, repair_prompt)
    if not got.usable:
        raise LMError(
            f"{req.model}: {what} unreadable even after one repair ({got.problem})",
            bad_keys=[r.key or q.key for q, r in zip(got.requests, got.responses, strict=True)],
        )
    return got.value, got.first, got.responses, got.problem
