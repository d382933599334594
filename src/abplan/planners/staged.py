"""The staged planner: read, propose N times, consolidate by support, cut, ground.

1. Read: one structured-output call extracts contributions, components (with quotes), hyperparameters,
   datasets, metrics and, in reviewer mode, the ablations the paper already has.
2. Propose: N independent candidate plans (2k items each) at a diversity temperature, optionally
   across several models.
3. Consolidate: one LM call groups candidates that are the same experiment; each group's support is the
   number of samples that proposed it, and its mean rank their average position.
4. Rank and cut: by support, then mean rank; reviewer mode drops groups the paper already covers;
   `length=support` keeps groups whose support reaches `min_support` (never an empty plan), `length=fixed`
   keeps k. Every group is recorded with its support, rank and the rule that cut it.
5. Ground: each kept ablation's quotes are checked against the paper; unverifiable ones are dropped.

Every step is an ordinary cached request, so the pipeline also runs through batch export/import,
one round per stage.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from abplan import prompts
from abplan.errors import ConfigError, LMError
from abplan.grounding import best_sentence, quote_in_text
from abplan.lm.client import LMClient
from abplan.lm.context import context_window, estimate_tokens, fit_paper
from abplan.lm.pricing import cost_of, total_cost
from abplan.lm.repair import repair_request
from abplan.lm.types import LMRequest, LMResponse, RequestPending, usage_of
from abplan.parsing import json_objects, split_reply, strip_thinking
from abplan.planners.base import PlanOptions, register_planner
from abplan.planners.lm_planner import complete_plan
from abplan.prompts import paper_source
from abplan.schema import Ablation, Evidence, Paper, Plan, Usage
from abplan.text_match import overlap

SYSTEM = prompts.render("planner_system")


class Component(BaseModel):
    name: str
    description: str = ""
    quote: str = ""
    section: str | None = None


class Hyperparameter(BaseModel):
    name: str
    value: str = ""
    quote: str = ""


class ExistingAblation(BaseModel):
    ablated_part: str
    quote: str = ""


class Extraction(BaseModel):
    contributions: list[str] = Field(default_factory=list)
    components: list[Component] = Field(default_factory=list)
    hyperparameters: list[Hyperparameter] = Field(default_factory=list)
    datasets: list[str] = Field(default_factory=list)
    metrics: list[str] = Field(default_factory=list)
    existing_ablations: list[ExistingAblation] = Field(default_factory=list)


@dataclass
class Candidate:
    id: str
    sample: int
    rank: int
    ablation: Ablation


@dataclass
class Group:
    name: str
    ablated_part: str
    action: str
    members: list[Candidate] = field(default_factory=list)

    @staticmethod
    def single(c: Candidate) -> Group:
        a = c.ablation
        return Group(name=a.name, ablated_part=a.ablated_part, action=a.action, members=[c])

    @property
    def support(self) -> int:
        return len({m.sample for m in self.members})

    def record(self, rank: int, cut: str | None) -> dict[str, Any]:
        """The group as the plan's `stages["groups"]` keeps it: support, rank, and the rule that cut it."""
        return {
            "rank": rank,
            "name": self.name,
            "ablated_part": self.ablated_part,
            "action": self.action,
            "support": self.support,
            "mean_rank": round(self.mean_rank, 3),
            "members": [m.id for m in self.members],
            "kept": cut is None,
            "cut": cut,
        }

    @property
    def mean_rank(self) -> float:
        best: dict[int, int] = {}
        for m in self.members:
            best[m.sample] = min(best.get(m.sample, m.rank), m.rank)
        return sum(best.values()) / len(best)


def positive_option(extra: dict[str, Any], key: str, default: int) -> int:
    """An integer option of at least 1 (0 once silently meant the default)."""
    value = extra.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{key} must be a whole number of at least 1, not {value!r}")
    return value


def default_min_support(n: int) -> int:
    """All samples for N <= 3, otherwise a clear majority (4 of 5, 7 of 10)."""
    return n if n <= 3 else math.ceil(0.7 * n)


# -- stage 1 ------------------------------------------------------------------------------------
def read_request(paper: Paper, opts: PlanOptions, model: str, src: str) -> LMRequest:
    schema = Extraction.model_json_schema()
    user = prompts.render(
        "staged_read",
        mode=opts.mode,
        title=paper.title,
        abstract=paper.abstract,
        paper_source=src,
        schema=json.dumps(schema),
    )
    return LMRequest.chat(
        model, SYSTEM, user, temperature=0.0, max_tokens=opts.max_tokens, json_schema=schema, tag="read"
    )


