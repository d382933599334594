"""Judges, registered by name: `lexical` (no LM), `lm` and `majority`."""

from abplan.judges.base import (
    Judge,
    Judgement,
    JudgeOptions,
    Match,
    ReviewItem,
    get_judge,
    judge_names,
    register_judge,
)

__all__ = [
    "Judge",
    "JudgeOptions",
    "Judgement",
    "Match",
    "ReviewItem",
    "get_judge",
    "judge_names",
    "register_judge",
]
