"""``make demo`` as a user runs it: one command, a Completed recording, a playable MP4.

The demo runs as a subprocess (``python -m cloudrec_devenv.demo``, what
``make demo`` runs) in a temporary work directory; the test is already inside ``hack/netns-run``
(``make test``). It asserts what the user sees: exit code 0, ``kubectl
describe`` showing phase Completed with the Events Started, Stopped and
Uploaded, and an MP4 downloaded from the bucket that decodes and shows both
publishers' colours (red and blue, side by side in BestFit).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import av
import numpy as np
import pytest
from numpy.typing import NDArray

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(420)]


def _share(frame: NDArray[np.uint8], rgb: tuple[int, int, int]) -> float:
    """Fraction of the frame's pixels within 40 of ``rgb`` in every channel."""
    close = np.all(np.abs(frame.astype(np.int16) - np.array(rgb)) < 40, axis=-1)
    return float(close.mean())


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, str, Path]:
    workdir = tmp_path_factory.mktemp("demo")
    result = subprocess.run(
        [sys.executable, "-m", "cloudrec_devenv.demo", "--workdir", str(workdir)],
        capture_output=True,
        text=True,
        timeout=400,
        check=False,
    )
    return result.returncode, result.stdout + result.stderr, workdir


def test_the_demo_exits_zero_and_stops_everything(demo_run: tuple[int, str, Path]) -> None:
    code, output, _ = demo_run
    assert code == 0, output[-4000:]
    assert "stopped: no process of the demo is left" in output


def test_the_demo_shows_the_recording_completed_with_its_events(
    demo_run: tuple[int, str, Path],
) -> None:
    code, output, _ = demo_run
    assert code == 0, output[-4000:]
    assert re.search(r"^\s+Phase:\s+Completed$", output, re.MULTILINE), output[-4000:]
    events = re.findall(r"^\s+Normal\s+(\w+)\s+\S+\s+cloudrec-operator", output, re.MULTILINE)
    assert {"Started", "Stopped", "Uploaded"} <= set(events), events
    # The watch lines went through Recording to Completed.
    phases = re.findall(r"^\s+demo\s+demo-room\s+(\w+|<none>)\s", output, re.MULTILINE)
    assert "Recording" in phases and phases[-1] == "Completed", phases


def test_the_downloaded_mp4_plays_and_shows_both_publishers(
    demo_run: tuple[int, str, Path],
) -> None:
    code, output, workdir = demo_run
    assert code == 0, output[-4000:]
    mp4 = workdir / "recording.mp4"
    assert f"MP4 at {mp4}" in output
    with av.open(str(mp4)) as container:
        frames = [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]
    assert len(frames) > 15 * 10, f"only {len(frames)} frames"  # > 10 s at 15 fps
    middle = frames[len(frames) // 2]
    assert middle.shape == (360, 640, 3)
    assert _share(middle, (255, 0, 0)) > 0.2, "no red publisher in the middle frame"
    assert _share(middle, (0, 0, 255)) > 0.2, "no blue publisher in the middle frame"
