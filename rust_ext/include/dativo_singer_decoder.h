/*
 * dativo_singer_decoder.h - the C ABI of the Singer RECORD decoder, version 2.
 *
 * target-iceberg hands the decoder a block of RECORD lines of one stream (newline-separated
 * JSON) and receives one Arrow record batch through the Arrow C Data Interface, so no record
 * becomes a Python object. The decoder is made once per stream schema: the schema describes
 * the envelope, e.g. {record: struct<...>, version: int64}; other keys of a line are ignored.
 *
 * Rules:
 *  - A failure is reported as DATIVO_DECODER_ERROR; dativo_decoder_error_line() gives the
 *    0-based index of the line at fault within the block (-1 when unknown) and
 *    dativo_decoder_last_error() the message, which names the field when the parser did.
 *  - Everything the library allocates is released by it: a decoder by dativo_decoder_free(),
 *    an error string from dativo_decoder_new() by dativo_decoder_free_string(), Arrow
 *    structures by their own release callbacks (pyarrow calls them after importing).
 *  - A decoder is used by one thread at a time.
 *
 * The part between the cffi markers is plain C declarations (cffi's cdef() reads it).
 */
#ifndef DATIVO_SINGER_DECODER_H
#define DATIVO_SINGER_DECODER_H

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

enum dativo_decoder_status {
    DATIVO_DECODER_ERROR = -1,
    DATIVO_DECODER_OTHER_LINES = 0,
    DATIVO_DECODER_BATCH = 1
};

typedef struct dativo_decoder dativo_decoder;

/* The ABI version the library implements; this header describes version 2. */
uint32_t dativo_decoder_abi_version(void);

/* A decoder for lines of the given envelope schema (a struct schema, moved in: the library
 * releases it), or NULL with *error_out set to a message to free with
 * dativo_decoder_free_string(). */
dativo_decoder *dativo_decoder_new(struct ArrowSchema *schema, char **error_out);

/* Decode `len` bytes of newline-separated lines into one batch of one row per line.
 * DATIVO_DECODER_BATCH fills *out_array and *out_schema; DATIVO_DECODER_ERROR leaves them. */
int32_t dativo_decoder_decode(dativo_decoder *decoder, const uint8_t *data, size_t len,
                              struct ArrowArray *out_array, struct ArrowSchema *out_schema);

/* The same, on the condition that every line starts with the `prefix_len` bytes at `prefix`
 * (e.g. {"type":"RECORD","stream":"orders"), checked as the lines are decoded: when one does
 * not, or (with a prefix) carries a "version" the envelope schema has no field for, the result
 * is DATIVO_DECODER_OTHER_LINES, and nothing is decoded. A DATIVO_DECODER_ERROR means every
 * line had the prefix, so the error's line is the row's. */
int32_t dativo_decoder_decode_prefixed(dativo_decoder *decoder, const uint8_t *data, size_t len,
                                       const uint8_t *prefix, size_t prefix_len,
                                       struct ArrowArray *out_array, struct ArrowSchema *out_schema);

/* The message of the decoder's latest error (valid until its next call). */
const char *dativo_decoder_last_error(const dativo_decoder *decoder);

/* The 0-based line of the decoder's latest error within its block, or -1. */
int64_t dativo_decoder_error_line(const dativo_decoder *decoder);

void dativo_decoder_free(dativo_decoder *decoder);
void dativo_decoder_free_string(char *text);

/* cffi:end */

#ifdef __cplusplus
}
#endif

#endif
