"""What installing abplan adds to a fresh virtual environment: MB of site-packages and the largest packages.

    python benchmarks/install_size.py                  # the core only
    python benchmarks/install_size.py --extras pdf,plot
    python benchmarks/install_size.py --all-extras     # every extra, each in its own fresh venv

The project is built into a wheel once; each venv installs it (with one extra) from the package index.
An extra's size is what it adds on top of the core. The core's target is at most 60 MB.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORE_TARGET_MB = 60.0
MB = 1e6

# Run inside a venv: every distribution with the bytes of the files it installed.
_SIZES = r"""
import importlib.metadata as md, json, os, sysconfig
site = sysconfig.get_paths()["purelib"]
out = {}
for d in md.distributions():
    total = 0
    for f in d.files or []:
        p = d.locate_file(f)
        if os.path.isfile(p):
            total += os.path.getsize(p)
    out[d.metadata["Name"]] = total
tree = sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(site) for f in fs
           if not os.path.islink(os.path.join(r, f)))
print(json.dumps({"packages": out, "site": tree}))
"""


def run(*cmd: str | Path) -> str:
    return subprocess.run([str(c) for c in cmd], check=True, capture_output=True, text=True).stdout


def venv(where: Path) -> Path:
    run(sys.executable, "-m", "venv", where)
    return where / "bin" / "python"


def sizes(python: Path) -> tuple[int, dict[str, int]]:
    got = json.loads(run(python, "-c", _SIZES))
    return int(got["site"]), {str(k): int(v) for k, v in got["packages"].items()}


def build_wheel(out: Path) -> Path:
    run(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", out, ROOT)
    return next(out.glob("abplan-*.whl"))


def measure(wheel: Path, extra: str | None, where: Path) -> tuple[float, dict[str, int]]:
    """MB of site-packages the install adds, and the packages it added with their bytes."""
    python = venv(where)
    base_site, base_pkgs = sizes(python)
    target = f"{wheel}[{extra}]" if extra else str(wheel)
    run(python, "-m", "pip", "install", "-q", "--disable-pip-version-check", target)
    site, pkgs = sizes(python)
    added = {k: v for k, v in pkgs.items() if k not in base_pkgs}
    return (site - base_site) / MB, added


def show(title: str, mb: float, pkgs: dict[str, int], top: int) -> None:
    print(f"{title}: {mb:.1f} MB added to site-packages, {len(pkgs)} packages")
    for name, size in sorted(pkgs.items(), key=lambda kv: -kv[1])[:top]:
        print(f"  {size / MB:7.1f} MB  {name}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--extras", default="", help="comma-separated extras to measure (each in its own venv)")
    ap.add_argument("--all-extras", action="store_true", help="measure every extra but dev and all")
    ap.add_argument("--top", type=int, default=10, help="how many of the largest packages to list")
    args = ap.parse_args()
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    extras = [e for e in declared if e not in ("dev", "all")] if args.all_extras else []
    extras += [e for e in args.extras.split(",") if e and e not in extras]
    unknown = [e for e in extras if e not in declared]
    if unknown:
        sys.exit(f"unknown extras: {', '.join(unknown)} (declared: {', '.join(declared)})")
    with tempfile.TemporaryDirectory(prefix="abplan-size-") as tmp:
        wheel = build_wheel(Path(tmp) / "wheel")
        core_mb, core = measure(wheel, None, Path(tmp) / "core")
        verdict = "within" if core_mb <= CORE_TARGET_MB else "OVER"
        show(f"core ({verdict} the {CORE_TARGET_MB:.0f} MB target)", core_mb, core, args.top)
        for extra in extras:
            mb, pkgs = measure(wheel, extra, Path(tmp) / f"x-{extra}")
            extra_pkgs = {k: v for k, v in pkgs.items() if k not in core}
            show(f"[{extra}] on top of the core", mb - core_mb, extra_pkgs, args.top)


if __name__ == "__main__":
    main()
