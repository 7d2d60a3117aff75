"""The Kubernetes facade's calls: the urgent lane (calls made inside ``urgent()`` do not queue
behind the shared pool's) and writes sent without pydantic's argument validation."""

from __future__ import annotations

import asyncio
import threading

import kubernetes

from cloudrec_operator.k8s.client import Kube, unvalidated, urgent


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


def test_a_write_without_pydantics_validation_sends_the_same_request() -> None:
    sent: list[object] = []
    api = kubernetes.client.ApiClient(kubernetes.client.Configuration())
    api._call_with_legacy_options = lambda param, *_: sent.append(param)  # type: ignore[method-assign]
    custom = kubernetes.client.CustomObjectsApi(api)
    body = {"status": {"phase": "Recording"}}
    args = ("cloudrecording.io", "v1alpha1", "ns", "cloudrecordings", "rec", body)
    custom.patch_namespaced_custom_object_status(*args, _preload_content=False)
    unvalidated(custom.patch_namespaced_custom_object_status)(*args, _preload_content=False)
    assert sent[0] == sent[1]
    assert unvalidated(len) is len
