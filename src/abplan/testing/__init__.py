"""Test helpers shipped with abplan: scripted fake models, and a loopback server that speaks OpenAI chat
completions and injects faults.

`FakeModels` registers `fake/<name>` models for one test and removes them afterwards; abplan's own
tests get one from the `fake_lm` fixture (`tests/conftest.py`):

    def test_plan(fake_lm: FakeModels) -> None:
        fm = fake_lm("planner", ["<predictions>...</predictions>"])
        ...  # plan with --model fake/planner; fm.calls holds the requests
"""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType

from abplan.lm.fake import FakeModel, Reply, ReplyFn, register_fake, unregister_fake
from abplan.testing.fault_server import FAULT_KINDS, FaultServer


class FakeModels:
    """Fake models registered for a while: `fm = fakes("name", replies)`; `close()` removes them all."""

    def __init__(self) -> None:
        self._names: list[str] = []

    def __call__(self, name: str, model: FakeModel | Sequence[Reply] | ReplyFn) -> FakeModel:
        """Make `fake/<name>` answer with `model` (replacing an earlier one of that name)."""
        self._names.append(name)
        return register_fake(name, model)

    def close(self) -> None:
        for name in self._names:
            unregister_fake(name)
        self._names.clear()

    def __enter__(self) -> FakeModels:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


__all__ = ["FAULT_KINDS", "FakeModel", "FakeModels", "FaultServer", "register_fake", "unregister_fake"]
