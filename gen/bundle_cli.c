#include "bundle_cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int bcli_load_key(const char *src, int passfd, EVP_PKEY **out, struct ng_err *err)
{
	struct sigkey_pass ps = {passfd};

	return sigkey_load_private(src, &ps, out, err);
}

int bcli_add_trust(const char *path, uint8_t (**keys)[SIGKEY_PUB_LEN], size_t *n,
		   struct ng_err *err)
{
	uint8_t(*k)[SIGKEY_PUB_LEN];
	uint8_t pub[SIGKEY_PUB_LEN];
	int rc = sigkey_load_public(path, pub, err);

	if (rc)
		return rc;
	k = realloc(*keys, (*n + 1) * sizeof(*k));
	if (!k)
		return ng_errf(err, NG_ENOMEM, "out of memory");
	memcpy(k[*n], pub, SIGKEY_PUB_LEN);
	*keys = k;
	(*n)++;
	return 0;
}

long long bcli_number(const char *s, long long max)
{
	char *end;
	long long v;

	if (!s || !*s || *s == '-' || *s == '+')
		return -1;
	v = strtoll(s, &end, 10);
	if (*end || v < 0 || v > max)
		return -1;
	return v;
}

int bcli_time(const char *s, int64_t base, int64_t *out)
{
	if (s[0] == '+') {
		size_t n = strlen(s);
		char num[24];
		long long v;
		int64_t unit;
		if (n < 3 || n > 20)
			return -1;
		unit = s[n - 1] == 'd' ? 86400 : s[n - 1] == 'h' ? 3600 : 0;
		memcpy(num, s + 1, n - 2);
		num[n - 2] = 0;
		v = bcli_number(num, 100000LL * 24);
		if (!unit || v <= 0)
			return -1;
		*out = base + v * unit;
		return 0;
	}
	return manifest_time_parse(s, out);
}

int bcli_now(int64_t *out, struct ng_err *err)
{
	const char *e = getenv("SOURCE_DATE_EPOCH");
	long long v;

	if (!e) {
		*out = (int64_t)time(NULL);
		return 0;
	}
	/* reproducible-builds.org: a decimal count of seconds since the epoch. */
	v = bcli_number(e, 253402300799LL);
	if (v < 0)
		return ng_errf(err, NG_EINVAL,
			       "SOURCE_DATE_EPOCH='%.40s' is not a decimal number of seconds", e);
	*out = (int64_t)v;
	return 0;
}
