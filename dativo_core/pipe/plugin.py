"""A tap or target executable as `dativo pipe` starts it: the command line and nothing secret."""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Role = Literal["tap", "mapper", "target"]


class PluginNotFoundError(Exception):
    pass


@dataclass(frozen=True, slots=True)
class PluginCommand:
    """How to start one side of the pipe.

    Only file paths go on the command line; config contents (which hold secrets) never do.
    """

    role: Role
    executable: str
    config: Path | None = None
    extra_args: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return os.path.basename(self.executable)

    def argv(self, *args: str) -> list[str]:
        command = [resolve_executable(self.executable, self.role)]
        if self.config is not None:
            command += ["--config", str(self.config)]
        return command + list(args) + list(self.extra_args)


def resolve_executable(executable: str, role: Role) -> str:
    """Find the executable on PATH, else beside our own Python (an unactivated virtualenv)."""
    if os.sep in executable:
        if os.access(executable, os.X_OK) and not os.path.isdir(executable):
            return executable
        raise PluginNotFoundError(
            f"{role} executable {executable} does not exist or is not executable"
        )
    own_bin = os.path.dirname(sys.executable)
    found = shutil.which(executable) or shutil.which(executable, path=own_bin)
    if found is None:
        raise PluginNotFoundError(
            f"{role} executable '{executable}' was not found on PATH nor in {own_bin}; "
            "install it there, or give its full path"
        )
    return found
