"""`api.plan_setup` and `api.run_plan`: the checks and the client lifecycle that `abplan plan` and
`aplan_paper` share."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from abplan import load_paper
from abplan.api import aplan_paper, plan_setup, run_plan
from abplan.config import load_settings
from abplan.errors import ConfigError, InputError, PendingRequests
from abplan.lm import LMClient
from abplan.testing import FakeModels
from conftest import EXAMPLE

PLAN_REPLY = (
    "<discussion>d</discussion>\n<predictions>\n"
    + json.dumps({"name": "No dropout", "ablated_part": "dropout", "action": "REMOVE", "metrics": ["BPD"]})
    + "\n</predictions>"
)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"mode": "critic"}, ConfigError, r"^mode must be one of author, reviewer, not 'critic'$"),
        ({"k": 0}, ConfigError, r"^k must be at least 1$"),
        ({"planner": "stagd"}, InputError, r"^unknown planner 'stagd' \(did you mean 'staged'\?\)"),
        (
            {"planner": "lm"},
            ConfigError,
            r"^the lm planner needs a model: --model provider/name or ABPLAN_MODEL$",
        ),
    ],
)
def test_plan_setup_checks_before_anything_is_read(
    kwargs: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        plan_setup(**kwargs)


def test_plan_setup_resolves_auto_and_names_the_model() -> None:
    offline = plan_setup(model="fake/x", planner="offline", extra={"samples": 3})
    assert (offline.name, offline.model, offline.options.extra) == ("offline", None, {"samples": 3})
    auto = plan_setup(model="fake/x", k=2, temperature=0.5)
    # with a model, auto is the staged recipe (it won in both modes on the development set)
    assert (auto.name, auto.model, auto.options.top_k, auto.options.temperature) == (
        "staged",
        "fake/x",
        2,
        0.5,
    )
    assert plan_setup().name == "offline"


def test_run_plan_makes_and_closes_its_client_and_adds_the_study(
    tmp_path: Path, fake_lm: FakeModels, monkeypatch: pytest.MonkeyPatch
) -> None:
    fm = fake_lm("runner", [PLAN_REPLY, "{}"])  # an empty study: the rules' figures stand
    closed: list[LMClient] = []
    real_close = LMClient.aclose

    async def spy(self: LMClient) -> None:
        closed.append(self)
        await real_close(self)

    monkeypatch.setattr(LMClient, "aclose", spy)
    paper = load_paper(EXAMPLE)
    settings = load_settings(cache_dir=tmp_path / "cache")
    setup = plan_setup(planner="lm", model="fake/runner")
    plan = asyncio.run(run_plan(setup, paper, settings, study=True))
    assert [a.name for a in plan.ablations] == ["No dropout"]
    assert [c.tag for c in fm.calls] == ["plan", "study"]
    assert "study" in plan.stages and plan.usage.calls == 2
    assert len(closed) == 1


def test_run_plan_offline_counts_the_pending_requests(tmp_path: Path, fake_lm: FakeModels) -> None:
    fm = fake_lm("pending", [PLAN_REPLY])
    paper = load_paper(EXAMPLE)
    settings = load_settings(cache_dir=tmp_path / "cache")
    setup = plan_setup(planner="consensus", model="fake/pending", extra={"samples": 3})
    with pytest.raises(PendingRequests) as got:
        asyncio.run(run_plan(setup, paper, settings, offline=True))
    assert got.value.count == 3 and fm.calls == []  # all three samples recorded, none sent
    with pytest.raises(PendingRequests):  # the API call goes the same way
        asyncio.run(aplan_paper(paper, planner="lm", model="fake/pending", settings=settings, offline=True))


def test_run_plan_uses_a_given_client_and_leaves_it_open(tmp_path: Path, fake_lm: FakeModels) -> None:
    fake_lm("given", [PLAN_REPLY])
    paper = load_paper(EXAMPLE)
    settings = load_settings(cache_dir=tmp_path / "cache")

    async def go() -> int:
        lm = LMClient(cache_dir=tmp_path / "own")
        try:
            await run_plan(plan_setup(planner="lm", model="fake/given"), paper, settings, lm=lm)
            again = await run_plan(plan_setup(planner="lm", model="fake/given"), paper, settings, lm=lm)
            return again.usage.cached_calls  # the client still works, and its cache was used
        finally:
            await lm.aclose()

    assert asyncio.run(go()) == 1
