/* ociarchive.h: the files of an image as a user brings them — a directory
 * (OCI image layout, or an unpacked `docker save`) or a tar of one (an
 * oci-archive or a `docker save` archive, optionally gzip- or
 * zstd-compressed) — read by member name without extracting anything.
 *
 * Every name is relative to the archive root and must stay inside it: names
 * that are absolute, contain "." or ".." components, or resolve through a
 * symlink out of the archive are refused. In a directory nothing is followed
 * through a symlink (openat with O_NOFOLLOW at every component). In a tar,
 * members are indexed once by header (ustar, GNU long names, pax path/size),
 * duplicate names and odd member types (devices, fifos, sparse files) reject
 * the whole archive, and a symlink or hard link member resolves only to a
 * regular member of the same archive (legacy `docker save` links repeated
 * layers that way). */
#ifndef NG_OCIARCHIVE_H
#define NG_OCIARCHIVE_H

#include <stddef.h>
#include <stdint.h>

#include "../bundle-format/err.h"

/* Limits on hostile archives. */
#define OCI_TAR_MAX_MEMBERS 65536
#define OCI_TAR_MAX_NAME    4096

struct oci_src; /* opaque */

/* Opens a directory or a tar file (plain, gzip or zstd; compressed archives
 * are decompressed once into an unlinked temporary file under $TMPDIR). */
int oci_src_open(const char *path, struct oci_src **out, struct ng_err *err);
/* Same over a tar already in memory (not copied; must outlive the source):
 * what the fuzz target and unit tests use. */
int oci_src_open_tar_mem(const uint8_t *p, size_t n, const char *name, struct oci_src **out,
			 struct ng_err *err);
void oci_src_free(struct oci_src *s);

/* The name errors use for the archive (the path given). */
const char *oci_src_name(const struct oci_src *s);

/* 1 when member exists as a regular file (after link resolution), else 0. */
int oci_src_exists(const struct oci_src *s, const char *member);

/* Reads a whole member into a malloc'd NUL-terminated buffer; NG_ENOTFOUND
 * when absent, NG_ELIMIT when larger than max. The message names the member. */
int oci_src_read(const struct oci_src *s, const char *member, size_t max, uint8_t **out,
		 size_t *outlen, struct ng_err *err);

/* A member's bytes for streaming: len bytes at off in fd (read with pread, so
 * several threads can read one archive at once). */
struct oci_member {
	int fd;
	int own_fd;	    /* fd is this member's own and oci_member_close closes it */
	const uint8_t *mem; /* in-memory sources: the bytes (fd is -1) */
	uint64_t off;
	uint64_t len;
};
int oci_src_open_member(const struct oci_src *s, const char *member, struct oci_member *m,
			struct ng_err *err);
/* Reads up to n bytes at pos (relative to the member); returns bytes read,
 * 0 at the member's end, -1 on error (errno set). */
long oci_member_pread(const struct oci_member *m, void *p, size_t n, uint64_t pos);
void oci_member_close(struct oci_member *m);

/* Checks a member name against the rules above without opening anything. */
int oci_member_name_ok(const char *name);

#endif
