#include "manifest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "codec.h"
#include "jsonw.h"
#include "tarfmt.h"

#define MAX_SAFE_INT 9007199254740991.0 /* 2^53 - 1: exact in every JSON reader */

int manifest_payload_name_valid(const char *name)
{
	return tar_name_valid(name) && name[0] >= 'a' && name[0] <= 'z' && !strchr(name, '/');
}

int manifest_time_parse(const char *s, int64_t *t)
{
	struct tm tm;
	char *end;

	if (strlen(s) != 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
	    s[16] != ':' || s[19] != 'Z')
		return -1;
	for (int i = 0; i < 19; i++)
		if (i != 4 && i != 7 && i != 10 && i != 13 && i != 16 && (s[i] < '0' || s[i] > '9'))
			return -1;
	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (!end || *end)
		return -1;
	*t = (int64_t)timegm(&tm);
	{
		char back[21];
		manifest_time_format(*t, back);
		if (strcmp(back, s)) /* rejects 2026-02-30 and 24:00:00 */
			return -1;
	}
	return 0;
}

void manifest_time_format(int64_t t, char out[21])
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int manifest_serialize(const cJSON *doc, struct buf *out, struct ng_err *err)
{
	int rc = jsonw_print(doc, &JSONW_PRETTY_SORTED, out, err);

	if (!rc && buf_append(out, "\n", 1))
		rc = ng_errf(err, NG_ENOMEM, "out of memory");
	return rc;
}

static int get_int(const cJSON *o, const char *k, double lo, double hi, uint64_t *v)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, k);

	if (!cJSON_IsNumber(x) || x->valuedouble < lo || x->valuedouble > hi ||
	    x->valuedouble != (double)(uint64_t)x->valuedouble)
		return -1;
	*v = (uint64_t)x->valuedouble;
	return 0;
}

static int check_members(const cJSON *arr, struct manifest *m, struct ng_err *err)
{
	const cJSON *e;
	size_t i = 0;

	if (!cJSON_IsArray(arr))
		return ng_errf(err, NG_EINVAL, "MANIFEST.json: 'members' must be an array");
	m->nmembers = (size_t)cJSON_GetArraySize(arr);
	if (m->nmembers > MANIFEST_MAX_MEMBERS)
		return ng_errf(err, NG_ELIMIT, "MANIFEST.json: more than %d members",
			       MANIFEST_MAX_MEMBERS);
	m->members = calloc(m->nmembers ? m->nmembers : 1, sizeof(*m->members));
	if (!m->members)
		return ng_errf(err, NG_ENOMEM, "out of memory");
	cJSON_ArrayForEach(e, arr)
	{
		struct manifest_member *mm = &m->members[i];
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(e, "name");
		const cJSON *sha = cJSON_GetObjectItemCaseSensitive(e, "sha256");
		if (!cJSON_IsObject(e) || cJSON_GetArraySize(e) != 3 || !cJSON_IsString(name) ||
		    !cJSON_IsString(sha) || get_int(e, "size", 0, MAX_SAFE_INT, &mm->size))
			return ng_errf(err, NG_EINVAL,
				       "MANIFEST.json: members[%zu] must have exactly name, sha256 "
				       "and size",
				       i);
		if (!manifest_payload_name_valid(name->valuestring))
			return ng_errf(err, NG_EINVAL,
				       "MANIFEST.json: members[%zu]: name '%.100s' "
				       "is not allowed (SPEC §3.2)",
				       i, name->valuestring);
		if (i && strcmp(m->members[i - 1].name, name->valuestring) >= 0)
			return ng_errf(
			    err, NG_EINVAL,
			    "MANIFEST.json: members[%zu] '%s' is duplicated or out of order", i,
			    name->valuestring);
		snprintf(mm->name, sizeof(mm->name), "%s", name->valuestring);
		if (strlen(sha->valuestring) != 64 ||
		    strspn(sha->valuestring, "0123456789abcdef") != 64 ||
		    hex_decode(sha->valuestring, mm->sha256, 32, NULL))
			return ng_errf(
			    err, NG_EINVAL,
			    "MANIFEST.json: members[%zu].sha256 must be 64 lowercase hex", i);
		i++;
	}
	return 0;
}

static const char *const known[] = {"created",	      "deployment", "expires", "format",
				    "format_version", "generator",  "images",  "key",
				    "members",	      "policy",	    "serial",  "volume"};

