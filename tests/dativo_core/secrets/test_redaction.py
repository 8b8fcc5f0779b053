"""The redaction filter masks resolved secret values in every record that reaches a handler."""

from __future__ import annotations

import io
import logging

from dativo_core.secrets.redaction import MASK, SecretRedactionFilter, redaction_filter


def test_masks_messages_arguments_and_tracebacks_from_child_loggers() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        redaction = redaction_filter()
        redaction.add("tok-ABCDEF-123456")
        redaction.add("pem-first-line\npem-second-line")
        child = logging.getLogger("dativo_core.pipe.relay")
        child.warning("tap said: connecting with token %s", "tok-ABCDEF-123456")
        child.warning("key material pem-second-line leaked")
        try:
            raise ValueError("bad credentials tok-ABCDEF-123456")
        except ValueError:
            child.exception("plugin failed")
    finally:
        root.removeHandler(handler)
    output = stream.getvalue()
    assert "tok-ABCDEF-123456" not in output and "pem-second-line" not in output
    assert f"connecting with token {MASK}" in output and f"ValueError: bad credentials {MASK}" in output


def test_short_values_are_not_masked_and_say_so() -> None:
    redaction = SecretRedactionFilter()
    assert redaction.add("abc") is False
    assert redaction.add("abcd") is True
    assert redaction.redact("abc abcd abcde") == f"abc {MASK} {MASK}e"


def test_a_value_is_masked_in_the_json_escaped_form_a_plugin_logs_its_config_in() -> None:
    import json

    secret = 'pa"ss\\word\tend'
    redaction = SecretRedactionFilter()
    redaction.add(secret)
    logged = f"connecting with {json.dumps({'password': secret})}"
    assert json.dumps(secret)[1:-1] != secret
    assert redaction.redact(logged) == f'connecting with {{"password": "{MASK}"}}'
    assert redaction.redact(f"raw {secret}") == f"raw {MASK}"
