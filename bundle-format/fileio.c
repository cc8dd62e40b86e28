#include "fileio.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int open_regular(const char *path, struct stat *st, struct ng_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return ng_errf(err, errno == ENOENT ? NG_ENOTFOUND : NG_EIO, "%s: cannot open: %s",
			       path, strerror(errno));
	if (fstat(fd, st) || !S_ISREG(st->st_mode)) {
		close(fd);
		return ng_errf(err, NG_EINVAL, "%s: not a regular file", path);
	}
	return fd;
}

int read_file_capped(const char *path, size_t max, uint8_t **out, size_t *outlen,
		     struct ng_err *err)
{
	struct stat st;
	uint8_t *b;
	size_t len = 0;
	int fd = open_regular(path, &st, err);

	if (fd < 0)
		return fd;
	if ((uint64_t)st.st_size > max) {
		close(fd);
		return ng_errf(err, NG_ELIMIT, "%s: %lld bytes is over the limit of %zu", path,
			       (long long)st.st_size, max);
	}
	b = malloc((size_t)st.st_size + 1);
	if (!b) {
		close(fd);
		return ng_errf(err, NG_ENOMEM, "%s: out of memory", path);
	}
	while (len < (size_t)st.st_size) {
		ssize_t n = read(fd, b + len, (size_t)st.st_size - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int e = n < 0 ? errno : EIO;
			free(b);
			close(fd);
			return ng_errf(err, NG_EIO, "%s: read failed: %s", path, strerror(e));
		}
		len += (size_t)n;
	}
	close(fd);
	b[len] = 0;
	*out = b;
	*outlen = len;
	return 0;
}

