/* The reading half of bundle.h: the verification algorithm of SPEC.md §6. */
#include "bundle.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "codec.h"
#include "digest.h"
#include "fileio.h"
#include "progress.h"

#define CHUNK (256 * 1024)

static const uint8_t zeros[CHUNK];

void bundle_free(struct bundle *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->nmembers; i++)
		free(b->members[i].data);
	free(b->members);
	manifest_free(b->m);
	free(b->manifest_bytes);
	free(b);
}

const struct bundle_member *bundle_member_get(const struct bundle *b, const char *name)
{
	for (size_t i = 0; i < b->nmembers; i++)
		if (!strcmp(b->members[i].name, name))
			return &b->members[i];
	return NULL;
}

static int read_small(struct tarr *r, const struct tarr_entry *e, size_t max, uint8_t **out,
		      const char *label, struct ng_err *err)
{
	uint8_t *p;
	size_t got, len = 0;
	int rc;

	if (e->sparse || e->size > max)
		return ng_errf(err, NG_ELIMIT, "%s: member '%s' of %" PRIu64 " bytes (limit %zu)",
			       label, e->name, e->size, max);
	p = malloc((size_t)e->size + 1);
	if (!p)
		return ng_errf(err, NG_ENOMEM, "out of memory");
	while (!(rc = tarr_read(r, p + len, (size_t)e->size - len, &got, err)) && got)
		len += got;
	if (rc) {
		free(p);
		return rc;
	}
	p[len] = 0;
	*out = p;
	return 0;
}

static int parse_sig(const char *label, const struct tarr_entry *e, const uint8_t *p,
		     struct bundle_sig *s, struct ng_err *err)
{
	cJSON *o = cJSON_ParseWithLength((const char *)p, (size_t)e->size);
	const cJSON *alg = cJSON_GetObjectItemCaseSensitive(o, "algorithm"),
		    *kid = cJSON_GetObjectItemCaseSensitive(o, "keyid"),
		    *pub = cJSON_GetObjectItemCaseSensitive(o, "public_key"),
		    *sig = cJSON_GetObjectItemCaseSensitive(o, "signature");
	uint8_t *pb = NULL, *sb = NULL;
	size_t pl = 0, sl = 0;
	char name[TAR_NAME_MAX + 1];
	struct buf again;
	int rc = 0;

	buf_init(&again, 0);
	if (!cJSON_IsObject(o) || cJSON_GetArraySize(o) != 4 || !cJSON_IsString(alg) ||
	    strcmp(alg->valuestring, "ed25519") || !cJSON_IsString(kid) || !cJSON_IsString(pub) ||
	    !cJSON_IsString(sig) ||
	    base64_decode(pub->valuestring, strlen(pub->valuestring), &pb, &pl, NULL) ||
	    base64_decode(sig->valuestring, strlen(sig->valuestring), &sb, &sl, NULL) ||
	    pl != SIGKEY_PUB_LEN || sl != SIGKEY_SIG_LEN) {
		rc =
		    ng_errf(err, NG_EINVAL, "%s: %s is not an Ed25519 signature record (SPEC §4.2)",
			    label, e->name);
		goto done;
	}
	memcpy(s->pub, pb, SIGKEY_PUB_LEN);
	memcpy(s->sig, sb, SIGKEY_SIG_LEN);
	sigkey_id(s->pub, s->keyid);
	snprintf(name, sizeof(name), "%s%s.sig", BUNDLE_SIG_DIR, s->keyid);
	if (strcmp(kid->valuestring, s->keyid) || strcmp(name, e->name)) {
		rc = ng_errf(err, NG_EINVAL, "%s: %s: key id does not match its public key", label,
			     e->name);
		goto done;
	}
	if (bundle_sig_encode(s, &again, err) || again.len != e->size ||
	    memcmp(again.data, p, again.len))
		rc = ng_errf(err, NG_EINVAL, "%s: %s is not in canonical form (SPEC §4.2)", label,
			     e->name);
done:
	buf_free(&again);
	cJSON_Delete(o);
	free(pb);
	free(sb);
	return rc;
}

