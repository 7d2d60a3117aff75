"""The capacity benchmark's readings of the recorder: the lag gauge and the phase lines."""

from __future__ import annotations

from pathlib import Path

from benchmarks.recorder.capacity import gauge_value, worker_phases


def test_the_gauge_is_read_from_the_exposition_by_its_exact_name() -> None:
    text = (
        "# HELP cloudrec_media_lag_seconds How far ...\n"
        "# TYPE cloudrec_media_lag_seconds gauge\n"
        "cloudrec_media_lag_seconds_other 9.0\n"
        "cloudrec_media_lag_seconds 1.25\n"
    )
    assert gauge_value(text, "cloudrec_media_lag_seconds") == 1.25
    assert gauge_value(text, "cloudrec_recordings_active") is None


def test_a_recordings_worst_lag_and_worker_start_come_from_its_phase_lines(tmp_path: Path) -> None:
    log = tmp_path / "recorder.log"
    log.write_text(
        "INFO Phase sid=a phase=media-start at=100.000\n"
        "INFO Phase sid=b phase=media-start at=100.100\n"
        "INFO Phase sid=a phase=worker-ready at=100.050\n"
        "INFO Phase sid=a phase=first-encoded at=100.250\n"
        "INFO Phase sid=a phase=files-finished at=130.000 worst-lag=0.731\n"
    )
    a = worker_phases(log, "a")
    assert a.worst_lag_s == 0.731
    assert a.start_s is not None and abs(a.start_s - 0.25) < 1e-9
    b = worker_phases(log, "b")
    assert (b.worst_lag_s, b.start_s) == (None, None)
