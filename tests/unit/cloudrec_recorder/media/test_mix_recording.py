"""MixRecording end to end: synthetic publishers in, decoded HLS/MP4 checked.

The recordings of this module run in one module fixture, a few at a time (about twenty seconds
of wall time); each test then checks one property of what they wrote.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from tests.media_files import decode_audio, decode_video, open_media, stream_kinds
from tests.unit.cloudrec_recorder.media.synth import (
    COLORS,
    TONES,
    Publisher,
    close_to,
    publish,
    run_all,
    tone_levels,
)

from cloudrec_recorder.media.config import (
    MixConfig,
    OutputFile,
    StreamTypes,
    TrackType,
    VideoLayout,
)
from cloudrec_recorder.media.layout import Region, compute_layout
from cloudrec_recorder.media.naming import TMP_PREFIX
from cloudrec_recorder.media.pipeline import MixRecording, RecordingNames

W, H, FPS = 320, 180, 15
SECONDS = 3.0
UIDS = list(COLORS)
LAYOUTS = [VideoLayout.FLOAT, VideoLayout.BEST_FIT, VideoLayout.VERTICAL]
COUNTS = [1, 2, 4, 5]


@dataclass
class Run:
    spool: Path
    recording: MixRecording
    publishers: list[Publisher]
    announced: list[str] = field(default_factory=list)
    sizes: dict[str, int] = field(default_factory=dict)  # segment sizes when announced
    files: list[OutputFile] = field(default_factory=list)
    actions: list[tuple[float, Callable[[], None]]] = field(default_factory=list)
    acted_at: float = 0.0  # seconds after start() when the (one) action really ran
    seconds: float = 0.0  # from start() to stop(): what the recording should hold

    @property
    def playlist(self) -> Path:
        return self.spool / "sid_room.m3u8"


def _config(**overrides: object) -> MixConfig:
    base: dict[str, object] = {
        "width": W,
        "height": H,
        "fps": FPS,
        "bitrate_kbps": 300,
        "segment_seconds": 1.0,
        "first_segment_seconds": None,
    }
    base.update(overrides)
    return MixConfig(**base)  # type: ignore[arg-type]


def _run(tmp: Path, name: str, config: MixConfig, publishers: list[Publisher]) -> Run:
    spool = tmp / name
    announced: list[str] = []
    sizes: dict[str, int] = {}

    def ready(name: str) -> None:
        announced.append(name)
        if name.endswith(".ts"):
            sizes[name] = (spool / name).stat().st_size

    recording = MixRecording(spool, RecordingNames("sid", "room"), config, ready)
    return Run(spool, recording, publishers, announced, sizes)


async def _record(run: Run) -> None:
    run.recording.start()
    started = time.monotonic()

    def timed(action: Callable[[], None]) -> Callable[[], None]:
        def act() -> None:
            run.acted_at = time.monotonic() - started
            action()

        return act

    actions = [(at, timed(action)) for at, action in run.actions]
    await publish(run.recording, run.publishers, SECONDS, actions)
    run.seconds = time.monotonic() - started
    run.files = await run.recording.stop()


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Run]:
    tmp = tmp_path_factory.mktemp("mix")
    runs: dict[str, Run] = {}
    for layout in LAYOUTS:
        for count in COUNTS:
            publishers = [Publisher(uid, audio=False) for uid in UIDS[:count]]
            runs[f"{layout.name}-{count}"] = _run(
                tmp, f"{layout.name}-{count}", _config(layout=layout), publishers
            )
    tones = [Publisher(uid, video=False) for uid in UIDS[:3]]
    runs["audio-only"] = _run(
        tmp, "audio-only", _config(stream_types=StreamTypes.AUDIO_ONLY), tones
    )
    runs["video-only"] = _run(
        tmp,
        "video-only",
        _config(stream_types=StreamTypes.VIDEO_ONLY),
        [Publisher("11"), Publisher("12")],
    )
    runs["mp4"] = _run(
        tmp,
        "mp4",
        _config(mp4=True, layout=VideoLayout.BEST_FIT),
        [Publisher("11"), Publisher("12")],
    )
    runs["mp4-split"] = _run(
        tmp,
        "mp4-split",
        _config(mp4=True, layout=VideoLayout.BEST_FIT, mp4_max_seconds=1.0),
        [Publisher("11"), Publisher("12")],
    )
    runs["mp4-split-audio"] = _run(
        tmp,
        "mp4-split-audio",
        _config(mp4=True, stream_types=StreamTypes.AUDIO_ONLY, mp4_max_seconds=1.0),
        [Publisher(uid, video=False) for uid in UIDS[:2]],
    )
    missing = _run(
        tmp,
        "no-video",
        _config(layout=VideoLayout.BEST_FIT, background_color="#FF00FF"),
        [Publisher("11")],
    )
    missing.recording.set_participants(["11", "12"])
    runs["no-video"] = missing
    switch = _run(
        tmp, "switch", _config(layout=VideoLayout.BEST_FIT), [Publisher("11"), Publisher("12")]
    )
    switch.actions.append(
        (
            1.5,
            lambda: switch.recording.set_layout(
                VideoLayout.VERTICAL, max_resolution_uid="12", background_color="#0000FF"
            ),
        )
    )
    runs["switch"] = switch
    leave = _run(
        tmp,
        "leave",
        _config(layout=VideoLayout.BEST_FIT),
        [Publisher("11"), Publisher("12", end=1.4)],
    )
    leave.actions.append((1.4, lambda: leave.recording.remove("12")))
    runs["leave"] = leave
    run_all([_record(run) for run in runs.values()])
    return runs


def _inner_points(region: Region, margin: int = 6) -> list[tuple[int, int]]:
    x0, y0 = region.x + margin, region.y + margin
    x1, y1 = region.x + region.width - margin, region.y + region.height - margin
    return [(x0, y0), (x1, y0), (x0, y1), (x1, y1), ((x0 + x1) // 2, (y0 + y1) // 2)]


def _outside_points(regions: list[Region], margin: int = 6) -> list[tuple[int, int]]:
    points = []
    for y in range(margin, H - margin, 8):
        for x in range(margin, W - margin, 8):
            near = any(
                r.x - margin <= x < r.x + r.width + margin
                and r.y - margin <= y < r.y + r.height + margin
                for r in regions
            )
            if not near:
                points.append((x, y))
    return points


def _frame_at(run: Run, t: float) -> np.ndarray:
    frames = decode_video(run.playlist).frames
    return min(frames, key=lambda item: abs(item[0] - t))[1]


@pytest.mark.parametrize("count", COUNTS)
@pytest.mark.parametrize("layout", LAYOUTS, ids=lambda layout: layout.name)
def test_each_publisher_colour_fills_the_region_its_layout_gives_it(
    runs: dict[str, Run], layout: VideoLayout, count: int
) -> None:
    run = runs[f"{layout.name}-{count}"]
    image = _frame_at(run, 2.0)
    regions = compute_layout(layout, UIDS[:count], W, H)
    assert len(regions) == count
    for region in regions:
        visible = [r for r in regions if r.z > region.z]
        for x, y in _inner_points(region):
            if any(
                r.x - 6 <= x < r.x + r.width + 6 and r.y - 6 <= y < r.y + r.height + 6
                for r in visible
            ):
                continue
            assert close_to(image[y, x], COLORS[region.uid]), (region, (x, y), image[y, x])
    for x, y in _outside_points(regions):
        assert close_to(image[y, x], (0, 0, 0)), ((x, y), image[y, x])


def test_best_fit_with_two_publishers_shows_them_side_by_side(runs: dict[str, Run]) -> None:
    image = _frame_at(runs["BEST_FIT-2"], 2.0)
    assert close_to(image[H // 2, W // 4], COLORS["11"])
    assert close_to(image[H // 2, 3 * W // 4], COLORS["12"])


def test_the_mix_has_the_requested_size_and_frame_rate(runs: dict[str, Run]) -> None:
    run = runs["FLOAT-4"]
    video = decode_video(run.playlist)
    assert (video.width, video.height) == (W, H)
    assert video.rate == FPS
    times = [t for t, _ in video.frames]
    assert np.allclose(np.diff(times), 1 / FPS, atol=1e-3)
    assert abs(len(times) - run.seconds * FPS) <= 2


def test_the_playlist_lists_every_segment_and_ends_with_endlist(runs: dict[str, Run]) -> None:
    run = runs["BEST_FIT-4"]
    text = run.playlist.read_text()
    listed = [line for line in text.splitlines() if line and not line.startswith("#")]
    on_disk = sorted(p.name for p in run.spool.glob("*.ts"))
    assert listed == on_disk
    assert len(listed) >= math.floor(SECONDS) - 1
    assert text.rstrip().endswith("#EXT-X-ENDLIST")
    durations = [float(line[8:-1]) for line in text.splitlines() if line.startswith("#EXTINF:")]
    assert abs(sum(durations) - run.seconds) < 0.1


def test_segments_start_on_keyframes_and_decode_alone(runs: dict[str, Run]) -> None:

    run = runs["BEST_FIT-4"]
    for segment in sorted(run.spool.glob("*.ts")):
        with open_media(segment) as container:
            first = next(container.decode(video=0))
            assert first.key_frame, segment.name


def test_no_temporary_file_is_left_and_every_file_was_announced(runs: dict[str, Run]) -> None:
    for run in runs.values():
        names = {p.name for p in run.spool.iterdir()}
        assert not [n for n in names if n.startswith(TMP_PREFIX)]
        assert names == set(run.announced)
        assert run.announced[-1].endswith((".m3u8", ".mp4"))


def test_a_segment_is_complete_when_it_is_announced(runs: dict[str, Run]) -> None:
    for run in runs.values():
        assert run.sizes
        for name, size in run.sizes.items():
            assert (run.spool / name).stat().st_size == size, name


def test_stop_returns_the_playlist_as_the_mixed_file_list(runs: dict[str, Run]) -> None:
    files = runs["FLOAT-2"].files
    assert [(f.name, f.track_type, f.uid, f.mixed_all_user) for f in files] == [
        ("sid_room.m3u8", TrackType.AUDIO_AND_VIDEO, "0", True)
    ]
    assert files[0].slice_start_time_ms > 1_600_000_000_000


def test_mixed_audio_holds_each_pushed_tone_and_no_other(runs: dict[str, Run]) -> None:
    samples, rate, channels = decode_audio(runs["audio-only"].playlist)
    assert (rate, channels) == (48_000, 1)
    levels = tone_levels(samples[rate // 2 : rate * 5 // 2], TONES.values())
    pushed = [levels[TONES[uid]] for uid in UIDS[:3]]
    others = [levels[TONES[uid]] for uid in UIDS[3:]]
    assert min(pushed) > 20 * max(others), levels


def test_audio_only_writes_only_audio(runs: dict[str, Run]) -> None:
    run = runs["audio-only"]
    assert stream_kinds(run.playlist) == ["audio"]
    assert all(stream_kinds(p) == ["audio"] for p in run.spool.glob("*.ts"))
    assert run.files[0].track_type is TrackType.AUDIO


def test_video_only_writes_only_video(runs: dict[str, Run]) -> None:
    run = runs["video-only"]
    assert stream_kinds(run.playlist) == ["video"]
    assert run.files[0].track_type is TrackType.VIDEO


def test_mp4_is_written_at_stop_and_plays(runs: dict[str, Run]) -> None:
    run = runs["mp4"]
    mp4 = run.spool / "sid_room_0.mp4"
    assert [f.name for f in run.files] == ["sid_room.m3u8", "sid_room_0.mp4"]
    assert stream_kinds(mp4) == ["audio", "video"]
    video = decode_video(mp4)
    assert abs(len(video.frames) - run.seconds * FPS) <= 2
    image = video.frames[len(video.frames) // 2][1]
    assert close_to(image[H // 2, W // 4], COLORS["11"])
    assert close_to(image[H // 2, 3 * W // 4], COLORS["12"])


def _mp4s(run: Run) -> list[OutputFile]:
    return [f for f in run.files if f.name.endswith(".mp4")]


def test_a_long_mp4_is_split_at_segment_boundaries_into_numbered_files(
    runs: dict[str, Run],
) -> None:
    run = runs["mp4-split"]
    mp4s = _mp4s(run)
    assert [f.name for f in mp4s] == [f"sid_room_{i}.mp4" for i in range(len(mp4s))]
    assert len(mp4s) >= 3, [f.name for f in mp4s]
    starts = [f.slice_start_time_ms for f in mp4s]
    assert all(900 <= b - a <= 1100 for a, b in itertools.pairwise(starts)), starts
    assert set(run.announced) >= {f.name for f in mp4s}


def test_each_part_of_a_split_mp4_plays_from_zero_with_its_audio(runs: dict[str, Run]) -> None:
    run = runs["mp4-split"]
    total = 0
    for part in _mp4s(run):
        path = run.spool / part.name
        video = decode_video(path)
        total += len(video.frames)
        assert video.frames[0][0] < 0.1, (part.name, video.frames[0][0])
        image = video.frames[len(video.frames) // 2][1]
        assert close_to(image[H // 2, W // 4], COLORS["11"]), part.name
        assert close_to(image[H // 2, 3 * W // 4], COLORS["12"]), part.name
        video_seconds = len(video.frames) / FPS
        if video_seconds < 0.5:
            # A recording stopped just after a split ends with a short last part; its
            # audio can be shorter than the audio clock's lag, so none of it is checked.
            continue
        assert stream_kinds(path) == ["audio", "video"], part.name
        samples, rate, _ = decode_audio(path)
        # the audio of each part covers its video (none lost to the split, none doubled)
        assert abs(len(samples) / rate - video_seconds) < 0.15, (part.name, len(samples) / rate)
    # every frame of the recording is in exactly one part
    assert total == len(decode_video(run.playlist).frames)


def test_an_audio_only_mp4_is_split_too_and_every_part_holds_the_tones(
    runs: dict[str, Run],
) -> None:
    run = runs["mp4-split-audio"]
    mp4s = _mp4s(run)
    assert len(mp4s) >= 3, [f.name for f in mp4s]
    seconds = 0.0
    for part in mp4s:
        path = run.spool / part.name
        assert stream_kinds(path) == ["audio"]
        samples, rate, _ = decode_audio(path)
        seconds += len(samples) / rate
        if len(samples) >= rate // 2:
            levels = tone_levels(samples, TONES.values())
            pushed = [levels[TONES[uid]] for uid in UIDS[:2]]
            others = [levels[TONES[uid]] for uid in UIDS[2:]]
            assert min(pushed) > 20 * max(others), (part.name, levels)
    hls, rate, _ = decode_audio(run.playlist)
    assert abs(seconds - len(hls) / rate) < 0.1


def test_a_user_without_video_shows_the_background(runs: dict[str, Run]) -> None:
    image = _frame_at(runs["no-video"], 2.0)
    assert close_to(image[H // 2, W // 4], COLORS["11"])
    assert close_to(image[H // 2, 3 * W // 4], (255, 0, 255))


def test_set_layout_mid_recording_switches_the_layout_in_later_frames(runs: dict[str, Run]) -> None:
    run = runs["switch"]
    before, after = _frame_at(run, run.acted_at - 1.0), _frame_at(run, run.acted_at + 1.0)
    assert close_to(before[H // 2, W // 4], COLORS["11"])
    assert close_to(before[H // 2, 3 * W // 4], COLORS["12"])
    vertical = {
        r.uid: r
        for r in compute_layout(VideoLayout.VERTICAL, ["11", "12"], W, H, max_resolution_uid="12")
    }
    large, small = vertical["12"], vertical["11"]
    assert close_to(after[H // 2, large.x + large.width // 2], COLORS["12"])
    assert close_to(after[small.y + small.height // 2, small.x + small.width // 2], COLORS["11"])
    assert close_to(after[H - 10, W - 10], (0, 0, 255))


def test_a_removed_user_leaves_the_canvas(runs: dict[str, Run]) -> None:
    run = runs["leave"]
    before, after = _frame_at(run, run.acted_at - 1.0), _frame_at(run, run.acted_at + 1.0)
    assert close_to(before[H // 2, 3 * W // 4], COLORS["12"])
    assert close_to(after[H // 2, 3 * W // 4], COLORS["11"])
    assert close_to(after[H // 2, W // 4], COLORS["11"])


def test_a_removed_user_leaves_the_audio_mix(runs: dict[str, Run]) -> None:
    run = runs["leave"]
    samples, rate, _ = decode_audio(run.playlist)
    left = round(run.acted_at * rate)
    early = tone_levels(samples[left - rate * 3 // 4 : left - rate // 8], TONES.values())
    late = tone_levels(samples[left + rate // 2 : left + rate * 3 // 2], TONES.values())
    assert early[TONES["12"]] > early[TONES["11"]] / 4, early
    assert late[TONES["12"]] < late[TONES["11"]] / 20, late
