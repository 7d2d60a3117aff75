"""Which app ids a sid's spool directories belong to (restart.py's ``spool_apps``): an offer or
a take-over record of another app id must not write into them (recordingkey.py)."""

from __future__ import annotations

from pathlib import Path

from cloudrec_recorder.restart import spool_apps, write_metadata

SID = "38f8e3cfdc474cd56fc1ceba380d7e1a"


def test_a_sids_spool_directories_name_the_app_ids_they_were_recorded_under(
    tmp_path: Path,
) -> None:
    write_metadata(tmp_path / SID, appid="victim", cname="room", uid="1", mode="mix")
    write_metadata(tmp_path / f"{SID}.bak0", appid="victim", cname="room", uid="2", mode="mix")
    write_metadata(tmp_path / ("0" * 32), appid="other", cname="room", uid="3", mode="mix")
    assert spool_apps(tmp_path, SID) == {"victim"}
    assert spool_apps(tmp_path, "1" * 32) == set()


def test_a_spool_directory_without_metadata_names_no_app_id(tmp_path: Path) -> None:
    (tmp_path / SID).mkdir()
    assert spool_apps(tmp_path, SID) == set()
