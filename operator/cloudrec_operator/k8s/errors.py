"""Errors of the Kubernetes facade."""

from __future__ import annotations


class MissingInputError(LookupError):
    """A Secret, a key in it, or a backend the recording needs does not exist.

    ``reason`` is CamelCase (SecretNotFound, SecretKeyNotFound, BackendNotFound);
    the message names the object and key, never a value.
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
