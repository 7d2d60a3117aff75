"""How a recording is named here: the app id it runs under and its sid (pure: no I/O).

A request (``/v1/apps/{appid}/...``) and a peer message (a hand-over's offer, a take-over's
beat) come in under one app id's credential, and that app's tenant holds the credential as
well as the peers. The sids this recorder makes are random, but a tenant may *name* another
app's sid (a forged take-over record, a forged offer). So every table of recordings is keyed
by :class:`RecordingKey`, never by the sid alone (the registry, the recordings being taken
over, the redirects, the take-over's bookkeeping): under app A nothing finds, stops, queries,
updates, redirects to, fences or takes over app B's recording, even with B's sid.

On one replica a sid is still one recording: its spool directory is named after the sid. A
recording offered or taken over under app A with a sid some other app's recording has here
is refused (:func:`clash`, :func:`clash_reason`), never merged with it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

__all__ = ["RecordingKey", "clash", "clash_reason"]


class RecordingKey(NamedTuple):
    """One recording as a request or a peer message names it."""

    appid: str
    sid: str


def clash(key: RecordingKey, here: Iterable[str]) -> list[str]:
    """The app ids other than ``key.appid`` among ``here`` (the app ids of the recordings this
    replica has, or had, under ``key.sid``): if any, ``key`` must not be run here."""
    return sorted({appid for appid in here if appid != key.appid})


def clash_reason(what: str) -> str:
    """The refusal's reason (the app ids and the sid are not told: the sender named them)."""
    return f"{what}: the sid is another app's recording on this replica"
