"""One kopf index over the CloudRecordings, read as the two the operator needs.

kopf runs every indexer at every watch event of every CloudRecording, and each of the
operator's own writes comes back as one: the indexers are on the per-event path that sets
the operator's CPU per recording (``BENCHMARKS.md``). So there is one indexer,
``recording_index``, whose entry holds both:

* a sid (``str``) -> the (namespace, name) of the CloudRecording whose status names it (how
  the callback receiver finds a recording: ``Runtime.owner``);
* a backend key (a ``tuple``) -> the recording's queue entry while its status says Queued
  (what the queue loop orders: ``queues.Queues``).

:class:`IndexPart` is the view of one kind of key; the keys of the two kinds never meet (a
string is not a tuple).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Generic, TypeVar, cast

K = TypeVar("K")
V = TypeVar("V")

RECORDINGS_INDEX = "recording_index"


class IndexPart(Mapping[K, Iterable[V]], Generic[K, V]):
    """The entries of ``index`` whose key is an instance of ``kind`` (live: kopf's index
    changes under it)."""

    def __init__(self, index: Mapping[Any, Iterable[Any]], kind: type) -> None:
        self._index, self._kind = index, kind

    def __getitem__(self, key: K) -> Iterable[V]:
        if not isinstance(key, self._kind):
            raise KeyError(key)
        return cast(Iterable[V], self._index[key])

    def __iter__(self) -> Iterator[K]:
        return (cast(K, key) for key in self._index if isinstance(key, self._kind))

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, self._kind) and key in self._index


def index_entry(sid_entry: Mapping[str, Any], queue_entry: Mapping[Any, Any]) -> dict[Any, Any]:
    """The ``recording_index`` index entry of one CloudRecording from its two parts."""
    return {**queue_entry, **sid_entry}


__all__ = ["RECORDINGS_INDEX", "IndexPart", "index_entry"]
