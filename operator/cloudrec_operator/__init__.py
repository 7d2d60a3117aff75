"""cloudrec_operator: the CloudRecording Kubernetes operator (kopf)."""
