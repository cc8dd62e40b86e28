/* build.c: see build.h. The steps, in order: load and validate the
 * deployment; image facts (from --image-info or the archives); decide create
 * or reference from the flags and the build state; check the KEK against the
 * fingerprint the operator typed; make the key and encfs.img (create); render;
 * assemble the manifest; sign and write atomically; record the state. */
#include "build.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "../bundle-format/bundle.h"
#include "../bundle-format/digest.h"
#include "../bundle-format/fileio.h"
#include "../bundle-format/jsonw.h"
#include "buildstate.h"
#include "bundle_cli.h"
#include "byok.h"
#include "deployment.h"
#include "encfs.h"
#include "keys.h"
#include "oci.h"
#include "render.h"

int build_kek_fingerprint(const char *pem, char out[65], struct ng_err *err)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	EVP_PKEY *k = b ? PEM_read_bio_PUBKEY(b, NULL, NULL, NULL) : NULL;
	unsigned char *der = NULL;
	int n = k ? i2d_PUBKEY(k, &der) : -1;

	BIO_free(b);
	EVP_PKEY_free(k);
	if (n <= 0)
		return ng_errf(err, NG_EINVAL, "the KEK is not a PEM public key");
	sha256_hex(der, (size_t)n, out);
	OPENSSL_free(der);
	return 0;
}

/* "AB:cd ..." -> "abcd..." so the operator may type it as printed. */
static void normalise_fp(const char *in, char *out, size_t len)
{
	size_t j = 0;

	for (; *in && j + 1 < len; in++)
		if (*in != ':' && *in != ' ')
			out[j++] = (char)(*in >= 'A' && *in <= 'F' ? *in + 32 : *in);
	out[j] = 0;
}

struct ctx {
	const struct build_opts *o;
	struct deployment *d;
	cJSON *facts[RC_COUNT];
	cJSON *infos[16];
	size_t ninfos;
	char *tmpdir;
	struct key *key;
	struct byok_kek *kek;
	char *kek_kid, kek_fp[65];
	char *byok;
	struct render_out r;
	struct buildstate st;
	char identity[1024];
};

static int load_facts(struct ctx *c, struct ng_err *err)
{
	const struct build_opts *o = c->o;
	int rc;

	for (size_t i = 0; i < o->ninfo && i < 16; i++) {
		uint8_t *p;
		size_t n;
		if ((rc = read_file_capped(o->image_info[i], 16 << 20, &p, &n, err)))
			return rc;
		c->infos[c->ninfos] = cJSON_ParseWithLength((char *)p, n);
		free(p);
		if (!cJSON_IsObject(c->infos[c->ninfos]))
			return ng_errf(err, NG_EINVAL, "%s: not an image facts JSON object",
				       o->image_info[i]);
		c->ninfos++;
	}
	for (int k = 0; k < RC_COUNT; k++) {
		const char *ref = deployment_image_ref(c->d, (enum render_container)k);
		const char *arch = deployment_image_archive(c->d, (enum render_container)k);
		struct oci_opts oo = {.reference = ref, .jobs = 2};
		char *path = NULL;
		for (size_t i = 0; i < c->ninfos && !c->facts[k]; i++) {
			const char *img = cJSON_GetStringValue(
			    cJSON_GetObjectItemCaseSensitive(c->infos[i], "image"));
			if (img && !strcmp(img, ref))
				c->facts[k] = cJSON_Duplicate(c->infos[i], 1);
		}
		if (c->facts[k])
			continue;
		if (!arch || !*arch)
			return ng_errf(err, NG_EINVAL,
				       "%s: $.containers.%s: no archive for image %s; set "
				       "$.containers.%s.archive or pass --image-info",
				       o->deployment,
				       deployment_container_key((enum render_container)k), ref,
				       deployment_container_key((enum render_container)k));
		/* Relative archive paths are relative to the deployment file. */
		if (arch[0] != '/' && strrchr(o->deployment, '/')) {
			int dl = (int)(strrchr(o->deployment, '/') - o->deployment);
			if (asprintf(&path, "%.*s/%s", dl, o->deployment, arch) < 0)
				return ng_errf(err, NG_ENOMEM, "out of memory");
		}
		rc = oci_image_facts(path ? path : arch, &oo, &c->facts[k], err);
		free(path);
		if (rc)
			return ng_err_prefix(err, rc, "%s: $.containers.%s", o->deployment,
					     deployment_container_key((enum render_container)k));
	}
	return 0;
}