def parse_extraction(text: str) -> Extraction | None:
    objs, _ = json_objects(strip_thinking(text))
    for o in sorted(objs, key=lambda o: -len(json.dumps(o))):
        try:
            return Extraction.model_validate(o)
        except ValidationError:
            continue
    return None


async def read(lm: LMClient, req: LMRequest) -> tuple[Extraction, list[LMResponse], list[str]]:
    first = await lm.complete(req)
    ex = parse_extraction(first.text)
    if ex is not None:
        return ex, [first], []
    # The read request runs at temperature 0 with tag "read", so this is the request it always was.
    repair = repair_request(
        req,
        first.text,
        "That was not a JSON object following the schema. Answer again with the JSON object only.",
    )
    second = await lm.complete(repair)
    ex = parse_extraction(second.text)
    if ex is None:
        return (
            Extraction(),
            [first, second],
            ["the extraction could not be read, even after one repair: proposals use the paper alone"],
        )
    return ex, [first, second], ["the first extraction was unreadable; repaired"]


def extraction_summary(ex: Extraction) -> str:
    lines = []
    if ex.contributions:
        lines.append("Contributions: " + "; ".join(ex.contributions[:8]))
    if ex.components:
        lines.append(
            "Components: "
            + "; ".join(
                f"{c.name}" + (f" ({c.description})" if c.description else "") for c in ex.components[:20]
            )
        )
    if ex.hyperparameters:
        lines.append(
            "Hyperparameters: " + "; ".join(f"{h.name} = {h.value}" for h in ex.hyperparameters[:15])
        )
    if ex.datasets:
        lines.append("Datasets: " + ", ".join(ex.datasets[:10]))
    if ex.metrics:
        lines.append("Metrics: " + ", ".join(ex.metrics[:10]))
    if ex.existing_ablations:
        lines.append(
            "Ablations the paper already reports: "
            + "; ".join(e.ablated_part for e in ex.existing_ablations[:15])
        )
    return "\n".join(lines) or "(nothing extracted)"


# -- stage 2 ------------------------------------------------------------------------------------
def propose_requests(
    paper: Paper, opts: PlanOptions, models: list[str], n: int, ex: Extraction, src: str
) -> list[LMRequest]:
    temp = 0.7 if opts.temperature is None else opts.temperature
    reqs = []
    for i in range(n):
        user = prompts.render(
            "staged_propose",
            mode=opts.mode,
            title=paper.title,
            abstract=paper.abstract,
            extraction=extraction_summary(ex),
            n=2 * opts.top_k,
            paper_source=src,
        )
        reqs.append(
            LMRequest.chat(
                models[i % len(models)],
                SYSTEM,
                user,
                temperature=temp,
                max_tokens=opts.max_tokens,
                seed=i,
                tag="propose",
            )
        )
    return reqs


async def gather_all(coros: list[Any]) -> list[Any]:
    """Run all; pending requests are all recorded before the first is raised (one batch round per stage)."""
    got = await asyncio.gather(*coros, return_exceptions=True)
    for g in got:
        if isinstance(g, RequestPending):
            raise g
    return list(got)


# -- stage 3 ------------------------------------------------------------------------------------
def candidate_line(c: Candidate) -> str:
    a = c.ablation
    rep = f" with {', '.join(a.replacement[:4])}" if a.replacement else ""
    return f"{c.id}: {a.name} | {a.action} {a.ablated_part}{rep}"


def consolidate_request(paper: Paper, cands: list[Candidate], model: str, opts: PlanOptions) -> LMRequest:
    user = prompts.render(
        "staged_consolidate", title=paper.title, candidates="\n".join(candidate_line(c) for c in cands)
    )
    return LMRequest.chat(
        model,
        "You group duplicate experiment proposals. Be precise.",
        user,
        temperature=0.0,
        max_tokens=opts.max_tokens,
        tag="consolidate",
    )