static int key_trusted(const struct bundle_read_opts *o, const uint8_t pub[SIGKEY_PUB_LEN])
{
	for (size_t i = 0; i < o->ntrusted; i++)
		if (!memcmp(o->trusted[i], pub, SIGKEY_PUB_LEN))
			return 1;
	return 0;
}

/* Everything decided by the manifest and signatures, before any payload. */
static int check_signed(const char *label, struct bundle *b, const struct bundle_read_opts *o,
			struct ng_err *err)
{
	int64_t now = o->now ? o->now : (int64_t)time(NULL);
	size_t ndistinct = 0;

	for (size_t i = 0; i < o->ntrusted; i++) {
		size_t j = 0;
		while (j < i && memcmp(o->trusted[j], o->trusted[i], SIGKEY_PUB_LEN))
			j++;
		ndistinct += j == i;
	}
	if (b->trusted_signers < o->threshold) {
		char ids[200] = "";
		for (size_t i = 0; i < b->nsigs && strlen(ids) < 150; i++)
			snprintf(ids + strlen(ids), sizeof(ids) - strlen(ids), "%s%.16s",
				 i ? ", " : "", b->sigs[i].keyid);
		return ng_errf(err, NG_EVERIFY,
			       "%s: %u trusted signature(s), %u required (signed by: %s; %zu "
			       "trusted key(s) given)",
			       label, b->trusted_signers, o->threshold, b->nsigs ? ids : "nobody",
			       ndistinct);
	}
	if (b->m->expires && now >= b->m->expires && !o->allow_expired) {
		char t[21];
		manifest_time_format(b->m->expires, t);
		return ng_errf(err, NG_EVERIFY, "%s: expired at %s; build and sign a new bundle",
			       label, t);
	}
	if (o->min_serial && b->m->serial < o->min_serial)
		return ng_errf(err, NG_EVERIFY,
			       "%s: serial %" PRIu64 " is older than %" PRIu64
			       " already applied (rollback refused)",
			       label, b->m->serial, o->min_serial);
	return 0;
}

/* Hashes one payload member's content (holes as zeros) and its stored data;
 * writes it at out_fd when >= 0; keeps a copy when keep. */
static int consume(struct tarr *r, const struct tarr_entry *e, int out_fd, int keep,
		   uint8_t content[32], uint8_t stored[32], uint8_t **copy, struct ng_err *err)
{
	struct sha256_ctx *c = sha256_new(), *d = sha256_new();
	uint8_t *b = malloc(CHUNK);
	struct tar_span whole = {0, e->size};
	const struct tar_span *map = e->sparse ? e->map : &whole;
	size_t nmap = e->sparse ? e->nmap : 1;
	uint64_t pos = 0;
	int rc = 0;

	if (keep && !(*copy = malloc((size_t)e->size + 1)))
		rc = ng_errf(err, NG_ENOMEM, "out of memory");
	if (!c || !d || !b)
		rc = ng_errf(err, NG_ENOMEM, "out of memory");
	if (!rc && out_fd >= 0 && ftruncate(out_fd, (off_t)e->size))
		rc = ng_errf(err, NG_EIO, "%s: cannot size the extracted file: %s", e->name,
			     strerror(errno));
	for (size_t i = 0; !rc && i < nmap; i++) {
		uint64_t off = map[i].off, left = map[i].len;
		for (uint64_t z = map[i].off - pos; z;) { /* the hole before this span */
			size_t k = z > CHUNK ? CHUNK : (size_t)z;
			sha256_update(c, zeros, k);
			z -= k;
		}
		if (keep)
			memset(*copy + pos, 0, (size_t)(map[i].off - pos));
		while (!rc && left) {
			size_t got;
			rc = tarr_read(r, b, left > CHUNK ? CHUNK : (size_t)left, &got, err);
			if (rc)
				break;
			if (!got) {
				rc = ng_errf(err, NG_EINTERNAL, "%s: short member data", e->name);
				break;
			}
			sha256_update(c, b, got);
			sha256_update(d, b, got);
			if (keep)
				memcpy(*copy + off, b, got);
			if (out_fd >= 0 && pwrite(out_fd, b, got, (off_t)off) != (ssize_t)got)
				rc = ng_errf(err, NG_EIO, "%s: write failed: %s", e->name,
					     strerror(errno));
			off += got;
			left -= got;
		}
		pos = map[i].off + map[i].len;
		progress_update(pos);
	}
	if (!rc) {
		for (uint64_t z = e->size - pos; z;) {
			size_t k = z > CHUNK ? CHUNK : (size_t)z;
			sha256_update(c, zeros, k);
			z -= k;
		}
		if (keep) {
			memset(*copy + pos, 0, (size_t)(e->size - pos));
			(*copy)[e->size] = 0;
		}
		sha256_final(c, content);
		sha256_final(d, stored);
	}
	if (rc && keep) {
		free(*copy);
		*copy = NULL;
	}
	sha256_free(c);
	sha256_free(d);
	free(b);
	return rc;
}

