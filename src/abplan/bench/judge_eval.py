"""Score a judge against human labels: per label, did the judge call it a match (author) or a request (reviewer)?

Labels: our JSONL ({"id": task id, "labels": [...]}) or AblationBench's judge-eval parquet
(`id` = "<planner>/<paper>", `labels` a JSONL string). Author labels are {"name_in_paper", "name_in_plan"}
(a match when name_in_plan is not null); reviewer labels are {"name_in_plan", "appears_in_review"}.
Metrics are computed per instance and macro-averaged, as AblationBench does.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from abplan.bench.journal import read_records
from abplan.bench.layout import RunDir
from abplan.bench.results import read_run_config
from abplan.errors import InputError, MissingExtraError
from abplan.judges.base import Judgement


def _records(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    if path.suffix == ".parquet":
        try:
            import pyarrow.parquet as pq
        except ImportError as e:
            raise MissingExtraError("pyarrow", "parquet") from e
        rows = pq.read_table(path).to_pylist()
    else:
        rows = []
        for n, line in enumerate(path.read_text("utf-8").splitlines(), 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as e:
                    raise InputError(f"{path.name} line {n}: not valid JSON") from e
    out = []
    for n, r in enumerate(rows, 1):
        if not isinstance(r, dict) or r.get("id") is None:
            raise InputError(f"{path.name} record {n}: field 'id' is missing")
        labels = r.get("labels")
        try:
            if isinstance(labels, str):
                labels = [json.loads(x) for x in labels.splitlines() if x.strip()]
        except json.JSONDecodeError as e:
            raise InputError(f"{path.name} record {n}: field 'labels' is not JSON lines") from e
        if not isinstance(labels, list | None) or not all(isinstance(x, dict) for x in labels or []):
            raise InputError(f"{path.name} record {n}: field 'labels' must be a list of objects")
        out.append({"id": str(r["id"]).split("/")[-1], "labels": labels or []})
    return out


def _prf(truth: list[bool], pred: list[bool]) -> tuple[float, float, float, float]:
    tp = sum(t and p for t, p in zip(truth, pred, strict=True))
    fp = sum(p and not t for t, p in zip(truth, pred, strict=True))
    fn = sum(t and not p for t, p in zip(truth, pred, strict=True))
    acc = sum(t == p for t, p in zip(truth, pred, strict=True)) / len(truth) if truth else 0.0
    prec = tp / (tp + fp) if tp + fp else 0.0
    rec = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    return acc, prec, rec, f1


def run_judgements(run_dir: Path, judge: str | None) -> dict[str, Judgement]:
    """The judgements of a run folder, by task id; `judge`, if given, must be the one the run used."""
    run = RunDir(run_dir)
    used = read_run_config(run_dir).judge
    if judge is not None and judge != used:
        raise InputError(
            f"--run {run_dir} was judged by {used}, not {judge}: leave out --judge or give {used}"
        )
    found = {tid: r.judgement for tid, r in read_records(run, used).items() if r.judgement is not None}
    if not found:
        raise InputError(f"--run {run_dir}: no task has a judgement yet")
    return found


def evaluate_judge(
    labels_path: Path, judgements: dict[str, Judgement], where: str = "the run"
) -> dict[str, Any]:
    per: list[tuple[float, float, float, float]] = []
    count = 0
    for rec in _records(labels_path):
        j = judgements.get(rec["id"])
        if j is None:
            continue
        truth: list[bool] = []
        pred: list[bool] = []
        for lab in rec["labels"]:
            if "name_in_paper" in lab:
                truth.append(lab.get("name_in_plan") not in (None, [], ""))
                m = next((m for m in j.matches if m.gold == lab["name_in_paper"]), None)
                pred.append(bool(m and m.plan))
            else:
                truth.append(bool(lab.get("appears_in_review")))
                it = next((i for i in j.items if i.plan == lab.get("name_in_plan")), None)
                pred.append(bool(it and it.appears))
        if truth:
            per.append(_prf(truth, pred))
            count += len(truth)
    if not per:
        raise InputError(f"no labelled instance has a judgement in {where}")
    mean = [sum(x[i] for x in per) / len(per) for i in range(4)]
    return {
        "instances": len(per),
        "labels": count,
        "accuracy": mean[0],
        "precision": mean[1],
        "recall": mean[2],
        "f1": mean[3],
    }
