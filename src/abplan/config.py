"""Settings: command-line flags first, then environment variables, then a TOML config file.

The file is `$ABPLAN_CONFIG`, else `./abplan.toml`, else `~/.config/abplan/config.toml`. API keys belong
in the environment; a `[keys]` table is honoured only when the file is readable by its owner alone.
"""

from __future__ import annotations

import os
import stat
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from abplan.errors import ConfigError
from abplan.papers import default_cache_dir

KEY_ENVS = {
    "openai": "OPENAI_API_KEY",
    "openrouter": "OPENROUTER_API_KEY",
    "anthropic": "ANTHROPIC_API_KEY",
    "vllm": "VLLM_API_KEY",
}


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
    keys = data.get("keys")
    if keys:
        mode = path.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise ConfigError(f"{path} holds API keys but others can read it: chmod 600 {path}")
        for provider, value in keys.items():
            env = KEY_ENVS.get(provider)
            if env and not os.environ.get(env):
                os.environ[env] = str(value)
    return data


def load_settings(**flags: Any) -> Settings:
    path = config_path()
    file = _read_file(path) if path else {}
    s = Settings(config_file=path)

    def pick(name: str, env: str | None, conv: Any = str) -> Any:
        if flags.get(name) is not None:
            return flags[name]
        if env and os.environ.get(env):
            try:
                return conv(os.environ[env])
            except ValueError as e:
                raise ConfigError(f"{env}={os.environ[env]!r} is not a valid value") from e
        if name in file:
            return conv(file[name])
        return getattr(s, name)

    s.model = pick("model", "ABPLAN_MODEL")
    s.base_url = pick("base_url", "ABPLAN_BASE_URL")
    cache = pick("cache_dir", "ABPLAN_CACHE_DIR", lambda v: Path(v).expanduser())
    s.cache_dir = Path(cache)
    s.concurrency = int(pick("concurrency", "ABPLAN_CONCURRENCY", int))
    rpm = pick("rpm", "ABPLAN_RPM", float)
    s.rpm = float(rpm) if rpm is not None else None
    s.timeout = float(pick("timeout", "ABPLAN_TIMEOUT", float))
    s.max_retries = int(pick("max_retries", "ABPLAN_MAX_RETRIES", int))
    prices = file.get("prices", {})
    try:
        s.prices = {
            k: (float(v[0]), float(v[1])) if isinstance(v, list) else (float(v["input"]), float(v["output"]))
            for k, v in prices.items()
        }
    except (KeyError, TypeError, ValueError, IndexError) as e:
        raise ConfigError(f"{path}: [prices] entries must be [input, output] USD per million tokens") from e
    if s.concurrency < 1:
        raise ConfigError("concurrency must be at least 1")
    return s