static int load_kek(struct ctx *c, struct ng_err *err)
{
	const struct build_opts *o = c->o;
	uint8_t *p = NULL;
	size_t n;
	cJSON *t = NULL;
	const char *pem, *kid;
	char want[130], pemfile[4200];
	int rc;

	if (!o->target)
		return 0;
	if (!o->kek_fingerprint)
		return ng_errf(
		    err, NG_EUSAGE,
		    "--target needs --kek-fingerprint (as `nutapply infra up` printed it)");
	if ((rc = read_file_capped(o->target, 1 << 20, &p, &n, err)))
		return rc;
	t = cJSON_ParseWithLength((char *)p, n);
	free(p);
	pem = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(t, "kek"), "public_key_pem"));
	kid = cJSON_GetStringValue(
	    cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(t, "kek"), "kid"));
	if (!pem || !kid) {
		cJSON_Delete(t);
		return ng_errf(err, NG_EINVAL, "%s: needs $.kek.kid and $.kek.public_key_pem",
			       o->target);
	}
	if ((rc = build_kek_fingerprint(pem, c->kek_fp, err))) {
		cJSON_Delete(t);
		return ng_err_prefix(err, rc, "%s", o->target);
	}
	normalise_fp(o->kek_fingerprint, want, sizeof(want));
	if (strcmp(want, c->kek_fp)) {
		cJSON_Delete(t);
		return ng_errf(
		    err, NG_EVERIFY,
		    "%s: the KEK's fingerprint is %s, not the %s you gave: the key-exchange "
		    "key may have been substituted; compare with what `nutapply infra up` "
		    "printed on a second channel",
		    o->target, c->kek_fp, want);
	}
	c->kek_kid = strdup(kid);
	snprintf(pemfile, sizeof(pemfile), "%s/kek.pem", c->tmpdir);
	rc = write_file_atomic(pemfile, pem, strlen(pem), 0600, err);
	cJSON_Delete(t);
	if (!rc)
		rc = byok_kek_load(pemfile, &c->kek, err);
	return rc;
}

/* create or reference (SPEC §5.3), from the flags, the deployment and state. */
static int decide(struct ctx *c, int *create, const char **salt, const char **label,
		  struct ng_err *err)
{
	const char *ev = deployment_str(c->d, "encfs.existing_volume.salt_hex");
	const cJSON *v = c->st.volume;

	*salt = *label = NULL;
	if (c->o->new_volume && c->o->existing_volume)
		return ng_errf(err, NG_EUSAGE,
			       "--new-volume and --existing-volume exclude each other");
	if (c->o->new_volume) {
		*create = 1;
		return 0;
	}
	if (c->o->existing_volume || *ev) {
		*create = 0;
		if (!*ev && v) { /* the salt this machine generated for the volume */
			*salt =
			    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(v, "salt_hex"));
			*label = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(v, "label"));
		}
		return 0;
	}
	if (v)
		return ng_errf(
		    err, NG_EEXIST,
		    "%s: this target already has a volume (created by the bundle with "
		    "serial %.0f); build with --existing-volume to keep the mint's data, "
		    "or --new-volume to replace it (the old volume's data is lost)",
		    c->o->deployment,
		    cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(v, "serial")));
	*create = 1;
	return 0;
}

static uid_t mint_owner(const cJSON *facts, gid_t *gid)
{
	const char *u = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(facts, "config"), "User"));
	unsigned long a = 0, b = 0;
	char *e;

	*gid = 0;
	if (!u || !*u)
		return 0;
	a = strtoul(u, &e, 10);
	if (e == u || (*e && *e != ':'))
		return 0; /* a user name: resolved only inside the image; root owns */
	b = *e ? strtoul(e + 1, NULL, 10) : a;
	*gid = (gid_t)b;
	return (uid_t)a;
}

