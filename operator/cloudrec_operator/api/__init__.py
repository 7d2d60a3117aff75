"""The CloudRecording API: pydantic models, the single source of the CRD schemas.

Pure pydantic: this package imports neither kopf, kubernetes nor httpx.
"""

GROUP = "cloudrecording.io"
"""The API group of every resource in this package."""
