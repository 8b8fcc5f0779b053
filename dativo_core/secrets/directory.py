"""Secrets as files: `<root>/<tenant>/<name>` holds the value (one trailing newline is dropped).

A file readable or writable by group or others is refused, as ssh refuses a private key: a secret
others can read is already leaked, and one others can write can be swapped.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from dativo_core.secrets.backend import SecretBackend, SecretError, SecretNotFoundError


class DirectorySecretBackend(SecretBackend):
    kind = "directory"

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def describe(self, tenant: str, name: str) -> str:
        return f"file {self.root / tenant / name}"

    def _read(self, tenant: str, name: str) -> str:
        path = self.root / tenant / name
        try:
            descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        except FileNotFoundError:
            raise SecretNotFoundError(
                f"secret {name!r} of tenant {tenant!r} not found: create {path} (mode 0600) holding its value"
            ) from None
        except OSError as exc:
            raise SecretError(f"cannot read secret file {path}: {exc.strerror}") from None
        with os.fdopen(descriptor, "rb") as file:
            mode = os.fstat(file.fileno()).st_mode
            if not stat.S_ISREG(mode):
                raise SecretError(f"secret file {path} is not a regular file")
            if mode & 0o077:
                raise SecretError(
                    f"secret file {path} has mode {stat.S_IMODE(mode):04o}: group or others may access it; "
                    f"run `chmod 600 {path}` (and rotate the secret if others could read it)"
                )
            try:
                value = file.read().decode()
            except UnicodeDecodeError:
                raise SecretError(f"secret file {path} is not UTF-8 text; write the value as UTF-8") from None
        return value.removesuffix("\n").removesuffix("\r")
