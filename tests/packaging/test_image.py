"""The container images, built from the Dockerfile and started.

Both targets are built with buildah on a base made here from Debian's packages
(the Dockerfile's ``ARG PYTHON_IMAGE``; see ``images.py``), then run with podman
as the image's non-root user on a read-only root filesystem: the operator
explains its options, the recorder answers ``/healthz`` and ``/readyz`` with a
configuration, and each image holds its own side and the protocol package only.
"""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from cloudrec_devenv.tools import REPO_ROOT
from tests.packaging.images import DOCKERFILE, USER, Builder, PinnedBase, wait_http

pytestmark = [pytest.mark.packaging, pytest.mark.timeout(2400)]

TEXT = DOCKERFILE.read_text()
PINNED = PinnedBase.from_dockerfile(TEXT)

# Which top-level packages and distributions each image may (and must) hold.
OWN = {"operator": "cloudrec_operator", "recorder": "cloudrec_recorder"}
TEST_TOOLS = {"pytest", "mypy", "ruff", "pip", "setuptools", "wheel"}

PROBE = """
import importlib.metadata as m, importlib.util as u, json, os, sys
names = ["cloudrec_protocol", "cloudrec_operator", "cloudrec_recorder", "cloudrec_devenv",
         "tests", "benchmarks"]
try:
    open("/probe", "w")
    writable = True
except OSError:
    writable = False
print(json.dumps({
    "uid": os.getuid(), "gid": os.getgid(), "root_writable": writable,
    "python": "%d.%d" % sys.version_info[:2],
    "modules": sorted(n for n in names if u.find_spec(n) is not None),
    "distributions": sorted(d.metadata["Name"].lower() for d in m.distributions()),
}))
"""


@pytest.fixture(scope="module")
def builder() -> Iterator[Builder]:
    built = Builder()
    yield built
    built.prune()


@pytest.fixture(scope="module")
def images(builder: Builder, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    base = builder.local_base(PINNED, tmp_path_factory.mktemp("base"))
    return {target: builder.build(target, base) for target in ("operator", "recorder")}


@pytest.fixture(scope="module")
def facts(builder: Builder, images: dict[str, str]) -> dict[str, dict[str, Any]]:
    """What a process in each image sees: its user, its root filesystem, its packages."""
    found = {}
    for target, image in images.items():
        out = builder.run_once(image, "-c", PROBE, entrypoint="python")
        found[target] = json.loads(out.strip().splitlines()[-1])
    return found


def test_dockerfile_pins_its_base_image_to_an_exact_python_release() -> None:
    base = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", TEXT, re.MULTILINE)
    assert base is not None
    assert re.fullmatch(r"python:\d+\.\d+\.\d+-slim-\w+(@sha256:[0-9a-f]{64})?", base.group(1))
    # Every stage starts from that one ARG, so the test's local base replaces all of them.
    assert re.findall(r"^FROM (\S+)", TEXT, re.MULTILINE).count("${PYTHON_IMAGE}") == 2


def test_dockerfile_runs_both_images_as_a_non_root_user() -> None:
    users = re.findall(r"^USER (\S+)$", TEXT, re.MULTILINE)
    assert users and all(not u.startswith(("root", "0")) for u in users)


@pytest.mark.parametrize("target", ["operator", "recorder"])
def test_dockerfile_installs_each_target_with_the_install_script(target: str) -> None:
    assert f"RUN hack/image-install.sh {target} /venv /src" in TEXT
    assert re.search(rf"^FROM runtime AS {target}$", TEXT, re.MULTILINE)


@pytest.mark.parametrize("target", ["operator", "recorder"])
def test_each_image_runs_as_its_non_root_user_on_a_read_only_root_with_the_pinned_python(
    facts: dict[str, dict[str, Any]], target: str
) -> None:
    seen = facts[target]
    assert f"{seen['uid']}:{seen['gid']}" == USER
    assert seen["root_writable"] is False
    assert seen["python"] == PINNED.python


@pytest.mark.parametrize("target", ["operator", "recorder"])
def test_each_image_holds_its_own_side_and_the_protocol_package_only(
    facts: dict[str, dict[str, Any]], target: str
) -> None:
    assert facts[target]["modules"] == sorted(["cloudrec_protocol", OWN[target]])
    installed = set(facts[target]["distributions"])
    assert "cloudrec" in installed
    assert not installed & TEST_TOOLS, installed & TEST_TOOLS
    if target == "operator":
        # aiobotocore: the operator reads buckets to verify recordings (docs/verification.md).
        assert {"kopf", "kubernetes", "httpx", "pydantic", "aiobotocore"} <= installed
        assert not installed & {"aiortc", "av", "numpy", "fastapi", "uvicorn"}
    else:
        assert {"av", "numpy", "aiobotocore", "aiohttp", "uvicorn"} <= installed
        # media arrives as RTP forwarded by Janus and read by libavformat: no WebRTC stack
        assert "aiortc" not in installed
        assert not installed & {"kopf", "kubernetes"}


def test_the_operator_image_explains_its_options(builder: Builder, images: dict[str, str]) -> None:
    out = builder.run_once(images["operator"], "--help")
    assert out.startswith("usage: python -m cloudrec_operator")
    assert "--all-namespaces" in out and "--callback-port" in out


def test_the_recorder_image_encodes_with_the_codecs_of_its_wheels(
    builder: Builder, images: dict[str, str]
) -> None:
    code = "import av; print(av.codec.Codec('libx264', 'w').name, av.codec.Codec('aac', 'w').name)"
    out = builder.run_once(images["recorder"], "-c", code, entrypoint="python")
    assert out.split() == ["libx264", "aac"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_recorder_image_answers_healthz_and_readyz_with_a_configuration(
    builder: Builder, images: dict[str, str], tmp_path: Path
) -> None:
    port = _free_port()
    config = yaml.safe_load((REPO_ROOT / "recorder" / "sample-config.yaml").read_text())
    config.update(host="127.0.0.1", port=port)
    (tmp_path / "recorder.yaml").write_text(yaml.safe_dump(config))
    volumes = {}
    for name in ("spool", "backup"):
        # Like the chart's volumes with fsGroup: writable by the image's user.
        path = tmp_path / name
        path.mkdir()
        path.chmod(0o777)
        volumes[name] = path
    mounts = [
        f"type=bind,src={tmp_path / 'recorder.yaml'},dst=/etc/cloudrec/recorder.yaml,ro",
        f"type=bind,src={volumes['spool']},dst=/var/spool/cloudrec",
        f"type=bind,src={volumes['backup']},dst=/var/lib/cloudrec/backup",
    ]
    recorder = images["recorder"]
    with builder.started(
        recorder, "--config", "/etc/cloudrec/recorder.yaml", mounts=mounts
    ) as name:
        try:
            health = wait_http(f"http://127.0.0.1:{port}/healthz", timeout=90)
            ready = wait_http(f"http://127.0.0.1:{port}/readyz", timeout=10)
        except Exception as error:
            raise AssertionError(f"the recorder did not answer:\n{builder.logs(name)}") from error
        assert (health.status_code, health.json()) == (200, {"status": "ok"})
        assert (ready.status_code, ready.json()) == (200, {"status": "ready"})
