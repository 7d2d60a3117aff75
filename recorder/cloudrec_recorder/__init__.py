"""cloudrec_recorder: the self-hosted recorder speaking the cloud recording REST protocol."""
