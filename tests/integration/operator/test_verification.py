"""A completed recording's signed manifest, checked by the operator and by the verify CLI.

Real operator, recorder, Janus and versitygw: the recorder uploads
``<sid>_<cname>.manifest.json`` last; the operator reads it with the resource's storage
credentials and sets ``Verified``. Then the bucket is tampered with behind everyone's back
(a segment deleted, another one changed) and both the CLI and the condition (re-checked
through the ``verify.cloudrecording.io/request`` annotation) name those objects; a manifest
edited to hide that (its signature kept) fails the signature. A recorder with an Ed25519
key signs its manifests with it, and the backend's public key (or the CLI's) checks them.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from tests.fixtures.media import PublishFactory
from tests.fixtures.operator import CALLBACK_SECRET, RecordingEnv, condition, ready
from tests.fixtures.recorder import RecorderProcess

from cloudrec_operator.handlers.verifying import VERIFY_ANNOTATION

pytestmark = [pytest.mark.cluster, pytest.mark.media, pytest.mark.storage, pytest.mark.timeout(300)]


def verified(obj: dict[str, Any]) -> bool:
    return condition(obj, "Verified").get("status") in ("True", "False", "Unknown")


async def record(
    env: RecordingEnv, name: str, room: str, publish: PublishFactory
) -> dict[str, Any]:
    """A short recording, stopped with ``state: Stopped``; the resource once Verified is set."""
    async with publish(room, ["1001"], width=160, height=120):
        await asyncio.to_thread(env.apply, name, room)
        await asyncio.to_thread(env.wait, name, ready, 60.0, "Ready True")
        await asyncio.sleep(5)
        await asyncio.to_thread(env.patch_spec, name, {"state": "Stopped"})
        await asyncio.to_thread(env.wait_phase, name, "Completed", 90.0)
    return await asyncio.to_thread(env.wait, name, verified, 60.0, "a Verified condition")


def recording_keys(env: RecordingEnv, obj: dict[str, Any]) -> list[str]:
    prefix = "/".join(obj["spec"]["storageConfig"]["fileNamePrefix"]) + "/"
    sid = obj["status"]["recordingId"]
    return [
        key
        for key in env.recorder.s3.object_keys(env.recorder.bucket)
        if key.startswith(prefix + sid)
    ]


def verify_cli(
    env: RecordingEnv, obj: dict[str, Any], *extra: str
) -> subprocess.CompletedProcess[str]:
    """``python -m cloudrec_operator verify s3://bucket/<prefix>/<sid>`` as a user runs it."""
    s3 = env.recorder.s3
    prefix = "/".join(obj["spec"]["storageConfig"]["fileNamePrefix"])
    target = f"s3://{env.recorder.bucket}/{prefix}/{obj['status']['recordingId']}"
    environment = {
        "PATH": "/usr/bin:/bin",
        "AWS_ACCESS_KEY_ID": s3.access_key,
        "AWS_SECRET_ACCESS_KEY": s3.secret_key,
        "AWS_ENDPOINT_URL": s3.endpoint,
        "CLOUDREC_MANIFEST_SECRET": CALLBACK_SECRET,
    }
    return subprocess.run(
        [sys.executable, "-m", "cloudrec_operator", "verify", target, *extra],
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
        check=False,
    )


def reverify(env: RecordingEnv, name: str, token: str) -> dict[str, Any]:
    env.kubectl(
        "annotate",
        "--overwrite",
        "cloudrecording",
        name,
        f"{VERIFY_ANNOTATION}={token}",
    )
    return env.wait(
        name,
        lambda o: condition(o, "Verified").get("status") == "False",
        60.0,
        "Verified False",
    )


async def test_a_completed_recording_is_verified_and_a_deleted_or_changed_segment_is_named(
    recordings: RecordingEnv, room: str, publish: PublishFactory
) -> None:
    env = recordings
    obj = await record(env, "verified", room, publish)
    check = condition(obj, "Verified")
    assert (check["status"], check["reason"]) == ("True", "Verified"), check
    await asyncio.to_thread(env.wait_reasons, "verified", "Verified")
    table = await asyncio.to_thread(env.kubectl, "get", "crec", "verified")
    header, row = table.splitlines()[:2]
    assert row[header.index("VERIFIED") :].split()[0] == "True", table  # the kubectl column
    keys = recording_keys(env, obj)
    [manifest_key] = [k for k in keys if k.endswith(".manifest.json")]
    manifest = json.loads(env.recorder.s3.get_object(env.recorder.bucket, manifest_key))
    listed = {item["key"] for item in manifest["objects"]}
    assert listed == set(keys) - {manifest_key}  # every object the recording wrote
    assert [entry["kind"] for entry in manifest["timeline"]] == ["Started", "Stopped"]
    passed = await asyncio.to_thread(verify_cli, env, obj, "--hash")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert f"verified s3://{env.recorder.bucket}/{manifest_key}" in passed.stdout

    segments = sorted(k for k in keys if k.endswith(".ts"))
    assert len(segments) >= 3, segments
    deleted, resized, flipped = segments[0], segments[1], segments[2]
    s3, bucket = env.recorder.s3, env.recorder.bucket
    s3.delete_object(bucket, deleted)
    s3.put_object(bucket, resized, s3.get_object(bucket, resized) + b"\0")
    same_size = bytearray(s3.get_object(bucket, flipped))
    same_size[-1] ^= 0xFF
    s3.put_object(bucket, flipped, bytes(same_size))

    sizes = await asyncio.to_thread(verify_cli, env, obj)
    assert sizes.returncode == 1, sizes.stdout + sizes.stderr
    assert f"  missing: {deleted}" in sizes.stdout
    assert f"  sizechanged: {resized}" in sizes.stdout
    assert flipped not in sizes.stdout  # same size: only a full read tells
    hashes = await asyncio.to_thread(verify_cli, env, obj, "--hash")
    assert hashes.returncode == 1
    assert f"  contentchanged: {flipped}" in hashes.stdout

    again = await asyncio.to_thread(reverify, env, "verified", "after-tampering")
    check = condition(again, "Verified")
    assert check["reason"] == "ObjectsMissing"
    assert deleted in check["message"] and resized in check["message"]
    await asyncio.to_thread(env.wait_reasons, "verified", "VerificationFailed")