static int make_volume(struct ctx *c, const char *img, struct ng_err *err)
{
	enum key_type kt;
	struct encfs_opts eo = {0};
	const cJSON *sz = deployment_get(c->d, "encfs.size_mib");
	int rc;

	if ((rc = key_type_parse(deployment_str(c->d, "encfs.key_type"), &kt, err)) ||
	    (rc = key_new(kt, NULL, &c->key, err)))
		return rc;
	if (c->kek) {
		if ((rc = byok_wrap_key(c->kek, c->kek_kid, c->key, &c->byok, err)))
			return rc;
	} else if (!c->o->key_out) {
		return ng_errf(err, NG_EUSAGE,
			       "a new volume needs its key wrapped for the vault (--target and "
			       "--kek-fingerprint) or written to a file (--key-out FILE)");
	}
	eo.size = (uint64_t)(cJSON_IsNumber(sz) ? sz->valuedouble : 1024) << 20;
	eo.uid = mint_owner(c->facts[RC_MINT], &eo.gid);
	if (c->o->key_out && access(c->o->key_out, F_OK) == 0)
		return ng_errf(err, NG_EEXIST, "%s exists; not overwriting a key", c->o->key_out);
	return encfs_create(img, c->key, &eo, err);
}

static cJSON *manifest_fields(struct ctx *c, int create, int64_t now, struct ng_err *err)
{
	static const char *const ids[] = {
	    "cloud",	       "subscription",	       "resource_group",
	    "location",	       "container_group",      "key_vault",
	    "storage_account", "attestation_provider", "managed_identity"};
	const struct deployment_endpoints *ep = deployment_endpoints(c->d);
	cJSON *f = cJSON_CreateObject(), *dep, *imgs, *pol, *vol, *key;
	char t[21], path[64];
	int64_t exp = 0;

	manifest_time_format(now, t);
	cJSON_AddStringToObject(f, "created", t);
	cJSON_AddNumberToObject(f, "serial", (double)(c->o->serial ? c->o->serial : (uint64_t)now));
	if (c->o->expires) {
		if (bcli_time(c->o->expires, now, &exp) || exp <= now) {
			cJSON_Delete(f);
			ng_errf(err, NG_EUSAGE, "--expires '%s': a UTC time after now or +Nd/+Nh",
				c->o->expires);
			return NULL;
		}
		manifest_time_format(exp, t);
		cJSON_AddStringToObject(f, "expires", t);
	}
	dep = cJSON_AddObjectToObject(f, "deployment");
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		snprintf(path, sizeof(path), "target.%s", ids[i]);
		cJSON_AddStringToObject(dep, ids[i], deployment_str(c->d, path));
	}
	cJSON_AddStringToObject(dep, "domain", ep->domain ? ep->domain : "");
	cJSON_AddStringToObject(dep, "attestation_endpoint",
				ep->attestation_url ? ep->attestation_url : "");
	imgs = cJSON_AddArrayToObject(f, "images");
	for (int k = 0; k < RC_COUNT; k++) {
		cJSON *e = cJSON_CreateObject();
		const cJSON *fa = c->facts[k];
		const char *md =
		    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(fa, "manifest_digest"));
		cJSON_AddStringToObject(e, "container",
					deployment_container_name(c->d, (enum render_container)k));
		cJSON_AddStringToObject(e, "image",
					deployment_image_ref(c->d, (enum render_container)k));
		cJSON_AddStringToObject(e, "digest", md ? md : "");
		cJSON_AddItemToObject(
		    e, "layers",
		    cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(fa, "layer_roothashes"), 1));
		cJSON_AddItemToArray(imgs, e);
	}
	pol = cJSON_AddObjectToObject(f, "policy");
	cJSON_AddStringToObject(pol, "profile", c->r.profile ? c->r.profile : "");
	cJSON_AddStringToObject(pol, "hostdata", c->r.hostdata);
	cJSON_AddBoolToObject(pol, "debug", deployment_bool(c->d, "debug"));
	vol = cJSON_AddObjectToObject(f, "volume");
	cJSON_AddStringToObject(vol, "action", create ? "create" : "reference");
	cJSON_AddStringToObject(vol, "blob", ep->blob_url ? ep->blob_url : "");
	if (create)
		cJSON_AddNumberToObject(
		    vol, "size",
		    cJSON_GetNumberValue(deployment_get(c->d, "encfs.size_mib")) * 1048576.0);
	key = cJSON_AddObjectToObject(f, "key");
	cJSON_AddStringToObject(key, "action", create ? "create" : "reference");
	cJSON_AddStringToObject(key, "name", deployment_str(c->d, "encfs.key_name"));
	cJSON_AddStringToObject(key, "type", deployment_str(c->d, "encfs.key_type"));
	cJSON_AddStringToObject(key, "vault", ep->key_vault_url ? ep->key_vault_url : "");
	if (create)
		cJSON_AddStringToObject(key, "delivery", c->kek ? "byok" : "key-file");
	if (c->kek) {
		cJSON_AddStringToObject(key, "kek_kid", c->kek_kid);
		cJSON_AddStringToObject(key, "kek_fingerprint", c->kek_fp);
	}
	return f;
}

