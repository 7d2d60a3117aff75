"""Tests of cloudrec: unit, contract, cluster (integration) and end to end."""
