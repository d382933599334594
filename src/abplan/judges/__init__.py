"""Judges, registered by name: `lexical` (no LM), `lm` and `majority`."""

from abplan.judges.base import (
    JUDGES,
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
    "JUDGES",
    "Judge",
    "JudgeOptions",
    "Judgement",
    "Match",
    "ReviewItem",
    "get_judge",
    "judge_names",
    "register_judge",
]
