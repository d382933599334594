"""Ask once, and once more to repair a reply from which nothing usable could be read.

Planners and judges share this: a reply still unusable after the repair is an error that names both
cached replies, so a retry drops them and asks again (it is never read as an empty plan or "no match").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

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
    first = await lm.complete(req)
    value, problem = parse(first.text)
    if problem is None:
        return value, None, [first], None
    repair = repair_request(req, first.text, repair_prompt(problem))
    second = await lm.complete(repair)
    fixed, problem2 = parse(second.text)
    if problem2 is not None:
        raise LMError(
            f"{req.model}: {what} unreadable even after one repair ({problem})",
            bad_keys=[first.key or req.key, second.key or repair.key],
        )
    return fixed, value, [first, second], problem
