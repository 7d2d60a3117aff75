"""The served OpenAPI document, fuzzed with schemathesis against the real recorder process.

Every operation gets a bounded number of generated requests (valid and invalid bodies, odd
path values), with the customer's credentials. The recorder must never answer 5xx, its
answers must match the documented status codes and schemas, and it must stay up.
"""

from __future__ import annotations

import time

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error, status_code_conformance
from tests.fixtures.recorder import TTL_SECONDS, RecorderProcess

pytestmark = [pytest.mark.media, pytest.mark.timeout(300)]

EXAMPLES_PER_OPERATION = 30


def test_fuzzed_requests_never_get_a_server_error(recorder: RecorderProcess) -> None:
    auth = (recorder.customer_id, recorder.customer_secret)
    schema = schemathesis.openapi.from_url(f"{recorder.base_url}/openapi.json", auth=auth)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 7  # acquire, capacity, start, query, update, updateLayout, stop
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def run(case: schemathesis.Case) -> None:
            case.call_and_validate(
                base_url=recorder.base_url,
                auth=auth,
                timeout=30,
                checks=[not_a_server_error, status_code_conformance],
            )

        run()
    assert httpx.get(f"{recorder.base_url}/healthz").status_code == 200
    # Fuzzed acquires reserved recording slots: let them expire for the tests that follow.
    time.sleep(TTL_SECONDS + 0.5)
