"""``make demo``: a real recording of a real channel, applied with kubectl, landing in a bucket.

``python -m cloudrec_devenv demo [--keep] [--workdir DIR] [--publish-seconds N]``
(inside ``hack/netns-run``, which ``make demo`` does) runs, printing each step
with its timing:

1. the control plane (etcd, kube-apiserver, kube-controller-manager) and the CRDs;
2. Janus, versitygw, the recorder and the operator, as processes whose logs go
   to the work directory (``.demo/`` in the repository by default);
3. a bucket, the Secrets (recorder credentials, storage credentials, channel
   token) and a RecordingBackend, with kubectl;
4. a Janus room with two synthetic publishers (red at 440 Hz, blue at 660 Hz);
5. ``kubectl apply`` of a CloudRecording (Mix, BestFit, HLS + MP4,
   ``maxIdleTime`` 5 s) from a manifest it writes and prints;
6. ``kubectl get crec -w``-style lines (and the Events as they come) until the
   phase is Completed; the publishers leave after ``--publish-seconds`` so the
   recorder's idle exit ends the recording;
7. ``kubectl describe``, the bucket's objects, the MP4 downloaded to the work
   directory and what ``ffprobe`` says about it.

Everything stops on Ctrl-C, SIGTERM, failure or at the end (``--keep`` leaves
the stack running until Ctrl-C and prints how to reach it). A failure exits 1
naming the component, with the tail of its log.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

import yaml

from cloudrec_devenv.controlplane import ControlPlane, KubectlError
from cloudrec_devenv.janus import DEFAULT_ICE_INTERFACE
from cloudrec_devenv.stack import Stack
from cloudrec_devenv.tools import REPO_ROOT, system_tool, tool
from cloudrec_operator.api.names import API_VERSION, CLOUDRECORDINGS, api_path

__all__ = [
    "BUCKET",
    "NAMESPACE",
    "PUBLISHERS",
    "RECORDING",
    "DemoError",
    "DemoResult",
    "backend_manifest",
    "main",
    "recording_manifest",
    "run",
]

NAMESPACE = "demo"
RECORDING = "demo"
BACKEND = "local-recorder"
BUCKET = "recordings"
ROOM = "demo-room"
RECORDER_UID = "100001"
PUBLISHERS = (("1001", "red", 440.0), ("1002", "blue", 660.0))
"""(uid, colour, tone in Hz) of the synthetic publishers."""
DEFAULT_WORKDIR = REPO_ROOT / ".demo"
TERMINAL_PHASES = ("Completed", "Failed", "Released")


class DemoError(RuntimeError):
    """A step failed; ``component`` names the part at fault, ``log_tail`` shows its log."""

    def __init__(self, step: str, component: str, message: str, log_tail: str = "") -> None:
        super().__init__(f"{step}: {component}: {message}")
        self.step = step
        self.component = component
        self.message = message
        self.log_tail = log_tail


@dataclass
class DemoResult:
    """What the demo produced, for the caller (and the e2e test)."""

    workdir: Path
    kubeconfig: Path
    recording: dict[str, Any] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    objects: list[tuple[str, int]] = field(default_factory=list)
    mp4: Path | None = None
    ffprobe: dict[str, Any] = field(default_factory=dict)


# ----------------------------------------------------------------- manifests


def secrets_manifest(stack: Stack) -> list[dict[str, Any]]:
    """The three Secrets, values from the stack (applied from stdin, never printed)."""
    s3 = stack.require_s3()

    def secret(name: str, data: dict[str, str]) -> dict[str, Any]:
        return {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": name, "namespace": NAMESPACE},
            "type": "Opaque",
            "stringData": data,
        }

    return [
        secret(
            "recorder-credentials",
            {
                "customerId": stack.customer_id,
                "customerSecret": stack.customer_secret,
                "callbackSecret": stack.callback_secret,
            },
        ),
        secret("storage-credentials", {"accessKey": s3.access_key, "secretKey": s3.secret_key}),
        secret("channel-token", {"token": stack.janus_token()}),
    ]


def backend_manifest(recorder_url: str) -> dict[str, Any]:
    """The RecordingBackend: the self-hosted recorder, signed callbacks verified."""
    return {
        "apiVersion": API_VERSION,
        "kind": "RecordingBackend",
        "metadata": {"name": BACKEND, "namespace": NAMESPACE},
        "spec": {
            "url": recorder_url,
            "serviceKind": "SelfHosted",
            "credentialsSecretRef": {"name": "recorder-credentials"},
            "callbackSecretRef": {"name": "recorder-credentials", "key": "callbackSecret"},
            "defaultAppId": "demo",
            "requestTimeoutSeconds": 30,
        },
    }


def recording_manifest(s3_endpoint: str, *, layout: str = "BestFit") -> dict[str, Any]:
    """The CloudRecording the demo applies: Mix of both publishers, HLS and MP4."""
    return {
        "apiVersion": API_VERSION,
        "kind": "CloudRecording",
        "metadata": {"name": RECORDING, "namespace": NAMESPACE},
        "spec": {
            "backendRef": {"name": BACKEND},
            "channelName": ROOM,
            "uid": RECORDER_UID,
            "tokenSecretRef": {"name": "channel-token"},
            "recordingConfig": {
                "mode": "Mix",
                "streamTypes": "AudioVideo",
                "maxIdleTime": 5,
                "transcodingConfig": {
                    "width": 640,
                    "height": 360,
                    "fps": 15,
                    "bitrate": 800,
                    "layout": layout,
                },
                "outputFormats": ["HLS", "MP4"],
            },
            "storageConfig": {
                "vendor": "S3Compatible",
                "endpoint": s3_endpoint,
                "bucket": BUCKET,
                "credentialsSecretRef": {"name": "storage-credentials"},
                "fileNamePrefix": ["demo"],
            },
        },
    }


# ------------------------------------------------------------------- output


class Console:
    """Short lines with the time since the start; a ticker for slow steps."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.started = time.monotonic()
        self._lock = threading.Lock()

    def elapsed(self) -> str:
        return f"{time.monotonic() - self.started:6.1f}s"

    def line(self, text: str = "") -> None:
        with self._lock:
            print(text, file=self.stream, flush=True)

    def say(self, text: str) -> None:
        self.line(f"[{self.elapsed()}] {text}")

    def block(self, text: str, indent: str = "    ") -> None:
        for row in text.rstrip("\n").splitlines():
            self.line(indent + row)

    @contextlib.contextmanager
    def ticking(self, what: str, every: float = 10.0) -> Iterator[float]:
        """Print ``... still <what> (N s)`` every ``every`` seconds until the block ends."""
        began = time.monotonic()
        done = threading.Event()

        def tick() -> None:
            while not done.wait(every):
                self.line(f"           ... still {what} ({time.monotonic() - began:.0f}s)")

        ticker = threading.Thread(target=tick, name="demo-progress", daemon=True)
        ticker.start()
        try:
            yield began
        finally:
            done.set()
            ticker.join()

    @contextlib.contextmanager
    def step(self, what: str, component: str, stack: Stack, every: float = 10.0) -> Iterator[None]:
        """Run one step: ``what...``, then ``done (N s)``; progress every ``every`` s.

        Any exception becomes a :class:`DemoError` naming ``component`` (or the
        component that died meanwhile) with the tail of its log.
        """
        self.say(f"{what} ...")
        with self.ticking(what[0].lower() + what[1:], every) as began:
            try:
                yield
            except (DemoError, KeyboardInterrupt):
                raise
            except Exception as error:
                raise _blame(what, component, stack, error) from error
        self.say(f"  done ({time.monotonic() - began:.1f}s)")


