"""Shared pytest configuration.

Fixtures that start real servers live in ``tests/fixtures/`` (one module per
server) and are registered here, so every tier can use them:

* ``tests.fixtures.controlplane``: kube-apiserver, etcd, kube-controller-manager
* ``tests.fixtures.media``: Janus VideoRoom and aiortc publishers
* ``tests.fixtures.storage``: versitygw (S3-compatible)
* ``tests.fixtures.s3proxy``: a recording HTTP proxy in front of versitygw (request headers)
* ``tests.fixtures.foreign``: a service that is not a recording service (issue 12, item 2)
"""

from __future__ import annotations

import importlib.util

pytest_plugins = [
    name
    for name in (
        "tests.fixtures.controlplane",
        "tests.fixtures.media",
        "tests.fixtures.storage",
        "tests.fixtures.s3proxy",
        "tests.fixtures.recorder",
        "tests.fixtures.operator",
        "tests.fixtures.foreign",
    )
    if importlib.util.find_spec(name) is not None
]
