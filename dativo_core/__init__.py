"""Dativo's thin core: the Singer protocol, pipes, state, secrets, contracts and plugins."""

__version__ = "0.1.0"
