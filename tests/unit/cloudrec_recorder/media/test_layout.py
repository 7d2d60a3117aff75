"""Layout geometry: Float, BestFit, Vertical and custom regions (protocol.md §3.2.2)."""

from __future__ import annotations

import pytest

from cloudrec_recorder.media.config import RegionSpec, RenderMode, VideoLayout
from cloudrec_recorder.media.layout import Region, compute_layout

W, H = 640, 360


def by_uid(regions: list[Region]) -> dict[str, Region]:
    return {region.uid: region for region in regions}


def test_no_uids_give_no_regions() -> None:
    assert compute_layout(VideoLayout.FLOAT, [], W, H) == []


def test_float_layout_gives_the_first_user_the_whole_canvas() -> None:
    regions = compute_layout(VideoLayout.FLOAT, ["a", "b", "c"], W, H)
    assert regions[0] == Region("a", 0, 0, W, H, 0)


def test_float_layout_gives_the_max_resolution_user_the_whole_canvas() -> None:
    regions = by_uid(compute_layout(VideoLayout.FLOAT, ["a", "b"], W, H, max_resolution_uid="b"))
    assert (regions["b"].width, regions["b"].height) == (W, H)
    assert regions["a"].width < W / 4


def test_float_layout_floats_the_others_above_it_bottom_row_first_four_to_a_row() -> None:
    uids = [str(n) for n in range(7)]
    regions = by_uid(compute_layout(VideoLayout.FLOAT, uids, W, H))
    bottom = [regions[u] for u in ["1", "2", "3", "4"]]
    assert len({r.y for r in bottom}) == 1
    assert [r.x for r in bottom] == sorted(r.x for r in bottom)
    assert bottom[0].y + bottom[0].height <= H
    assert bottom[0].y + bottom[0].height > H - 20
    second = regions["5"]
    assert second.y + second.height <= bottom[0].y
    assert all(regions[u].z > regions["0"].z for u in uids[1:])
    assert all(abs(r.width / r.height - W / H) < 0.05 for r in bottom)


def test_float_layout_shows_at_most_seventeen_users() -> None:
    regions = compute_layout(VideoLayout.FLOAT, [str(n) for n in range(20)], W, H)
    assert len(regions) == 17
    assert all(r.y >= 0 for r in regions)


@pytest.mark.parametrize(
    ("count", "columns", "rows"),
    [(1, 1, 1), (2, 2, 1), (3, 2, 2), (4, 2, 2), (5, 3, 3), (9, 3, 3), (10, 4, 4), (17, 5, 5)],
)
def test_best_fit_layout_uses_a_grid_sized_for_the_number_of_users(
    count: int, columns: int, rows: int
) -> None:
    regions = compute_layout(VideoLayout.BEST_FIT, [str(n) for n in range(count)], W, H)
    assert len(regions) == count
    assert {r.width for r in regions} <= {W // columns, W // columns + 1}
    assert {r.height for r in regions} <= {H // rows, H // rows + 1}


def test_best_fit_layout_puts_two_users_side_by_side() -> None:
    a, b = compute_layout(VideoLayout.BEST_FIT, ["a", "b"], W, H)
    assert (a.x, a.y, a.width, a.height) == (0, 0, W // 2, H)
    assert (b.x, b.y, b.width, b.height) == (W // 2, 0, W // 2, H)


def test_best_fit_layout_centres_an_incomplete_last_row() -> None:
    regions = by_uid(compute_layout(VideoLayout.BEST_FIT, ["a", "b", "c"], W, H))
    assert (regions["a"].x, regions["b"].x) == (0, W // 2)
    assert regions["c"].x == W // 4
    assert regions["c"].y == H // 2


def test_best_fit_regions_do_not_overlap() -> None:
    regions = compute_layout(VideoLayout.BEST_FIT, [str(n) for n in range(8)], W, H)
    for i, first in enumerate(regions):
        for second in regions[i + 1 :]:
            apart_x = first.x + first.width <= second.x or second.x + second.width <= first.x
            apart_y = first.y + first.height <= second.y or second.y + second.height <= first.y
            assert apart_x or apart_y


def test_vertical_layout_puts_the_max_resolution_user_large_on_the_left() -> None:
    regions = by_uid(
        compute_layout(VideoLayout.VERTICAL, ["a", "b", "c"], W, H, max_resolution_uid="c")
    )
    large = regions["c"]
    assert (large.x, large.y, large.height) == (0, 0, H)
    assert large.width > W / 2
    for uid in ("a", "b"):
        assert regions[uid].x >= large.x + large.width
        assert regions[uid].height == H // 4
    assert regions["a"].y < regions["b"].y


def test_vertical_layout_uses_two_columns_of_eight_for_many_users() -> None:
    regions = compute_layout(VideoLayout.VERTICAL, [str(n) for n in range(17)], W, H)
    small = regions[1:]
    assert len(small) == 16
    assert len({r.x for r in small}) == 2
    assert {r.height for r in small} == {H // 8}
    assert regions[0].width + 2 * small[0].width in (W - 1, W, W + 1)


def test_vertical_layout_with_one_user_fills_the_canvas() -> None:
    assert compute_layout(VideoLayout.VERTICAL, ["a"], W, H) == [Region("a", 0, 0, W, H, 0)]


def test_custom_layout_places_named_uids_and_fills_unnamed_regions_in_order() -> None:
    specs = [
        RegionSpec(0.0, 0.0, 0.5, 0.5, uid="z"),
        RegionSpec(0.5, 0.0, 0.5, 0.5),
        RegionSpec(0.0, 0.5, 0.5, 0.5, alpha=0.5, render_mode=RenderMode.FIT),
    ]
    regions = by_uid(compute_layout(VideoLayout.CUSTOM, ["a", "z", "b", "c"], W, H, regions=specs))
    assert regions["z"] == Region("z", 0, 0, 320, 180, 0)
    assert (regions["a"].x, regions["a"].y) == (320, 0)
    assert (regions["b"].x, regions["b"].y, regions["b"].alpha) == (0, 180, 0.5)
    assert regions["b"].render_mode is RenderMode.FIT
    assert "c" not in regions


def test_custom_layout_skips_a_region_whose_uid_is_absent() -> None:
    specs = [RegionSpec(0.0, 0.0, 1.0, 1.0, uid="gone")]
    assert compute_layout(VideoLayout.CUSTOM, ["a"], W, H, regions=specs) == []


def test_a_region_outside_the_unit_square_is_refused() -> None:
    with pytest.raises(ValueError, match="x must be in"):
        RegionSpec(1.5, 0.0, 0.1, 0.1)
