"""The storage target: built from storageConfig, sealed on disk, never shown in clear."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from cloudrec_protocol.vendors import StorageConfigError
from cloudrec_recorder.storage.target import (
    SealedTargetError,
    StorageTarget,
    fernet_for,
    open_target,
    seal_target,
    target_from_storage_config,
)

ACCESS = "AKIAEXAMPLEACCESS"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def target() -> StorageTarget:
    return target_from_storage_config(
        vendor=11,
        region=0,
        bucket="recordings",
        access_key=ACCESS,
        secret_key=SECRET,
        file_name_prefix=["dir1", "dir2"],
        extension_params={"endpoint": "http://127.0.0.1:9000", "tag": "t"},
    )


def test_a_sealed_target_opens_to_the_same_target_and_holds_no_secret_in_clear() -> None:
    fernet = Fernet(Fernet.generate_key())
    token = seal_target(target(), fernet)
    assert ACCESS.encode() not in token and SECRET.encode() not in token
    assert open_target(token, fernet) == target()


def test_a_sealed_target_does_not_open_with_another_key() -> None:
    token = seal_target(target(), fernet_for("first passphrase"))
    with pytest.raises(SealedTargetError, match="wrong storage encryption key"):
        open_target(token, fernet_for("second passphrase"))


def test_a_passphrase_and_a_fernet_key_both_make_a_working_key() -> None:
    key = Fernet.generate_key()
    assert fernet_for(SecretStr(key.decode())).decrypt(Fernet(key).encrypt(b"x")) == b"x"
    passphrase = fernet_for("any configured passphrase")
    assert passphrase.decrypt(passphrase.encrypt(b"x")) == b"x"


def test_credentials_never_show_in_repr_and_scrub_removes_them() -> None:
    built = target()
    assert ACCESS not in repr(built) and SECRET not in repr(built)
    assert built.scrub(f"denied for {ACCESS} with {SECRET}") == "denied for *** with ***"


def test_storage_config_fields_become_endpoint_prefix_and_extras() -> None:
    built = target()
    assert (built.endpoint, built.region, built.bucket) == (
        "http://127.0.0.1:9000",
        "us-east-1",
        "recordings",
    )
    assert built.prefix == ("dir1", "dir2")
    assert dict(built.extra) == {"tag": "t"}


@pytest.mark.parametrize(
    ("prefix", "message"),
    [(["a/b"], "letters and digits"), (["a-b"], "letters and digits"), (["x" * 128], "128")],
)
def test_a_bad_file_name_prefix_is_refused(prefix: list[str], message: str) -> None:
    with pytest.raises(StorageConfigError, match=message):
        target_from_storage_config(
            vendor=1,
            region=0,
            bucket="b",
            access_key=ACCESS,
            secret_key=SECRET,
            file_name_prefix=prefix,
        )


def test_missing_credentials_are_refused() -> None:
    with pytest.raises(StorageConfigError, match="accessKey and secretKey"):
        target_from_storage_config(vendor=1, region=0, bucket="b", access_key="", secret_key="s")
