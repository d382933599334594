"""Rerun an abplan command from committed answers: no model, no key, no network.

    python benchmarks/replay.py --answers benchmarks/answers/dev-build -- \
        dataset author ../sources/x/main.tex --out /tmp/dev --model local/frontier

The command runs with `--offline` against a fresh cache (or `--cache DIR`). Whenever it stops with
requests pending (exit 3), every answer folder (an `abplan lm export --format prompts` folder: its
`index.jsonl` and the `*.response.txt` replies; the prompts themselves are not needed) is imported, and
the command runs again, until it finishes or no committed answer fits what is pending. Prints the rounds,
the replies imported per round, and the command's last exit code, which it also returns.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from abplan.lm.cache import ResponseCache
from abplan.lm.prompt_import import import_prompts


def run(args: list[str], cache: Path) -> int:
    cmd = [sys.executable, "-m", "abplan", *args, "--offline", "--cache-dir", str(cache)]
    return subprocess.run(cmd, check=False).returncode


def replay(args: list[str], answers: list[Path], cache: Path, max_rounds: int = 12) -> int:
    for round_no in range(1, max_rounds + 1):
        rc = run(args, cache)
        if rc != 3:
            print(f"replay: finished after {round_no} run(s), exit {rc}")
            return rc
        store = ResponseCache.in_dir(cache)
        imported = sum(len(import_prompts(store, folder).imported) for folder in answers)
        pending = len(store.pending())
        print(f"replay: round {round_no}: imported {imported} committed replies, {pending} still pending")
        if imported == 0:
            print(f"replay: {pending} pending request(s) have no committed answer (prompts changed?)")
            return 3
    print(f"replay: gave up after {max_rounds} rounds")
    return 3


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--answers", type=Path, action="append", required=True, help="an answer folder")
    ap.add_argument("--cache", type=Path, help="cache folder (default: a fresh temporary one)")
    ap.add_argument("command", nargs=argparse.REMAINDER, help="-- then the abplan arguments")
    ns = ap.parse_args()
    cmd = ns.command[1:] if ns.command[:1] == ["--"] else ns.command
    if not cmd:
        ap.error("give the abplan command after --")
    if ns.cache is not None:
        return replay(cmd, ns.answers, ns.cache)
    with tempfile.TemporaryDirectory(prefix="abplan-replay-") as tmp:
        return replay(cmd, ns.answers, Path(tmp) / "cache")


if __name__ == "__main__":
    raise SystemExit(main())
