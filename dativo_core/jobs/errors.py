"""The one error a job run reports for its own checks (the other parts raise their own)."""


class JobError(Exception):
    """A job that cannot run as written: the message says what, where, and what to change."""
