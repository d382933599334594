"""Staged planner (placeholder module; see issue)."""
