"""One Registry type serves planners, judges and providers: lazy entries, near misses, duplicates, hints."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from abplan import config
from abplan.cli import app
from abplan.errors import ConfigError, InputError
from abplan.judges import JUDGES, get_judge
from abplan.lm.providers import ENDPOINTS, KEY_ENVS, PROVIDERS, OpenAICompatible, make_provider
from abplan.planners import PLANNERS, get_planner, register_planner
from abplan.registry import Registry

runner = CliRunner()


@pytest.fixture
def plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A module on sys.path that no one has imported yet."""
    name = "abplan_test_plugin_mod"
    (tmp_path / f"{name}.py").write_text(
        "class Thing:\n    pass\n\nclass Outer:\n    class Inner:\n        pass\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules.pop(name, None)
    yield name
    sys.modules.pop(name, None)


def test_a_lazy_entry_is_imported_only_by_get(plugin: str) -> None:
    reg: Registry[type] = Registry("widget")
    reg.register("thing", f"{plugin}:Thing")
    reg.register("inner", f"{plugin}:Outer.Inner")
    assert reg.names() == ["inner", "thing"] and "thing" in reg
    assert plugin not in sys.modules and not reg.is_loaded("thing")
    thing = reg.get("thing")
    assert plugin in sys.modules and thing.__name__ == "Thing" and thing.__module__ == plugin
    assert reg.is_loaded("thing") and reg.get("thing") is thing
    assert reg.get("inner").__qualname__ == "Outer.Inner"


def test_an_unknown_name_suggests_the_near_miss_and_lists_the_names() -> None:
    reg: Registry[int] = Registry("widget")
    for name, value in (("offline", 1), ("staged", 2), ("lm", 3)):
        reg.register(name, value)
    with pytest.raises(
        InputError,
        match=r"^unknown widget 'ofline' \(did you mean 'offline'\?\); known: lm, offline, staged$",
    ):
        reg.get("ofline")
    with pytest.raises(InputError, match=r"^unknown widget 'zzz'; known: lm, offline, staged$"):
        reg.get("zzz")


def test_a_duplicate_name_raises_unless_replaced() -> None:
    reg: Registry[int] = Registry("widget")
    reg.register("a", 1)
    with pytest.raises(ConfigError, match=r"widget 'a' is already registered .*replace=True"):
        reg.register("a", 2)
    with pytest.raises(ConfigError, match=r"already registered \(abplan.x:Y\)"):
        reg.register("b", "abplan.x:Y")
        reg.register("b", 3)
    assert reg.get("a") == 1
    reg.register("a", 2, replace=True)
    assert reg.get("a") == 2
    reg.unregister("a")
    assert "a" not in reg


def test_a_missing_extra_names_the_package_and_the_install_hint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "abplan_test_fancy_reader.py").write_text("import no_such_package_xyz\n\nclass Reader: ...\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    reg: Registry[object] = Registry("reader")
    reg.register("fancy", "abplan_test_fancy_reader:Reader", install_hint="pip install 'abplan[fancy]'")
    reg.register("plain", "abplan_test_fancy_reader:Reader")
    reg.register("typo", "abplan.no_such_module:Reader", install_hint="pip install 'abplan[fancy]'")
    assert reg.install_hint("fancy") == "pip install 'abplan[fancy]'" and reg.install_hint("plain") is None
    with pytest.raises(
        InputError, match=r"^reader 'fancy' needs no_such_package_xyz: pip install 'abplan\[fancy\]'$"
    ):
        reg.get("fancy")
    with pytest.raises(ModuleNotFoundError):  # no hint: a broken entry is a bug, not a user's missing extra
        reg.get("plain")
    with pytest.raises(ModuleNotFoundError):  # a missing abplan module is a bug, whatever the hint
        reg.get("typo")
    sys.modules.pop("abplan_test_fancy_reader", None)


def test_bad_entries_are_refused(plugin: str) -> None:
    reg: Registry[object] = Registry("widget")
    with pytest.raises(ValueError, match="'module:object'"):
        reg.register("x", "no_colon_here")
    reg.register("gone", f"{plugin}:Missing")
    with pytest.raises(ConfigError, match=f"widget 'gone': {plugin}:Missing does not exist"):
        reg.get("gone")


def test_the_built_in_planners_judges_and_providers_all_resolve() -> None:
    assert PLANNERS.names() == ["consensus", "files", "lm", "offline", "staged", "staged-extract"]
    assert JUDGES.names() == ["lexical", "lm", "majority"]
    assert set(PROVIDERS.names()) == {*ENDPOINTS, "fake"}
    for name in PLANNERS.names():
        assert get_planner(name).name == name
    for name in JUDGES.names():
        assert get_judge(name).name == name
    for name in PROVIDERS.names():
        assert callable(PROVIDERS.get(name))


def test_a_planner_decorator_fills_its_lazy_entry_but_cannot_take_a_name() -> None:
    # loading "lm" ran @register_planner("lm") in its module: that is the entry, not a duplicate
    assert PLANNERS.get("lm").__name__ == "LMPlanner"
    with pytest.raises(ConfigError, match="planner 'lm' is already registered"):

        @register_planner("lm")
        class Impostor:
            needs_model = False

    @register_planner("mine-for-test")
    class Mine:
        needs_model = False

    try:
        assert isinstance(get_planner("mine-for-test"), Mine)
        res = runner.invoke(app, ["planners"])
        assert res.exit_code == 0 and "mine-for-test" in res.output
    finally:
        PLANNERS.unregister("mine-for-test")


def test_an_unknown_provider_suggests_a_near_miss_or_base_url() -> None:
    with pytest.raises(InputError) as e:
        make_provider("opnai", model="opnai/gpt-4o")
    assert str(e.value) == (
        "unknown provider 'opnai' in model 'opnai/gpt-4o' (did you mean 'openai'?); known: "
        f"{', '.join(sorted([*ENDPOINTS, 'fake']))}; or give --base-url"
    )
    p = make_provider("myserver", base_url="http://127.0.0.1:9/v1", model="myserver/m")
    assert isinstance(p, OpenAICompatible) and p.provider == "myserver"


def test_the_api_key_variables_live_in_one_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert config.KEY_ENVS is KEY_ENVS
    assert KEY_ENVS["anthropic"] == "ANTHROPIC_API_KEY" and KEY_ENVS["openai"] == "OPENAI_API_KEY"
    assert "ollama" not in KEY_ENVS
    cfg = tmp_path / "abplan.toml"
    cfg.write_text('[keys]\nanthropic = "sk-ant-from-file-123456"\n')
    cfg.chmod(0o600)
    monkeypatch.setenv("ABPLAN_CONFIG", str(cfg))
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    config.load_settings()
    import os

    assert os.environ["ANTHROPIC_API_KEY"] == "sk-ant-from-file-123456"
    monkeypatch.delenv("ANTHROPIC_API_KEY")


def test_planner_and_judge_names_are_checked_by_the_registries() -> None:
    res = runner.invoke(app, ["plan", "x.md", "--planner", "ofline"])
    assert res.exit_code == 2 and "unknown planner 'ofline' (did you mean 'offline'?)" in res.output
    with pytest.raises(
        InputError, match=r"unknown judge 'lexcal' \(did you mean 'lexical'\?\); known: lexical, lm"
    ):
        get_judge("lexcal")


def test_listing_the_planners_and_judges_imports_none_of_them() -> None:
    """A fresh interpreter: the CLI and both name lists load no planner or judge module but `files`."""
    code = (
        "import sys, abplan.cli\n"
        "from abplan.planners import planner_names, planner_summary\n"
        "from abplan.judges import judge_names\n"
        "[planner_summary(n) for n in planner_names()], judge_names()\n"
        "print(sorted(m for m in sys.modules if m.startswith(('abplan.planners.', 'abplan.judges.'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['abplan.judges.base', 'abplan.planners.base', 'abplan.planners.files']"
