"""Where the recorder may connect on a tenant's behalf (storage endpoints, image URLs)."""

from cloudrec_recorder.egress.addresses import EgressPolicy, parse_ip_literal, refusal_reason
from cloudrec_recorder.egress.guard import EgressGuard, EgressRefusedError, refusal_in

__all__ = [
    "EgressGuard",
    "EgressPolicy",
    "EgressRefusedError",
    "parse_ip_literal",
    "refusal_in",
    "refusal_reason",
]
