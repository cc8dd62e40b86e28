#include "ocilayers.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../bundle-format/codec.h"
#include "../bundle-format/digest.h"
#include "../bundle-format/progress.h"
#include "layer.h"

#define CHUNK (256u << 10)

static const char *media_type_for(int compression)
{
	switch (compression) {
	case OCI_GZIP:
		return "application/vnd.docker.image.rootfs.diff.tar.gzip";
	case OCI_ZSTD:
		return "application/vnd.oci.image.layer.v1.tar+zstd";
	default:
		return "application/vnd.docker.image.rootfs.diff.tar";
	}
}

static const char *compression_name(int c)
{
	return c == OCI_GZIP ? "gzip" : c == OCI_ZSTD ? "zstd" : "an uncompressed tar";
}

/* Reads a member, hashing every byte and, when fd >= 0, passing it on to the
 * layer hasher. If the hasher stops reading early the rest is still hashed:
 * the blob digest always covers the whole blob. */
struct feeder {
	const struct oci_member *m;
	int fd;
	_Atomic uint64_t *progress;
	uint8_t digest[SHA256_LEN];
	uint64_t bytes;
	int io_errno;
};

static void *feed(void *arg)
{
	struct feeder *f = arg;
	struct sha256_ctx *h = sha256_new();
	uint8_t *b = malloc(CHUNK);
	int writing = f->fd >= 0;

	if (!h || !b) {
		f->io_errno = ENOMEM;
		goto out;
	}
	while (f->bytes < f->m->len) {
		long r = oci_member_pread(f->m, b, CHUNK, f->bytes);
		if (r <= 0) {
			f->io_errno = r < 0 ? errno : EIO;
			break;
		}
		sha256_update(h, b, (size_t)r);
		f->bytes += (uint64_t)r;
		if (f->progress)
			atomic_fetch_add(f->progress, (uint64_t)r);
		for (long off = 0; writing && off < r;) {
			ssize_t w = send(f->fd, b + off, (size_t)(r - off), MSG_NOSIGNAL);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				writing = 0; /* the hasher is done (or failed): keep hashing */
				break;
			}
			off += w;
		}
	}
	sha256_final(h, f->digest);
out:
	sha256_free(h);
	free(b);
	if (f->fd >= 0) {
		close(f->fd);
		f->fd = -1;
	}
	return NULL;
}

static int check_digest(const struct oci_src *src, struct oci_layer *l, const struct feeder *f,
			struct ng_err *err)
{
	char hex[SHA256_HEX_LEN + 1];

	if (f->io_errno)
		return ng_errf(err, NG_EIO, "layer %s in %s: read failed: %s",
			       l->digest[0] ? l->digest : l->member, oci_src_name(src),
			       strerror(f->io_errno));
	hex_encode(f->digest, SHA256_LEN, hex);
	if (!l->digest[0]) { /* docker-save: the blob is named by its path only */
		snprintf(l->digest, sizeof(l->digest), "sha256:%s", hex);
		return 0;
	}
	if (strcmp(hex, l->digest + 7))
		return ng_errf(
		    err, NG_EVERIFY,
		    "layer %s in %s: content hashes to sha256:%s: the archive is corrupt "
		    "or tampered",
		    l->digest, oci_src_name(src), hex);
	return 0;
}

