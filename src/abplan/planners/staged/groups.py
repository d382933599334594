"""Candidates (one proposed ablation of one sample) and groups of candidates that are the same experiment."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from abplan.schema import Ablation


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
