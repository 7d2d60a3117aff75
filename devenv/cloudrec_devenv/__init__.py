"""The local development environment: real servers on loopback for the demo and the tests.

Launchers start a real Kubernetes control plane (kube-apiserver, etcd,
kube-controller-manager built from Go modules by ``hack/tools.sh``), Janus,
versitygw (an S3-compatible server), the recorder and the operator, each as a
child process with its own log file, and stop them cleanly.
"""
