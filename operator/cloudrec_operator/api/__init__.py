"""The CloudRecording API: pydantic models, the single source of the CRD schemas."""
