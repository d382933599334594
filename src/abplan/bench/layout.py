"""Where everything of a run lives: the one place a run folder's file names are spelled.

    <root>/config.json                  the run's settings (a rerun must match them)
    <root>/journal.jsonl                each task's plan, judgement or failure (abplan.bench.journal)
    <root>/results.json                 `RunResults` (abplan.bench.results)
    <root>/results.csv, report.md       the same, for people
    <root>/.abplan-run.lock             one run at a time (abplan.bench.runfolder.RunLock)

Run folders written before the journal held `plans/<id>.json` (the full plan) and `.jsonl`,
`judgements/<judge>/<id>.json` and `failures/<id>.json` instead; they are still read (`plan_file`, ...).

Pure paths: nothing here touches the disk.
"""

from __future__ import annotations

import os
from pathlib import Path

CONFIG = "config.json"
RESULTS = "results.json"
JOURNAL = "journal.jsonl"
RESULTS_CSV = "results.csv"
REPORT = "report.md"
LOCK = ".abplan-run.lock"
PLANS = "plans"
JUDGEMENTS = "judgements"
FAILURES = "failures"
ROOT_FILES = (CONFIG, RESULTS, RESULTS_CSV, REPORT)  # written atomically in the folder itself


class RunDir:
    """The paths of one run folder. Task ids are checked when a dataset is loaded (`tasks.check_id`), so
    `<id>.json` stays inside its folder."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        base = os.fspath(self.root)
        self._plans = os.path.join(base, PLANS, "")
        self._failures = os.path.join(base, FAILURES, "")
        self._judgements = os.path.join(base, JUDGEMENTS, "")

    def __repr__(self) -> str:
        return f"RunDir({str(self.root)!r})"

    @property
    def config(self) -> Path:
        return self.root / CONFIG

    @property
    def results(self) -> Path:
        return self.root / RESULTS

    @property
    def results_csv(self) -> Path:
        return self.root / RESULTS_CSV

    @property
    def report(self) -> Path:
        return self.root / REPORT

    @property
    def lock(self) -> Path:
        return self.root / LOCK

    @property
    def journal(self) -> Path:
        return self.root / JOURNAL

    @property
    def plans(self) -> Path:
        return self.root / PLANS

    @property
    def failures(self) -> Path:
        return self.root / FAILURES

    @property
    def judgements_root(self) -> Path:
        return self.root / JUDGEMENTS

    def judgements(self, judge: str) -> Path:
        return self.root / JUDGEMENTS / judge

    # The task files of a folder from before the journal, as strings (read once per task).
    def plan_file(self, task_id: str) -> str:
        return f"{self._plans}{task_id}.json"

    def judgement_file(self, judge: str, task_id: str) -> str:
        return f"{self._judgements}{judge}{os.sep}{task_id}.json"

    def failure_file(self, task_id: str) -> str:
        return f"{self._failures}{task_id}.json"
