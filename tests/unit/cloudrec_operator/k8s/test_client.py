"""The Kubernetes facade's calls: the urgent lane (calls made inside ``urgent()`` do not queue
behind the shared pool's), and writes sent with aiohttp as the client would send them."""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path

import kubernetes
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from kubernetes.client.exceptions import ApiException

from cloudrec_operator.k8s.client import Kube, urgent


async def test_an_urgent_call_runs_while_every_shared_thread_is_busy() -> None:
    kube = Kube(kubernetes.client.ApiClient(kubernetes.client.Configuration()), workers=2)
    release = threading.Event()
    try:
        busy = [asyncio.ensure_future(kube._run(release.wait, 30)) for _ in range(4)]
        await asyncio.sleep(0.05)
        with urgent():
            thread = await asyncio.wait_for(kube._run(lambda: threading.current_thread().name), 5)
        assert thread.startswith("kube-urgent")
        assert not any(task.done() for task in busy)
        plain = asyncio.ensure_future(kube._run(lambda: threading.current_thread().name))
        release.set()
        assert (await plain).startswith("kube_")
        await asyncio.gather(*busy)
    finally:
        release.set()
        kube.close()


async def _server(answer: int) -> tuple[TestServer, list[tuple[str, str, str, str, object]]]:
    seen: list[tuple[str, str, str, str, object]] = []

    async def record(request: web.Request) -> web.Response:
        body = await request.json()
        auth = request.headers.get("Authorization", "")
        seen.append((request.method, request.path, request.content_type, auth, body))
        return web.json_response({"kind": "Status"}, status=answer)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", record)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    return server, seen


def _kube(server: TestServer) -> Kube:
    config = kubernetes.client.Configuration(host=str(server.make_url("")).rstrip("/"))
    config.api_key = {"authorization": "token-1"}
    config.api_key_prefix = {"authorization": "Bearer"}
    return Kube(kubernetes.client.ApiClient(config), workers=2)


async def test_writes_go_out_as_the_clients_merge_patches_json_patches_and_event_posts() -> None:
    server, seen = await _server(200)
    kube = _kube(server)
    try:
        await kube.patch_status("ns", "rec", {"phase": "Recording"})
        await kube.patch_metadata("ns", "rec", annotations={"a": None})
        assert await kube.remove_finalizer("ns", "rec", "f", 0)
        await kube.post_event({"metadata": {"namespace": "ns", "name": "rec"}}, "Started", "m")
    finally:
        await kube.aclose()
        await server.close()
    base = "/apis/cloudrecording.io/v1alpha1/namespaces/ns/cloudrecordings/rec"
    assert [(m, p, c, a) for m, p, c, a, _ in seen] == [
        ("PATCH", f"{base}/status", "application/merge-patch+json", "Bearer token-1"),
        ("PATCH", base, "application/merge-patch+json", "Bearer token-1"),
        ("PATCH", base, "application/json-patch+json", "Bearer token-1"),
        ("POST", "/api/v1/namespaces/ns/events", "application/json", "Bearer token-1"),
    ]
    assert seen[0][4] == {"status": {"phase": "Recording"}}
    assert seen[1][4] == {"metadata": {"annotations": {"a": None}}}
    assert seen[2][4][0] == {"op": "test", "path": "/metadata/finalizers/0", "value": "f"}
    assert seen[3][4]["reason"] == "Started"
    assert kube.writes == 4


async def test_a_refused_write_raises_the_clients_api_exception_with_its_status() -> None:
    server, _ = await _server(409)
    kube = _kube(server)
    try:
        with pytest.raises(ApiException) as refused:
            await kube.patch_status("ns", "rec", {"phase": "Recording"})
        assert refused.value.status == 409
        assert not await kube.remove_finalizer("ns", "rec", "f", 0)
    finally:
        await kube.aclose()
        await server.close()


async def test_writes_carry_the_token_of_a_service_account_kubeconfig(tmp_path: Path) -> None:
    server, seen = await _server(200)
    kubeconfig = tmp_path / "sa.kubeconfig"
    kubeconfig.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "c", "cluster": {"server": str(server.make_url(""))}}],
                "users": [{"name": "sa", "user": {"token": "sa-token"}}],
                "contexts": [{"name": "sa", "context": {"cluster": "c", "user": "sa"}}],
                "current-context": "sa",
            }
        )
    )
    config = kubernetes.client.Configuration()
    kubernetes.config.load_kube_config(str(kubeconfig), client_configuration=config)
    kube = Kube(kubernetes.client.ApiClient(config), workers=2)
    try:
        await kube.patch_status("ns", "rec", {"phase": "Recording"})
    finally:
        await kube.aclose()
        await server.close()
    assert [auth for _, _, _, auth, _ in seen] == ["Bearer sa-token"]
