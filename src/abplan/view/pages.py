"""The viewer's pages: page data from `model` rendered through autoescaping Jinja2 templates.

`Site` knows every page name and renders one on demand; the server answers only those names and the
export writes exactly those files, so neither ever maps a request onto the disk.
"""

from __future__ import annotations

import base64
import hashlib
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
import markupsafe

from abplan.bench.report import plot
from abplan.render.html import trace_blocks
from abplan.render.markdown import title_line, warnings_of
from abplan.schema import Finding, Paper, Plan
from abplan.view.highlight import locate, quotes_of
from abplan.view.load import LoadedPlan, LoadedRun
from abplan.view.model import (
    href,
    paper_page,
    plan_page,
    run_row,
    task_cells,
    task_page,
    task_view,
)

HTML = "text/html; charset=utf-8"
PNG = "image/png"
NO_PLOT = "The F1 plot needs matplotlib (pip install matplotlib); it is left out."
# The one script of the site (column sorting). The Content-Security-Policy allows only this script, by
# its hash, so markup that slipped past escaping still could not run; nothing is loaded from elsewhere.
SORT_JS = """
document.querySelectorAll("table.sortable").forEach(function (table) {
  table.dataset.sortable = "ready";
  table.querySelectorAll("th").forEach(function (th, col) {
    th.addEventListener("click", function () {
      var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
      var up = th.dataset.dir !== "up";
      th.dataset.dir = up ? "up" : "down";
      function key(row) { var c = row.cells[col]; return c.dataset.v !== undefined ? c.dataset.v : c.textContent; }
      rows.sort(function (a, b) {
        var x = key(a), y = key(b), nx = parseFloat(x), ny = parseFloat(y);
        var d = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
        return up ? d : -d;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
});
"""
CSP = (
    "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; "
    f"script-src 'sha256-{base64.b64encode(hashlib.sha256(SORT_JS.encode()).digest()).decode()}'"
)


@cache
def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("abplan", "view/templates"),
        autoescape=jinja2.select_autoescape(["html", "html.j2"], default_for_string=True, default=True),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    env.globals.update(csp=CSP, sort_js=markupsafe.Markup(SORT_JS))  # our own constants, not input
    return env


def render(template: str, **context: Any) -> bytes:
    return _env().get_template(template).render(**context).encode("utf-8")


def _findings(paper: Paper | None, plan: Plan | None) -> list[Finding]:
    out = list(paper.findings) if paper else []
    out += [f for f in (plan.findings if plan else []) if f not in out]
    return out


def safe_file_name(name: str) -> bool:
    """A page name that stays in the folder it is joined to: no separator, NUL, leading dot or `..`.
    The server refuses any other request path; the export refuses to write any other page."""
    return bool(name) and not any(c in name for c in "/\\\x00") and not name.startswith(".")


