"""Type inference begun before singer-sdk is imported.

Importing singer-sdk keeps one core busy for most of a second, and inference is the Rust reader
or pyarrow parsing every file, both of which let go of the GIL. Started first, on a helper thread, inference
runs during the import instead of after it. Only the same question (stream, files, header,
block size, row limit) gets the early answer; any other is inferred when asked, as before.
A command that will sync all of a stream's files (not an incremental stream, whose bookmark
usually skips most of them) also keeps the rows pyarrow's inference converted (typed_spool), so
the sync does not parse the files again; one that only discovers or tests the connection does not.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dativo_tap_csv.file_specs import DEFAULT_BLOCK_SIZE, FileSpec, load_file_specs
from dativo_tap_csv.headers import shared_header
from dativo_tap_csv.kinds import Inference
from dativo_tap_csv.rust_engine import RustEngine, rust_engine

if TYPE_CHECKING:
    from dativo_tap_csv.typed_spool import Spool

_Question = tuple[FileSpec, tuple[Path, ...], tuple[str, ...], int, "int | None"]
# Options after which the tap infers nothing (a catalog gives the schema) or does not sync.
_NO_INFERENCE = {"--catalog", "--properties", "--about", "--version", "--help", "-h"}
# Options after which it infers but syncs nothing, or a few records only.
_NO_FULL_SYNC = {"--discover", "--test"}


class _EarlyAnswers:
    def __init__(self, keep_rows: bool) -> None:
        self._done = threading.Event()
        self._keep_rows = keep_rows
        self._answers: dict[_Question, Inference] = {}

    def compute(self, config: dict[str, Any]) -> None:
        try:
            block_size = int(config.get("block_size_bytes") or DEFAULT_BLOCK_SIZE)
            max_rows = config.get("infer_max_rows")
            if max_rows is not None and (not isinstance(max_rows, int) or max_rows < 1):
                return  # the stream reports the bad setting itself
            spool = _LazySpool(config.get("spool_max_bytes") if self._keep_rows else 0)
            for spec in load_file_specs(config):
                paths = spec.resolve_paths()
                header = shared_header(spec, paths)
                question = (spec, tuple(paths), tuple(header), block_size, max_rows)
                self._answers[question] = _infer(
                    spec, paths, header, block_size, max_rows,
                    rust_engine(config, spec, paths), None if spec.incremental else spool,
                )
        except Exception:  # noqa: BLE001 - asked again later, the stream raises it with its context
            return
        finally:
            self._done.set()

    def answer(self, question: _Question) -> Inference | None:
        self._done.wait()
        return self._answers.pop(question, None)


_early: _EarlyAnswers | None = None


def _config_file(argv: Sequence[str]) -> Path | None:
    """The one `--config` file of a command that will infer types, else None."""
    if _NO_INFERENCE.intersection(arg.split("=", 1)[0] for arg in argv):
        return None
    paths = [argv[i + 1] for i, arg in enumerate(argv[:-1]) if arg == "--config"]
    paths += [arg.split("=", 1)[1] for arg in argv if arg.startswith("--config=")]
    if len(paths) != 1 or paths[0] == "ENV":
        return None
    return Path(paths[0])


def start(argv: Sequence[str]) -> None:
    """Begin inferring every configured stream's kinds on a helper thread, if the command will ask."""
    global _early
    path = _config_file(argv)
    if path is None:
        return
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return  # singer-sdk reports an unreadable config
    if not isinstance(config, dict):
        return
    _early = _EarlyAnswers(keep_rows=not _NO_FULL_SYNC.intersection(arg.split("=", 1)[0] for arg in argv))
    threading.Thread(target=_early.compute, args=(config,), name="early-inference", daemon=True).start()


class _LazySpool:
    """The spool for pyarrow's inference, made when it is first needed: pyarrow is imported
    only by a tap that infers with it."""

    def __init__(self, budget: object) -> None:
        self._budget = budget
        self._spool: Spool | None = None

    def get(self) -> Spool:
        if self._spool is None:
            from dativo_tap_csv.typed_spool import DEFAULT_SPOOL_BYTES, Spool

            budget = DEFAULT_SPOOL_BYTES if self._budget is None else self._budget
            self._spool = Spool(budget if isinstance(budget, int) else 0)
        return self._spool


def _infer(
    spec: FileSpec,
    paths: Sequence[Path],
    columns: Sequence[str],
    block_size: int,
    max_rows: int | None,
    rust: RustEngine | None,
    spool: _LazySpool | None = None,
) -> Inference:
    """The Rust engine's kinds where it can decide them, else pyarrow's (keeping rows in `spool`)."""
    kinds = rust.infer_kinds(paths, columns, max_rows) if rust is not None else None
    if kinds is not None:
        return Inference(kinds)
    from dativo_tap_csv.discovery import infer_kinds  # pyarrow: only when it infers

    # When the Rust engine syncs, pyarrow only decides the kinds: it keeps no converted rows.
    keep_in = spool.get() if spool is not None and rust is None else None
    return infer_kinds(spec, paths, columns, block_size, max_rows, keep_in)


def inference(
    spec: FileSpec,
    paths: Sequence[Path],
    columns: Sequence[str],
    block_size: int,
    max_rows: int | None,
    rust: RustEngine | None,
) -> Inference:
    """The stream's kinds: the early answer (with kept rows) when one was begun for this question."""
    if _early is not None:
        answer = _early.answer((spec, tuple(paths), tuple(columns), block_size, max_rows))
        if answer is not None:
            return answer
    return _infer(spec, paths, columns, block_size, max_rows, rust)
