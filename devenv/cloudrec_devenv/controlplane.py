"""A real local Kubernetes control plane on loopback: etcd, kube-apiserver, controller manager.

The binaries come from ``hack/tools.sh`` (Kubernetes v1.34.4 built from Go
modules). The steps are envtest's (``docs/test-infra.md`` §2), plus a
controller manager so namespaces really delete and owned objects are
garbage-collected::

    with ControlPlane() as plane:
        plane.install_crds()
        plane.kubectl("get", "crec", "-A")

Work directory layout (a temporary one is made and removed unless given)::

    kubeconfig                 admin kubeconfig (system:masters), certificate data inline
    pki/                       serving CA and cert, client CA, admin cert, service-account keys
    logs/<component>.log       one log per component
    etcd-data/                 removed on stop
"""

from __future__ import annotations

import os
import shutil
import ssl
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

import httpx

from cloudrec_devenv import certs, kubeconfig
from cloudrec_devenv.process import ManagedProcess, free_port
from cloudrec_devenv.tools import REPO_ROOT, bin_dir, tool

__all__ = [
    "CONTROLLERS",
    "CRDS_DIR",
    "SERVICE_CLUSTER_IP_RANGE",
    "ControlPlane",
    "KubectlError",
]

CRDS_DIR = REPO_ROOT / "crds"
"""The generated CustomResourceDefinitions (``make crds``)."""

CONTROLLERS = ("namespace-controller", "garbage-collector-controller", "serviceaccount-controller")
"""The kube-controller-manager controllers that run: no nodes, no pods, no scheduler needed."""

SERVICE_CLUSTER_IP_RANGE = "10.96.0.0/24"
"""Service IPs are only allocated, never routed (no kube-proxy); the range overlaps nothing."""

START_TIMEOUT = 120.0
"""Seconds each component may take to become ready (two busy cores can be slow)."""


class KubectlError(subprocess.CalledProcessError):
    """kubectl failed; the message carries its stderr."""

    def __str__(self) -> str:
        return f"{super().__str__()}\n{self.stderr}"


