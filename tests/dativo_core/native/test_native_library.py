"""Loading reader libraries with cffi: version checks, errors carried over, nothing leaked."""

from __future__ import annotations

import ctypes
import gc
import shutil
import subprocess
from pathlib import Path

import psutil
import pytest

from dativo_core.native import BUILD_COMMAND, NativeLibrary, NativeReaderError, load_library
from dativo_core.native.library import HEADER_PATH

# A reader written in C against the header alone: its source fails at the first batch.
C_READER = r"""
#include <stdlib.h>
#include <string.h>
#include "dativo_reader.h"

struct dativo_reader { char error[128]; };

uint32_t dativo_abi_version(void) { return 1; }

dativo_reader *dativo_create_reader(const char *config_json, char **error_out) {
    if (strstr(config_json, "\"fail\"") != NULL) {
        if (error_out != NULL) *error_out = strdup("config: 'fail' is set");
        return NULL;
    }
    return calloc(1, sizeof(dativo_reader));
}

static void release_schema(struct ArrowSchema *schema) { schema->release = NULL; }

int32_t dativo_reader_schema(dativo_reader *reader, struct ArrowSchema *out) {
    (void)reader;
    memset(out, 0, sizeof *out);
    out->format = "+s";
    out->name = "";
    out->release = release_schema;
    return DATIVO_STATUS_BATCH;
}

static int32_t fail(dativo_reader *reader) {
    strcpy(reader->error, "source.bin: record 7: checksum mismatch");
    return DATIVO_STATUS_ERROR;
}

int32_t dativo_next_batch(dativo_reader *reader, struct ArrowArray *a, struct ArrowSchema *s) {
    (void)a; (void)s;
    return fail(reader);
}

int32_t dativo_next_records(dativo_reader *reader, const char *stream, struct dativo_bytes *out,
                            int64_t *rows) {
    (void)stream; (void)out; (void)rows;
    return fail(reader);
}

const char *dativo_last_error(const dativo_reader *reader) { return reader->error; }
void dativo_free_reader(dativo_reader *reader) { free(reader); }
void dativo_free_string(char *text) { free(text); }
void dativo_free_bytes(struct dativo_bytes *bytes) { (void)bytes; }
"""


def _compile_c(tmp_path: Path, name: str, source: str) -> Path:
    compiler = shutil.which("cc")
    if compiler is None:
        pytest.skip("no C compiler (cc) to build a stand-in library")
    c_file, library = tmp_path / f"{name}.c", tmp_path / f"lib{name}.so"
    c_file.write_text(source)
    subprocess.run(
        [compiler, "-std=c11", "-D_POSIX_C_SOURCE=200809L", "-Wall", "-Werror", "-shared", "-fPIC", f"-I{HEADER_PATH.parent}",
         "-o", str(library), str(c_file)],
        check=True,
    )
    return library


def test_a_reader_written_in_c_loads_and_its_errors_come_through(tmp_path: Path) -> None:
    library = NativeLibrary(_compile_c(tmp_path, "c_reader", C_READER))
    with pytest.raises(NativeReaderError, match="cannot create the reader: config: 'fail' is set"):
        library.open({"fail": True})
    with library.open({}) as reader:
        assert reader.schema.names == []
        with pytest.raises(NativeReaderError, match="record 7: checksum mismatch"):
            reader.next_batch()
        with pytest.raises(NativeReaderError, match="record 7: checksum mismatch"):
            reader.next_records("s")


def test_library_of_another_abi_version_is_refused(tmp_path: Path) -> None:
    library = _compile_c(tmp_path, "future", "unsigned int dativo_abi_version(void) { return 2; }\n")
    with pytest.raises(NativeReaderError, match="implements reader ABI version 2, but this Dativo loads version 1"):
        NativeLibrary(library)


def test_library_without_the_abi_is_refused(tmp_path: Path) -> None:
    library = _compile_c(tmp_path, "unrelated", "int answer(void) { return 42; }\n")
    with pytest.raises(NativeReaderError, match="not a Dativo reader library"):
        NativeLibrary(library)


def test_missing_library_says_how_to_build(tmp_path: Path) -> None:
    with pytest.raises(NativeReaderError) as raised:
        NativeLibrary(tmp_path / "libnothing.so")
    assert BUILD_COMMAND in str(raised.value)


def test_closed_reader_refuses_to_read(reader_libraries: dict[str, Path]) -> None:
    reader = load_library(reader_libraries["sequence_reader"]).open({"stop": 3})
    reader.close()
    reader.close()
    with pytest.raises(NativeReaderError, match="closed"):
        reader.next_batch()


def _cycle(library: NativeLibrary, csv_path: Path, close: bool, as_records: bool) -> int:
    reader = library.open({"path": str(csv_path), "batch_size": 64})
    if as_records:
        rows = 0
        while (encoded := reader.next_records("s")) is not None:
            rows += encoded[1]
    else:
        rows = sum(batch.num_rows for batch in reader)
    try:
        library.open({"path": str(csv_path), "column_types": {"nope": "integer"}})
    except NativeReaderError:
        pass
    if close:
        reader.close()
    return rows


def _resident_bytes_after_collecting(process: psutil.Process) -> int:
    """RSS once Python garbage is collected and glibc has handed freed heap pages back.

    Without the trim, free memory that glibc keeps in its per-thread arenas (the reader's
    read-ahead thread has one) counts as growth, and that varies with scheduling.
    """
    gc.collect()
    libc = ctypes.CDLL(None)
    if hasattr(libc, "malloc_trim"):
        libc.malloc_trim(0)
    return process.memory_info().rss


@pytest.mark.slow
def test_many_create_read_free_cycles_do_not_grow_memory(
    tmp_path: Path, reader_libraries: dict[str, Path]
) -> None:
    csv_path = tmp_path / "small.csv"
    csv_path.write_text("id,name,when\n" + "".join(f"{i},name {i},2024-01-01T00:00:{i % 60:02d}Z\n" for i in range(500)))
    library = load_library(reader_libraries["dativo_csv_reader"])
    process = psutil.Process()
    for i in range(400):
        assert _cycle(library, csv_path, close=True, as_records=i % 2 == 0) == 500
    before = _resident_bytes_after_collecting(process)
    for i in range(2000):
        # Half the readers are freed by close(), half by garbage collection; a quarter of the
        # runs take Arrow batches, the rest RECORD bytes.
        assert _cycle(library, csv_path, close=i % 2 == 0, as_records=i % 4 != 0) == 500
    grown = _resident_bytes_after_collecting(process) - before
    print(f"RSS grew by {grown / 1e6:.2f} MB over 2000 cycles")
    # 2000 leaked readers with their batches would hold well over 100 MB.
    assert grown < 8 * 1024 * 1024, f"RSS grew by {grown / 1e6:.1f} MB over 2000 cycles"


def test_closing_a_reader_mid_file_stops_its_read_ahead_thread(
    tmp_path: Path, reader_libraries: dict[str, Path]
) -> None:
    csv_path = tmp_path / "longer.csv"
    csv_path.write_text("id\n" + "".join(f"{i}\n" for i in range(10_000)))
    library = load_library(reader_libraries["dativo_csv_reader"])
    process = psutil.Process()
    threads = process.num_threads()
    for _ in range(200):
        with library.open({"path": str(csv_path), "batch_size": 10}) as reader:
            first = reader.next_batch()
            assert first is not None and first.column("id").to_pylist() == list(range(10))
    assert process.num_threads() == threads
