"""The container images, checked without a Docker engine.

The Dockerfile installs each target with ``hack/image-install.sh``; these
tests run that same script into temporary virtualenvs and check what a user
of the image relies on: the entrypoint starts, the operator image carries no
media stack, the recorder image carries it, nothing for tests or builds.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from cloudrec_devenv.tools import REPO_ROOT

pytestmark = pytest.mark.packaging

DOCKERFILE = (REPO_ROOT / "Dockerfile").read_text()


def install(target: str, tmp: Path) -> Path:
    venv = tmp / target
    subprocess.run(
        ["bash", str(REPO_ROOT / "hack" / "image-install.sh"), target, str(venv), str(REPO_ROOT)],
        check=True,
        timeout=900,
    )
    return venv


def distributions(venv: Path) -> set[str]:
    out = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-c",
            "import importlib.metadata as m; "
            "print('\\n'.join(d.metadata['Name'].lower() for d in m.distributions()))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return set(out.split())


def entrypoint_help(venv: Path, module: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(venv / "bin" / "python"), "-m", module, "--help"],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("images")
    return {target: install(target, tmp) for target in ("operator", "recorder")}


def test_dockerfile_pins_its_base_image_to_an_exact_python_release() -> None:
    base = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", DOCKERFILE, re.MULTILINE)
    assert base is not None
    assert re.fullmatch(r"python:\d+\.\d+\.\d+-slim-\w+(@sha256:[0-9a-f]{64})?", base.group(1))


def test_dockerfile_runs_both_images_as_a_non_root_user() -> None:
    users = re.findall(r"^USER (\S+)$", DOCKERFILE, re.MULTILINE)
    assert users and all(not u.startswith(("root", "0")) for u in users)


@pytest.mark.parametrize("target", ["operator", "recorder"])
def test_dockerfile_installs_each_target_with_the_install_script(target: str) -> None:
    assert f"RUN hack/image-install.sh {target} /venv /src" in DOCKERFILE
    assert re.search(rf"^FROM runtime AS {target}$", DOCKERFILE, re.MULTILINE)


def test_operator_image_holds_the_operator_without_media_or_test_tools(
    images: dict[str, Path],
) -> None:
    installed = distributions(images["operator"])
    assert {"cloudrec", "kopf", "kubernetes", "httpx", "pydantic"} <= installed
    assert not installed & {"aiortc", "av", "numpy", "pytest", "mypy", "ruff", "pip"}


def test_recorder_image_holds_the_media_stack_from_wheels(images: dict[str, Path]) -> None:
    installed = distributions(images["recorder"])
    assert {"cloudrec", "aiortc", "av", "numpy", "aiobotocore", "uvicorn"} <= installed
    assert not installed & {"pytest", "mypy", "ruff", "pip"}
    codecs = subprocess.run(
        [
            str(images["recorder"] / "bin" / "python"),
            "-c",
            "import av; "
            "print(av.codec.Codec('libx264', 'w').name, av.codec.Codec('aac', 'w').name)",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert codecs == ["libx264", "aac"]


@pytest.mark.parametrize(
    ("target", "module"), [("operator", "cloudrec_operator"), ("recorder", "cloudrec_recorder")]
)
def test_image_entrypoint_starts_and_explains_its_options(
    images: dict[str, Path], target: str, module: str
) -> None:
    result = entrypoint_help(images[target], module)
    assert result.returncode == 0, result.stderr
    assert "usage" in result.stdout.lower()
