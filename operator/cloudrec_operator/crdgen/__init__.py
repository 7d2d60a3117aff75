"""Generate structural CustomResourceDefinitions from the pydantic API models."""