int manifest_parse(const uint8_t *p, size_t n, struct manifest **out, struct ng_err *err)
{
	struct manifest *m = calloc(1, sizeof(*m));
	const cJSON *f, *it;
	struct buf again;
	uint64_t v;
	int rc = 0;

	buf_init(&again, MANIFEST_MAX_BYTES + 1);
	if (!m)
		return ng_errf(err, NG_ENOMEM, "out of memory");
	if (n > MANIFEST_MAX_BYTES) {
		rc = ng_errf(err, NG_ELIMIT, "MANIFEST.json is over %d bytes", MANIFEST_MAX_BYTES);
		goto done;
	}
	m->json = cJSON_ParseWithLength((const char *)p, n);
	if (!cJSON_IsObject(m->json)) {
		rc = ng_errf(err, NG_EINVAL, "MANIFEST.json is not a JSON object");
		goto done;
	}
	/* One spelling per manifest: the signed bytes are the canonical ones. */
	if (jsonw_print(m->json, &JSONW_PRETTY_SORTED, &again, NULL) ||
	    buf_append(&again, "\n", 1) || again.len != n || memcmp(again.data, p, n)) {
		rc = ng_errf(err, NG_EINVAL, "MANIFEST.json is not in canonical form (SPEC §5.1)");
		goto done;
	}
	cJSON_ArrayForEach(it, m->json)
	{
		size_t k = 0;
		while (k < sizeof(known) / sizeof(known[0]) && strcmp(known[k], it->string))
			k++;
		if (k == sizeof(known) / sizeof(known[0])) {
			rc = ng_errf(err, NG_EINVAL, "MANIFEST.json: unknown field '%.60s'",
				     it->string);
			goto done;
		}
	}
	f = cJSON_GetObjectItemCaseSensitive(m->json, "format");
	if (!cJSON_IsString(f) || strcmp(f->valuestring, MANIFEST_FORMAT) ||
	    get_int(m->json, "format_version", 0, MAX_SAFE_INT, &v)) {
		rc = ng_errf(err, NG_EINVAL, "MANIFEST.json: not a nutgen bundle manifest");
		goto done;
	}
	if (v != MANIFEST_VERSION) {
		rc = ng_errf(err, NG_EINVAL,
			     "MANIFEST.json: format_version %llu is not supported (this reader "
			     "knows %d); use a newer nutgen",
			     (unsigned long long)v, MANIFEST_VERSION);
		goto done;
	}
	f = cJSON_GetObjectItemCaseSensitive(m->json, "generator");
	if (!cJSON_IsString(f) || strlen(f->valuestring) > 200) {
		rc = ng_errf(err, NG_EINVAL, "MANIFEST.json: 'generator' must be a short string");
		goto done;
	}
	f = cJSON_GetObjectItemCaseSensitive(m->json, "created");
	if (!cJSON_IsString(f) || manifest_time_parse(f->valuestring, &m->created)) {
		rc = ng_errf(
		    err, NG_EINVAL,
		    "MANIFEST.json: 'created' must be a UTC time like 2026-01-31T12:00:00Z");
		goto done;
	}
	f = cJSON_GetObjectItemCaseSensitive(m->json, "expires");
	if (f && (!cJSON_IsString(f) || manifest_time_parse(f->valuestring, &m->expires) ||
		  m->expires <= m->created)) {
		rc = ng_errf(err, NG_EINVAL,
			     "MANIFEST.json: 'expires' must be a UTC time after 'created'");
		goto done;
	}
	if (get_int(m->json, "serial", 1, MAX_SAFE_INT, &m->serial)) {
		rc = ng_errf(err, NG_EINVAL,
			     "MANIFEST.json: 'serial' must be an integer from 1 to 2^53-1");
		goto done;
	}
	{
		static const char *objs[] = {"deployment", "policy", "volume", "key"};
		for (size_t k = 0; k < 4; k++) {
			f = cJSON_GetObjectItemCaseSensitive(m->json, objs[k]);
			if (f && !cJSON_IsObject(f)) {
				rc = ng_errf(err, NG_EINVAL,
					     "MANIFEST.json: '%s' must be an object", objs[k]);
				goto done;
			}
		}
		f = cJSON_GetObjectItemCaseSensitive(m->json, "images");
		if (f && !cJSON_IsArray(f)) {
			rc = ng_errf(err, NG_EINVAL, "MANIFEST.json: 'images' must be an array");
			goto done;
		}
	}
	rc = check_members(cJSON_GetObjectItemCaseSensitive(m->json, "members"), m, err);
done:
	buf_free(&again);
	if (rc)
		manifest_free(m);
	else
		*out = m;
	return rc;
}

void manifest_free(struct manifest *m)
{
	if (!m)
		return;
	cJSON_Delete(m->json);
	free(m->members);
	free(m);
}