async def test_a_manifest_edited_to_hide_a_deleted_segment_fails_its_signature(
    recordings: RecordingEnv, room: str, publish: PublishFactory
) -> None:
    env = recordings
    obj = await record(env, "forged", room, publish)
    assert condition(obj, "Verified")["status"] == "True"
    keys = recording_keys(env, obj)
    [manifest_key] = [k for k in keys if k.endswith(".manifest.json")]
    s3, bucket = env.recorder.s3, env.recorder.bucket
    manifest = json.loads(s3.get_object(bucket, manifest_key))
    deleted = next(item["key"] for item in manifest["objects"] if item["key"].endswith(".ts"))
    s3.delete_object(bucket, deleted)
    manifest["objects"] = [item for item in manifest["objects"] if item["key"] != deleted]
    s3.put_object(bucket, manifest_key, json.dumps(manifest).encode())  # signature kept

    forged = await asyncio.to_thread(verify_cli, env, obj)
    assert forged.returncode == 1, forged.stdout + forged.stderr
    assert "SignatureInvalid" in forged.stdout

    again = await asyncio.to_thread(reverify, env, "forged", "after-forgery")
    assert condition(again, "Verified")["reason"] == "SignatureInvalid"


def _pem_pair() -> tuple[bytes, bytes]:
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, public


async def test_a_recorder_with_an_ed25519_key_signs_the_manifest_the_backends_public_key_checks(
    recordings: RecordingEnv,
    room: str,
    publish: PublishFactory,
    fresh_recorder: Callable[..., RecorderProcess],
    tmp_path: Path,
) -> None:
    env = recordings
    private, public = _pem_pair()
    _, other_public = _pem_pair()
    signing = await asyncio.to_thread(fresh_recorder, manifestSigningKey=private.decode())
    await asyncio.to_thread(env.add_backend, "signed", signing)
    config_map = {  # a public key is no secret
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "manifest-public-key"},
        "data": {"manifestPublicKey": public.decode()},
    }
    await asyncio.to_thread(env.kubectl, "apply", "-f", "-", input=json.dumps(config_map))
    await asyncio.to_thread(
        env.kubectl,
        "patch",
        "recordingbackend",
        "signed",
        "--type",
        "merge",
        "-p",
        json.dumps(
            {"spec": {"manifestPublicKeyRef": {"kind": "ConfigMap", "name": "manifest-public-key"}}}
        ),
    )
    async with publish(room, ["1001"], width=160, height=120):
        await asyncio.to_thread(env.apply, "ed25519", room, backendRef={"name": "signed"})
        await asyncio.to_thread(env.wait, "ed25519", ready, 60.0, "Ready True")
        await asyncio.sleep(4)
        await asyncio.to_thread(env.patch_spec, "ed25519", {"state": "Stopped"})
        await asyncio.to_thread(env.wait_phase, "ed25519", "Completed", 90.0)
    obj = await asyncio.to_thread(env.wait, "ed25519", verified, 60.0, "a Verified condition")
    check = condition(obj, "Verified")
    assert (check["status"], check["reason"]) == ("True", "Verified"), check

    [manifest_key] = [k for k in recording_keys(env, obj) if k.endswith(".manifest.json")]
    manifest = json.loads(env.recorder.s3.get_object(env.recorder.bucket, manifest_key))
    assert manifest["signature"]["algorithm"] == "Ed25519"
    (tmp_path / "right.pub").write_bytes(public)
    (tmp_path / "other.pub").write_bytes(other_public)
    right = await asyncio.to_thread(
        verify_cli, env, obj, "--public-key-file", str(tmp_path / "right.pub")
    )
    assert right.returncode == 0, right.stdout + right.stderr
    wrong = await asyncio.to_thread(
        verify_cli, env, obj, "--public-key-file", str(tmp_path / "other.pub")
    )
    assert wrong.returncode == 1 and "SignatureInvalid" in wrong.stdout, wrong.stdout
    # the callback secret alone cannot vouch for an Ed25519-signed manifest
    secret_only = await asyncio.to_thread(verify_cli, env, obj)
    assert secret_only.returncode == 1 and "public key is needed" in secret_only.stdout

    s3, bucket = env.recorder.s3, env.recorder.bucket
    manifest["objects"] = manifest["objects"][1:]  # hide an object, signature kept
    s3.put_object(bucket, manifest_key, json.dumps(manifest).encode())
    again = await asyncio.to_thread(reverify, env, "ed25519", "after-forgery")
    forged = condition(again, "Verified")
    assert forged["reason"] == "SignatureInvalid" and "does not verify" in forged["message"]
