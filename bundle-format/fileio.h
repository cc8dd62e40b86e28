/* fileio.h: reading whole files with a size cap, writing files atomically,
 * and removing temporary files on every exit path, signals included.
 *
 * Output is never written in place: a partial file left after a crash or a
 * failed check could be mistaken for a good bundle or image. safefile writes a
 * temporary name in the destination's directory and renames it over the
 * target only once everything succeeded (rename(2) is atomic within a file
 * system). */
#ifndef NG_FILEIO_H
#define NG_FILEIO_H

#include <stddef.h>
#include <sys/stat.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"

/* Opens path read-only, refusing anything but a regular file: returns the fd
 * (st filled) or a negative code with err naming path. */
int open_regular(const char *path, struct stat *st, struct ng_err *err);
/* Reads a whole regular file into a malloc'd, NUL-terminated buffer; fails
 * with NG_ELIMIT when it is larger than max bytes. */
int read_file_capped(const char *path, size_t max, uint8_t **out, size_t *outlen,
		     struct ng_err *err);

struct safefile {
	char *path; /* final name */
	char *tmp;  /* temporary name, registered for cleanup */
	int fd;
	mode_t mode;
};

/* Creates "<path>.XXXXXX.tmp" with mode (before umask) in path's directory. */
int safefile_open(struct safefile *sf, const char *path, mode_t mode, struct ng_err *err);
/* fsyncs, renames over path and fsyncs the directory; frees sf. */
int safefile_commit(struct safefile *sf, struct ng_err *err);
/* Removes the temporary file and frees sf; safe on a zeroed or committed sf. */
void safefile_abort(struct safefile *sf);
/* Writes all of a buffer to path atomically. */
int write_file_atomic(const char *path, const void *p, size_t n, mode_t mode, struct ng_err *err);
/* write(2) until done, retrying on EINTR and short writes. */
int write_all(int fd, const void *p, size_t n);

/* Cleanup registry: paths (files or directories, removed recursively) that
 * must not outlive the process. cleanup_install_signals() makes SIGINT,
 * SIGTERM, SIGHUP and SIGPIPE remove them before the process dies; atexit
 * handling removes them on a normal exit. Bounded, async-signal-safe. */
int cleanup_register(const char *path);
void cleanup_unregister(const char *path);
void cleanup_install_signals(void);
void cleanup_run(void);

/* Makes a private (0700) temporary directory under $TMPDIR (or /tmp) and
 * registers it for cleanup; *out is malloc'd. */
int make_private_tmpdir(const char *prefix, char **out, struct ng_err *err);
/* rm -rf of a directory tree we created; does not follow symlinks. */
int remove_tree(const char *path);

#endif