def _blame(step: str, component: str, stack: Stack, error: BaseException) -> DemoError:
    """A DemoError for ``error`` naming the dead component if one died, else ``component``."""
    dead = stack.dead()
    named = dead.name if dead is not None else component
    tail = ""
    for candidate in stack.components():
        if candidate.name == named:
            tail = candidate.log_tail(25)
            break
    message = str(error) if not isinstance(error, KubectlError) else (error.stderr or str(error))
    if dead is not None and dead.name != component:
        message = f"{dead.name} exited ({message})"
    # ProcessFailedError already carries the log tail; do not print it twice.
    if tail and tail.splitlines()[-1] in message:
        tail = ""
    return DemoError(step, named, message.strip(), tail)


# --------------------------------------------------------------------- steps


def _kubectl(plane: ControlPlane, console: Console, *args: str, show: bool = True) -> str:
    """Run kubectl -n demo ARGS, print the command and its output."""
    if show:
        console.line(f"    $ kubectl -n {NAMESPACE} {' '.join(args)}")
    out = plane.kubectl("-n", NAMESPACE, *args).stdout
    if show and out.strip():
        console.block(out, "      ")
    return out


def _get_json(plane: ControlPlane, path: str) -> dict[str, Any]:
    with plane.http_client() as client:
        response = client.get(path)
        response.raise_for_status()
        data: dict[str, Any] = response.json()
        return data


