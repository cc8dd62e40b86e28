/* tarparse.c: the field and PAX record parsers of Go's archive/tar
 * (go1.23 src/archive/tar/strconv.go, reader.go parsePAX), which decide
 * which archives are valid and what every header means. */
#include <stdlib.h>
#include <string.h>

#include "tarstream_int.h"

void tar_pax_clear(struct tar_reader *tr)
{
	for (size_t i = 0; i < tr->npax; i++) {
		free(tr->pax[i].key);
		free(tr->pax[i].val);
	}
	free(tr->pax);
	tr->pax = NULL;
	tr->npax = 0;
}

/* go:strconv.go parseString: cut at the first NUL. */
size_t tar_field_len(const uint8_t *b, size_t n)
{
	const uint8_t *z = memchr(b, 0, n);
	return z ? (size_t)(z - b) : n;
}

/* go:strconv.go parseOctal. */
int64_t tar_parse_octal(const uint8_t *b, size_t n, int *bad)
{
	size_t s = 0, e = n;
	uint64_t x = 0;

	while (s < e && (b[s] == ' ' || b[s] == 0))
		s++;
	while (e > s && (b[e - 1] == ' ' || b[e - 1] == 0))
		e--;
	if (s == e)
		return 0;
	e = s + tar_field_len(b + s, e - s);
	if (s == e) {
		*bad = 1;
		return 0;
	}
	for (size_t i = s; i < e; i++) {
		if (b[i] < '0' || b[i] > '7' || (x >> 61) != 0) {
			*bad = 1;
			return 0;
		}
		x = x << 3 | (uint64_t)(b[i] - '0');
	}
	return (int64_t)x;
}

/* go:strconv.go parseNumeric: base-256 when bit 7 of the first byte is set. */
int64_t tar_parse_numeric(const uint8_t *b, size_t n, int *bad)
{
	if (n > 0 && (b[0] & 0x80)) {
		uint8_t inv = (b[0] & 0x40) ? 0xff : 0;
		uint64_t x = 0;
		for (size_t i = 0; i < n; i++) {
			uint8_t c = b[i] ^ inv;
			if (i == 0)
				c &= 0x7f;
			if ((x >> 56) > 0) {
				*bad = 1;
				return 0;
			}
			x = x << 8 | c;
		}
		if ((x >> 63) > 0) {
			*bad = 1;
			return 0;
		}
		return inv ? (int64_t)~x : (int64_t)x;
	}
	return tar_parse_octal(b, n, bad);
}

/* strconv.ParseInt(s, 10, 64). */
int tar_parse_dec(const uint8_t *s, size_t n, int64_t *out)
{
	int neg = 0;
	uint64_t x = 0, lim;
	size_t i = 0;

	if (n > 0 && (s[0] == '+' || s[0] == '-')) {
		neg = s[0] == '-';
		i = 1;
	}
	if (i == n)
		return -1;
	lim = neg ? (uint64_t)1 << 63 : ((uint64_t)1 << 63) - 1;
	for (; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (x > (lim - (uint64_t)(s[i] - '0')) / 10)
			return -1;
		x = x * 10 + (uint64_t)(s[i] - '0');
	}
	*out = neg ? (int64_t)(0 - x) : (int64_t)x;
	return 0;
}

void tar_time_unix(struct tar_time *t, int64_t sec, int64_t nsec)
{
	if (nsec < 0 || nsec >= 1000000000) {
		int64_t q = nsec / 1000000000;
		sec += q;
		nsec -= q * 1000000000;
		if (nsec < 0) {
			nsec += 1000000000;
			sec--;
		}
	}
	t->set = 1;
	t->sec = sec;
	t->nsec = nsec;
}

/* go:strconv.go parsePAXTime: "[-]sec[.frac]", frac padded/cut to 9 digits. */
int tar_parse_pax_time(const uint8_t *s, size_t n, struct tar_time *t)
{
	const uint8_t *dot = memchr(s, '.', n);
	size_t sl = dot ? (size_t)(dot - s) : n;
	int64_t secs, ns = 0;

	if (tar_parse_dec(s, sl, &secs) < 0)
		return -1;
	if (!dot || sl + 1 == n) {
		tar_time_unix(t, secs, 0);
		return 0;
	}
	for (size_t i = sl + 1; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
	}
	for (size_t i = 0; i < 9; i++) {
		size_t j = sl + 1 + i;
		ns = ns * 10 + (j < n ? s[j] - '0' : 0);
	}
	tar_time_unix(t, secs, sl > 0 && s[0] == '-' ? -ns : ns);
	return 0;
}

struct pax_tmp {
	struct tar_pax p;
	size_t seq;
};