def groups_from_reply(text: str, cands: list[Candidate]) -> tuple[list[Group], list[str]]:
    by_id = {c.id: c for c in cands}
    notes: list[str] = []
    taken: set[str] = set()
    groups: list[Group] = []
    for row in split_reply(text).items:
        ids = [i for i in row.get("ids", []) if isinstance(i, str) and i in by_id and i not in taken]
        if not ids:
            continue
        taken.update(ids)
        first = min((by_id[i] for i in ids), key=lambda c: (c.rank, c.sample))
        groups.append(
            Group(
                name=str(row.get("name") or first.ablation.name),
                ablated_part=str(row.get("ablated_part") or first.ablation.ablated_part),
                action=str(row.get("action") or first.ablation.action).upper(),
                members=[by_id[i] for i in ids],
            )
        )
    missing = [c for c in cands if c.id not in taken]
    if missing:
        notes.append(
            f"{len(missing)} proposals were left ungrouped by the model: kept as groups of their own"
        )
    groups += [Group.single(c) for c in missing]
    return groups, notes


def lexical_groups(cands: list[Candidate]) -> list[Group]:
    """Fallback grouping without an LM: same action family and strongly overlapping ablated parts."""
    groups: list[Group] = []
    for c in sorted(cands, key=lambda c: (c.rank, c.sample)):
        for g in groups:
            if overlap(g.ablated_part, c.ablation.ablated_part) >= 0.75:
                g.members.append(c)
                break
        else:
            groups.append(Group.single(c))
    return groups


async def consolidate(
    lm: LMClient, paper: Paper, cands: list[Candidate], model: str, opts: PlanOptions, n_ok: int
) -> tuple[list[Group], list[LMResponse], list[str]]:
    """One grouping call over the candidates of `n_ok` samples (none for a single sample), with the
    lexical fallback when the reply cannot be read."""
    if n_ok < 2:
        return [Group.single(c) for c in cands], [], []
    res = await lm.complete(consolidate_request(paper, cands, model, opts))
    groups, notes = groups_from_reply(res.text, cands)
    if len(groups) == len(cands) and not split_reply(res.text).items:
        groups = lexical_groups(cands)
        notes = ["the grouping reply was unreadable: grouped by word overlap instead"]
    return groups, [res], notes


def merge_group(g: Group) -> Ablation:
    """The group as one ablation: the top member's fields, replacements and metrics merged by frequency."""
    top = min(g.members, key=lambda c: (c.rank, c.sample)).ablation
    reps: Counter[str] = Counter()
    mets: Counter[str] = Counter()
    order: dict[str, int] = {}
    for m in sorted(g.members, key=lambda c: (c.rank, c.sample)):
        for r in m.ablation.replacement or []:
            key = r.strip()
            reps[key] += 1
            order.setdefault(key, len(order))
        for x in m.ablation.metrics:
            mets[x.strip()] += 1
            order.setdefault(x.strip(), len(order))
    action = g.action if g.action in ("REMOVE", "REPLACE", "ADD") else top.action
    replacement = sorted(reps, key=lambda r: (-reps[r], order[r]))[:8] or None
    metrics = sorted(mets, key=lambda r: (-mets[r], order[r]))[:6]
    evidence: list[Evidence] = []
    for m in g.members:
        for ev in m.ablation.evidence:
            if all(ev.quote != e.quote for e in evidence):
                evidence.append(ev)
    rationale = top.rationale
    return Ablation(
        name=g.name,
        ablated_part=g.ablated_part,
        action=action,  # type: ignore[arg-type]
        replacement=replacement if action != "REMOVE" or replacement else None,
        metrics=metrics,
        rationale=rationale,
        evidence=evidence,
        support=g.support,
        score=round(g.mean_rank, 3),
    )


# -- stage 5 ------------------------------------------------------------------------------------
def ground(ab: Ablation, paper: Paper, ex: Extraction) -> tuple[Ablation, int]:
    """Keep only verified quotes; fall back to the extraction's quote, then the best-matching sentence."""
    kept = [
        e.model_copy(update={"verified": True}) for e in ab.evidence if quote_in_text(e.quote, paper.text)
    ]
    dropped = len(ab.evidence) - len(kept)
    if not kept:
        for c in ex.components:
            if c.quote and overlap(c.name, ab.ablated_part) >= 0.5 and quote_in_text(c.quote, paper.text):
                kept = [Evidence(quote=c.quote, section=c.section, verified=True)]
                break
    if not kept and (fallback := best_sentence(paper, ab.ablated_part)) is not None:
        kept = [fallback]
    return ab.model_copy(update={"evidence": kept[:2]}), dropped


