/* The writing half of bundle.h: bundle_create, bundle_write_raw,
 * bundle_cosign. Layout and order: SPEC.md §3.1. */
#include "bundle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "codec.h"
#include "digest.h"
#include "fileio.h"
#include "jsonw.h"
#include "tarw.h"

int bundle_sig_encode(const struct bundle_sig *s, struct buf *out, struct ng_err *err)
{
	cJSON *o = cJSON_CreateObject();
	char *pub = base64_encode(s->pub, SIGKEY_PUB_LEN),
	     *sig = base64_encode(s->sig, SIGKEY_SIG_LEN);
	int rc;

	if (!o || !pub || !sig || !cJSON_AddStringToObject(o, "algorithm", "ed25519") ||
	    !cJSON_AddStringToObject(o, "keyid", s->keyid) ||
	    !cJSON_AddStringToObject(o, "public_key", pub) ||
	    !cJSON_AddStringToObject(o, "signature", sig))
		rc = ng_errf(err, NG_ENOMEM, "out of memory");
	else
		rc = jsonw_print(o, &JSONW_COMPACT_SORTED, out, err);
	if (!rc && buf_append(out, "\n", 1))
		rc = ng_errf(err, NG_ENOMEM, "out of memory");
	cJSON_Delete(o);
	free(pub);
	free(sig);
	return rc;
}

static int cmp_input(const void *a, const void *b)
{
	return strcmp(((const struct bundle_input *)a)->name,
		      ((const struct bundle_input *)b)->name);
}

static int cmp_sig(const void *a, const void *b)
{
	return strcmp(((const struct bundle_sig *)a)->keyid, ((const struct bundle_sig *)b)->keyid);
}

/* Sorted, validated copies of the inputs with their scans. */
static int prepare(const struct bundle_input *in, size_t n, struct bundle_input **sorted,
		   struct tarw_scan **scans, struct ng_err *err)
{
	struct bundle_input *s = calloc(n ? n : 1, sizeof(*s));
	struct tarw_scan *sc = calloc(n ? n : 1, sizeof(*sc));
	int rc = 0;

	if (!s || !sc) {
		free(s);
		free(sc);
		return ng_errf(err, NG_ENOMEM, "out of memory");
	}
	if (n > MANIFEST_MAX_MEMBERS) {
		rc = ng_errf(err, NG_ELIMIT, "more than %d bundle members", MANIFEST_MAX_MEMBERS);
		goto done;
	}
	memcpy(s, in, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_input);
	for (size_t i = 0; i < n && !rc; i++) {
		if (!manifest_payload_name_valid(s[i].name))
			rc = ng_errf(err, NG_EINVAL,
				     "bundle member name '%.100s' is not allowed (lowercase first, "
				     "[A-Za-z0-9._-], at most 80 bytes)",
				     s[i].name);
		else if (i && !strcmp(s[i - 1].name, s[i].name))
			rc = ng_errf(err, NG_EINVAL, "bundle member '%s' given twice", s[i].name);
		else if (s[i].path)
			rc = tarw_scan_file(s[i].path, s[i].sparse, &sc[i], err);
		else {
			s[i].sparse = 0;
			sc[i].size = s[i].len;
			sha256(s[i].data, s[i].len, sc[i].sha256);
			memcpy(sc[i].data_sha256, sc[i].sha256, 32);
		}
	}
done:
	if (rc) {
		for (size_t i = 0; i < n; i++)
			tarw_scan_clear(&sc[i]);
		free(s);
		free(sc);
		return rc;
	}
	*sorted = s;
	*scans = sc;
	return 0;
}

static void release(struct bundle_input *s, struct tarw_scan *sc, size_t n)
{
	for (size_t i = 0; sc && i < n; i++)
		tarw_scan_clear(&sc[i]);
	free(s);
	free(sc);
}