static int cmp_pax(const void *a, const void *b)
{
	const struct pax_tmp *x = a, *y = b;
	int c = strcmp(x->p.key, y->p.key);
	if (c)
		return c;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int bad_record(struct tar_reader *tr, struct ng_err *err)
{
	return ng_errf(err, NG_EINVAL, "%s: invalid PAX record before byte %llu (corrupt tar)",
		       tr->name, (unsigned long long)tr->off);
}

/* go:strconv.go parsePAXRecord and reader.go parsePAX; keys end up unique
 * (last record wins, like Go's map). */
int tar_parse_pax(struct tar_reader *tr, const uint8_t *b, size_t n, struct ng_err *err)
{
	size_t cap = 0, cnt = 0, smap_len = 0, nsparse = 0;
	struct pax_tmp *recs = NULL;
	char *smap = NULL;
	int rc = 0;

	tar_pax_clear(tr);
	while (n > 0) {
		const uint8_t *sp = memchr(b, ' ', n), *eq;
		int64_t len;
		size_t klen, vlen;
		int pathkey;
		if (!sp || tar_parse_dec(b, (size_t)(sp - b), &len) < 0 || len < 5 ||
		    (uint64_t)len > n || len - (int64_t)(sp - b + 1) <= 0 || b[len - 1] != '\n') {
			rc = bad_record(tr, err);
			goto out;
		}
		eq = memchr(sp + 1, '=', (size_t)(b + len - 1 - (sp + 1)));
		if (!eq || eq == sp + 1) {
			rc = bad_record(tr, err);
			goto out;
		}
		klen = (size_t)(eq - (sp + 1));
		vlen = (size_t)(b + len - 1 - (eq + 1));
		pathkey = (klen == 4 && !memcmp(sp + 1, "path", 4)) ||
			  (klen == 8 && !memcmp(sp + 1, "linkpath", 8)) ||
			  (klen == 5 && !memcmp(sp + 1, "uname", 5)) ||
			  (klen == 5 && !memcmp(sp + 1, "gname", 5));
		if (memchr(sp + 1, 0, klen) || (pathkey && memchr(eq + 1, 0, vlen))) {
			rc = bad_record(tr, err);
			goto out;
		}
		/* GNU sparse 0.0 repeats offset/numbytes records: Go joins them
		 * into GNU.sparse.map in order. */
		if ((klen == 17 && !memcmp(sp + 1, "GNU.sparse.offset", 17)) ||
		    (klen == 19 && !memcmp(sp + 1, "GNU.sparse.numbytes", 19))) {
			char *q;
			if ((nsparse % 2 == 0) != (klen == 17) || memchr(eq + 1, ',', vlen)) {
				rc = bad_record(tr, err);
				goto out;
			}
			if (!(q = realloc(smap, smap_len + vlen + 2))) {
				rc = ng_errf(err, NG_ENOMEM, "%s: out of memory", tr->name);
				goto out;
			}
			smap = q;
			if (nsparse++)
				smap[smap_len++] = ',';
			memcpy(smap + smap_len, eq + 1, vlen);
			smap_len += vlen;
			smap[smap_len] = 0;
			b += len;
			n -= (size_t)len;
			continue;
		}
		if (cnt == cap) {
			size_t nc = cap ? cap * 2 : 16;
			struct pax_tmp *nr = realloc(recs, nc * sizeof(*nr));
			if (!nr) {
				rc = ng_errf(err, NG_ENOMEM, "%s: out of memory", tr->name);
				goto out;
			}
			recs = nr;
			cap = nc;
		}
		recs[cnt].p.key = strndup((const char *)sp + 1, klen);
		recs[cnt].p.val = malloc(vlen + 1);
		if (!recs[cnt].p.key || !recs[cnt].p.val) {
			free(recs[cnt].p.key);
			free(recs[cnt].p.val);
			rc = ng_errf(err, NG_ENOMEM, "%s: out of memory", tr->name);
			goto out;
		}
		memcpy(recs[cnt].p.val, eq + 1, vlen);
		recs[cnt].p.val[vlen] = 0;
		recs[cnt].p.val_len = vlen;
		recs[cnt].seq = cnt;
		cnt++;
		b += len;
		n -= (size_t)len;
	}
	if (cnt)
		qsort(recs, cnt, sizeof(*recs), cmp_pax);
	tr->pax = malloc((cnt + 1) * sizeof(*tr->pax));
	if (!tr->pax) {
		rc = ng_errf(err, NG_ENOMEM, "%s: out of memory", tr->name);
		goto out;
	}
	for (size_t i = 0; i < cnt; i++) {
		if (i + 1 < cnt && !strcmp(recs[i].p.key, recs[i + 1].p.key)) {
			free(recs[i].p.key);
			free(recs[i].p.val);
			continue;
		}
		tr->pax[tr->npax++] = recs[i].p;
	}
	free(recs);
	if (smap) {
		struct tar_pax *m = (struct tar_pax *)tar_pax_get(tr, "GNU.sparse.map");
		if (!m) {
			m = &tr->pax[tr->npax++];
			if (!(m->key = strdup("GNU.sparse.map"))) {
				tr->npax--;
				free(smap);
				return ng_errf(err, NG_ENOMEM, "%s: out of memory", tr->name);
			}
		} else {
			free(m->val);
		}
		m->val = (uint8_t *)smap;
		m->val_len = smap_len;
	}
	return 0;
out:
	free(smap);
	for (size_t i = 0; i < cnt; i++) {
		free(recs[i].p.key);
		free(recs[i].p.val);
	}
	free(recs);
	return rc;
}

const struct tar_pax *tar_pax_get(const struct tar_reader *tr, const char *key)
{
	for (size_t i = 0; i < tr->npax; i++)
		if (!strcmp(tr->pax[i].key, key))
			return &tr->pax[i];
	return NULL;
}
