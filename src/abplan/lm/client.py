"""The one LM client: cache first, then the provider, with bounded concurrency, a rate limit and retries."""

from __future__ import annotations

import asyncio
import logging
import random
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import httpx

from abplan.errors import LMError
from abplan.lm.cache import ResponseCache
from abplan.lm.pricing import cost_of
from abplan.lm.providers import Provider, make_provider
from abplan.lm.types import CacheMiss, LMRequest, LMResponse, ProviderError, clean_text
from abplan.schema import Usage

MAX_TOKENS_CAP = 32768
log = logging.getLogger("abplan")


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stderr` is at the time (the CLI's, or a test runner's capture)."""

    @property  # type: ignore[override]
    def stream(self) -> object:
        return sys.stderr

    @stream.setter
    def stream(self, _value: object) -> None:
        pass


def show_warnings_on_stderr() -> None:
    """Show the `abplan` logger's warnings (each retry) as one short line on stderr. Idempotent."""
    if not any(isinstance(h, _StderrHandler) for h in log.handlers):
        h = _StderrHandler()
        h.setFormatter(logging.Formatter("abplan: %(message)s"))
        h.setLevel(logging.WARNING)
        log.addHandler(h)
        if log.level == logging.NOTSET or log.level > logging.WARNING:
            log.setLevel(logging.WARNING)


@dataclass
class ClientStats:
    requests: int = 0  # HTTP attempts made (including retries)
    retries: int = 0
    cache_hits: int = 0
    usage: Usage = field(default_factory=Usage)


class LMClient:
    """Answers `LMRequest`s. Every answer is cached; in offline mode a miss is recorded as pending.

    Retries: up to `max_retries` more attempts on 408/429/5xx, timeouts, connection errors and invalid
    bodies, with exponential backoff and jitter, honouring Retry-After. A reply cut off by the token
    limit is retried once with double the limit, then reported as an error (never parsed as a short plan).
    """

    def __init__(
        self,
        *,
        cache: ResponseCache | None = None,
        cache_dir: Path | None = None,
        offline: bool = False,
        concurrency: int = 8,
        rpm: float | None = None,
        max_retries: int = 4,
        timeout: float = 300.0,
        backoff: float = 2.0,
        max_backoff: float = 60.0,
        base_url: str | None = None,
        api_key: str | None = None,
        prices: dict[str, tuple[float, float]] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if cache is None and cache_dir is not None:
            cache = ResponseCache.in_dir(cache_dir)
        self.cache = cache
        self.offline = offline
        self.max_retries = max_retries
        self.timeout = timeout
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.base_url = base_url
        self.api_key = api_key
        self.prices = prices
        self.transport = transport
        self.stats = ClientStats()
        self._sem = asyncio.Semaphore(max(1, concurrency))
        self._interval = 60.0 / rpm if rpm else 0.0
        self._next_slot = 0.0
        self._rate_lock = asyncio.Lock()
        self._providers: dict[str, Provider] = {}
        self._inflight: dict[str, list[asyncio.Future[LMResponse]]] = {}  # key: who else waits for it
        self.pending_keys: set[str] = set()  # offline mode: requests recorded for batch export

    def provider_for(self, req: LMRequest) -> Provider:
        name = req.provider or ("local" if self.base_url else "")
        key = name if name != "fake" else req.model
        if key not in self._providers:
            self._providers[key] = make_provider(
                name, base_url=self.base_url, api_key=self.api_key, transport=self.transport, model=req.model
            )
        return self._providers[key]

    async def aclose(self) -> None:
        for p in self._providers.values():
            await p.aclose()
        self._providers.clear()

    async def __aenter__(self) -> LMClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def complete(self, req: LMRequest) -> LMResponse:
        """The answer to `req`, escalating the token limit once if the reply was cut off."""
        resp = await self._complete_once(req)
        if resp.finish_reason == "length":
            bad = [req.key]
            if req.max_tokens < MAX_TOKENS_CAP:
                bigger = replace(req, max_tokens=min(req.max_tokens * 2, MAX_TOKENS_CAP))
                resp2 = await self._complete_once(bigger)
                if resp2.finish_reason != "length":
                    return _merge_usage(resp2, resp)
                bad.append(bigger.key)
            # Both cut-off replies are named so that a retry drops them from the cache and asks again.
            raise LMError(
                f"{req.model}: reply cut off at the token limit ({req.max_tokens} tokens) even after a retry",
                bad_keys=bad,
            )
        return resp

    async def _complete_once(self, req: LMRequest) -> LMResponse:
        key = req.key
        if self.cache is not None:
            hit = self.cache.get(key)
            if hit is not None:
                self.stats.cache_hits += 1
                self._account(hit)
                return hit
        if self.offline:
            if self.cache is not None:
                self.cache.add_pending(req)
            self.pending_keys.add(key)
            raise CacheMiss(key)
        # Identical concurrent requests share one call: each later one waits on a future of its own
        # (made only when there is one), so its cancellation cancels neither the call nor the others.
        if key in self._inflight:
            waiter: asyncio.Future[LMResponse] = asyncio.get_running_loop().create_future()
            self._inflight[key].append(waiter)
            got = await waiter
            return replace(got, cached=True)
        waiters: list[asyncio.Future[LMResponse]] = []
        self._inflight[key] = waiters
        try:
            resp = await self._call_with_retries(req)
            if self.cache is not None:
                await self.cache.store(req, resp)  # group commit: returns once committed
            self._account(resp)
            for w in waiters:
                if not w.done():
                    w.set_result(resp)
            return resp
        except BaseException as e:
            for w in waiters:
                if not w.done():
                    w.set_exception(e)
                    w.exception()  # marked retrieved: its waiter may be cancelled before it wakes
            raise
        finally:
            self._inflight.pop(key, None)

    def _account(self, resp: LMResponse) -> None:
        u = self.stats.usage  # built from numbers already checked: no validation per answer
        self.stats.usage = Usage.model_construct(
            calls=u.calls + (0 if resp.cached else 1),
            cached_calls=u.cached_calls + (1 if resp.cached else 0),
            input_tokens=u.input_tokens + resp.input_tokens,
            output_tokens=u.output_tokens + resp.output_tokens,
            cost_usd=u.cost_usd + (0.0 if resp.cached else resp.cost_usd),
        )

    async def _wait_rate(self) -> None:
        if not self._interval:
            return
        async with self._rate_lock:
            now = time.monotonic()
            wait = self._next_slot - now
            self._next_slot = max(now, self._next_slot) + self._interval
        if wait > 0:
            await asyncio.sleep(wait)

    async def _call_with_retries(self, req: LMRequest) -> LMResponse:
        provider = self.provider_for(req)
        attempt = 0
        while True:
            async with self._sem:
                if self._interval:  # no coroutine made per call when there is no rate limit
                    await self._wait_rate()
                self.stats.requests += 1
                try:
                    async with asyncio.timeout(self.timeout + 5):  # no extra task per call, as wait_for made
                        resp = await provider.complete(req, self.timeout)
                except TimeoutError as e:
                    err: ProviderError = ProviderError(
                        f"{req.model}: request timed out after {self.timeout:.0f}s", retryable=True
                    )
                    err.__cause__ = e
                except ProviderError as e:
                    err = e
                else:
                    if resp.cost_usd < 0:
                        resp = replace(
                            resp,
                            cost_usd=cost_of(req.model, resp.input_tokens, resp.output_tokens, self.prices),
                        )
                    return _answered(resp, req.key)
            if not err.retryable or attempt >= self.max_retries:
                tries = f" after {attempt + 1} attempts" if attempt else ""
                raise LMError(f"{err}{tries}") from err
            attempt += 1
            self.stats.retries += 1
            delay = min(self.max_backoff, self.backoff * 2 ** (attempt - 1)) * (0.5 + random.random() / 2)
            if err.retry_after is not None:
                delay = min(max(delay, err.retry_after), 120.0)
            log.warning("%s; retry %d of %d in %.1fs", err, attempt, self.max_retries, delay)
            await asyncio.sleep(delay)


def _answered(resp: LMResponse, key: str) -> LMResponse:
    """`replace(resp, text=clean_text(resp.text), key=key, cached=False)`, built directly for a plain
    response (`replace` looks its fields up on every call)."""
    if type(resp) is not LMResponse:
        return replace(resp, text=clean_text(resp.text), key=key, cached=False)
    return LMResponse(
        text=clean_text(resp.text),
        finish_reason=resp.finish_reason,
        input_tokens=resp.input_tokens,
        output_tokens=resp.output_tokens,
        cost_usd=resp.cost_usd,
        model=resp.model,
        cached=False,
        key=key,
    )


def _merge_usage(final: LMResponse, cut: LMResponse) -> LMResponse:
    """The tokens and money of the cut-off attempt count too."""
    return replace(
        final,
        input_tokens=final.input_tokens + cut.input_tokens,
        output_tokens=final.output_tokens + cut.output_tokens,
        cost_usd=final.cost_usd + cut.cost_usd,
    )
