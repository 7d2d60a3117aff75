"""Layout geometry: where each uid's video goes on the mix canvas (protocol.md §3.2.2).

Pure functions; pixel rectangles in canvas coordinates, painted in list order (later on top).

* Float: the `max_resolution_uid` (or else the first uid) fills the canvas; the others float above
  it in small windows of the canvas' aspect ratio, four to a row, rows filled from the bottom up,
  at most four rows (17 users in all).
* BestFit: a grid: 1 user the whole canvas, 2 side by side, 3-4 a 2x2 grid, 5-9 3x3, 10-16 4x4,
  17 5x5; a last row that is not full is centred.
* Vertical: the `max_resolution_uid` (or else the first uid) large on the left; the others in
  small windows stacked on the right: one column of 4 rows for up to 4 others, 8 rows per column
  and up to 2 columns beyond that (17 users in all).
* Custom: `layoutConfig` regions in relative units; regions with a uid take that uid, regions
  without one take the remaining uids in order; users beyond the regions are not shown.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from cloudrec_recorder.media.config import RegionSpec, RenderMode, VideoLayout

__all__ = ["MAX_USERS", "Region", "compute_layout"]

MAX_USERS = 17
_FLOAT_COLUMNS = 4
_FLOAT_ROWS = 4
_FLOAT_MARGIN = 0.025  # of the canvas width (horizontal) and height (vertical)


@dataclass(frozen=True)
class Region:
    """One uid's rectangle on the canvas, in pixels; `z` orders painting (higher on top)."""

    uid: str
    x: int
    y: int
    width: int
    height: int
    z: int = 0
    alpha: float = 1.0
    render_mode: RenderMode = RenderMode.CROP

    def contains(self, px: int, py: int) -> bool:
        return self.x <= px < self.x + self.width and self.y <= py < self.y + self.height


def _rect(uid: str, x: float, y: float, w: float, h: float, z: int) -> Region:
    left, top = round(x), round(y)
    return Region(uid, left, top, round(x + w) - left, round(y + h) - top, z)


def _lead_first(uids: Sequence[str], lead: str | None) -> list[str]:
    ordered = list(uids)
    if lead is not None and lead in ordered:
        ordered.remove(lead)
        ordered.insert(0, lead)
    return ordered


def _float(uids: list[str], width: int, height: int) -> list[Region]:
    regions = [Region(uids[0], 0, 0, width, height, 0)]
    margin_x, margin_y = width * _FLOAT_MARGIN, height * _FLOAT_MARGIN
    tile_w = (width - margin_x * (_FLOAT_COLUMNS + 1)) / _FLOAT_COLUMNS
    tile_h = tile_w * height / width
    for index, uid in enumerate(uids[1 : 1 + _FLOAT_COLUMNS * _FLOAT_ROWS]):
        row, column = divmod(index, _FLOAT_COLUMNS)
        x = margin_x + column * (tile_w + margin_x)
        y = height - (row + 1) * (tile_h + margin_y)
        regions.append(_rect(uid, x, y, tile_w, tile_h, 1))
    return regions


def _grid_size(count: int) -> tuple[int, int]:
    if count == 2:
        return 2, 1
    side = math.ceil(math.sqrt(count))
    return side, side


def _best_fit(uids: list[str], width: int, height: int) -> list[Region]:
    columns, rows = _grid_size(len(uids))
    cell_w, cell_h = width / columns, height / rows
    regions = []
    for index, uid in enumerate(uids):
        row, column = divmod(index, columns)
        in_row = min(columns, len(uids) - row * columns)
        offset = (columns - in_row) * cell_w / 2
        regions.append(_rect(uid, offset + column * cell_w, row * cell_h, cell_w, cell_h, 0))
    return regions


def _vertical(uids: list[str], width: int, height: int) -> list[Region]:
    others = uids[1:MAX_USERS]
    if not others:
        return [Region(uids[0], 0, 0, width, height, 0)]
    rows = 4 if len(others) <= 4 else 8
    columns = math.ceil(len(others) / rows)
    tile_h = height / rows
    tile_w = tile_h * width / height
    large_w = width - columns * tile_w
    regions = [_rect(uids[0], 0, 0, large_w, height, 0)]
    for index, uid in enumerate(others):
        column, row = divmod(index, rows)
        regions.append(_rect(uid, large_w + column * tile_w, row * tile_h, tile_w, tile_h, 0))
    return regions


def _custom(
    uids: Sequence[str], width: int, height: int, specs: Sequence[RegionSpec]
) -> list[Region]:
    named = {spec.uid for spec in specs if spec.uid is not None}
    unplaced = iter([uid for uid in uids if uid not in named])
    present = set(uids)
    regions = []
    for z, spec in enumerate(specs):
        uid = spec.uid if spec.uid is not None else next(unplaced, None)
        if uid is None or uid not in present:
            continue
        rect = _rect(
            uid, spec.x * width, spec.y * height, spec.width * width, spec.height * height, z
        )
        regions.append(
            Region(uid, rect.x, rect.y, rect.width, rect.height, z, spec.alpha, spec.render_mode)
        )
    return regions


def compute_layout(
    layout: VideoLayout,
    uids: Sequence[str],
    width: int,
    height: int,
    *,
    max_resolution_uid: str | None = None,
    regions: Sequence[RegionSpec] = (),
) -> list[Region]:
    """Regions for `uids` (in join order) on a `width` x `height` canvas, bottom first."""
    if width <= 0 or height <= 0:
        raise ValueError(f"canvas must have a positive size, got {width}x{height}")
    if not uids:
        return []
    if layout is VideoLayout.CUSTOM:
        return _custom(uids, width, height, regions)
    if layout is VideoLayout.BEST_FIT:
        return _best_fit(list(uids)[:MAX_USERS], width, height)
    ordered = _lead_first(uids, max_resolution_uid)[:MAX_USERS]
    if layout is VideoLayout.FLOAT:
        return _float(ordered, width, height)
    return _vertical(ordered, width, height)
