"""A logging filter that replaces every secret value resolved in this process with `***`.

Error messages never carry secret values by construction; this filter is the backstop for text
Dativo does not write itself, such as a plugin's stderr relayed into the log. It must sit on the
handlers: a filter on a logger only sees records logged through that very logger, while every
record that is emitted passes a handler.
"""

from __future__ import annotations

import json
import logging
import threading

MASK = "***"

# Values shorter than this would mask ordinary words and digits all over the log.
MIN_REDACTED_LENGTH = 4


class SecretRedactionFilter(logging.Filter):
    def __init__(self) -> None:
        super().__init__()
        self._values: set[str] = set()
        self._lock = threading.Lock()

    def add(self, value: str) -> bool:
        """Mask `value` (and each of its lines) from now on, also as it reads inside a JSON string
        (a plugin logging its config); False when it is too short to mask."""
        lines = {value, *value.splitlines()}
        escaped = {json.dumps(line, ensure_ascii=a)[1:-1] for line in lines for a in (True, False)}
        pieces = lines | escaped
        with self._lock:
            self._values |= {piece for piece in pieces if len(piece) >= MIN_REDACTED_LENGTH}
        return len(value) >= MIN_REDACTED_LENGTH

    def redact(self, text: str) -> str:
        with self._lock:
            values = sorted(self._values, key=len, reverse=True)  # longest first: no half-masked values
        for value in values:
            if value in text:
                text = text.replace(value, MASK)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._values:
            return True
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string is logging's to report; still redact
            message = str(record.msg)
        record.msg = self.redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
            record.exc_info = None  # formatters would print the unredacted traceback again
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


_filter = SecretRedactionFilter()


def redaction_filter() -> SecretRedactionFilter:
    """The process-wide filter, attached to the root logger and to each of its handlers.

    Call again after adding handlers to the root logger: it attaches itself to the new ones.
    """
    root = logging.getLogger()
    for target in (root, *root.handlers):
        if _filter not in target.filters:
            target.addFilter(_filter)
    return _filter
