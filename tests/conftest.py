from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from abplan.lm.providers import KEY_ENVS
from abplan.testing import FakeModels

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("ABPLAN_SHARED", ROOT.parent / "shared"))
DEV_BENCH = SHARED / "data" / "dev-bench"
PDFS = SHARED / "data" / "pdfs"
TRAJ = SHARED / "data" / "ablationbench-trajectories"
SEEDS = SHARED / "seeds"
EXAMPLE = ROOT / "examples" / "pixelcnnpp.md"


def need_shared(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"shared test data not found at {path} (clone with ../shared beside the checkout)")
    return path


def need_module(name: str, extra: str) -> None:
    if importlib.util.find_spec(name) is None:
        pytest.skip(f"needs {name}: pip install 'abplan[{extra}]'")


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No test reads a user's config, keys or cache."""
    for var in ("ABPLAN_MODEL", "ABPLAN_BASE_URL", "ABPLAN_CONFIG", *KEY_ENVS.values()):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("ABPLAN_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    yield


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    return tmp_path / "cache"


@pytest.fixture
def fake_lm() -> Iterator[FakeModels]:
    """`fm = fake_lm("name", replies)` makes `fake/name` answer for this test; all are removed after it."""
    with FakeModels() as fakes:
        yield fakes