static int write_members(const char *out, const uint8_t *manifest, size_t mlen,
			 const struct bundle_sig *sigs, size_t nsigs, const struct bundle_input *in,
			 const struct tarw_scan *sc, size_t n, struct ng_err *err)
{
	struct bundle_sig *ss = calloc(nsigs ? nsigs : 1, sizeof(*ss));
	struct safefile sf = {0};
	struct tarw *w = NULL;
	struct buf sb;
	int rc;

	buf_init(&sb, 0);
	if (!ss)
		return ng_errf(err, NG_ENOMEM, "out of memory");
	memcpy(ss, sigs, nsigs * sizeof(*ss));
	qsort(ss, nsigs, sizeof(*ss), cmp_sig);
	sf.fd = -1;
	if ((rc = safefile_open(&sf, out, 0644, err)) || (rc = tarw_new(sf.fd, &w, err)))
		goto done;
	rc = tarw_add_bytes(w, MANIFEST_NAME, manifest, mlen, err);
	for (size_t i = 0; !rc && i < nsigs; i++) {
		char name[TAR_NAME_MAX + 1];
		if (i && !strcmp(ss[i - 1].keyid, ss[i].keyid))
			continue;
		snprintf(name, sizeof(name), "%s%s.sig", BUNDLE_SIG_DIR, ss[i].keyid);
		sb.len = 0;
		rc = bundle_sig_encode(&ss[i], &sb, err);
		if (!rc)
			rc = tarw_add_bytes(w, name, sb.data, sb.len, err);
	}
	for (size_t i = 0; !rc && i < n; i++) {
		if (in[i].path)
			rc = tarw_add_file(w, in[i].name, in[i].path, &sc[i], in[i].sparse, err);
		else
			rc = tarw_add_bytes(w, in[i].name, in[i].data, in[i].len, err);
	}
	if (!rc)
		rc = tarw_finish(w, err);
	if (!rc)
		rc = safefile_commit(&sf, err);
done:
	if (rc)
		safefile_abort(&sf);
	tarw_free(w);
	buf_free(&sb);
	free(ss);
	return rc;
}

int bundle_write_raw(const char *out, const uint8_t *manifest, size_t mlen,
		     const struct bundle_sig *sigs, size_t nsigs, const struct bundle_input *in,
		     size_t n, struct ng_err *err)
{
	struct bundle_input *s = NULL;
	struct tarw_scan *sc = NULL;
	struct manifest *m = NULL;
	int rc;

	if ((rc = manifest_parse(manifest, mlen, &m, err)))
		return rc;
	if ((rc = prepare(in, n, &s, &sc, err)))
		goto done;
	if (m->nmembers != n) {
		rc = ng_errf(err, NG_EINVAL, "the manifest lists %zu members, %zu given",
			     m->nmembers, n);
		goto done;
	}
	for (size_t i = 0; i < n && !rc; i++)
		if (strcmp(m->members[i].name, s[i].name) || m->members[i].size != sc[i].size ||
		    memcmp(m->members[i].sha256, sc[i].sha256, 32))
			rc = ng_errf(err, NG_EVERIFY, "member '%s' does not match the manifest",
				     s[i].name);
	if (!rc)
		rc = write_members(out, manifest, mlen, sigs, nsigs, s, sc, n, err);
done:
	release(s, sc, n);
	manifest_free(m);
	return rc;
}

static int sign_with(EVP_PKEY *k, const struct buf *mb, struct bundle_sig *s, struct ng_err *err)
{
	int rc = sigkey_public_raw(k, s->pub, err);

	if (!rc)
		rc = sigkey_sign(k, mb->data, mb->len, s->sig, err);
	sigkey_id(s->pub, s->keyid);
	return rc;
}

