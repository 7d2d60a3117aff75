"""One aiobotocore session for the whole recorder process.

Creating a session loads botocore's endpoint and service models: 0.1-0.3 s of CPU, on the
event loop. A session per upload target did that for every recording that started, so many
starts at once queued behind each other (see BENCHMARKS.md, "Operator at scale"). Clients
made from one session share the loaded models and take a few milliseconds.
"""

from __future__ import annotations

import functools

from aiobotocore.session import AioSession, get_session

__all__ = ["shared_session"]


@functools.cache
def shared_session() -> AioSession:
    """The process's aiobotocore session (created on first use)."""
    return get_session()
