/* http_rules.c: the pure rules of http.h: which statuses retry, how long
 * to wait (backoff, Retry-After), request ids, and what is redacted. No
 * I/O, so the unit tests and the fuzzer drive them directly. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http.h"

void http_uuid(char out[37])
{
	unsigned char b[16];
	if (RAND_bytes(b, sizeof(b)) != 1)
		for (size_t i = 0; i < sizeof(b); i++)
			b[i] = (unsigned char)rand();
	b[6] = (b[6] & 0x0f) | 0x40;
	b[8] = (b[8] & 0x3f) | 0x80;
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
		 b[13], b[14], b[15]);
}

/* --- pure helpers --- */

int http_status_retryable(long s)
{
	return s == 408 || s == 429 || (s >= 500 && s <= 599 && s != 501 && s != 505);
}

long http_backoff_ms(int attempt, double base_s, double max_s, double rnd)
{
	double cap = base_s * pow(2.0, attempt > 1 ? attempt - 1 : 0);
	if (cap > max_s)
		cap = max_s;
	return (long)(cap * rnd * 1000.0);
}

long http_parse_retry_after(const char *v, time_t now)
{
	static const char *const fmts[] = {"%a, %d %b %Y %H:%M:%S GMT", "%A, %d-%b-%y %H:%M:%S GMT",
					   "%a %b %d %H:%M:%S %Y"};
	const long day = 86400000L;
	struct tm tm;
	char *end;

	if (!v)
		return -1;
	while (*v == ' ' || *v == '\t')
		v++;
	if (isdigit((unsigned char)*v)) {
		errno = 0;
		unsigned long long s = strtoull(v, &end, 10);
		while (*end == ' ' || *end == '\t')
			end++;
		if (*end || errno)
			return -1;
		return s > (unsigned long long)day / 1000 ? day : (long)s * 1000;
	}
	for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
		memset(&tm, 0, sizeof(tm));
		end = strptime(v, fmts[i], &tm);
		if (!end)
			continue;
		while (*end == ' ')
			end++;
		if (*end)
			continue;
		time_t t = timegm(&tm);
		if (t == (time_t)-1)
			return -1;
		if (t <= now)
			return 0;
		return (t - now) > day / 1000 ? day : (long)(t - now) * 1000;
	}
	return -1;
}

static int secret_name(const char *name, size_t n)
{
	static const char *const words[] = {"sig",  "token",  "secret",	  "password",
					    "code", "assert", "key",	  "credential",
					    "auth", "pwd",    "signature"};
	char low[64];
	if (n >= sizeof(low))
		return 1;
	for (size_t i = 0; i < n; i++)
		low[i] = (char)tolower((unsigned char)name[i]);
	low[n] = 0;
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strstr(low, words[i]))
			return 1;
	return 0;
}

void http_redact_url(const char *url, char *out, size_t n)
{
	const char *q = strchr(url, '?');
	size_t o = 0;

	if (!n)
		return;
#define PUT(c)                                                                                     \
	do {                                                                                       \
		if (o + 1 < n)                                                                     \
			out[o++] = (c);                                                            \
	} while (0)
	for (const char *p = url; *p && (!q || p <= q); p++)
		PUT(*p);
	if (q) {
		const char *p = q + 1;
		while (*p) {
			const char *amp = strchr(p, '&'), *eq = strchr(p, '=');
			const char *stop = amp ? amp : p + strlen(p);
			if (eq && eq < stop) {
				for (const char *c = p; c <= eq; c++)
					PUT(*c);
				if (secret_name(p, (size_t)(eq - p)))
					for (const char *c = "REDACTED"; *c; c++)
						PUT(*c);
				else
					for (const char *c = eq + 1; c < stop; c++)
						PUT(*c);
			} else {
				for (const char *c = p; c < stop; c++)
					PUT(*c);
			}
			if (!amp)
				break;
			PUT('&');
			p = amp + 1;
		}
	}
#undef PUT
	out[o] = 0;
}

void http_redact_header(const char *line, char *out, size_t n)
{
	static const char *const names[] = {"authorization",
					    "proxy-authorization",
					    "x-identity-header",
					    "secret",
					    "cookie",
					    "set-cookie",
					    "x-ms-encryption-key",
					    "x-ms-copy-source-authorization"};
	const char *colon = strchr(line, ':');
	const char *v;
	int hide = 0;

	if (!colon) {
		snprintf(out, n, "%s", line);
		return;
	}
	size_t nl = (size_t)(colon - line);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i]) == nl && !strncasecmp(line, names[i], nl))
			hide = 1;
	for (v = colon + 1; *v == ' '; v++)
		;
	if (!strncasecmp(v, "Bearer ", 7) || !strncasecmp(v, "SharedKey ", 10))
		hide = 1;
	if (hide)
		snprintf(out, n, "%.*s: REDACTED", (int)nl, line);
	else
		snprintf(out, n, "%s", line);
}
