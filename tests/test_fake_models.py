"""`abplan.testing.FakeModels` (behind the `fake_lm` fixture) registers fake models and removes them."""

from __future__ import annotations

import asyncio

import pytest

import abplan.lm
import abplan.lm.providers
from abplan.errors import ConfigError
from abplan.lm import LMRequest
from abplan.lm.fake import FAKES
from abplan.lm.providers import make_provider
from abplan.testing import FakeModel, FakeModels


def ask(name: str) -> str:
    provider = make_provider("fake", model=f"fake/{name}")
    return asyncio.run(provider.complete(LMRequest.chat(f"fake/{name}", "s", "u"), 1.0)).text


def test_fake_models_answer_until_closed() -> None:
    with FakeModels() as fakes:
        fm = fakes("helper-a", ["one", "two"])
        fakes("helper-b", FakeModel(lambda req: "called"))
        assert ask("helper-a") == "one" and ask("helper-a") == "two" and ask("helper-a") == "two"
        assert ask("helper-b") == "called" and len(fm.calls) == 3
        fakes("helper-a", ["replaced"])  # a name can be scripted again within one test
        assert ask("helper-a") == "replaced"
    assert "helper-a" not in FAKES and "helper-b" not in FAKES
    with pytest.raises(ConfigError, match="fake model 'helper-a' is not registered"):
        make_provider("fake", model="fake/helper-a")


def test_the_fixture_registers_for_one_test(fake_lm: FakeModels) -> None:
    fake_lm("fixture-only", ["hi"])
    assert ask("fixture-only") == "hi"


def test_the_old_import_paths_still_work() -> None:
    assert abplan.lm.FakeModel is abplan.lm.providers.FakeModel is FakeModel
    assert abplan.lm.register_fake is abplan.lm.providers.register_fake
