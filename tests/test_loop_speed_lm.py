"""The LM client's cheaper paths give what the general ones give: request keys and cache rows written
from one escape per message, answers built without `replace`, usage summed once, and identical
requests sharing one call."""

from __future__ import annotations

import asyncio
import hashlib
import json
from dataclasses import replace
from pathlib import Path

import pytest

from abplan.errors import ConfigError, LMError
from abplan.fsutil import canonical_json
from abplan.lm import FakeModel, LMClient, register_fake, unregister_fake
from abplan.lm.cache import ResponseCache, _row, _stored_row
from abplan.lm.client import _answered
from abplan.lm.types import _SURROGATE, LMRequest, LMResponse, ProviderError, clean_text, usage_of
from abplan.schema import Usage
from test_loop_speed import TRICKY


# -- request keys and cache rows -----------------------------------------------------------------
def _requests() -> list[LMRequest]:
    reqs = [LMRequest.chat("fake/x", s, u) for s in TRICKY[:4] for u in TRICKY]
    reqs += [
        LMRequest.chat("openai/gpt-4o", "s", "u", json_schema={"b": [1, 2.5, None], "a": "é"}, seed=3),
        LMRequest.chat("m", "s", "u", temperature=None, top_p=0.95, seed=0, max_tokens=1),
        LMRequest.chat("m", "s", "u", temperature=1e-20, top_p=1.0),
        LMRequest.chat("m", "s", "u", temperature=float("nan")),
        LMRequest.chat("m", "s", "u", temperature=float("inf")),
        LMRequest.chat("m", "s", "u", max_tokens=True),  # a bool is written as JSON true
        LMRequest.chat("m", "s", "u", temperature=2),  # an int temperature stays an int
        LMRequest.chat("é/model\x7f", "s", "u"),
        LMRequest(model="m", messages=()),
        LMRequest(
            model="m", messages=(("system", "s"), ("user", "u"), ("assistant", "a\x7f"), ("user", "é"))
        ),
        LMRequest(model="m", messages=(("user", ["not", "text"]),)),  # type: ignore[arg-type]
    ]
    return reqs


def test_request_keys_hash_the_canonical_json_of_the_request() -> None:
    for req in _requests():
        want = hashlib.sha256(canonical_json(req.to_json()).encode("utf-8", "surrogatepass")).hexdigest()
        assert req.key == want, req
        assert req.stored_json == json.dumps(req.to_json()), req
        fresh = LMRequest(**{f: getattr(req, f) for f in ("model", "messages", "temperature", "max_tokens")})
        assert fresh.stored_json == json.dumps(fresh.to_json())  # asked for before the key too


def test_the_stored_row_is_the_row_of_the_request_json() -> None:
    resp = LMResponse(text="the answer é \x7f", input_tokens=3, output_tokens=4, model="x")
    for req in _requests():
        assert _stored_row(req, resp)[:4] == _row(req.key, req.to_json(), resp)[:4]


def test_every_ascii_character_escapes_alike_in_both_encodings_but_del() -> None:
    differ = [c for c in map(chr, range(128)) if json.dumps(c) != json.dumps(c, ensure_ascii=False)]
    assert differ == ["\x7f"]  # the one exception the shared escape allows for


def test_usage_of_sums_as_adding_each_response_in_turn() -> None:
    rs = [
        LMResponse(text="a", input_tokens=3, output_tokens=5, cost_usd=0.1),
        LMResponse(text="b", input_tokens=7, output_tokens=1, cost_usd=0.2, cached=True),
        LMResponse(text="c", input_tokens=0, output_tokens=2, cost_usd=0.7),
    ]
    for n in range(len(rs) + 1):
        want = Usage()
        for r in rs[:n]:
            one = Usage(
                calls=0 if r.cached else 1,
                cached_calls=1 if r.cached else 0,
                input_tokens=r.input_tokens,
                output_tokens=r.output_tokens,
                cost_usd=r.cost_usd,
            )
            want = want.add(one)
        got = usage_of(rs[:n])
        assert got == want and got.model_fields_set == want.model_fields_set, n
    assert usage_of(rs).cost_usd == (0.0 + 0.1) + 0.2 + 0.7  # the float sum, in order


def test_an_answer_is_the_response_replaced_with_its_key_and_clean_text() -> None:
    class Tagged(LMResponse):
        pass

    for text in ["plain", "é", "lone \ud800 surrogate", ""]:
        for resp in (
            LMResponse(
                text=text, finish_reason="length", input_tokens=1, output_tokens=2, cost_usd=0.5, model="m"
            ),
            LMResponse(text=text, cached=True, key="old"),
            Tagged(text=text),
        ):
            got = _answered(resp, "k")
            want = replace(resp, text=_SURROGATE.sub("\ufffd", resp.text), key="k", cached=False)
            assert got == want and type(got) is type(want)
            assert clean_text(text) == _SURROGATE.sub("\ufffd", text)


def test_identical_concurrent_requests_share_one_call_and_its_outcome(tmp_path: Path) -> None:
    fake = register_fake("share", FakeModel(lambda r: "the answer", latency=0.05))
    failing = register_fake(
        "share-fail", FakeModel([ProviderError("refused", retryable=False)], latency=0.05)
    )
    try:

        async def go() -> tuple[list[LMResponse], list[BaseException | LMResponse], bool]:
            async with LMClient(cache_dir=tmp_path) as lm:
                req = LMRequest.chat("fake/share", "s", "q")
                got = await asyncio.gather(*(lm.complete(req) for _ in range(3)))
                bad = LMRequest.chat("fake/share-fail", "s", "q")
                errors = await asyncio.gather(*(lm.complete(bad) for _ in range(2)), return_exceptions=True)
                # A waiter cancelled midway leaves the call and the other callers alone.
                other = LMRequest.chat("fake/share", "s", "other")
                first = asyncio.ensure_future(lm.complete(other))
                second = asyncio.ensure_future(lm.complete(other))
                await asyncio.sleep(0.01)
                second.cancel()
                answer = await first
                return got, [*errors, answer], second.cancelled()

        got, outcomes, cancelled = asyncio.run(go())
    finally:
        unregister_fake("share")
        unregister_fake("share-fail")
    assert len(fake.calls) == 2 and len(failing.calls) == 1
    assert [r.cached for r in got] == [False, True, True] and {r.text for r in got} == {"the answer"}
    assert all(isinstance(e, LMError) and "refused" in str(e) for e in outcomes[:2])
    assert isinstance(outcomes[2], LMResponse) and outcomes[2].text == "the answer" and cancelled


def test_an_unreadable_cache_entry_is_the_guarded_one_line_error(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path / "c.sqlite")
    cache._db.execute("INSERT INTO responses VALUES ('k', 'm', '{}', 'not json', 0)")
    with pytest.raises(ConfigError, match=r"holds an unreadable entry \(JSONDecodeError\)"):
        cache.get("k")
    with pytest.raises(ConfigError) as guarded, cache._guard():
        json.loads("not json")
    with pytest.raises(ConfigError) as direct:
        cache.get("k")
    assert str(direct.value) == str(guarded.value) and type(direct.value.__cause__) is json.JSONDecodeError
    cache.close()
    with pytest.raises(ConfigError, match="is unusable"):
        cache.get("k")  # a closed database: sqlite's error, translated the same way
