"""`abplan view` in a real headless browser (Debian's chromium): each page kind from the server and
from an `--export` folder opened through file://, its DOM, and screenshots that are not blank."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from abplan.cli import app
from abplan.view.load import load_sources
from abplan.view.pages import Site
from abplan.view.server import make_server, start_in_thread, url_of
from browser import CHROMIUM, distinct_colours, dump_dom, png_size, screenshot
from run_files import save_plan
from viewrun import made_runs

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason=f"needs Debian's chromium at {CHROMIUM} (apt-get install chromium)"
)
SCRIPT_DOM = "&lt;script&gt;alert(1)&lt;/script&gt;"
IMG_DOM = '"&gt;&lt;img src=x onerror=alert(1)&gt;'
PAGES = ["index.html", "task-t0.html", "paper-r0-t0.html", "plan-r0-t0.html", "plan-p0.html"]


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    ds, a, b = made_runs(tmp_path_factory)
    plans = a.parent.parent / "plan-out"
    plans.mkdir()
    save_plan(a, "t0", plans / "gated.json")
    return [a, b, plans, ds / "papers" / "t0" / "paper.md"]


@pytest.fixture(scope="module")
def served(sources: list[Path]) -> Iterator[str]:
    server = make_server(Site(*load_sources(sources[:3], sources[3])), 0)
    start_in_thread(server)
    yield url_of(server)
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def exported(sources: list[Path]) -> str:
    site = sources[0].parent.parent / "site"
    args = ["view", *map(str, sources[:3]), "--paper", str(sources[3]), "--export", str(site)]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    return site.as_uri() + "/"


def check_dom(name: str, dom: str) -> None:
    assert '<img src="x"' not in dom and 'onerror="alert' not in dom and "<script>alert" not in dom, name
    assert SCRIPT_DOM in dom and IMG_DOM in dom, name
    if name == "index.html":
        assert len(re.findall(r'<tr class="run">', dom)) == 2
        assert len(re.findall(r'<tr class="task">', dom)) == 1
        assert '<img src="plot.png"' in dom or "needs matplotlib" in dom
        assert dom.count('data-sortable="ready"') == 2  # the sort script ran: the CSP lets it, by hash
    elif name.startswith("task-"):
        assert re.search(r'class="item plan-item c0 matched" id="r0-p1"', dom)  # "No gate", both runs
        assert re.search(r'class="item plan-item c0 matched" id="r1-p1"', dom)
        assert re.search(r'class="item plan-item c1 matched" id="r0-p2"', dom)  # the hostile pair
        assert re.search(r'class="item plan-item c2 matched" id="r1-p2"', dom)  # found by b only
        assert re.search(r'class="item plan-item unmatched" id="r0-p3"', dom)
        assert dom.count('<details class="votes">') == 6  # 3 gold items x 2 runs
        assert dom.count('class="tag miss">missed</span>') == 2
    else:
        marks = re.findall(r'<mark id="(q\d-0)"', dom)
        assert marks == ["q1-0", "q2-0", "q3-0"], (name, marks)


@pytest.mark.parametrize("where", ["served", "exported"])
def test_each_page_kind_in_chromium(where: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    base = request.getfixturevalue(where)
    for name in PAGES:
        check_dom(name, dump_dom(base + name, tmp_path / "profile"))


@pytest.mark.parametrize("where", ["served", "exported"])
def test_task_page_screenshot_is_not_blank(
    where: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    png = screenshot(request.getfixturevalue(where) + "task-t0.html", tmp_path / "task.png", tmp_path / "p")
    assert png_size(png) == (1280, 900)
    assert distinct_colours(png, pure=where == "served") > 50  # the pure PNG reader once, PyMuPDF else


def test_readme_screenshot_script(tmp_path: Path) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    try:
        from view_screenshot import make_screenshot
    finally:
        sys.path.pop(0)
    png = make_screenshot(tmp_path / "docs" / "view-task.png", tmp_path / "work")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert distinct_colours(png) > 50


def test_the_csp_stops_a_script_that_is_not_the_sites_own(exported: str, tmp_path: Path) -> None:
    page = Path(exported.removeprefix("file://")) / "index.html"
    tampered = tmp_path / "index.html"
    html = page.read_text().replace(
        "</body>", '<script>document.body.dataset.injected = "ran"</script></body>'
    )
    tampered.write_text(html)
    dom = dump_dom(tampered.as_uri(), tmp_path / "profile")
    assert 'data-sortable="ready"' in dom  # the site's own script ran
    assert "data-injected" not in dom  # the added one did not
