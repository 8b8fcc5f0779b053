"""Durable Singer state: where the last committed STATE of each pipeline is kept."""

from dativo_core.state.backend import StateBackend, StateKey

__all__ = ["StateBackend", "StateKey"]
