"""The README's screenshot of `abplan view`'s task page, made from the test suite's fake-model runs.

    python benchmarks/view_screenshot.py [OUT.png]     (default: docs/view-task.png)

Two runs are made by scripted fake models in a temporary folder (no network, no key), exported with
`abplan view --export`, and the task page is photographed by Debian's headless chromium.
`tests/test_view_browser.py` calls `make_screenshot`, so the picture is what the tests check.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from abplan.view.export import export  # noqa: E402
from abplan.view.load import load_sources  # noqa: E402
from abplan.view.pages import Site  # noqa: E402
from browser import screenshot  # noqa: E402
from viewrun import make_runs  # noqa: E402


@contextlib.contextmanager
def _private_env(work: Path) -> Iterator[None]:
    """Its own LM cache and home for the fake runs; the environment is restored afterwards."""
    saved = {k: os.environ.get(k) for k in ("ABPLAN_CACHE_DIR", "HOME", "ABPLAN_MODEL", "ABPLAN_CONFIG")}
    os.environ.update({"ABPLAN_CACHE_DIR": str(work / "cache"), "HOME": str(work / "home")})
    os.environ.pop("ABPLAN_MODEL", None)
    os.environ.pop("ABPLAN_CONFIG", None)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def make_screenshot(out: Path, work: Path) -> Path:
    """Make the runs and the export under `work`, and write the task page's screenshot to `out`."""
    with _private_env(work):
        _, a, b = make_runs(work)
    site = work / "site"
    export(Site(*load_sources([a, b])), site)
    out.parent.mkdir(parents=True, exist_ok=True)
    return screenshot((site / "task-t0.html").as_uri(), out, work / "profile", size="1280,760")


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "view-task.png"
    with tempfile.TemporaryDirectory(prefix="abplan-view-shot-") as tmp:
        make_screenshot(out, Path(tmp))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