/* Pass 1: check everything, write nothing. stored_sha receives each
 * member's stored-data digest for pass 2. */
static int pass_verify(int fd, const char *label, const struct bundle_read_opts *o,
		       struct bundle *b, uint8_t (*stored_sha)[32], struct ng_err *err)
{
	struct tarr *r = NULL;
	const struct tarr_entry *e;
	size_t keep = o->keep_small ? o->keep_small : 1024 * 1024, next = 0;
	int rc, signed_checked = 0;

	if ((rc = tarr_new(fd, label, o->limits, &r, err)))
		return rc;
	rc = tarr_next(r, &e, err);
	if (rc == 0)
		rc = ng_errf(err, NG_EINVAL, "%s: empty archive", label);
	if (rc < 0)
		goto done;
	if (strcmp(e->name, MANIFEST_NAME)) {
		rc = ng_errf(err, NG_EINVAL, "%s: first member is '%s', not %s (SPEC §3.1)", label,
			     e->name, MANIFEST_NAME);
		goto done;
	}
	if ((rc = read_small(r, e, MANIFEST_MAX_BYTES, &b->manifest_bytes, label, err)))
		goto done;
	b->manifest_len = (size_t)e->size;
	if ((rc = manifest_parse(b->manifest_bytes, b->manifest_len, &b->m, err))) {
		ng_err_prefix(err, rc, "%s", label);
		goto done;
	}
	b->members = calloc(b->m->nmembers ? b->m->nmembers : 1, sizeof(*b->members));
	if (!b->members) {
		rc = ng_errf(err, NG_ENOMEM, "out of memory");
		goto done;
	}
	b->nmembers = b->m->nmembers;
	for (size_t i = 0; i < b->nmembers; i++) {
		snprintf(b->members[i].name, sizeof(b->members[i].name), "%s",
			 b->m->members[i].name);
		b->members[i].size = b->m->members[i].size;
		memcpy(b->members[i].sha256, b->m->members[i].sha256, 32);
	}
	while ((rc = tarr_next(r, &e, err)) == 1) {
		uint8_t content[32];
		struct bundle_member *bm;
		if (!strncmp(e->name, BUNDLE_SIG_DIR, strlen(BUNDLE_SIG_DIR))) {
			struct bundle_sig *s = &b->sigs[b->nsigs];
			uint8_t *p = NULL;
			if (signed_checked) {
				rc = ng_errf(err, NG_EINVAL,
					     "%s: %s comes after the payload (SPEC §3.1)", label,
					     e->name);
				break;
			}
			if (b->nsigs == BUNDLE_MAX_SIGS) {
				rc = ng_errf(err, NG_ELIMIT, "%s: more than %d signatures", label,
					     BUNDLE_MAX_SIGS);
				break;
			}
			if ((rc = read_small(r, e, BUNDLE_SIG_MAX_BYTES, &p, label, err)))
				break;
			rc = parse_sig(label, e, p, s, err);
			free(p);
			if (rc)
				break;
			if (b->nsigs && strcmp(b->sigs[b->nsigs - 1].keyid, s->keyid) >= 0) {
				rc =
				    ng_errf(err, NG_EINVAL,
					    "%s: signatures are duplicated or out of order", label);
				break;
			}
			if (!sigkey_verify(s->pub, b->manifest_bytes, b->manifest_len, s->sig)) {
				rc = ng_errf(err, NG_EVERIFY,
					     "%s: the signature by key %s does not verify: the "
					     "manifest or signature was altered",
					     label, s->keyid);
				break;
			}
			s->trusted = key_trusted(o, s->pub);
			b->trusted_signers += (unsigned)s->trusted;
			b->nsigs++;
			continue;
		}
		if (!signed_checked) {
			if ((rc = check_signed(label, b, o, err)))
				break;
			signed_checked = 1;
		}
		if (next >= b->nmembers || strcmp(e->name, b->members[next].name)) {
			const char *want = next < b->nmembers ? b->members[next].name : NULL;
			if (want && strcmp(e->name, want) > 0)
				rc = ng_errf(err, NG_EVERIFY,
					     "%s: member '%s' listed in the manifest is missing",
					     label, want);
			else
				rc = ng_errf(
				    err, NG_EVERIFY,
				    "%s: member '%s' is not in the manifest (or out of order)",
				    label, e->name);
			break;
		}
		bm = &b->members[next];
		if (e->size != bm->size) {
			rc = ng_errf(err, NG_EVERIFY,
				     "%s: member '%s' is %" PRIu64
				     " bytes, the manifest says %" PRIu64,
				     label, e->name, e->size, bm->size);
			break;
		}
		bm->sparse = e->sparse;
		bm->nmap = e->nmap;
		bm->stored = e->data;
		if (e->size > (1u << 26))
			progress_begin(e->name, e->size);
		rc = consume(r, e, -1, e->size <= keep, content, stored_sha[next], &bm->data, err);
		if (e->size > (1u << 26))
			progress_end();
		if (rc)
			break;
		if (memcmp(content, bm->sha256, 32)) {
			rc = ng_errf(err, NG_EVERIFY,
				     "%s: member '%s' does not match its SHA-256 in the manifest",
				     label, e->name);
			break;
		}
		next++;
	}
	if (rc == 0 && !signed_checked)
		rc = check_signed(label, b, o, err);
	if (rc == 0 && next < b->nmembers)
		rc = ng_errf(err, NG_EVERIFY, "%s: member '%s' listed in the manifest is missing",
			     label, b->members[next].name);
done:
	tarr_free(r);
	return rc < 0 ? rc : 0;
}