def _recording(plane: ControlPlane) -> dict[str, Any]:
    return _get_json(
        plane,
        api_path(CLOUDRECORDINGS, NAMESPACE, RECORDING),
    )


def _events(plane: ControlPlane) -> list[dict[str, Any]]:
    raw = _get_json(
        plane,
        f"/api/v1/namespaces/{NAMESPACE}/events"
        f"?fieldSelector=involvedObject.kind=CloudRecording,involvedObject.name={RECORDING}",
    )
    items: list[dict[str, Any]] = raw.get("items", [])
    return sorted(
        items,
        key=lambda e: (
            e.get("firstTimestamp") or e.get("eventTime") or "",
            e["metadata"].get("creationTimestamp", ""),
        ),
    )


def _ready(obj: dict[str, Any]) -> str:
    for cond in (obj.get("status") or {}).get("conditions", []):
        if cond.get("type") == "Ready":
            return str(cond.get("status"))
    return "<none>"


def _row(cells: Sequence[str]) -> str:
    widths = (6, 11, 12, 8, 10, 8)
    return "   ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()


def watch(
    stack: Stack,
    console: Console,
    *,
    publish_seconds: float,
    recording_timeout: float = 120.0,
    complete_timeout: float = 240.0,
) -> dict[str, Any]:
    """Print ``get crec -w``-style rows and new Events until a terminal phase.

    The publishers leave ``publish_seconds`` after the phase first is
    Recording. Returns the last object; raises DemoError if the recording
    fails or takes too long.
    """
    plane = stack.require_control_plane()
    console.line(f"    $ kubectl -n {NAMESPACE} get crec {RECORDING} -w")
    console.line("      " + _row(("NAME", "CHANNEL", "PHASE", "READY", "UPLOAD %", "AGE")))
    started = time.monotonic()
    recording_since: float | None = None
    publishers_left = False
    last_row: tuple[str, ...] = ()
    seen_events: set[str] = set()
    obj: dict[str, Any] = {}
    while True:
        now = time.monotonic()
        obj = _recording(plane)
        status = obj.get("status") or {}
        phase = str(status.get("phase") or "<none>")
        progress = (status.get("upload") or {}).get("progress")
        row = (
            RECORDING,
            str(obj["spec"]["channelName"]),
            phase,
            _ready(obj),
            "<none>" if progress is None else str(progress),
        )
        if row != last_row:
            console.line("      " + _row((*row, f"{now - started:.0f}s")))
            last_row = row
        for event in _events(plane):
            uid = str(event["metadata"]["uid"])
            if uid not in seen_events:
                seen_events.add(uid)
                console.line(
                    f"        event {event.get('type')} {event.get('reason')}: "
                    f"{event.get('message')}"
                )
        if phase in TERMINAL_PHASES:
            if phase != "Completed":
                error = status.get("lastError") or {}
                raise DemoError(
                    "recording",
                    "operator",
                    f"the recording ended in phase {phase}: "
                    + (json.dumps(error) if error else "no error reported"),
                    _tail(stack, "recorder" if error else "operator"),
                )
            return obj
        if phase == "Recording" and recording_since is None:
            recording_since = now
            console.say(f"recording; both publishers stay {publish_seconds:.0f}s more, then leave")
        if recording_since is None and now - started > recording_timeout:
            raise DemoError(
                "recording",
                "operator",
                f"no phase Recording within {recording_timeout:.0f}s (phase {phase}, "
                f"conditions {json.dumps(status.get('conditions', []))})",
                _tail(stack, "operator"),
            )
        if (
            recording_since is not None
            and not publishers_left
            and now - recording_since >= publish_seconds
        ):
            console.say(
                "the publishers leave the room; the recorder exits after maxIdleTime (5s) "
                "and uploads"
            )
            stack.stop_publishers()
            publishers_left = True
        if now - started > complete_timeout:
            raise DemoError(
                "recording",
                "operator",
                f"not Completed within {complete_timeout:.0f}s (phase {phase})",
                _tail(stack, "operator"),
            )
        if (dead := stack.dead()) is not None:
            raise DemoError("recording", dead.name, "exited", dead.log_tail(25))
        time.sleep(1.0)


def _tail(stack: Stack, name: str) -> str:
    for component in stack.components():
        if component.name == name:
            return component.log_tail(25)
    return ""


