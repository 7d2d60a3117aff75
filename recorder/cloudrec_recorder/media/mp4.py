"""The MP4 writer: one file for the whole recording, finished (and announced) when closed."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import av

from cloudrec_recorder.media.naming import temporary_name
from cloudrec_recorder.media.spool import FileReady, publish

__all__ = ["Mp4Writer"]


class Mp4Writer:
    """Muxes the same encoded packets as the HLS writer into `.tmp-<name>`, renamed at close."""

    def __init__(
        self,
        spool_dir: Path,
        name: str,
        templates: Sequence[av.VideoStream | av.AudioStream],
        on_file_ready: FileReady,
    ) -> None:
        self.spool_dir = spool_dir
        self.name = name
        self._on_file_ready = on_file_ready
        self._container = av.open(str(spool_dir / temporary_name(name)), "w", format="mp4")
        self._streams = [
            self._container.add_stream_from_template(t, opaque=True) for t in templates
        ]
        self._packets = 0
        self.closed = False
        self.published = False

    def mux(self, index: int, packet: av.Packet[Any]) -> None:
        if packet.pts is None:
            return
        packet.stream = self._streams[index]
        self._container.mux(packet)
        self._packets += 1

    def close(self) -> None:
        """Write the index and publish the file (an MP4 without packets is dropped)."""
        if self.closed:
            return
        self.closed = True
        self._container.close()
        if self._packets:
            publish(self.spool_dir, self.name, self._on_file_ready)
            self.published = True
        else:
            (self.spool_dir / temporary_name(self.name)).unlink(missing_ok=True)
