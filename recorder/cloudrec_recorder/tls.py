"""The recorder's one TLS context for outgoing TLS (its WebSocket to Janus)."""

from __future__ import annotations

import functools
import ssl

__all__ = ["tls_context"]


@functools.cache
def tls_context() -> ssl.SSLContext:
    """One context for the process: building one loads the CA bundle (about 1 MB and 20-30 ms of
    CPU each), which a context per recording's Janus session paid again and again."""
    return ssl.create_default_context()
