/* templates.c: see templates.h. */
#include "templates.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../bundle-format/fileio.h"

#define TEMPLATE_MAX (1u << 20)

static int is_dir(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

const char *templates_dir(void)
{
	static char dir[PATH_MAX];
	const char *env;
	char exe[PATH_MAX];
	ssize_t n;

	if (dir[0])
		return dir;
	env = getenv("NUTGEN_TEMPLATES");
	if (env && *env && strlen(env) < sizeof(dir)) {
		strcpy(dir, env);
		return dir;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		char *slash;
		exe[n] = 0;
		slash = strrchr(exe, '/');
		if (slash) {
			*slash = 0;
			if ((size_t)snprintf(dir, sizeof(dir), "%s/../templates", exe) <
				sizeof(dir) &&
			    is_dir(dir))
				return dir;
		}
	}
	env = getenv("NG_SRCDIR");
	if (env && *env && (size_t)snprintf(dir, sizeof(dir), "%s/templates", env) < sizeof(dir) &&
	    is_dir(dir))
		return dir;
	strcpy(dir, "templates");
	return dir;
}

int templates_read(const char *rel, char **out, size_t *len, struct ng_err *err)
{
	char path[PATH_MAX];
	uint8_t *data = NULL;
	size_t n = 0;
	int rc;

	*out = NULL;
	if (!rel || !*rel || rel[0] == '/' || strstr(rel, ".."))
		return ng_errf(err, NG_EINVAL, "template name '%s' is not a plain relative path",
			       rel ? rel : "");
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", templates_dir(), rel) >= sizeof(path))
		return ng_errf(err, NG_ELIMIT, "template path too long: %s", rel);
	rc = read_file_capped(path, TEMPLATE_MAX, &data, &n, err);
	if (rc < 0)
		return ng_err_prefix(
		    err, rc, "template %s (set NUTGEN_TEMPLATES to the templates directory)", rel);
	*out = (char *)data;
	if (len)
		*len = n;
	return 0;
}

int templates_json(const char *rel, cJSON **out, struct ng_err *err)
{
	char *text;
	size_t n;
	int rc = templates_read(rel, &text, &n, err);

	*out = NULL;
	if (rc < 0)
		return rc;
	*out = cJSON_ParseWithLength(text, n);
	free(text);
	if (!*out)
		return ng_errf(err, NG_EINVAL, "template %s: not valid JSON", rel);
	return 0;
}