class Site:
    """Every page of the runs and plans given, by name."""

    def __init__(self, runs: list[LoadedRun], plans: list[LoadedPlan]) -> None:
        self.runs = runs
        self.plans = plans
        ids: dict[str, None] = {}
        for r in runs:
            ids.update(dict.fromkeys(r.task_ids()))
        self.task_ids = list(ids)
        self._plot: bytes | bool | None = False  # False: not made yet

    def names(self) -> list[str]:
        names = ["index.html"]
        if self.plot_png() is not None:
            names.append("plot.png")
        names += [task_page(t) for t in self.task_ids]
        for r in self.runs:
            for t in r.task_ids():
                names += [plan_page(f"r{r.index}", t), paper_page(f"r{r.index}", t)]
        for p in self.plans:
            names += [plan_page(f"p{p.index}"), paper_page(f"p{p.index}")]
        return names

    def page(self, name: str) -> tuple[str, bytes] | None:
        """The content type and body of the page `name`, or None when there is no such page."""
        if name == "index.html":
            return HTML, self.index()
        if name == "plot.png":
            png = self.plot_png()
            return None if png is None else (PNG, png)
        if name not in set(self.names()):
            return None
        kind, _, rest = name.removesuffix(".html").partition("-")
        if kind == "task":
            return HTML, self.task(rest)
        source, _, task_id = rest.partition("-")
        return HTML, (self.plan(source, task_id) if kind == "plan" else self.paper(source, task_id))

    def plot_png(self) -> bytes | None:
        if self._plot is False:
            self._plot = None
            if self.runs:
                with tempfile.TemporaryDirectory(prefix="abplan-view-") as tmp:
                    path = Path(tmp) / "plot.png"
                    if plot([(r.name, r.results) for r in self.runs], path):
                        self._plot = path.read_bytes()
        return self._plot if isinstance(self._plot, bytes) else None

    def index(self) -> bytes:
        tasks = []
        cells = [task_cells(r) for r in self.runs]
        for tid in self.task_ids:
            title = next((r.tasks[tid].paper_title for r in self.runs if tid in r.tasks), "")
            row = [c.get(tid) for c in cells]
            tasks.append(
                {
                    "id": tid,
                    "href": href(task_page(tid)),
                    "title": title,
                    "cells": [c if c is not None else {"state": "pending"} for c in row],
                }
            )
        plans = [
            {
                "href": href(plan_page(f"p{p.index}")),
                "title": p.plan.paper_title,
                "planner": p.plan.planner,
                "model": p.plan.model,
                "mode": p.plan.mode,
                "count": len(p.plan.ablations),
            }
            for p in self.plans
        ]
        return render(
            "index.html.j2",
            runs=[run_row(r) for r in self.runs],
            tasks=tasks,
            plans=plans,
            plot=self.plot_png() is not None,
            plot_note=NO_PLOT,
        )

    def task(self, task_id: str) -> bytes:
        per_run = [(r, r.files(task_id)) for r in self.runs if task_id in r.task_ids()]
        view = task_view(task_id, per_run)
        majority = any(r.results.config.judge == "majority" for r, _ in per_run)
        return render("task.html.j2", view=view, majority=majority)

    def _source(self, source: str, task_id: str) -> tuple[Plan | None, Paper | None, str, str | None]:
        """The plan, paper, why the paper is missing, and the task page of a page's source."""
        if source.startswith("p"):
            p = self.plans[int(source[1:])]
            return p.plan, p.paper, "give the paper with --paper to see it beside the plan", None
        run = self.runs[int(source[1:])]
        paper, why = run.paper(task_id)
        return run.files(task_id).plan, paper, why or "", href(task_page(task_id))

    def paper(self, source: str, task_id: str) -> bytes:
        plan, paper, why, task_href = self._source(source, task_id)
        quotes = quotes_of(plan) if plan else []
        segments, missing = locate(paper.text, quotes) if paper else ([], quotes)
        title = paper.title if paper else (plan.paper_title if plan else task_id)
        return render(
            "paper.html.j2",
            title=title,
            quotes=quotes,
            missing=missing,
            segments=segments,
            paper=paper,
            why=why,
            all_findings=_findings(paper, plan),
            task_href=task_href,
            plan_href=href(plan_page(source, task_id or None)),
        )

    def plan(self, source: str, task_id: str) -> bytes:
        plan, paper, why, task_href = self._source(source, task_id)
        if plan is None:
            plan = Plan(
                paper_id=task_id,
                paper_title=task_id,
                mode="author",
                planner="–",
                model="–",
                k=0,
                reasoning_trace="No plan yet: the task failed or is pending.",
                ablations=[],
            )
        segments, _ = locate(paper.text, quotes_of(plan)) if paper else ([], [])
        return render(
            "plan.html.j2",
            plan=plan,
            heading=title_line(plan),
            warnings=warnings_of(plan),
            blocks=trace_blocks(plan.reasoning_trace),
            paper=paper,
            segments=segments,
            why=why,
            all_findings=_findings(paper, plan),
            task_href=task_href,
            paper_href=href(paper_page(source, task_id or None)),
        )
