"""Check a completed recording's bucket against its signed manifest, in the background.

A reconcile pass that finds a recording due (``reconcile.verification``) starts
:func:`start_verification`: it resolves the bucket (the recording's storageConfig and
credentials Secret, the endpoint as the recorder resolves it), runs the check
(``client.verification``) with the backend's callback secret or its manifest public key,
and hands the result to a new pass, which sets the ``Verified`` condition and posts the
Event. One check per recording at a
time; re-verification is asked for with the ``verify.cloudrecording.io/request`` annotation.
"""

from __future__ import annotations

import asyncio
import logging

from cloudrec_operator.api.enums import Verification
from cloudrec_operator.api.names import GROUP
from cloudrec_operator.api.v1alpha1.cloudrecording import CloudRecordingSpec
from cloudrec_operator.client.bucket import Bucket, BucketAccess
from cloudrec_operator.client.verification import verify_manifest
from cloudrec_operator.reconcile.verification import VerificationResult
from cloudrec_protocol.manifest import manifest_name
from cloudrec_protocol.vendors import StorageConfigError, resolve_endpoint

from .ports import missing_input
from .runtime import Backend, Key, Runtime

__all__ = [
    "VERIFY_ANNOTATION",
    "VERIFY_TIMEOUT",
    "check_bucket",
    "manifest_key",
    "start_verification",
]

log = logging.getLogger("cloudrec_operator.verify")

VERIFY_ANNOTATION = f"verify.{GROUP}/request"
"""Set (to any new value) on a CloudRecording to check its bucket again. Not under
``cloudrecording.io/``: kopf leaves its own storage prefix out of what it compares, so a
change there would never reach a handler."""
VERIFY_TIMEOUT = 600.0
"""A check that takes longer ends Unknown (BucketUnreadable)."""


def manifest_key(spec: CloudRecordingSpec, sid: str) -> str:
    """The manifest's object key: the storage prefix, then ``<sid>_<cname>.manifest.json``."""
    parts = [*(spec.storage_config.file_name_prefix or ()), manifest_name(sid, spec.channel_name)]
    return "/".join(parts)


async def _access(rt: Runtime, spec: CloudRecordingSpec, namespace: str) -> BucketAccess:
    storage = spec.storage_config
    endpoint = resolve_endpoint(storage.vendor.code, storage.region, storage.endpoint)
    ref = storage.credentials_secret_ref
    access_key = await rt.kube.secret_value(namespace, ref.name, ref.access_key_key)
    secret_key = await rt.kube.secret_value(namespace, ref.name, ref.secret_key_key)
    return BucketAccess(
        bucket=storage.bucket,
        endpoint=endpoint.url,
        region=endpoint.signing_region,
        addressing_style=endpoint.addressing_style,
        access_key=access_key,
        secret_key=secret_key,
    )


async def check_bucket(
    rt: Runtime, spec: CloudRecordingSpec, namespace: str, sid: str, backend: Backend
) -> VerificationResult:
    """The bucket checked against the recording's manifest (never raises)."""
    try:
        access = await _access(rt, spec, namespace)
    except StorageConfigError as error:
        return VerificationResult("Unknown", "StorageUnsupported", str(error))
    except LookupError as error:
        missing = missing_input(error)
        return VerificationResult("Unknown", missing.reason, missing.message)
    key = manifest_key(spec, sid)
    try:
        async with Bucket(access) as bucket:
            verdict = await asyncio.wait_for(
                verify_manifest(
                    bucket,
                    key,
                    backend.trust,
                    hashes=spec.verification is Verification.HASH,
                    sid=sid,
                ),
                VERIFY_TIMEOUT,
            )
    except TimeoutError:
        return VerificationResult(
            "Unknown", "BucketUnreadable", f"the check took longer than {VERIFY_TIMEOUT:.0f} s"
        )
    except Exception as error:  # the client could not even be made (a bad endpoint URL)
        return VerificationResult("Unknown", "BucketUnreadable", type(error).__name__)
    return VerificationResult(verdict.outcome, verdict.reason, verdict.message)


def start_verification(
    rt: Runtime,
    key: Key,
    spec: CloudRecordingSpec,
    sid: str,
    backend: Backend,
) -> None:
    """Check in the background, then a pass applies the result (one check per recording)."""
    if key in rt.verifying:
        return
    rt.verifying.add(key)

    async def run() -> None:
        from .reconciler import reconcile

        try:
            async with rt.lock(key):
                pass  # the pass that started the check has written its status and Events
            result = await check_bucket(rt, spec, key[0], sid, backend)
            log.info(
                "CloudRecording %s/%s verification: %s (%s)",
                key[0],
                key[1],
                result.outcome,
                result.reason,
            )
            body = rt.bodies.get(key)
            if body is not None:
                await reconcile(rt, body, verified=result)
        except Exception as error:  # the resource went away meanwhile, the API is down...
            log.warning(
                "CloudRecording %s/%s: verification result not written: %s",
                key[0],
                key[1],
                type(error).__name__,
            )
        finally:
            rt.verifying.discard(key)

    rt.spawn(run())
