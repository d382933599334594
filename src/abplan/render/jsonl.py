"""JSONL (one ablation per line, AblationBench fields first) and JSON (the whole plan)."""

from __future__ import annotations

import json
from typing import Any

from abplan.schema import Ablation, Plan


def ablation_record(a: Ablation) -> dict[str, Any]:
    rec = a.core()
    if a.rationale:
        rec["rationale"] = a.rationale
    if a.support is not None:
        rec["support"] = a.support
    if a.evidence:
        rec["evidence"] = [ev.model_dump(exclude_none=True) for ev in a.evidence]
    return rec


_ENCODER = json.JSONEncoder(
    ensure_ascii=False
)  # built once: json.dumps(..., ensure_ascii=False) builds one per call


def render_jsonl(plan: Plan) -> str:
    return "".join(_ENCODER.encode(ablation_record(a)) + "\n" for a in plan.ablations)


def render_json(plan: Plan) -> str:
    return plan.model_dump_json(indent=2) + "\n"
