"""The CloudRecording API: pydantic models, the single source of the CRD schemas.

Pure pydantic: this package imports neither kopf, kubernetes nor httpx.
"""

from cloudrec_operator.api.names import GROUP

__all__ = ["GROUP"]
