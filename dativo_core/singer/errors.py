"""The one error type for bad Singer input, carrying where the problem is."""

from __future__ import annotations


class SingerProtocolError(Exception):
    """Bad Singer input, located by input line, stream and field so a user can find it."""

    def __init__(
        self,
        problem: str,
        *,
        line: int | None = None,
        stream: str | None = None,
        field: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.problem = problem
        self.line = line
        self.stream = stream
        self.field = field
        self.hint = hint
        super().__init__(str(self))

    def __str__(self) -> str:
        where = []
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.stream is not None:
            where.append(f"stream '{self.stream}'")
        if self.field is not None:
            where.append(f"field '{self.field}'")
        text = f"{', '.join(where)}: {self.problem}" if where else self.problem
        return f"{text}. {self.hint}" if self.hint else text
