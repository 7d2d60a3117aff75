"""Packaging checks that need the package registries (run outside the test network namespace)."""
