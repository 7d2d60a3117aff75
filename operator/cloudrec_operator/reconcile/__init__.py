"""Pure decisions: (spec, status, observation) -> actions and the new status."""