@register_planner("staged")
class StagedPlanner:
    name = "staged"
    needs_model = True

    async def plan(self, paper: Paper, opts: PlanOptions, lm: LMClient | None) -> Plan:
        if lm is None or not opts.model:
            raise LMError("the staged planner needs a model (--model provider/name)")
        x = opts.extra
        models: list[str] = list(x.get("models") or [opts.model])
        n = positive_option(x, "samples", 5)
        min_support = positive_option(x, "min_support", default_min_support(n))
        length = str(x.get("length") or "support")
        k = opts.top_k
        window = context_window(models[0], x.get("context_window"))
        fitted, fit_notes = fit_paper(paper, max(2000, window - 12_000))
        src = paper_source(fitted)
        warnings = list(fit_notes)
        stage_usage: dict[str, Usage] = {}

        # 1. read
        ex, resp, notes = await read(lm, read_request(fitted, opts, models[0], src))
        stage_usage["read"] = usage_of(resp)
        warnings += notes

        # 2. propose
        reqs = propose_requests(fitted, opts, models, n, ex, src)
        max_cost = x.get("max_cost")
        if max_cost is not None:
            est = estimate_cost(reqs[:1], 1500)
            spent = stage_usage["read"].cost_usd
            affordable = max(1, int((float(max_cost) - spent) // est)) if est > 0 else n
            if affordable < n:
                warnings.append(f"--max-cost allows {affordable} of {n} samples")
                reqs = reqs[:affordable]
                n = affordable
                min_support = min(min_support, n)
        results = await gather_all([complete_plan(lm, r) for r in reqs])
        cands: list[Candidate] = []
        prop_resp: list[LMResponse] = []
        ok_samples = 0
        for i, res in enumerate(results):
            if isinstance(res, BaseException):
                warnings.append(f"sample {i + 1} failed: {res}")
                continue
            parsed, rs = res
            prop_resp += rs
            ok_samples += 1
            for r, ab in enumerate(parsed.ablations[: 2 * k]):
                cands.append(Candidate(id=f"S{i + 1}-{r + 1}", sample=i, rank=r + 1, ablation=ab))
        stage_usage["propose"] = usage_of(prop_resp)
        if not cands:
            raise LMError(f"{opts.model}: no sample produced a readable plan")
        if ok_samples < n:
            min_support = min(min_support, ok_samples)

        # 3. consolidate
        groups, cres, gnotes = await consolidate(lm, fitted, cands, models[0], opts, ok_samples)
        if cres:
            stage_usage["consolidate"] = usage_of(cres)
        warnings += gnotes

        # 4. rank and cut
        groups.sort(key=lambda g: (-g.support, g.mean_rank, g.name.lower()))
        records: list[dict[str, Any]] = []
        kept: list[Group] = []
        for rank, g in enumerate(groups, 1):
            rule = None
            if opts.mode == "reviewer" and any(
                overlap(g.ablated_part, e.ablated_part) >= 0.6 for e in ex.existing_ablations
            ):
                rule = "already in the paper"
            elif len(kept) >= k:
                rule = f"beyond k={k}"
            elif length == "support" and g.support < min_support and kept:
                rule = f"support {g.support} < {min_support}"
            if rule is None:
                kept.append(g)
            records.append(g.record(rank, rule))
        if not kept and groups:
            kept = [groups[0]]
            records[0].update(kept=True, cut=None, note="kept so the plan is not empty")

        # 5. ground
        ablations: list[Ablation] = []
        dropped = 0
        for g in kept:
            ab, d = ground(merge_group(g), paper, ex)
            dropped += d
            ablations.append(ab)
            if not ab.evidence:
                warnings.append(
                    f"no passage of the paper supports {ab.ablated_part!r}: check that it is part of the method"
                )
        trace = staged_trace(
            paper, opts, ex, n, ok_samples, cands, groups, kept, min_support, length, dropped, models
        )
        ungrounded = [a.name for a in ablations if not a.evidence]
        if ungrounded:
            trace += f"\nNo supporting passage was found for: {', '.join(ungrounded)}."
        total = Usage.total(stage_usage.values())
        return Plan(
            paper_id=paper.id,
            paper_title=paper.title,
            mode=opts.mode,
            planner=self.name,
            model=",".join(models),
            k=k,
            reasoning_trace=trace,
            ablations=ablations,
            warnings=warnings,
            findings=list(paper.findings),
            usage=total,
            stages={
                "extraction": ex.model_dump(),
                "groups": records,
                "settings": {
                    "samples": n,
                    "min_support": min_support,
                    "length": length,
                    "models": models,
                    "k": k,
                },
                "usage": {s: u.model_dump() for s, u in stage_usage.items()},
                "evidence_dropped": dropped,
            },
        )


def staged_trace(
    paper: Paper,
    opts: PlanOptions,
    ex: Extraction,
    n: int,
    ok: int,
    cands: list[Candidate],
    groups: list[Group],
    kept: list[Group],
    min_support: int,
    length: str,
    dropped: int,
    models: list[str],
) -> str:
    lines = [
        f"Reading: {len(ex.contributions)} contributions, {len(ex.components)} components, {len(ex.hyperparameters)} hyperparameters, "
        f"metrics: {', '.join(ex.metrics[:6]) or 'none found'}."
        + (
            f" The paper already reports {len(ex.existing_ablations)} ablations: {'; '.join(e.ablated_part for e in ex.existing_ablations[:6])}."
            if opts.mode == "reviewer"
            else ""
        ),
        "",
        f"Proposals: {ok} of {n} independent samples ({', '.join(models)}) gave {len(cands)} candidate ablations, "
        f"which group into {len(groups)} distinct experiments.",
        "",
        "Cut: ranked by support (how many samples proposed the experiment), then mean rank; "
        + (
            f"kept the experiments proposed by at least {min_support} of {ok} samples, at most {opts.top_k}."
            if length == "support"
            else f"kept the top {opts.top_k}."
        ),
    ]
    for i, g in enumerate(kept, 1):
        lines.append(f"{i}. {g.name}: support {g.support}/{ok}, mean rank {g.mean_rank:.1f}")
    others = [g for g in groups if g not in kept][:5]
    if others:
        lines.append("Not kept: " + "; ".join(f"{g.name} ({g.support}/{ok})" for g in others) + ".")
    lines.append("")
    lines.append(
        f"Grounding: {dropped} quoted evidence passage{'s' if dropped != 1 else ''} could not be found in the paper and {'were' if dropped != 1 else 'was'} dropped."
    )
    return "\n".join(lines)


def estimate_cost(reqs: list[LMRequest], out_tokens: int) -> float:
    return sum(cost_of(r.model, estimate_tokens("".join(c for _, c in r.messages)), out_tokens) for r in reqs)


def dry_run(
    paper: Paper, opts: PlanOptions, prices: dict[str, tuple[float, float]] | None = None
) -> dict[str, Any]:
    """Calls, tokens and cost the staged planner would spend on `paper`, before spending anything:
    1 read + N proposals + 1 consolidation (none for a single sample). `cost_usd` is None when a
    model has no known price."""
    if not opts.model:
        raise ConfigError("the staged planner needs a model: --model provider/name or ABPLAN_MODEL")
    models: list[str] = list(opts.extra.get("models") or [opts.model])
    n = positive_option(opts.extra, "samples", 5)
    window = context_window(models[0], opts.extra.get("context_window"))
    fitted, notes = fit_paper(paper, max(2000, window - 12_000))
    src = paper_source(fitted)
    r = read_request(fitted, opts, models[0], src)
    p = propose_requests(fitted, opts, models, n, Extraction(components=[Component(name="x" * 40)] * 15), src)
    c_in = 60 * 2 * opts.top_k * n // 4 + 300
    rows = [
        ("read", 1, estimate_tokens("".join(m for _, m in r.messages)), 2000),
        ("propose", n, estimate_tokens("".join(m for _, m in p[0].messages)), 1500),
        ("consolidate", 1 if n > 1 else 0, c_in, 800),
    ]
    cost, unpriced = total_cost(
        [
            (models[i % len(models)] if stage == "propose" else models[0], tin, tout)
            for stage, calls, tin, tout in rows
            for i in range(calls)
        ],
        prices,
    )
    notes += unpriced
    return {
        "calls": sum(r[1] for r in rows),
        "input_tokens": sum(r[1] * r[2] for r in rows),
        "output_tokens": sum(r[1] * r[3] for r in rows),
        "cost_usd": cost,
        "stages": [
            {"stage": s, "calls": c, "input_tokens_each": i, "output_tokens_each": o} for s, c, i, o in rows
        ],
        "notes": list(dict.fromkeys(notes)),
    }