static int text_member(struct bundle_input *in, size_t *n, const char *name, const char *s)
{
	in[*n] = (struct bundle_input){.name = name, .data = s, .len = s ? strlen(s) : 0};
	(*n)++;
	return s ? 0 : -1;
}

static void ctx_free(struct ctx *c)
{
	for (int k = 0; k < RC_COUNT; k++)
		cJSON_Delete(c->facts[k]);
	for (size_t i = 0; i < c->ninfos; i++)
		cJSON_Delete(c->infos[i]);
	deployment_free(c->d);
	key_free(c->key);
	byok_kek_free(c->kek);
	free(c->kek_kid);
	free(c->byok);
	render_out_free(&c->r);
	buildstate_clear(&c->st);
	if (c->tmpdir) {
		remove_tree(c->tmpdir);
		cleanup_unregister(c->tmpdir);
		free(c->tmpdir);
	}
}

int build_run(const struct build_opts *o, struct build_report *rep, struct ng_err *err)
{
	struct ctx c = {.o = o};
	struct render_in in = {.debug = -1};
	struct bundle_input mem[12];
	EVP_PKEY *keys[8] = {0};
	cJSON *fields = NULL, *side = NULL;
	char *hostdata = NULL, *sidecar = NULL, *depjson = NULL, img[4200];
	const char *salt = NULL, *label = NULL;
	struct buf b;
	size_t n = 0;
	int64_t now;
	int rc, create = 0;

	buf_init(&b, 0);
	memset(rep, 0, sizeof(*rep));
	if (o->nsign == 0 || o->nsign > 8)
		return ng_errf(err, NG_EUSAGE, "give 1 to 8 --sign-key");
	if ((rc = bcli_now(&now, err)) ||
	    (rc = make_private_tmpdir("nutgen-build", &c.tmpdir, err)))
		goto done;
	/* Keys first: a wrong passphrase should not cost a 1 GiB image. */
	for (size_t i = 0; i < o->nsign; i++)
		if ((rc = bcli_load_key(o->sign_keys[i], o->passfd, &keys[i], err)))
			goto done;
	if ((rc = deployment_load(o->deployment, 1, &c.d, err)) || (rc = load_facts(&c, err)))
		goto done;
	snprintf(c.identity, sizeof(c.identity), "%s|%s|%s|%s|%s|%s/%s",
		 deployment_str(c.d, "target.cloud"), deployment_str(c.d, "target.subscription"),
		 deployment_str(c.d, "target.resource_group"),
		 deployment_str(c.d, "target.container_group"),
		 deployment_str(c.d, "target.storage_account"),
		 deployment_str(c.d, "encfs.blob_container"),
		 deployment_str(c.d, "encfs.blob_name"));
	if ((rc = buildstate_load(o->state_dir, c.identity, &c.st, err)) ||
	    (rc = decide(&c, &create, &salt, &label, err)) || (rc = load_kek(&c, err)))
		goto done;
	rep->serial = o->serial ? o->serial : (uint64_t)now;
	if (rep->serial < c.st.last_serial) {
		rc = ng_errf(err, NG_EINVAL,
			     "serial %" PRIu64 " is below %" PRIu64
			     ", the last this machine signed for the target (SOURCE_DATE_EPOCH or "
			     "--serial too low): an older serial would be refused as a rollback",
			     rep->serial, c.st.last_serial);
		goto done;
	}
	snprintf(img, sizeof(img), "%s/encfs.img", c.tmpdir);
	if (create && (rc = make_volume(&c, img, err)))
		goto done;
	for (int k = 0; k < RC_COUNT; k++)
		in.images[k] = c.facts[k];
	in.key.salt_hex = create ? key_salt_hex(c.key) : salt;
	in.key.label = create ? key_label(c.key) : label;
	if ((rc = render_deployment(c.d, &in, &c.r, err))) {
		ng_err_prefix(err, rc, "%s", o->deployment);
		goto done;
	}
	if (asprintf(&hostdata, "%s\n", c.r.hostdata) < 0)
		hostdata = NULL;
	side = cJSON_CreateObject();
	cJSON_AddStringToObject(side, "EncfsSideCarArgs", c.r.encfs_sidecar_args);
	cJSON_AddStringToObject(side, "SkrSideCarArgs", c.r.skr_sidecar_args);
	if ((rc = jsonw_print(side, &JSONW_PRETTY_SORTED, &b, err)) || buf_puts(&b, "\n"))
		goto done;
	sidecar = buf_steal(&b);
	buf_init(&b, 0);
	if ((rc = jsonw_print(deployment_json(c.d), &JSONW_PRETTY_SORTED, &b, err)) ||
	    buf_puts(&b, "\n"))
		goto done;
	depjson = buf_steal(&b);
	if (text_member(mem, &n, "arm-template.json", c.r.arm_template) ||
	    text_member(mem, &n, "deployment.json", depjson) ||
	    text_member(mem, &n, "explain.txt", c.r.explain) ||
	    text_member(mem, &n, "hostdata.txt", hostdata) ||
	    text_member(mem, &n, "importkeyconfig.json", c.r.importkey_config) ||
	    text_member(mem, &n, "policy.rego", c.r.policy) ||
	    text_member(mem, &n, "release-policy.json", c.r.release_policy) ||
	    text_member(mem, &n, "sidecar-args.json", sidecar)) {
		rc = ng_errf(err, NG_ENOMEM, "out of memory");
		goto done;
	}
	if (create) {
		mem[n++] = (struct bundle_input){.name = "encfs.img", .path = img, .sparse = 1};
		if (c.byok)
			text_member(mem, &n, "key-byok.json", c.byok);
	}
	if (!(fields = manifest_fields(&c, create, now, err))) {
		rc = NG_EUSAGE;
		goto done;
	}
	if ((rc = bundle_create(o->out, fields, mem, n, keys, o->nsign, err)))
		goto done;
	if (create && !c.kek && (rc = key_save(c.key, o->key_out, err))) {
		unlink(o->out); /* a volume nobody can open must not be applied */
		goto done;
	}
	if (create && !c.kek)
		fprintf(stderr,
			"nutgen build: warning: no KEK: the new key is in %s (mode 0600), not in "
			"the bundle; import it yourself and keep it secret\n",
			o->key_out);
	c.st.last_serial = rep->serial > c.st.last_serial ? rep->serial : c.st.last_serial;
	if (create) {
		cJSON_Delete(c.st.volume);
		c.st.volume = cJSON_CreateObject();
		cJSON_AddNumberToObject(c.st.volume, "serial", (double)rep->serial);
		cJSON_AddStringToObject(c.st.volume, "key_name",
					deployment_str(c.d, "encfs.key_name"));
		cJSON_AddStringToObject(c.st.volume, "key_type",
					deployment_str(c.d, "encfs.key_type"));
		if (key_salt_hex(c.key)) {
			cJSON_AddStringToObject(c.st.volume, "salt_hex", key_salt_hex(c.key));
			cJSON_AddStringToObject(c.st.volume, "label", key_label(c.key));
		}
	}
	if ((rc = buildstate_save(&c.st, c.identity, err)))
		ng_err_prefix(err, rc, "bundle written, but the build state was not saved");
	rep->created_volume = create;
	snprintf(rep->hostdata, sizeof(rep->hostdata), "%s", c.r.hostdata);
done:
	for (size_t i = 0; i < 8; i++)
		EVP_PKEY_free(keys[i]);
	cJSON_Delete(fields);
	cJSON_Delete(side);
	free(hostdata);
	free(sidecar);
	free(depjson);
	buf_free(&b);
	ctx_free(&c);
	return rc;
}
