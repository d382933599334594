"""The benchmark harness: datasets, the resumable runner, scoring, reports, and the task builder."""
