"""Carry out one reconcile step against the recording service.

Each ``Step`` becomes one protocol call; its answer (or error) becomes an
``Outcome`` for the pure decisions. Protocol errors keep their codes; their
text never contains request secrets (the client redacts it).
"""

from __future__ import annotations

from cloudrec_operator.api.v1alpha1.cloudrecording import CloudRecordingSpec
from cloudrec_operator.metrics import PROTOCOL_ERRORS
from cloudrec_operator.reconcile.files import from_file_list
from cloudrec_operator.reconcile.model import (
    Acquire,
    Acquired,
    Applied,
    Failure,
    Outcome,
    Pause,
    Queried,
    Query,
    Release,
    Released,
    Resume,
    Start,
    StartAccepted,
    Step,
    Stop,
    StopDone,
    Update,
    UpdateLayout,
)
from cloudrec_operator.reconcile.startrequest import (
    StartSecrets,
    layout_settings,
    protocol_mode,
    start_client_request,
    update_client_request,
)
from cloudrec_protocol.codes import RecordingStatus
from cloudrec_protocol.errors import (
    AlreadyRunningError,
    NoRecordedDataError,
    ProtocolError,
    TransportError,
)
from cloudrec_protocol.models import (
    AcquireClientRequest,
    StartRequest,
    UpdateClientRequest,
    UpdateLayoutRequest,
    UpdateRequest,
)

from .runtime import Backend


def app_id(spec: CloudRecordingSpec, backend: Backend) -> str | None:
    return spec.app_id or backend.spec.default_app_id


def _failure(error: ProtocolError, operation: str) -> Failure:
    PROTOCOL_ERRORS.labels(operation=operation, sdk_code=str(int(error.sdk_code))).inc()
    return Failure(
        http_status=error.http_status,
        code=error.code,
        sdk_code=error.sdk_code,
        retryable=bool(error.retryable),
        message=str(error),
        transport=isinstance(error, TransportError),
    )


async def execute(
    step: Step,
    spec: CloudRecordingSpec,
    backend: Backend,
    secrets: StartSecrets | None,
) -> Outcome:
    """One protocol call for ``step``."""
    appid = app_id(spec, backend)
    assert appid is not None
    client = backend.client
    cname, uid, mode = spec.channel_name, spec.uid, protocol_mode(spec)
    operation = type(step).__name__.lower()
    try:
        if isinstance(step, Acquire):
            acquired = await client.acquire(appid, cname, uid, AcquireClientRequest())
            return Acquired(acquired.resource_id)
        if isinstance(step, Start):
            assert secrets is not None
            request = StartRequest(
                cname=cname, uid=uid, client_request=start_client_request(spec, secrets)
            )
            try:
                started = await client.start(appid, step.resource_id, mode, request)
            except AlreadyRunningError as error:
                # A start whose answer was lost: adopt the running task (protocol §12).
                body = error.body
                sid = getattr(body, "sid", None)
                if sid:
                    return StartAccepted(sid)
                raise
            return StartAccepted(started.sid)
        if isinstance(step, Query):
            queried = await client.query(appid, step.resource_id, step.sid, mode)
            status = queried.server_response.status
            typed = None
            if status is not None and status in RecordingStatus._value2member_map_:
                typed = RecordingStatus(status)
            return Queried(typed, from_file_list(queried.server_response.file_list))
        if isinstance(step, Update):
            update = UpdateRequest(cname=cname, uid=uid, client_request=update_client_request(spec))
            await client.update(appid, step.resource_id, step.sid, mode, update)
            return Applied()
        if isinstance(step, Pause | Resume):
            # Our extension: the self-hosted recorder's onhold (docs/backends.md).
            hold = UpdateClientRequest(onhold=isinstance(step, Pause))
            update = UpdateRequest(cname=cname, uid=uid, client_request=hold)
            await client.update(appid, step.resource_id, step.sid, mode, update)
            return Applied()
        if isinstance(step, UpdateLayout):
            layout = UpdateLayoutRequest(
                cname=cname,
                uid=uid,
                client_request=layout_settings(spec.recording_config.transcoding_config),
            )
            await client.update_layout(appid, step.resource_id, step.sid, layout)
            return Applied()
        if isinstance(step, Stop):
            try:
                stopped = await client.stop(appid, step.resource_id, step.sid, mode, cname, uid)
            except NoRecordedDataError as error:
                return _failure(error, operation)
            response = stopped.server_response
            return StopDone(
                from_file_list(response.file_list), (response.uploading_status or "unknown").lower()
            )
        if isinstance(step, Release):
            return Released()
    except ProtocolError as error:
        return _failure(error, operation)
    raise ValueError(f"not a protocol step: {step!r}")