int write_all(int fd, const void *p, size_t n)
{
	const uint8_t *c = p;

	while (n) {
		ssize_t w = write(fd, c, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

int safefile_open(struct safefile *sf, const char *path, mode_t mode, struct ng_err *err)
{
	size_t n = strlen(path) + 16;

	memset(sf, 0, sizeof(*sf));
	sf->fd = -1;
	sf->path = strdup(path);
	sf->tmp = malloc(n);
	if (!sf->path || !sf->tmp) {
		safefile_abort(sf);
		return ng_errf(err, NG_ENOMEM, "%s: out of memory", path);
	}
	snprintf(sf->tmp, n, "%s.XXXXXX.tmp", path);
	sf->fd = mkostemps(sf->tmp, 4, O_CLOEXEC);
	if (sf->fd < 0) {
		int e = errno;
		safefile_abort(sf);
		return ng_errf(err, NG_EIO, "%s: cannot create a file beside it: %s", path,
			       strerror(e));
	}
	cleanup_register(sf->tmp);
	sf->mode = mode;
	if (fchmod(sf->fd, mode & ~(mode_t)0)) {
		int e = errno;
		safefile_abort(sf);
		return ng_errf(err, NG_EIO, "%s: chmod: %s", path, strerror(e));
	}
	return 0;
}

static void fsync_dir_of(const char *path)
{
	char *copy = strdup(path);
	int fd;

	if (!copy)
		return;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	free(copy);
}

int safefile_commit(struct safefile *sf, struct ng_err *err)
{
	int rc = 0;

	if (fsync(sf->fd) || close(sf->fd)) {
		rc = ng_errf(err, NG_EIO, "%s: write failed: %s", sf->path, strerror(errno));
		sf->fd = -1;
		safefile_abort(sf);
		return rc;
	}
	sf->fd = -1;
	if (rename(sf->tmp, sf->path)) {
		rc = ng_errf(err, NG_EIO, "%s: rename failed: %s", sf->path, strerror(errno));
		safefile_abort(sf);
		return rc;
	}
	cleanup_unregister(sf->tmp);
	fsync_dir_of(sf->path);
	free(sf->tmp);
	free(sf->path);
	memset(sf, 0, sizeof(*sf));
	sf->fd = -1;
	return 0;
}

void safefile_abort(struct safefile *sf)
{
	if (!sf)
		return;
	if (sf->fd >= 0)
		close(sf->fd);
	if (sf->tmp) {
		unlink(sf->tmp);
		cleanup_unregister(sf->tmp);
	}
	free(sf->tmp);
	free(sf->path);
	memset(sf, 0, sizeof(*sf));
	sf->fd = -1;
}

int write_file_atomic(const char *path, const void *p, size_t n, mode_t mode, struct ng_err *err)
{
	struct safefile sf;
	int rc = safefile_open(&sf, path, mode, err);

	if (rc)
		return rc;
	if (write_all(sf.fd, p, n)) {
		rc = ng_errf(err, NG_EIO, "%s: write failed: %s", path, strerror(errno));
		safefile_abort(&sf);
		return rc;
	}
	return safefile_commit(&sf, err);
}

/* The registry is a fixed array of fixed-size slots so that the signal
 * handler can walk it without allocating (POSIX async-signal-safety). */
#define CLEANUP_SLOTS 64
#define CLEANUP_PATH  4096
static char cleanup_paths[CLEANUP_SLOTS][CLEANUP_PATH];
static volatile sig_atomic_t cleanup_used[CLEANUP_SLOTS];
static int cleanup_atexit_set;

int cleanup_register(const char *path)
{
	if (strlen(path) >= CLEANUP_PATH)
		return -1;
	if (!cleanup_atexit_set) {
		atexit(cleanup_run);
		cleanup_atexit_set = 1;
	}
	for (int i = 0; i < CLEANUP_SLOTS; i++) {
		if (!cleanup_used[i]) {
			strcpy(cleanup_paths[i], path);
			cleanup_used[i] = 1;
			return 0;
		}
	}
	return -1;
}

void cleanup_unregister(const char *path)
{
	for (int i = 0; i < CLEANUP_SLOTS; i++)
		if (cleanup_used[i] && strcmp(cleanup_paths[i], path) == 0)
			cleanup_used[i] = 0;
}

/* Signal-safe removal: unlink, else a bounded depth-first rmdir walk using
 * only openat/getdents-backed readdir on fds we own (readdir is not formally
 * async-signal-safe, but the process is about to die and nothing else runs). */
static void remove_at(int parent, const char *name, int depth)
{
	int fd;
	DIR *d;
	struct dirent *e;

	if (unlinkat(parent, name, 0) == 0 || errno == ENOENT || depth > 64)
		return;
	fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		remove_at(dirfd(d), e->d_name, depth + 1);
	}
	closedir(d);
	unlinkat(parent, name, AT_REMOVEDIR);
}

int remove_tree(const char *path)
{
	remove_at(AT_FDCWD, path, 0);
	return access(path, F_OK) == 0 ? -1 : 0;
}

void cleanup_run(void)
{
	for (int i = 0; i < CLEANUP_SLOTS; i++) {
		if (cleanup_used[i]) {
			remove_at(AT_FDCWD, cleanup_paths[i], 0);
			cleanup_used[i] = 0;
		}
	}
}

static void on_signal(int sig)
{
	cleanup_run();
	signal(sig, SIG_DFL);
	raise(sig);
}

void cleanup_install_signals(void)
{
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGPIPE};
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
}

int make_private_tmpdir(const char *prefix, char **out, struct ng_err *err)
{
	const char *base = getenv("TMPDIR");
	size_t n;
	char *p;

	if (!base || !*base)
		base = "/tmp";
	n = strlen(base) + strlen(prefix) + 16;
	p = malloc(n);
	if (!p)
		return ng_errf(err, NG_ENOMEM, "out of memory");
	snprintf(p, n, "%s/%s.XXXXXX", base, prefix);
	if (!mkdtemp(p)) {
		int e = errno;
		free(p);
		return ng_errf(err, NG_EIO,
			       "cannot create a temporary directory in %s: %s (set TMPDIR)", base,
			       strerror(e));
	}
	cleanup_register(p);
	*out = p;
	return 0;
}
