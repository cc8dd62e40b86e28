#include "layercache.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../bundle-format/buf.h"
#include "../bundle-format/cli.h"
#include "../bundle-format/codec.h"
#include "../bundle-format/digest.h"
#include "../bundle-format/fileio.h"

#define MAGIC	       "nutgen-layer-cache 1\n"
#define MAX_BLOBS      8
#define ENTRY_MAX_SIZE 4096

static int mkdir_private(const char *path)
{
	struct stat st;

	if (mkdir(path, 0700) && errno != EEXIST)
		return -1;
	if (lstat(path, &st) || !S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 022))
		return -1;
	return 0;
}

void layer_cache_open(struct layer_cache *c, const char *dir)
{
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	char *base = NULL, *p = NULL;

	c->dir = NULL;
	if (dir)
		base = strdup(dir);
	else if (xdg && xdg[0] == '/') {
		mkdir(xdg, 0700); /* XDG Base Directory spec: create it 0700 if absent */
		(void)(asprintf(&base, "%s/nutgen", xdg) < 0 && (base = NULL));
	} else if (home && home[0] == '/') {
		char *dot = NULL;
		if (asprintf(&dot, "%s/.cache", home) >= 0) {
			mkdir(dot, 0700);
			free(dot);
		}
		(void)(asprintf(&base, "%s/.cache/nutgen", home) < 0 && (base = NULL));
	}
	if (!base)
		return;
	if (!mkdir_private(base) && asprintf(&p, "%s/layers", base) >= 0 && !mkdir_private(p))
		c->dir = p;
	else
		free(p);
	free(base);
}

void layer_cache_close(struct layer_cache *c)
{
	free(c->dir);
	c->dir = NULL;
}

struct entry {
	uint8_t root[32];
	char blobs[MAX_BLOBS][72];
	int nblobs;
};

static char *entry_path(const struct layer_cache *c, const char *diff_id)
{
	uint8_t raw[32];
	struct ng_err e;
	char *p = NULL;

	if (!c->dir || digest_parse_sha256(diff_id, raw, &e))
		return NULL;
	if (asprintf(&p, "%s/%s", c->dir, diff_id + 7) < 0)
		return NULL;
	return p;
}

static void body(struct buf *b, const char *diff_id, const struct entry *e)
{
	char hex[65];

	hex_encode(e->root, 32, hex);
	buf_puts(b, MAGIC);
	buf_printf(b, "tool %s\ndiff_id %s\nroot %s\n", cli_version, diff_id, hex);
	for (int i = 0; i < e->nblobs; i++)
		buf_printf(b, "blob %s\n", e->blobs[i]);
}

/* Parses and checks an entry; 0 intact, -1 corrupt or foreign. The body is
 * regenerated from what was parsed and must equal the stored text, so an
 * entry is exactly what this version writes for this key. */
static int load(const char *path, const char *diff_id, struct entry *e)
{
	uint8_t *data = NULL;
	size_t len, blen;
	struct ng_err err;
	char *line, *save = NULL, *check, *copy = NULL, want[65];
	struct buf again;
	int rc = -1, seen = 0;

	memset(e, 0, sizeof(*e));
	if (read_file_capped(path, ENTRY_MAX_SIZE, &data, &len, &err))
		return -1;
	check = strstr((char *)data, "check ");
	if (!check || (check != (char *)data && check[-1] != '\n') || strlen(check) != 6 + 64 + 1 ||
	    check[70] != '\n')
		goto out;
	blen = (size_t)(check - (char *)data);
	sha256_hex(data, blen, want);
	if (memcmp(check + 6, want, 64) || !(copy = strndup((char *)data, blen)))
		goto out;
	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "root ", 5)) {
			if (hex_decode(line + 5, e->root, 32, &err))
				goto out;
			seen++;
		} else if (!strncmp(line, "blob ", 5) && e->nblobs < MAX_BLOBS &&
			   strlen(line + 5) < 72) {
			strcpy(e->blobs[e->nblobs++], line + 5);
		}
	}
	buf_init(&again, ENTRY_MAX_SIZE);
	body(&again, diff_id, e);
	rc = seen == 1 && !again.oom && again.len == blen && !memcmp(again.data, data, blen) ? 0
											     : -1;
	buf_free(&again);
out:
	free(copy);
	free(data);
	return rc;
}

int layer_cache_get(const struct layer_cache *c, const char *diff_id, const char *blob,
		    uint8_t root[32])
{
	char *path = entry_path(c, diff_id);
	struct entry e;
	int rc = LAYER_CACHE_MISS;

	if (!path)
		return LAYER_CACHE_MISS;
	if (access(path, F_OK) == 0) {
		if (load(path, diff_id, &e))
			rc = LAYER_CACHE_CORRUPT;
		else
			for (int i = 0; i < e.nblobs; i++)
				if (!strcmp(e.blobs[i], blob)) {
					memcpy(root, e.root, 32);
					rc = LAYER_CACHE_HIT;
				}
	}
	free(path);
	return rc;
}

int layer_cache_put(const struct layer_cache *c, const char *diff_id, const char *blob,
		    const uint8_t root[32])
{
	char *path = entry_path(c, diff_id), hex[65];
	struct entry e, old;
	struct buf b;
	struct ng_err err;
	int rc;

	if (!path || strlen(blob) >= 72)
		return free(path), -1;
	memset(&e, 0, sizeof(e));
	memcpy(e.root, root, 32);
	strcpy(e.blobs[e.nblobs++], blob);
	if (!load(path, diff_id, &old) && !memcmp(old.root, root, 32))
		for (int i = 0; i < old.nblobs && e.nblobs < MAX_BLOBS; i++)
			if (strcmp(old.blobs[i], blob))
				strcpy(e.blobs[e.nblobs++], old.blobs[i]);
	buf_init(&b, ENTRY_MAX_SIZE);
	body(&b, diff_id, &e);
	sha256_hex(b.data, b.len, hex);
	buf_printf(&b, "check %s\n", hex);
	rc = b.oom ? -1 : write_file_atomic(path, b.data, b.len, 0600, &err);
	buf_free(&b);
	free(path);
	return rc;
}
