"""Which channel participants are recorded, and how a refused id is named (pure).

Participants choose their own ids (Janus with ``string_ids`` takes any string). Their ids
become file names, playlist lines, layout keys and callback fields, so only ids in the
protocol's uid grammar (``1`` … ``4294967295``, digits, no leading zero) are recorded; any
other participant is left out (once reported, by :func:`shown`), and the others are recorded
as if it were not there.
"""

from __future__ import annotations

import re

from cloudrec_protocol.models import is_valid_uid

__all__ = ["SHOWN_CHARACTERS", "is_recordable", "shown"]

SHOWN_CHARACTERS = 32
"""At most this many characters of a refused id appear in logs and events."""
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def is_recordable(uid: str) -> bool:
    """True for a participant id the recorder records (the protocol's uid grammar)."""
    return is_valid_uid(uid)


def shown(uid: str) -> str:
    """A refused id as logs and events may show it: safe characters only, cut short.

    Anything but letters, digits, ``.``, ``_`` and ``-`` becomes ``?`` (no newline, no
    ``/``, no control or terminal characters), and a long id is cut with its length given.
    """
    safe = _UNSAFE.sub("?", uid[:SHOWN_CHARACTERS])
    if len(uid) > SHOWN_CHARACTERS:
        return f"'{safe}...' ({len(uid)} characters)"
    return f"'{safe}'"