static int hash_layer(const struct oci_src *src, struct oci_layer *l, const struct oci_hash_opts *o,
		      _Atomic uint64_t *progress, struct ng_err *err)
{
	struct oci_member m;
	struct feeder f;
	struct layer_result res;
	struct layer_opts lo;
	uint8_t magic[4] = {0};
	char name[300], hex[SHA256_HEX_LEN + 1];
	int sv[2], rc, comp;
	pthread_t t;
	const char *id = l->digest[0] ? l->digest : l->member;

	if ((rc = oci_src_open_member(src, l->member, &m, err)))
		return ng_err_prefix(err, rc, "layer %s", id);
	if (l->size_known && m.len != l->size) {
		rc = ng_errf(err, NG_EVERIFY,
			     "layer %s in %s: blob is %llu bytes but the manifest says %llu: the "
			     "archive is corrupt or tampered",
			     id, oci_src_name(src), (unsigned long long)m.len,
			     (unsigned long long)l->size);
		goto out;
	}
	if (oci_member_pread(&m, magic, m.len < 4 ? (size_t)m.len : 4, 0) < 0) {
		rc = ng_errf(err, NG_EIO, "layer %s: read failed: %s", id, strerror(errno));
		goto out;
	}
	comp = magic[0] == 0x1f && magic[1] == 0x8b ? OCI_GZIP
	       : magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd
		   ? OCI_ZSTD
		   : OCI_PLAIN;
	if (l->compression < 0) {
		l->compression = comp;
		l->size = m.len;
		l->size_known = 1;
		if (!(l->media_type = strdup(media_type_for(comp)))) {
			rc = ng_errf(err, NG_ENOMEM, "out of memory");
			goto out;
		}
	} else if (comp != l->compression) {
		/* A registry client would unpack it by its media type; a blob
		 * that is something else is not the layer the manifest names. */
		rc = ng_errf(err, NG_EVERIFY, "layer %s: media type %s says %s but the blob is %s",
			     id, l->media_type, compression_name(l->compression),
			     compression_name(comp));
		goto out;
	}
	/* A cache hit still digests the blob; a miss on a blob whose digest the
	 * manifest states goes straight to the hashing pass, which checks it. */
	if (o->cache && o->cache->dir &&
	    (!l->digest[0] ||
	     layer_cache_get(o->cache, l->diff_id, l->digest, l->root) == LAYER_CACHE_HIT)) {
		memset(&f, 0, sizeof(f));
		f.m = &m;
		f.fd = -1;
		feed(&f);
		if ((rc = check_digest(src, l, &f, err)))
			goto out;
		if (layer_cache_get(o->cache, l->diff_id, l->digest, l->root) == LAYER_CACHE_HIT) {
			l->cached = 1;
			if (progress)
				atomic_fetch_add(progress, m.len);
			goto out;
		}
	}
	snprintf(name, sizeof(name), "layer %s", id);
	memset(&lo, 0, sizeof(lo));
	lo.name = name;
	memset(&res, 0, sizeof(res));
	memset(&f, 0, sizeof(f));
	f.m = &m;
	f.fd = -1;
	if (m.own_fd && !m.mem) {
		/* A file of its own (layout directory): the hasher reads it to EOF
		 * and its blob digest is that of the file, checked below. */
		if (lseek(m.fd, 0, SEEK_SET) != 0) {
			rc = ng_errf(err, NG_EIO, "layer %s: seek: %s", id, strerror(errno));
			goto out;
		}
		rc = layer_hash_fd(m.fd, &lo, &res, err);
		if (progress)
			atomic_fetch_add(progress, m.len);
		if (!rc && res.blob_bytes == m.len) {
			memcpy(f.digest, res.blob_digest, SHA256_LEN);
			f.bytes = res.blob_bytes;
		} else {
			feed(&f); /* failed or stopped early: digest the whole blob */
		}
	} else {
		/* A member of a tar: streamed to the hasher by a thread that
		 * digests what it sends. */
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)) {
			rc = ng_errf(err, NG_EIO, "socketpair: %s", strerror(errno));
			goto out;
		}
		f.fd = sv[1];
		f.progress = progress;
		if (pthread_create(&t, NULL, feed, &f)) {
			close(sv[0]);
			close(sv[1]);
			rc = ng_errf(err, NG_ENOMEM, "cannot start a thread");
			goto out;
		}
		rc = layer_hash_fd(sv[0], &lo, &res, err);
		close(sv[0]); /* a feeder still sending sees EPIPE and only hashes on */
		pthread_join(t, NULL);
	}
	{
		struct ng_err derr;
		int drc = check_digest(src, l, &f, &derr);
		if (drc) { /* a tampered blob explains any hashing failure */
			*err = derr;
			rc = drc;
			goto out;
		}
	}
	if (rc)
		goto out;
	hex_encode(res.diff_id, SHA256_LEN, hex);
	if (strcmp(hex, l->diff_id + 7)) {
		rc = ng_errf(err, NG_EVERIFY,
			     "layer %s: uncompressed content hashes to sha256:%s but the config "
			     "lists diff_id %s: the image is inconsistent or tampered",
			     id, hex, l->diff_id);
		goto out;
	}
	memcpy(l->root, res.root, 32);
	if (o->cache && o->cache->dir)
		layer_cache_put(o->cache, l->diff_id, l->digest, l->root);
out:
	oci_member_close(&m);
	return rc;
}

struct pool {
	const struct oci_src *src;
	struct oci_image *img;
	const struct oci_hash_opts *o;
	atomic_size_t next;
	atomic_int failed;
	atomic_int running;
	_Atomic uint64_t progress;
	int *rc;
	struct ng_err *errs;
};

static void *worker(void *arg)
{
	struct pool *p = arg;

	for (;;) {
		size_t i = atomic_fetch_add(&p->next, 1);
		if (i >= p->img->nlayers || atomic_load(&p->failed))
			break;
		p->rc[i] = hash_layer(p->src, &p->img->layers[i], p->o, &p->progress, &p->errs[i]);
		if (p->rc[i])
			atomic_store(&p->failed, 1);
	}
	atomic_fetch_sub(&p->running, 1);
	return NULL;
}

int oci_layers_hash(const struct oci_src *src, struct oci_image *img, const struct oci_hash_opts *o,
		    struct ng_err *err)
{
	struct pool p;
	pthread_t th[OCI_MAX_JOBS];
	int jobs = o->jobs < 1 ? 1 : o->jobs > OCI_MAX_JOBS ? OCI_MAX_JOBS : o->jobs, started = 0;
	uint64_t total = 0;
	int rc = 0;

	if (!img->nlayers)
		return 0;
	if ((size_t)jobs > img->nlayers)
		jobs = (int)img->nlayers;
	memset(&p, 0, sizeof(p));
	p.src = src;
	p.img = img;
	p.o = o;
	p.rc = calloc(img->nlayers, sizeof(*p.rc));
	p.errs = calloc(img->nlayers, sizeof(*p.errs));
	if (!p.rc || !p.errs) {
		free(p.rc);
		free(p.errs);
		return ng_errf(err, NG_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < img->nlayers; i++)
		total += img->layers[i].size;
	progress_begin("verifying and hashing layers", total);
	atomic_store(&p.running, jobs);
	for (int i = 0; i < jobs; i++) {
		if (pthread_create(&th[i], NULL, worker, &p)) {
			atomic_fetch_sub(&p.running, jobs - i);
			break;
		}
		started++;
	}
	if (!started)
		worker(&p); /* no threads available: do the work here */
	while (progress_enabled() && atomic_load(&p.running) > 0) {
		usleep(100000);
		progress_update(atomic_load(&p.progress));
	}
	for (int i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	progress_end();
	for (size_t i = 0; i < img->nlayers && !rc; i++)
		if (p.rc[i]) {
			rc = p.rc[i];
			*err = p.errs[i];
		}
	if (!rc && atomic_load(&p.failed))
		rc = ng_errf(err, NG_EINTERNAL, "layer hashing stopped without an error");
	free(p.rc);
	free(p.errs);
	return rc;
}
