"""Errors of state stores that a user can act on."""

from __future__ import annotations


class StateError(Exception):
    """Stored state could not be read or written; the message names the place and the fix."""


class StateLockedError(StateError):
    """Another run of the same pipeline holds the state lock."""
