"""Planned hand-over benchmark: one recording passed between two recorder replicas N times."""
