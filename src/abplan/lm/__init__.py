"""One LM client for every provider, with an on-disk cache and batch export/import."""

from abplan.lm.cache import ResponseCache
from abplan.lm.client import LMClient
from abplan.lm.fake import FakeModel, register_fake, unregister_fake
from abplan.lm.types import CacheMiss, LMRequest, LMResponse, ProviderError, RequestPending

__all__ = [
    "CacheMiss",
    "FakeModel",
    "LMClient",
    "LMRequest",
    "LMResponse",
    "ProviderError",
    "RequestPending",
    "ResponseCache",
    "register_fake",
    "unregister_fake",
]
