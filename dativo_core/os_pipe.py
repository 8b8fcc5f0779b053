"""Larger OS pipe buffers: each read and write between Singer processes moves more data.

With Linux's default 64 KiB pipe, a tap and a target switch context for every 64 KiB; a shell
pipe of `tap-csv | target-iceberg` ran about a quarter slower than the same plugins joined by
`dativo pipe`, whose pipes were already widened. Taps (stdout) and targets (stdin) widen their
own end, so a plain shell pipe gets the same benefit.
"""

from __future__ import annotations

import fcntl

PIPE_BYTES = 1024 * 1024


def widen_pipe(fd: int, size: int = PIPE_BYTES) -> None:
    """Ask Linux for a larger pipe buffer; keep the default where that fails.

    Unprivileged processes may grow a pipe up to /proc/sys/fs/pipe-max-size (1 MiB by default).
    A file, a terminal, or a platform without F_SETPIPE_SZ is left as it is.
    """
    set_size = getattr(fcntl, "F_SETPIPE_SZ", None)
    if set_size is None:
        return
    try:
        fcntl.fcntl(fd, set_size, size)
    except OSError:
        return