/* Pass 2: the same stream again, payload and manifest written under dir. */
static int pass_extract(int fd, const char *label, const struct bundle_read_opts *o,
			struct bundle *b, uint8_t (*stored_sha)[32], struct ng_err *err)
{
	struct tarr *r = NULL;
	const struct tarr_entry *e;
	size_t next = 0;
	uint8_t mdigest[32];
	int rc = 0, dfd = open(o->extract_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	sha256(b->manifest_bytes, b->manifest_len, mdigest);
	if (dfd < 0)
		return ng_errf(err, NG_EIO, "%s: cannot open the extraction directory: %s",
			       o->extract_dir, strerror(errno));
	if (lseek(fd, 0, SEEK_SET) || (rc = tarr_new(fd, label, o->limits, &r, err))) {
		close(dfd);
		return rc ? rc : ng_errf(err, NG_EIO, "%s: cannot rewind", label);
	}
	while ((rc = tarr_next(r, &e, err)) == 1) {
		uint8_t content[32], stored[32];
		int is_manifest = !strcmp(e->name, MANIFEST_NAME), ofd;
		if (!is_manifest && !manifest_payload_name_valid(e->name))
			continue; /* signatures stay in memory */
		if (!is_manifest &&
		    (next >= b->nmembers || strcmp(e->name, b->members[next].name))) {
			rc = ng_errf(err, NG_EVERIFY, "%s: changed while being read", label);
			break;
		}
		ofd = openat(dfd, e->name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			     0600);
		if (ofd < 0) {
			rc = ng_errf(err, NG_EIO, "%s/%s: cannot create: %s", o->extract_dir,
				     e->name, strerror(errno));
			break;
		}
		rc = consume(r, e, ofd, 0, content, stored, NULL, err);
		if (close(ofd) && !rc)
			rc = ng_errf(err, NG_EIO, "%s: write failed", e->name);
		if (rc)
			break;
		if (is_manifest ? memcmp(content, mdigest, 32)
				: memcmp(stored, stored_sha[next], 32)) {
			rc = ng_errf(err, NG_EVERIFY, "%s: changed while being read", label);
			break;
		}
		if (!is_manifest)
			next++;
	}
	if (rc == 0 && next != b->nmembers)
		rc = ng_errf(err, NG_EVERIFY, "%s: changed while being read", label);
	tarr_free(r);
	close(dfd);
	return rc < 0 ? rc : 0;
}

static int file_digest(int fd, struct bundle *b, const char *label, struct ng_err *err)
{
	struct sha256_ctx *c = sha256_new();
	uint8_t *buf = malloc(CHUNK);
	int rc = 0;

	while (c && buf) {
		ssize_t n = read(fd, buf, CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = ng_errf(err, NG_EIO, "%s: read failed: %s", label, strerror(errno));
			break;
		}
		if (n == 0)
			break;
		sha256_update(c, buf, (size_t)n);
		b->file_size += (uint64_t)n;
	}
	if (!c || !buf)
		rc = ng_errf(err, NG_ENOMEM, "out of memory");
	if (!rc)
		sha256_final(c, b->file_sha256);
	sha256_free(c);
	free(buf);
	if (!rc && lseek(fd, 0, SEEK_SET))
		rc = ng_errf(err, NG_EIO, "%s: cannot rewind", label);
	return rc;
}

int bundle_open(const char *path, const struct bundle_read_opts *o, struct bundle **out,
		struct ng_err *err)
{
	struct bundle *b = calloc(1, sizeof(*b));
	uint8_t(*stored_sha)[32] = calloc(MANIFEST_MAX_MEMBERS, 32);
	struct stat st;
	int rc = 0, fd = open_regular(path, &st, err);

	*out = NULL;
	if (fd < 0) {
		rc = fd;
		goto done;
	}
	if (!b || !stored_sha) {
		rc = ng_errf(err, NG_ENOMEM, "out of memory");
		goto done;
	}
	if ((rc = file_digest(fd, b, path, err)) ||
	    (rc = pass_verify(fd, path, o, b, stored_sha, err)))
		goto done;
	if (o->extract_dir && (rc = pass_extract(fd, path, o, b, stored_sha, err))) {
		/* Nothing half-extracted survives: the caller's directory is emptied. */
		int dfd = open(o->extract_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (dfd >= 0) {
			unlinkat(dfd, MANIFEST_NAME, 0);
			for (size_t i = 0; i < b->nmembers; i++)
				unlinkat(dfd, b->members[i].name, 0);
			close(dfd);
		}
	}
done:
	if (fd >= 0)
		close(fd);
	free(stored_sha);
	if (rc)
		bundle_free(b);
	else
		*out = b;
	return rc;
}
