"""The only package that talks to the Kubernetes API through the ``kubernetes`` client.

``Kube`` is a small typed facade: read Secrets and backends, read and patch
CloudRecordings (status, the operator's annotation, finalizers), post Events.
Reads are the client's blocking calls, run in worker threads so the operator's
event loop never waits on them; writes go out with aiohttp on the event loop
(``writer``), with the client's configuration.
"""

from cloudrec_operator.k8s.client import Kube, MissingInputError, load_kube

__all__ = ["Kube", "MissingInputError", "load_kube"]
