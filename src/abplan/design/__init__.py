"""Designs of single ablations, study plans and review text built on a plan (issue 15)."""