class ControlPlane:
    """etcd, kube-apiserver and kube-controller-manager as child processes on 127.0.0.1.

    Use it as a context manager or call :meth:`start` and :meth:`stop`.
    After :meth:`start`, :attr:`kubeconfig` is an admin kubeconfig for
    :attr:`server`.
    """

    def __init__(
        self,
        workdir: Path | None = None,
        *,
        controllers: Sequence[str] = CONTROLLERS,
        start_timeout: float = START_TIMEOUT,
        apiserver_args: Sequence[str] = (),
    ) -> None:
        self._owns_workdir = workdir is None
        self.workdir = Path(
            tempfile.mkdtemp(prefix="cloudrec-controlplane-") if workdir is None else workdir
        ).resolve()
        self.controllers = tuple(controllers)
        self.start_timeout = start_timeout
        self.apiserver_args = tuple(apiserver_args)
        """Extra kube-apiserver flags (the operator benchmark's audit log)."""
        self.kubeconfig = self.workdir / "kubeconfig"
        self.pki = self.workdir / "pki"
        self.logs = self.workdir / "logs"
        self.server = ""
        self._processes: list[ManagedProcess] = []

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> ControlPlane:
        """Start every component and wait until each is ready; on failure stop what started."""
        if self._processes:
            raise RuntimeError("the control plane is already started")
        try:
            self._prepare_workdir()
            etcd_url = self._start_etcd()
            self._start_apiserver(etcd_url)
            self._start_controller_manager()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop the components in reverse order (SIGTERM, then SIGKILL) and clean up."""
        while self._processes:
            self._processes.pop().stop()
        shutil.rmtree(self.workdir / "etcd-data", ignore_errors=True)
        if self._owns_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> ControlPlane:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def pids(self) -> dict[str, int]:
        """The process id of each running component, by name."""
        return {p.name: p.pid for p in self._processes if p.pid is not None and p.running()}

    def running(self) -> bool:
        """Whether every started component is still running."""
        return bool(self._processes) and all(p.running() for p in self._processes)

    # ------------------------------------------------------------------ clients

    def env(self) -> dict[str, str]:
        """``os.environ`` with ``KUBECONFIG`` set and the tools' bin directory first on ``PATH``."""
        env = dict(os.environ)
        env["KUBECONFIG"] = str(self.kubeconfig)
        env["PATH"] = os.pathsep.join([str(bin_dir()), env.get("PATH", "")])
        return env

    def ssl_context(self) -> ssl.SSLContext:
        """TLS settings that trust the apiserver and log in as the admin."""
        context = ssl.create_default_context(cafile=str(self.pki / "serving-ca.crt"))
        context.load_cert_chain(self.pki / "admin.crt", self.pki / "admin.key")
        return context

    def http_client(self, timeout: float = 10.0) -> httpx.Client:
        """An httpx client for the API as the admin (the caller closes it)."""
        return httpx.Client(base_url=self.server, verify=self.ssl_context(), timeout=timeout)

    def kubectl(
        self,
        *args: str,
        input: str | None = None,
        check: bool = True,
        timeout: float = 120.0,
    ) -> subprocess.CompletedProcess[str]:
        """Run the built kubectl against this plane; raise :class:`KubectlError` if ``check``."""
        argv = [str(tool("kubectl")), *args]
        result = subprocess.run(
            argv,
            input=input,
            capture_output=True,
            text=True,
            env=self.env(),
            timeout=timeout,
            check=False,
        )
        if check and result.returncode != 0:
            raise KubectlError(result.returncode, argv, result.stdout, result.stderr)
        return result

    def apply(self, source: Path | str) -> subprocess.CompletedProcess[str]:
        """Server-side apply a file or directory (a :class:`Path`) or YAML text (a :class:`str`)."""
        args = ["apply", "--server-side", "--field-manager=cloudrec-devenv"]
        if isinstance(source, Path):
            return self.kubectl(*args, "-f", str(source))
        return self.kubectl(*args, "-f", "-", input=source)

    def crd_files(self, directory: Path = CRDS_DIR) -> list[Path]:
        """The CRD manifests in ``directory`` (not its ``samples/``)."""
        return sorted(p for p in directory.glob("*.yaml") if p.is_file())

    def install_crds(self, directory: Path = CRDS_DIR) -> list[Path]:
        """Apply every CRD manifest in ``directory`` and wait until each is Established."""
        files = self.crd_files(directory)
        for path in files:
            self.apply(path)
        self.wait_crds_established()
        return files

    def wait_crds_established(self, timeout: float = 60.0) -> None:
        """Wait until every CustomResourceDefinition in the cluster is Established."""
        names = self.kubectl("get", "crd", "-o", "name").stdout.split()
        if names:
            self.kubectl(
                "wait",
                "--for=condition=Established",
                f"--timeout={int(timeout)}s",
                *names,
                timeout=timeout + 30,
            )

    # ------------------------------------------------------------------ components

    def _prepare_workdir(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        for stale in ("etcd-data", "logs", "pki"):
            shutil.rmtree(self.workdir / stale, ignore_errors=True)
        self.logs.mkdir()
        self.pki.mkdir(mode=0o700)

    def _add(self, name: str, argv: Sequence[str | os.PathLike[str]]) -> ManagedProcess:
        process = ManagedProcess(name, argv, self.logs / f"{name}.log", cwd=self.workdir)
        self._processes.append(process)
        return process.start()

    def _start_etcd(self) -> str:
        client_url = f"http://127.0.0.1:{free_port()}"
        peer_url = f"http://127.0.0.1:{free_port()}"
        etcd = self._add(
            "etcd",
            [
                tool("etcd"),
                "--name=default",
                f"--data-dir={self.workdir / 'etcd-data'}",
                f"--listen-client-urls={client_url}",
                f"--advertise-client-urls={client_url}",
                f"--listen-peer-urls={peer_url}",
                f"--initial-advertise-peer-urls={peer_url}",
                f"--initial-cluster=default={peer_url}",
                "--unsafe-no-fsync=true",
                "--log-level=warn",
            ],
        )
        etcd.wait_http(f"{client_url}/health", timeout=self.start_timeout)
        return client_url

    def _write_pki(self, port: int) -> None:
        serving_ca = certs.CertificateAuthority("cloudrec-local-serving-ca")
        serving = serving_ca.issue(
            "localhost", dns_names=["localhost"], ip_addresses=["127.0.0.1"], server=True
        )
        client_ca = certs.CertificateAuthority("cloudrec-local-client-ca")
        admin = client_ca.issue("cloudrec-admin", organizations=["system:masters"], client=True)
        sa_key, sa_pub = certs.service_account_signing_key()
        files = {
            "serving-ca.crt": serving_ca.cert_pem,
            "apiserver.crt": serving.cert_pem,
            "apiserver.key": serving.key_pem,
            "client-ca.crt": client_ca.cert_pem,
            "admin.crt": admin.cert_pem,
            "admin.key": admin.key_pem,
            "sa.key": sa_key,
            "sa.pub": sa_pub,
        }
        for name, data in files.items():
            path = self.pki / name
            path.write_bytes(data)
            path.chmod(0o600)
        self.server = f"https://127.0.0.1:{port}"
        config = kubeconfig.admin_kubeconfig(
            self.server,
            ca_pem=serving_ca.cert_pem,
            client_cert_pem=admin.cert_pem,
            client_key_pem=admin.key_pem,
        )
        self.kubeconfig.write_text(kubeconfig.dump(config))
        self.kubeconfig.chmod(0o600)

    def _start_apiserver(self, etcd_url: str) -> None:
        port = free_port()
        self._write_pki(port)
        pki = self.pki
        apiserver = self._add(
            "kube-apiserver",
            [
                tool("kube-apiserver"),
                f"--etcd-servers={etcd_url}",
                "--bind-address=127.0.0.1",
                "--advertise-address=127.0.0.1",
                f"--secure-port={port}",
                f"--cert-dir={pki}",
                f"--tls-cert-file={pki / 'apiserver.crt'}",
                f"--tls-private-key-file={pki / 'apiserver.key'}",
                f"--client-ca-file={pki / 'client-ca.crt'}",
                f"--service-account-issuer={self.server}",
                f"--service-account-key-file={pki / 'sa.pub'}",
                f"--service-account-signing-key-file={pki / 'sa.key'}",
                f"--service-cluster-ip-range={SERVICE_CLUSTER_IP_RANGE}",
                # RBAC for every user (the chart's and tenants' Roles are what is tested), and
                # ValidatingAdmissionPolicy (on by default since 1.30) named, so the chart's
                # Secret-reference policy is always enforced here: its CEL asks the
                # authorizer whether the requesting user may read each referenced Secret.
                "--authorization-mode=RBAC",
                "--enable-admission-plugins=ValidatingAdmissionPolicy",
                "--allow-privileged=true",
                # Pods are never scheduled here; the serviceaccount controller still
                # creates `default` ServiceAccounts, but no pod waits for one.
                "--disable-admission-plugins=ServiceAccount",
                # A loopback address may not be published as the `kubernetes` endpoint.
                "--endpoint-reconciler-type=none",
                "--profiling=false",
                *self.apiserver_args,
            ],
        )
        with self.http_client(timeout=5.0) as client:
            apiserver.wait_until(
                lambda: client.get("/readyz").status_code == 200,
                timeout=self.start_timeout,
                what=f"ready ({self.server}/readyz)",
            )

    def _start_controller_manager(self) -> None:
        if not self.controllers:
            return
        manager = self._add(
            "kube-controller-manager",
            [
                tool("kube-controller-manager"),
                f"--kubeconfig={self.kubeconfig}",
                f"--controllers={','.join(self.controllers)}",
                "--leader-elect=false",
                "--secure-port=0",
                f"--service-account-private-key-file={self.pki / 'sa.key'}",
                "--profiling=false",
            ],
        )
        if "serviceaccount-controller" in self.controllers:
            # Its first visible work: the `default` ServiceAccount in `default`.
            with self.http_client(timeout=5.0) as client:
                manager.wait_until(
                    lambda: (
                        client.get("/api/v1/namespaces/default/serviceaccounts/default").status_code
                        == 200
                    ),
                    timeout=self.start_timeout,
                    what="running its controllers",
                )
