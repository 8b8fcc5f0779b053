/*
 * dativo_reader.h - the C ABI of a Dativo reader, version 1.
 *
 * A reader is a shared library (.so) exporting the functions below. Dativo opens it with
 * cffi (dativo_core.native), checks dativo_abi_version(), creates a reader from a JSON config
 * and pulls Arrow record batches through the Arrow C Data Interface until the end of data, or
 * the same batches already encoded as Singer RECORD lines (dativo_next_records), which a tap
 * writes to stdout as they are. Rust crates get all of this from the `dativo_reader` crate's
 * `export_reader!` macro.
 *
 * Rules every implementation keeps:
 *  - A failure is reported as DATIVO_STATUS_ERROR with a message from dativo_last_error()
 *    that names where it happened (file, line, column). A parse failure is never reported as
 *    DATIVO_STATUS_END.
 *  - Everything the library allocates is released by it: a reader by dativo_free_reader(),
 *    an error string from dativo_create_reader() by dativo_free_string(), RECORD bytes by
 *    dativo_free_bytes(), Arrow structures by their own release callbacks (the consumer calls
 *    them, e.g. pyarrow after importing).
 *  - A handle is used by one thread at a time.
 *
 * The part between the cffi markers is plain C declarations with no preprocessor lines, so
 * cffi's cdef() reads it as it is.
 */
#ifndef DATIVO_READER_H
#define DATIVO_READER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* cffi:begin */

/* Arrow C Data Interface (https://arrow.apache.org/docs/format/CDataInterface.html). */
struct ArrowSchema {
    const char *format;
    const char *name;
    const char *metadata;
    int64_t flags;
    int64_t n_children;
    struct ArrowSchema **children;
    struct ArrowSchema *dictionary;
    void (*release)(struct ArrowSchema *);
    void *private_data;
};

struct ArrowArray {
    int64_t length;
    int64_t null_count;
    int64_t offset;
    int64_t n_buffers;
    int64_t n_children;
    const void **buffers;
    struct ArrowArray **children;
    struct ArrowArray *dictionary;
    void (*release)(struct ArrowArray *);
    void *private_data;
};

enum dativo_status {
    DATIVO_STATUS_ERROR = -1,
    DATIVO_STATUS_END = 0,
    DATIVO_STATUS_BATCH = 1
};

typedef struct dativo_reader dativo_reader;

/* A byte buffer owned by the library until dativo_free_bytes(). */
struct dativo_bytes {
    uint8_t *data;
    size_t len;
    size_t capacity;
};

/* The ABI version the library implements; this header describes version 1. */
uint32_t dativo_abi_version(void);

/* A reader for the given JSON object config, or NULL with *error_out set to a message the
 * caller frees with dativo_free_string() (error_out may be NULL). */
dativo_reader *dativo_create_reader(const char *config_json, char **error_out);

/* Writes the Arrow schema of the batches (a struct whose children are the columns) to *out.
 * Returns DATIVO_STATUS_BATCH on success, DATIVO_STATUS_ERROR otherwise. */
int32_t dativo_reader_schema(dativo_reader *reader, struct ArrowSchema *out);

/* DATIVO_STATUS_BATCH: *out_array and *out_schema hold the next record batch (a struct
 * array, one child per column), owned by the caller through their release callbacks.
 * DATIVO_STATUS_END: no more data; nothing was written.
 * DATIVO_STATUS_ERROR: see dativo_last_error(); nothing was written. */
int32_t dativo_next_batch(dativo_reader *reader, struct ArrowArray *out_array,
                          struct ArrowSchema *out_schema);

/* Like dativo_next_batch, but the batch comes as newline-terminated Singer RECORD lines of
 * `stream` in *out (free it with dativo_free_bytes) and its row count in *rows. Both calls
 * advance the same reader; a reader that reads ahead (the Rust ReadAhead wrapper) prepares
 * its next batch in the form of the first call, so read a handle with one of them throughout:
 * the other one is then an error. */
int32_t dativo_next_records(dativo_reader *reader, const char *stream, struct dativo_bytes *out,
                            int64_t *rows);

void dativo_free_bytes(struct dativo_bytes *bytes);

/* The message of the last error on this reader; owned by the reader, valid until the next
 * call on it. */
const char *dativo_last_error(const dativo_reader *reader);

void dativo_free_reader(dativo_reader *reader);

void dativo_free_string(char *text);

/* cffi:end */

#ifdef __cplusplus
}
#endif

#endif /* DATIVO_READER_H */
