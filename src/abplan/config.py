"""Settings: command-line flags first, then environment variables, then a TOML config file.

The file is `$ABPLAN_CONFIG`, else `./abplan.toml`, else `~/.config/abplan/config.toml`. API keys belong
in the environment; a `[keys]` table is honoured only when the file is readable by its owner alone.
"""

from __future__ import annotations

import math
import os
import stat
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from abplan.errors import ConfigError
from abplan.fsutil import default_cache_dir
from abplan.lm.providers import KEY_ENVS
from abplan.redact import register_secret


@dataclass
class Settings:
    model: str | None = None
    base_url: str | None = None
    cache_dir: Path = field(default_factory=default_cache_dir)
    concurrency: int = 8
    rpm: float | None = None
    timeout: float = 300.0
    max_retries: int = 4
    prices: dict[str, tuple[float, float]] = field(default_factory=dict)
    config_file: Path | None = None


def config_path() -> Path | None:
    env = os.environ.get("ABPLAN_CONFIG")
    if env:
        p = Path(env).expanduser()
        if not p.is_file():
            raise ConfigError(f"ABPLAN_CONFIG points to {p}, which does not exist")
        return p
    for p in (Path("abplan.toml"), Path.home() / ".config" / "abplan" / "config.toml"):
        if p.is_file():
            return p
    return None


def _read_file(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: not valid TOML ({e})") from e
    except IsADirectoryError as e:
        raise ConfigError(f"{path}: is a folder, not a config file") from e
    keys = data.get("keys")
    if keys is None:
        return data
    if not isinstance(keys, dict):
        raise ConfigError(f'{path}: [keys] must be a table of provider = "key"')
    if keys:
        mode = path.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise ConfigError(f"{path} holds API keys but others can read it: chmod 600 {path}")
    for provider, value in keys.items():
        if not isinstance(value, str):
            raise ConfigError(f"{path}: [keys] {provider} must be a string")
        register_secret(value)  # masked in every message, whether or not the environment wins
        env = KEY_ENVS.get(provider)
        if env and not os.environ.get(env):
            os.environ[env] = value
    return data


def _prices(raw: object, path: Path | None) -> dict[str, tuple[float, float]]:
    bad = ConfigError(f"{path}: [prices] entries must be [input, output] USD per million tokens")
    if not isinstance(raw, dict):
        raise bad
    out: dict[str, tuple[float, float]] = {}
    for model, v in raw.items():
        pair = [v.get("input"), v.get("output")] if isinstance(v, dict) else v
        if not isinstance(pair, list) or len(pair) != 2 or not all(_is_number(x) for x in pair):
            raise ConfigError(f"{path}: [prices] {model!r} must be [input, output] USD per million tokens")
        if min(pair) < 0 or not all(math.isfinite(x) for x in pair):
            raise bad
        out[str(model)] = (float(pair[0]), float(pair[1]))
    return out


def _is_number(v: object) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _conv(kind: type, name: str, where: str) -> Callable[[object], Any]:
    """A converter that accepts numbers of the right kind (strings only from the environment)."""

    def conv(v: object) -> Any:
        ok = (str, int, float) if where == "environment" else (int, float)
        if isinstance(v, bool) or not isinstance(v, ok):
            raise ConfigError(f"{where}: {name} must be a number, not {v!r}")
        try:
            got = kind(v)
        except (ValueError, OverflowError) as e:
            raise ConfigError(
                f"{where}: {name} must be {'an integer' if kind is int else 'a number'}, not {v!r}"
            ) from e
        if kind is int and isinstance(v, float) and v != got:
            raise ConfigError(f"{where}: {name} must be an integer, not {v!r}")
        return got

    return conv


def _string(name: str, where: str) -> Callable[[object], Any]:
    def conv(v: object) -> Any:
        if not isinstance(v, str):
            raise ConfigError(f"{where}: {name} must be a string, not {v!r}")
        return v

    return conv


def load_settings(**flags: Any) -> Settings:
    path = config_path()
    file = _read_file(path) if path else {}
    s = Settings(config_file=path)

    def pick(name: str, env: str | None, kind: type | None = None) -> Any:
        if flags.get(name) is not None:
            return flags[name]
        if env and os.environ.get(env):
            return (_conv(kind, env, "environment") if kind else _string(env, "environment"))(os.environ[env])
        if name in file:
            return (_conv(kind, name, str(path)) if kind else _string(name, str(path)))(file[name])
        return getattr(s, name)

    s.model = pick("model", "ABPLAN_MODEL")
    s.base_url = pick("base_url", "ABPLAN_BASE_URL")
    s.cache_dir = Path(pick("cache_dir", "ABPLAN_CACHE_DIR")).expanduser()
    s.concurrency = int(pick("concurrency", "ABPLAN_CONCURRENCY", int))
    rpm = pick("rpm", "ABPLAN_RPM", float)
    s.rpm = float(rpm) if rpm is not None else None
    s.timeout = float(pick("timeout", "ABPLAN_TIMEOUT", float))
    s.max_retries = int(pick("max_retries", "ABPLAN_MAX_RETRIES", int))
    s.prices = _prices(file.get("prices", {}), path)
    _check(s)
    return s


def _check(s: Settings) -> None:
    """Limits from flags, the environment or the config file: one message naming where they come from."""
    if s.concurrency < 1:
        raise ConfigError(
            f"concurrency must be at least 1 (from -j, ABPLAN_CONCURRENCY or the config file), not {s.concurrency}"
        )
    if not (math.isfinite(s.timeout) and s.timeout > 0):
        raise ConfigError(
            "the timeout must be a positive number of seconds (from --timeout, ABPLAN_TIMEOUT or the "
            f"config file), not {s.timeout:g}"
        )
    if s.rpm is not None and not (math.isfinite(s.rpm) and s.rpm > 0):
        raise ConfigError(
            f"rpm must be a positive number (from ABPLAN_RPM or the config file), not {s.rpm:g}"
        )
    if s.max_retries < 0:
        raise ConfigError(
            f"max_retries must be at least 0 (from ABPLAN_MAX_RETRIES or the config file), not {s.max_retries}"
        )
