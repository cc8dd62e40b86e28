#include "buildstate.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../bundle-format/buf.h"
#include "../bundle-format/digest.h"
#include "../bundle-format/fileio.h"
#include "../bundle-format/jsonw.h"

static int mkdirs(const char *path)
{
	char tmp[4096];
	size_t n = strlen(path);

	if (n >= sizeof(tmp))
		return -1;
	memcpy(tmp, path, n + 1);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(tmp, 0700) && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return mkdir(tmp, 0700) && errno != EEXIST ? -1 : 0;
}

int buildstate_load(const char *dir, const char *identity, struct buildstate *s, struct ng_err *err)
{
	char base[3000], hex[65];
	const char *e;
	uint8_t *data = NULL;
	size_t n;
	cJSON *j;
	int rc;

	memset(s, 0, sizeof(*s));
	if (dir && *dir)
		snprintf(base, sizeof(base), "%s", dir);
	else if ((e = getenv("NUTGEN_STATE_DIR")) && *e)
		snprintf(base, sizeof(base), "%s", e);
	else if ((e = getenv("XDG_STATE_HOME")) && *e)
		snprintf(base, sizeof(base), "%s/nutgen", e);
	else if ((e = getenv("HOME")) && *e)
		snprintf(base, sizeof(base), "%s/.local/state/nutgen", e);
	else
		return ng_errf(err, NG_EINVAL, "no state directory: set NUTGEN_STATE_DIR or HOME");
	if (mkdirs(base))
		return ng_errf(err, NG_EIO, "%s: cannot create the state directory: %s", base,
			       strerror(errno));
	sha256_hex(identity, strlen(identity), hex);
	if (asprintf(&s->path, "%s/target-%.32s.json", base, hex) < 0) {
		s->path = NULL;
		return ng_errf(err, NG_ENOMEM, "out of memory");
	}
	rc = read_file_capped(s->path, 1 << 20, &data, &n, err);
	if (rc == NG_ENOTFOUND)
		return 0;
	if (rc)
		return rc;
	j = cJSON_ParseWithLength((char *)data, n);
	free(data);
	if (!cJSON_IsObject(j) ||
	    !cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(j, "last_serial"))) {
		cJSON_Delete(j);
		return ng_errf(err, NG_EINVAL, "%s: corrupt build state; fix or remove it",
			       s->path);
	}
	s->last_serial = (uint64_t)cJSON_GetObjectItemCaseSensitive(j, "last_serial")->valuedouble;
	s->volume = cJSON_DetachItemFromObjectCaseSensitive(j, "volume");
	if (s->volume && !cJSON_IsObject(s->volume)) {
		cJSON_Delete(s->volume);
		s->volume = NULL;
	}
	cJSON_Delete(j);
	return 0;
}

int buildstate_save(const struct buildstate *s, const char *identity, struct ng_err *err)
{
	cJSON *j = cJSON_CreateObject();
	struct buf b;
	int rc;

	buf_init(&b, 0);
	cJSON_AddStringToObject(j, "target", identity);
	cJSON_AddNumberToObject(j, "last_serial", (double)s->last_serial);
	if (s->volume)
		cJSON_AddItemToObject(j, "volume", cJSON_Duplicate(s->volume, 1));
	rc = jsonw_print(j, &JSONW_PRETTY_SORTED, &b, err);
	if (!rc)
		rc = write_file_atomic(s->path, b.data, b.len, 0600, err);
	buf_free(&b);
	cJSON_Delete(j);
	return rc;
}

void buildstate_clear(struct buildstate *s)
{
	if (!s)
		return;
	free(s->path);
	cJSON_Delete(s->volume);
	memset(s, 0, sizeof(*s));
}