int bundle_create(const char *out, const cJSON *fields, const struct bundle_input *in, size_t n,
		  EVP_PKEY *const *keys, size_t nkeys, struct ng_err *err)
{
	struct bundle_input *s = NULL;
	struct tarw_scan *sc = NULL;
	struct bundle_sig *sigs = calloc(nkeys ? nkeys : 1, sizeof(*sigs));
	cJSON *doc = cJSON_Duplicate(fields, 1), *arr;
	struct manifest *check = NULL;
	char gen[64];
	struct buf mb;
	int rc;

	buf_init(&mb, MANIFEST_MAX_BYTES);
	if (!doc || !sigs || !cJSON_IsObject(doc)) {
		rc = ng_errf(err, NG_EINVAL, "manifest fields must be a JSON object");
		goto done;
	}
	if ((rc = prepare(in, n, &s, &sc, err)))
		goto done;
	snprintf(gen, sizeof(gen), "nutgen %s", cli_version);
	cJSON_DeleteItemFromObjectCaseSensitive(doc, "members");
	cJSON_DeleteItemFromObjectCaseSensitive(doc, "format");
	cJSON_DeleteItemFromObjectCaseSensitive(doc, "format_version");
	if (!cJSON_GetObjectItemCaseSensitive(doc, "generator"))
		cJSON_AddStringToObject(doc, "generator", gen);
	cJSON_AddStringToObject(doc, "format", MANIFEST_FORMAT);
	cJSON_AddNumberToObject(doc, "format_version", MANIFEST_VERSION);
	arr = cJSON_AddArrayToObject(doc, "members");
	for (size_t i = 0; arr && i < n; i++) {
		cJSON *e = cJSON_CreateObject();
		char hex[65];
		hex_encode(sc[i].sha256, 32, hex);
		cJSON_AddItemToArray(arr, e);
		cJSON_AddStringToObject(e, "name", s[i].name);
		cJSON_AddStringToObject(e, "sha256", hex);
		cJSON_AddNumberToObject(e, "size", (double)sc[i].size);
	}
	if ((rc = manifest_serialize(doc, &mb, err)))
		goto done;
	/* Never write what a reader would refuse. */
	if ((rc = manifest_parse(mb.data, mb.len, &check, err)))
		goto done;
	for (size_t i = 0; i < nkeys && !rc; i++)
		rc = sign_with(keys[i], &mb, &sigs[i], err);
	if (!rc)
		rc = write_members(out, mb.data, mb.len, sigs, nkeys, s, sc, n, err);
done:
	release(s, sc, n);
	manifest_free(check);
	cJSON_Delete(doc);
	buf_free(&mb);
	free(sigs);
	return rc;
}

int bundle_cosign(const char *path, EVP_PKEY *key, const struct bundle_read_opts *o,
		  struct ng_err *err)
{
	struct bundle_read_opts ro = *o;
	struct bundle *b = NULL;
	struct bundle_input *in = NULL;
	struct bundle_sig sigs[BUNDLE_MAX_SIGS + 1];
	char *dir = NULL, **paths = NULL;
	size_t nsigs;
	int rc;

	if ((rc = make_private_tmpdir("nutgen-sign", &dir, err)))
		return rc;
	ro.extract_dir = dir;
	if ((rc = bundle_open(path, &ro, &b, err)))
		goto done;
	memcpy(sigs, b->sigs, b->nsigs * sizeof(sigs[0]));
	nsigs = b->nsigs;
	if ((rc = sign_with(key, &(struct buf){.data = b->manifest_bytes, .len = b->manifest_len},
			    &sigs[nsigs], err)))
		goto done;
	for (size_t i = 0; i < nsigs; i++)
		if (!strcmp(sigs[i].keyid, sigs[nsigs].keyid)) {
			rc = 1;
			goto done;
		}
	if (nsigs == BUNDLE_MAX_SIGS) {
		rc = ng_errf(err, NG_ELIMIT, "%s already has %d signatures", path, BUNDLE_MAX_SIGS);
		goto done;
	}
	in = calloc(b->nmembers ? b->nmembers : 1, sizeof(*in));
	paths = calloc(b->nmembers ? b->nmembers : 1, sizeof(*paths));
	if (!in || !paths) {
		rc = ng_errf(err, NG_ENOMEM, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < b->nmembers; i++) {
		if (asprintf(&paths[i], "%s/%s", dir, b->members[i].name) < 0) {
			paths[i] = NULL;
			rc = ng_errf(err, NG_ENOMEM, "out of memory");
			goto done;
		}
		in[i].name = b->members[i].name;
		in[i].path = paths[i];
		in[i].sparse = b->members[i].sparse;
	}
	rc = bundle_write_raw(path, b->manifest_bytes, b->manifest_len, sigs, nsigs + 1, in,
			      b->nmembers, err);
done:
	for (size_t i = 0; paths && b && i < b->nmembers; i++)
		free(paths[i]);
	free(paths);
	free(in);
	bundle_free(b);
	remove_tree(dir);
	cleanup_unregister(dir);
	free(dir);
	return rc;
}
