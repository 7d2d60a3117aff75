"""A mix recording's background pictures: checked when named, fetched and decoded once.

`layout_refusal` (pure) is the request-time check: every picture URL a layout names must be
allowed (:func:`~cloudrec_recorder.images.url_refusal`), else the request is refused naming
the field. `LayoutPictures` follows the recording's layout: `show(layout)` returns at once the
pictures it holds already and fetches the others in the background (a picture is "applied
only after a successful download", protocol.md §3.2.2), then hands the complete set to
``apply``, unless a newer layout replaced that one meanwhile. A picture that cannot be fetched
or decoded is reported through ``warn`` (the recording keeps showing the colour).

Each URL is fetched and decoded once per recording, and a picture much larger than the canvas
is scaled down once (to twice the canvas, keeping its shape), so a recording holds at most the
pictures of its current layout, each of bounded size.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterator

import av

from cloudrec_protocol.models import LayoutSettings
from cloudrec_recorder.images import (
    PictureUnavailableError,
    describe_url,
    fetch_picture,
    url_refusal,
)
from cloudrec_recorder.media.background import (
    Backgrounds,
    PictureError,
    UserPicture,
    decode_picture,
)
from cloudrec_recorder.media.config import RenderMode
from cloudrec_recorder.settings import BackgroundImageSettings

__all__ = ["LayoutPictures", "layout_refusal", "layout_urls"]

log = logging.getLogger(__name__)

Warn = Callable[[str, str], None]
"""``warn(field, reason)``: a picture of the layout will not be shown."""


def layout_urls(layout: LayoutSettings) -> Iterator[tuple[str, str]]:
    """``(field, url)`` of every picture the layout names (empty strings name none)."""
    if layout.background_image:
        yield "backgroundImage", layout.background_image
    if layout.default_user_background_image:
        yield "defaultUserBackgroundImage", layout.default_user_background_image
    for index, entry in enumerate(layout.background_config or ()):
        if entry.image_url:
            yield f"backgroundConfig[{index}].image_url", entry.image_url


def layout_refusal(
    layout: LayoutSettings, settings: BackgroundImageSettings, where: str
) -> str | None:
    """``"<where>.<field>: <reason>"`` for the first picture the recorder may not fetch."""
    for field, url in layout_urls(layout):
        reason = url_refusal(url, settings)
        if reason is not None:
            return f"{where}.{field}: {reason}"
    return None


def _bounded(picture: av.VideoFrame, width: int, height: int) -> av.VideoFrame:
    """``picture`` scaled down (keeping its shape) when it exceeds twice the canvas."""
    scale = max(2 * width / picture.width, 2 * height / picture.height)
    if scale >= 1.0:
        return picture
    w = max(2, round(picture.width * scale))
    h = max(2, round(picture.height * scale))
    scaled: av.VideoFrame = picture.reformat(width=w, height=h, format="yuv420p")
    return scaled


class LayoutPictures:
    """The pictures of a mix recording's current layout; see the module docstring."""

    def __init__(
        self,
        settings: BackgroundImageSettings,
        canvas: tuple[int, int],
        apply: Callable[[Backgrounds], None],
        warn: Warn,
    ) -> None:
        self.settings = settings
        self.canvas = canvas
        self._apply = apply
        self._warn = warn
        self._pictures: dict[str, av.VideoFrame] = {}
        self._wanted: set[str] = set()
        self._generation = 0
        self._tasks: set[asyncio.Task[None]] = set()

    def show(self, layout: LayoutSettings) -> Backgrounds:
        """The pictures of ``layout`` held now; the missing ones follow through ``apply``."""
        self._generation += 1
        named = dict(layout_urls(layout))
        self._wanted = set(named.values())
        self._pictures = {url: p for url, p in self._pictures.items() if url in self._wanted}
        missing = {field: url for field, url in named.items() if url not in self._pictures}
        if missing:
            task = asyncio.create_task(self._load(layout, missing, self._generation))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return self._held(layout)

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    def _held(self, layout: LayoutSettings) -> Backgrounds:
        pictures = self._pictures
        users = {
            entry.uid: UserPicture(pictures[entry.image_url], RenderMode(int(entry.render_mode)))
            for entry in layout.background_config or ()
            if entry.image_url in pictures
        }
        return Backgrounds(
            canvas=pictures.get(layout.background_image or ""),
            default_user=pictures.get(layout.default_user_background_image or ""),
            users=users,
        )

    async def _load(self, layout: LayoutSettings, missing: dict[str, str], generation: int) -> None:
        urls = list(dict.fromkeys(missing.values()))
        results = await asyncio.gather(*(self._picture(url) for url in urls))
        failed = {url: reason for url, reason in zip(urls, results, strict=True) if reason}
        for field, url in missing.items():
            if url in failed:
                log.warning(
                    "Background picture not shown field=%s url=%s reason=%s",
                    field,
                    describe_url(url),
                    failed[url],
                )
                self._warn(field, failed[url])
        if generation == self._generation and len(failed) < len(urls):
            self._apply(self._held(layout))

    async def _picture(self, url: str) -> str | None:
        """Fetch and decode ``url`` into the cache; the reason when that fails."""
        try:
            data = await fetch_picture(url, self.settings)
            picture = await asyncio.to_thread(
                decode_picture, data, max_pixels=self.settings.max_pixels
            )
            picture = await asyncio.to_thread(_bounded, picture, *self.canvas)
        except (PictureUnavailableError, PictureError) as exc:
            return str(exc)
        if url in self._wanted:  # else a newer layout no longer shows it
            self._pictures[url] = picture
        return None
