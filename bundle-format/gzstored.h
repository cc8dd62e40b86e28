/* gzstored.h: the one gzip framing a bundle's tar may have (SPEC.md §2.1):
 * exactly one gzip member with the fixed 10-byte header, the tar in deflate
 * stored blocks of 65535 bytes (the rest in the final one), then CRC-32 and
 * ISIZE. The writer produces that framing and nothing else, so equal tars
 * give equal bytes; the reader parses it itself (no inflate) and refuses any
 * other framing, even one that would decode to the same tar, so that no byte
 * of a bundle can change without verification failing. Neither knows what
 * the tar holds (tarw.h, tarr.h do). */
#ifndef NG_GZSTORED_H
#define NG_GZSTORED_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* Tar bytes per stored block (SPEC §2.1; RFC 1951 §3.2.4 maximum). */
#define GZS_STORED_MAX 65535

struct gzs_reader;

/* Reads fd from its current offset (fd is not closed); nothing is read until
 * the first gzs_read(). label names the input in errors. */
int gzs_reader_new(int fd, const char *label, struct gzs_reader **out, struct ng_err *err);
void gzs_reader_free(struct gzs_reader *z);

/* Reads up to n tar bytes; *got < n only at the end of the deflate data, and
 * then the trailer's CRC-32 and ISIZE have been checked. On an error *got
 * bytes were still stored at p. */
int gzs_read(struct gzs_reader *z, void *p, size_t n, size_t *got, struct ng_err *err);

/* After gzs_read() came up short: fails unless the input ends right after
 * the trailer (SPEC §2.1: one gzip member, nothing after it). */
int gzs_reader_end(struct gzs_reader *z, struct ng_err *err);

/* Tar bytes handed out so far. */
uint64_t gzs_reader_bytes(const struct gzs_reader *z);

struct gzs_writer;

/* Writes the gzip header to fd (not closed by the writer). */
int gzs_writer_new(int fd, struct gzs_writer **out, struct ng_err *err);
void gzs_writer_free(struct gzs_writer *w);

/* Appends tar bytes; full blocks go out once more data follows them. */
int gzs_write(struct gzs_writer *w, const void *p, size_t n, struct ng_err *err);

/* The final block and the trailer. Call once, after the last gzs_write(). */
int gzs_writer_finish(struct gzs_writer *w, struct ng_err *err);

/* Bytes written to fd so far. */
uint64_t gzs_writer_bytes_out(const struct gzs_writer *w);

#endif
