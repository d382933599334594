from __future__ import annotations

import pytest

from abplan.bench.scoring import bootstrap, max_bipartite, ndcg, score_task
from abplan.judges.base import Judgement, Match, ReviewItem


def author(matches: dict[str, list[str]], plan: list[str]) -> Judgement:
    return Judgement(
        task_id="t",
        mode="author",
        judge="x",
        plan_names=plan,
        matches=[Match(gold=g, plan=p) for g, p in matches.items()],
    )


def test_many_to_one_counts_twice_in_compat_once_in_strict() -> None:
    j = author({"g1": ["p1"], "g2": ["p1"], "g3": []}, ["p1", "p2"])
    s = score_task(j, None)
    assert s.compat.recall == pytest.approx(2 / 3)
    assert s.compat.precision == pytest.approx(2 / 3)  # TP=2 gold, FP=1 (p2)
    assert s.strict.recall == pytest.approx(1 / 3) and s.strict.precision == pytest.approx(1 / 2)


def test_empty_match_list_is_no_match() -> None:
    s = score_task(author({"g1": []}, ["p1"]), None)
    assert s.compat.recall == 0 and s.compat.precision == 0 and s.compat.f1 == 0


def test_empty_plan() -> None:
    s = score_task(author({"g1": []}, []), None)
    assert (s.compat.precision, s.compat.recall, s.compat.f1, s.compat.ndcg) == (0, 0, 0, 0)


def test_top_k_is_the_planners_first_items() -> None:
    j = author({"g1": ["p3"], "g2": ["p1"]}, ["p1", "p2", "p3"])
    s = score_task(j, top_k=2)
    assert s.plan_size == 2
    assert s.compat.recall == pytest.approx(1 / 2)  # g1's match p3 lies beyond k
    assert s.compat.precision == pytest.approx(1 / 2)


def test_ndcg_follows_the_planners_ranking() -> None:
    first = score_task(author({"g1": ["p1"], "g2": []}, ["p1", "p2"]), None).compat.ndcg
    last = score_task(author({"g1": ["p2"], "g2": []}, ["p1", "p2"]), None).compat.ndcg
    assert first is not None and last is not None and first > last
    assert ndcg([True, False], 2) == pytest.approx(1 / (1 + 1 / 1.584962500721156))


def test_bipartite_finds_the_maximum() -> None:
    pairs = max_bipartite([Match(gold="a", plan=["x", "y"]), Match(gold="b", plan=["x"])], ["x", "y"])
    assert pairs == {"a": "y", "b": "x"}


def test_reviewer_hits_capped_at_the_number_requested() -> None:
    j = Judgement(
        task_id="t",
        mode="reviewer",
        judge="x",
        plan_names=["a", "b", "c"],
        items=[
            ReviewItem(plan="a", appears=True),
            ReviewItem(plan="b", appears=True),
            ReviewItem(plan="c", appears=False),
        ],
    )
    s = score_task(j, None, num_requested=1)
    assert s.compat.recall == 1.0 and s.compat.precision == pytest.approx(1 / 2)  # hit above N vanishes
    assert s.strict.precision == pytest.approx(2 / 3)


def test_reviewer_strict_uses_missing_list_one_to_one() -> None:
    j = Judgement(
        task_id="t",
        mode="reviewer",
        judge="x",
        plan_names=["a", "b"],
        items=[ReviewItem(plan="a", appears=True), ReviewItem(plan="b", appears=True)],
        matches=[Match(gold="m1", plan=["a", "b"]), Match(gold="m2", plan=[])],
    )
    s = score_task(j, None, num_requested=2)
    assert s.compat.recall == 1.0 and s.compat.precision == 1.0  # two items, same request: inflated
    assert s.strict.recall == pytest.approx(1 / 2) and s.strict.precision == pytest.approx(1 / 2)


def test_bootstrap_is_seeded_and_brackets_the_mean() -> None:
    vals = [0.1, 0.5, 0.9, 0.3]
    a, b = bootstrap(vals, seed=1), bootstrap(vals, seed=1)
    assert a == b and a.low <= a.mean <= a.high and a.mean == pytest.approx(0.45)