def ffprobe(path: Path) -> dict[str, Any]:
    """``ffprobe`` facts: the format's duration and size, each stream's codec and size."""
    result = subprocess.run(
        [
            system_tool("ffprobe"),
            "-v",
            "error",
            "-show_entries",
            "format=duration,size,format_name:stream=codec_type,codec_name,width,height,"
            "sample_rate,channels,nb_frames",
            "-of",
            "json",
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def _describe_probe(probe: dict[str, Any]) -> list[str]:
    fmt = probe.get("format", {})
    lines = [
        f"duration {float(fmt.get('duration', 0)):.1f}s, size {int(fmt.get('size', 0)):,} bytes, "
        f"format {fmt.get('format_name')}"
    ]
    for stream in probe.get("streams", []):
        if stream.get("codec_type") == "video":
            lines.append(
                f"video: {stream.get('codec_name')} {stream.get('width')}x{stream.get('height')}, "
                f"{stream.get('nb_frames', '?')} frames"
            )
        elif stream.get("codec_type") == "audio":
            lines.append(
                f"audio: {stream.get('codec_name')} {stream.get('sample_rate')} Hz, "
                f"{stream.get('channels')} channel(s)"
            )
    return lines


def run(
    stack: Stack,
    console: Console,
    *,
    publish_seconds: float = 20.0,
    layout: str = "BestFit",
) -> DemoResult:
    """Every step of the demo on ``stack`` (which the caller stops)."""
    stack.prepare()
    console.say(f"work directory {stack.workdir} (every component logs there)")
    with console.step(
        "Starting the control plane and installing the CRDs", "kube-apiserver", stack
    ):
        plane = stack.start_control_plane()
    console.line(f"    kube-apiserver {plane.server}; KUBECONFIG={plane.kubeconfig}")
    with console.step("Starting Janus (VideoRoom, token auth)", "janus", stack):
        janus = stack.start_janus()
    console.line(f"    Janus API {janus.ws_url}; media on {DEFAULT_ICE_INTERFACE} 10.231.0.1")
    with console.step("Starting versitygw (S3-compatible store)", "versitygw", stack):
        s3 = stack.start_s3()
    console.line(f"    S3 endpoint {s3.endpoint}")
    with console.step("Starting the recorder", "recorder", stack):
        stack.start_recorder()
    console.line(
        f"    recorder {stack.recorder_url} (config {stack.workdir / 'recorder' / 'recorder.yaml'})"
    )
    with console.step("Starting the operator", "operator", stack):
        stack.start_operator()
    console.line(
        f"    operator callbacks {stack.operator_callback_url}, "
        f"metrics {stack.operator_metrics_url}"
    )

    with console.step(
        f"Creating bucket {BUCKET!r}, namespace, Secrets and the RecordingBackend",
        "kube-apiserver",
        stack,
    ):
        s3.create_bucket(BUCKET)
        plane.kubectl("create", "namespace", NAMESPACE)
        console.line(f"    $ kubectl create namespace {NAMESPACE}")
        names = [d["metadata"]["name"] for d in secrets_manifest(stack)]
        console.line(
            f"    $ kubectl -n {NAMESPACE} apply -f -   "
            f"# Secrets {', '.join(names)} (values not shown)"
        )
        plane.kubectl("apply", "-f", "-", input=yaml.safe_dump_all(secrets_manifest(stack)))
        backend_file = stack.workdir / "recordingbackend.yaml"
        backend_file.write_text(
            yaml.safe_dump(backend_manifest(stack.recorder_url), sort_keys=False)
        )
        _kubectl(plane, console, "apply", "-f", str(backend_file))

    with console.step(
        f"Creating room {ROOM!r} with two publishers (red 440 Hz, blue 660 Hz)", "janus", stack
    ):
        janus.create_room(ROOM)
        for uid, color, tone in PUBLISHERS:
            stack.start_publisher(ROOM, uid, color=color, tone=tone)
            console.line(f"    publisher {uid}: {color}, {tone:.0f} Hz")

    manifest_file = stack.workdir / "cloudrecording.yaml"
    manifest_file.write_text(
        yaml.safe_dump(recording_manifest(s3.endpoint, layout=layout), sort_keys=False)
    )
    console.say(f"Applying the CloudRecording ({manifest_file}):")
    console.block(manifest_file.read_text())
    with console.step("kubectl apply", "kube-apiserver", stack):
        _kubectl(plane, console, "apply", "-f", str(manifest_file))

    console.say("Watching the recording until it is Completed")
    done = watch(stack, console, publish_seconds=publish_seconds)

    result = DemoResult(workdir=stack.workdir, kubeconfig=plane.kubeconfig, recording=done)
    result.events = _events(plane)
    console.say("The recording and its Events:")
    _kubectl(plane, console, "describe", "crec", RECORDING)

    console.say(f"Objects in bucket {BUCKET!r}:")
    for key in s3.object_keys(BUCKET):
        size = (s3.data_dir / BUCKET / key).stat().st_size
        result.objects.append((key, size))
        console.line(f"    {size:>10,}  {key}")
    mp4_keys = [key for key, _ in result.objects if key.endswith(".mp4")]
    if not mp4_keys:
        raise DemoError("download", "recorder", "no .mp4 in the bucket", _tail(stack, "recorder"))
    result.mp4 = stack.workdir / "recording.mp4"
    result.mp4.write_bytes(s3.get_object(BUCKET, mp4_keys[0]))
    console.say(f"Downloaded s3://{BUCKET}/{mp4_keys[0]} to {result.mp4}")
    result.ffprobe = ffprobe(result.mp4)
    for text in _describe_probe(result.ffprobe):
        console.line(f"    {text}")
    console.line(f"    play it: ffplay {result.mp4}")
    return result


# ---------------------------------------------------------------------- main


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m cloudrec_devenv demo",
        description="Record a real channel with the operator and the recorder, end to end.",
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        default=DEFAULT_WORKDIR,
        help=f"logs and files (default {DEFAULT_WORKDIR})",
    )
    parser.add_argument("--keep", action="store_true", help="leave the stack running until Ctrl-C")
    parser.add_argument(
        "--publish-seconds",
        type=float,
        default=20.0,
        help="how long the publishers stay once recording (default 20)",
    )
    parser.add_argument("--layout", choices=("Float", "BestFit", "Vertical"), default="BestFit")
    return parser


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _keep_hint(console: Console, result: DemoResult) -> None:
    namespace = os.environ.get("CLOUDREC_NETNS", "")
    kubectl = tool("kubectl")
    console.say("--keep: the stack stays up until Ctrl-C")
    console.line(f"    export KUBECONFIG={result.kubeconfig}")
    if namespace and namespace != "user":
        console.line(
            f"    from another shell: sudo ip netns exec {namespace} env KUBECONFIG="
            f"{result.kubeconfig} {kubectl} get crec -A"
        )
    elif namespace == "user":
        console.line(
            f"    from another shell: nsenter --target {os.getpid()} --user --net "
            f"--preserve-credentials env KUBECONFIG={result.kubeconfig} {kubectl} get crec -A"
        )


@contextlib.contextmanager
def _signals_ignored() -> Iterator[None]:
    """Cleanup runs to the end: a second Ctrl-C must not leave processes behind."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    saved = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


def main(argv: Sequence[str] | None = None, *, stream: TextIO | None = None) -> int:
    """Run the demo; 0 when the MP4 is downloaded, 1 when a step fails, 130 on Ctrl-C."""
    args = _parser().parse_args(list(argv) if argv is not None else None)
    console = Console(stream or sys.stdout)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _interrupt)
    if not Path("/sys/class/net", DEFAULT_ICE_INTERFACE).exists():
        console.line(
            f"the demo needs the {DEFAULT_ICE_INTERFACE} interface for WebRTC media: "
            "run `make demo` (it runs inside hack/netns-run)"
        )
        return 2
    stack = Stack(args.workdir)
    succeeded = False
    try:
        result = run(stack, console, publish_seconds=args.publish_seconds, layout=args.layout)
        succeeded = True
        console.say(f"Done: CloudRecording {NAMESPACE}/{RECORDING} Completed, MP4 at {result.mp4}")
        if args.keep:
            _keep_hint(console, result)
            while True:
                time.sleep(3600)
        return 0
    except DemoError as error:
        console.line()
        console.say(f"FAILED at '{error.step}': {error.component}: {error.message}")
        if error.log_tail:
            console.line(f"    last lines of the {error.component} log:")
            console.block(error.log_tail, "    | ")
        console.line(f"    every log is under {stack.workdir}")
        return 1
    except KeyboardInterrupt:
        console.line()
        console.say("interrupted" if not succeeded else "Ctrl-C")
        return 0 if succeeded else 130
    finally:
        console.say("stopping everything (running recordings stop and upload first) ...")
        with _signals_ignored(), console.ticking("stopping everything"):
            stack.stop()
        console.say("stopped: no process of the demo is left")


if __name__ == "__main__":
    sys.exit(main())
