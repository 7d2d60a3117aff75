"""The Janus session's log redaction (the long poll carries the token in its query)."""

from __future__ import annotations

import logging

from cloudrec_recorder.channel.session import RedactJanusSecrets


def record(msg: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord("httpx", logging.INFO, __file__, 1, msg, args, None)


def test_the_token_and_api_secret_in_a_logged_url_are_redacted() -> None:
    rec = record(
        'HTTP Request: %s %s "%s %d %s"',
        "GET",
        "http://127.0.0.1:1/janus/5?maxev=10&rid=1&token=123,janus,x:c2ln&apisecret=s3cret",
        "HTTP/1.1",
        200,
        "OK",
    )
    assert RedactJanusSecrets().filter(rec)
    message = rec.getMessage()
    assert "c2ln" not in message and "s3cret" not in message
    assert "token=<redacted>&apisecret=<redacted>" in message
    assert message.startswith("HTTP Request: GET http://127.0.0.1:1/janus/5?maxev=10&rid=1&")
    assert message.endswith('"HTTP/1.1 200 OK"')


def test_a_message_without_secrets_is_unchanged() -> None:
    rec = record("HTTP Request: %s %s", "POST", "http://127.0.0.1:1/janus")
    assert RedactJanusSecrets().filter(rec)
    assert rec.getMessage() == "HTTP Request: POST http://127.0.0.1:1/janus"
