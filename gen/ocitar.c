#include "ocitar.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ociarchive.h"

#define PAX_MAX_BYTES (1u << 20)

struct ocitar_view {
	const char *name;
	uint64_t size;
	struct ocitar_member *m;
	size_t nm;
};

/* Numeric header field: octal (NUL/space padded) or base-256 (high bit set,
 * GNU and star), as Go's archive/tar parseNumeric accepts. */
static int tar_number(const uint8_t *f, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	size_t i = 0;

	if (f[0] & 0x80) {
		if (f[0] != 0x80)
			return -1; /* negative or too large */
		for (i = 1; i < n; i++) {
			if (v >> 56)
				return -1;
			v = v << 8 | f[i];
		}
		*out = v;
		return 0;
	}
	while (i < n && (f[i] == ' ' || f[i] == 0))
		i++;
	for (; i < n && f[i] >= '0' && f[i] <= '7'; i++) {
		if (v >> 60)
			return -1;
		v = v * 8 + (uint64_t)(f[i] - '0');
	}
	for (; i < n; i++)
		if (f[i] != ' ' && f[i] != 0)
			return -1;
	*out = v;
	return 0;
}

static int checksum_ok(const uint8_t *h)
{
	uint64_t want;
	long us = 0, sg = 0;

	if (tar_number(h + 148, 8, &want))
		return 0;
	for (int i = 0; i < 512; i++) {
		int c = (i >= 148 && i < 156) ? ' ' : h[i];
		us += (unsigned char)c;
		sg += (signed char)c;
	}
	return (uint64_t)us == want || (uint64_t)sg == want;
}

static char *field_str(const uint8_t *f, size_t n)
{
	return strndup((const char *)f, n);
}

/* Applies pax records "LEN key=value\n" that matter here (path, linkpath, size). */
static int pax_parse(const char *p, size_t n, char **path, char **link, uint64_t *size,
		     int *has_size)
{
	size_t i = 0;

	while (i < n) {
		uint64_t len = 0;
		size_t j = i, eq;
		while (j < n && p[j] >= '0' && p[j] <= '9' && len < PAX_MAX_BYTES)
			len = len * 10 + (uint64_t)(p[j++] - '0');
		if (j == i || j >= n || p[j] != ' ' || len < 5 || len > n - i ||
		    p[i + len - 1] != '\n')
			return -1;
		j++;
		for (eq = j; eq < i + len - 1 && p[eq] != '='; eq++)
			;
		if (eq >= i + len - 1)
			return -1;
		if (eq - j == 4 && !memcmp(p + j, "path", 4)) {
			free(*path);
			*path = strndup(p + eq + 1, i + len - 2 - eq);
		} else if (eq - j == 8 && !memcmp(p + j, "linkpath", 8)) {
			free(*link);
			*link = strndup(p + eq + 1, i + len - 2 - eq);
		} else if (eq - j == 4 && !memcmp(p + j, "size", 4)) {
			uint64_t v = 0;
			size_t k = eq + 1;
			if (k >= i + len - 1)
				return -1;
			for (; k < i + len - 1; k++) {
				if (p[k] < '0' || p[k] > '9' || v > (UINT64_MAX - 9) / 10)
					return -1;
				v = v * 10 + (uint64_t)(p[k] - '0');
			}
			*size = v;
			*has_size = 1;
		}
		i += len;
	}
	return 0;
}

static int cmp_member(const void *a, const void *b)
{
	return strcmp(((const struct ocitar_member *)a)->name,
		      ((const struct ocitar_member *)b)->name);
}

/* Normalises a stored name: strips leading "./" and trailing "/"; "" is the
 * root directory entry. Returns 0 or -1 when the name is unsafe. */
static int normalise(char *name)
{
	char *p = name;
	size_t n;

	while (p[0] == '.' && p[1] == '/')
		p += 2;
	memmove(name, p, strlen(p) + 1);
	n = strlen(name);
	while (n && name[n - 1] == '/')
		name[--n] = 0;
	if (!strcmp(name, ".")) {
		name[0] = 0;
		n = 0;
	}
	return n == 0 || oci_member_name_ok(name) ? 0 : -1;
}

#define TERR(...) (rc = ng_errf(err, NG_EINVAL, __VA_ARGS__), (void)0)

int ocitar_index(const char *name_, uint64_t total, ocitar_read_fn read_at, void *ctx,
		 struct ocitar_member **out, size_t *nout, struct ng_err *err)
{
	struct ocitar_view v = {name_, total, NULL, 0};
	struct ocitar_view *s = &v;
	uint8_t h[512];
	uint64_t off = 0;
	char *lname = NULL, *llink = NULL, *ppath = NULL, *plink = NULL;
	uint64_t psize = 0;
	int has_psize = 0, rc = 0;
	size_t cap = 0;

	for (;;) {
		uint64_t size;
		char type, *name, *link;
		int mtype;

		if (off == s->size) {
			if (off == 0)
				TERR("%s: empty file is not a tar archive", s->name);
			break; /* EOF at a header boundary ends the archive */
		}
		if (read_at(ctx, off, h, 512)) {
			TERR("%s: truncated tar header at offset %llu", s->name,
			     (unsigned long long)off);
			break;
		}
		if (!memcmp(h, (uint8_t[512]){0}, 512)) {
			if (off + 512 < s->size) {
				if (read_at(ctx, off + 512, h, 512) ||
				    memcmp(h, (uint8_t[512]){0}, 512))
					TERR("%s: zero block followed by data at offset %llu: not "
					     "a tar "
					     "archive",
					     s->name, (unsigned long long)off);
			}
			break;
		}
		if (!checksum_ok(h)) {
			TERR("%s: bad tar header checksum at offset %llu (not a tar archive, or "
			     "corrupt)",
			     s->name, (unsigned long long)off);
			break;
		}
		if (tar_number(h + 124, 12, &size)) {
			TERR("%s: bad size field at offset %llu", s->name, (unsigned long long)off);
			break;
		}
		type = (char)h[156];
		if (has_psize && type != 'x' && type != 'g' && type != 'L' && type != 'K')
			size = psize;
		/* Go's archive/tar reads no data for header-only types, whatever
		 * their size field says (reader.go isHeaderOnlyType). */
		if (type >= '1' && type <= '6')
			size = 0;
		if (size > s->size - off - 512) {
			TERR("%s: member at offset %llu runs past the end of the archive "
			     "(truncated)",
			     s->name, (unsigned long long)off);
			break;
		}
		if (type == 'L' || type == 'K' || type == 'x' || type == 'g') {
			char *d;
			if (size >
			    (type == 'x' || type == 'g' ? PAX_MAX_BYTES : OCI_TAR_MAX_NAME)) {
				TERR("%s: extended header at offset %llu is over the limit",
				     s->name, (unsigned long long)off);
				break;
			}
			d = malloc(size + 1);
			if (!d || read_at(ctx, off + 512, d, size)) {
				free(d);
				rc = ng_errf(err, NG_ENOMEM, "%s: cannot read extended header",
					     s->name);
				break;
			}
			d[size] = 0;
			if (type == 'L') {
				free(lname);
				lname = strdup(d);
			} else if (type == 'K') {
				free(llink);
				llink = strdup(d);
			} else if (type == 'x' &&
				   pax_parse(d, size, &ppath, &plink, &psize, &has_psize)) {
				free(d);
				TERR("%s: malformed pax header at offset %llu", s->name,
				     (unsigned long long)off);
				break;
			}
			free(d);
			off += 512 + ((size + 511) & ~511ULL);
			continue;
		}
		switch (type) {
		case '0':
		case '\0':
		case '7':
			mtype = OCITAR_FILE;
			break;
		case '5':
			mtype = OCITAR_DIR;
			break;
		case '2':
			mtype = OCITAR_SYMLINK;
			break;
		case '1':
			mtype = OCITAR_HARDLINK;
			break;
		default:
			mtype = -1;
		}
		if (ppath) {
			name = ppath;
			ppath = NULL;
		} else if (lname) {
			name = lname;
			lname = NULL;
		} else if (!memcmp(h + 257, "ustar\0", 6) && h[345]) {
			char *pre = field_str(h + 345, 155), *nm = field_str(h, 100);
			size_t n = pre && nm ? strlen(pre) + strlen(nm) + 2 : 0;
			name = n ? malloc(n) : NULL;
			if (name)
				snprintf(name, n, "%s/%s", pre, nm);
			free(pre);
			free(nm);
		} else {
			name = field_str(h, 100);
		}
		link = plink ? plink : llink ? llink : field_str(h + 157, 100);
		if (plink && llink)
			free(llink);
		plink = llink = NULL;
		has_psize = 0;
		if (!name || !link) {
			free(name);
			free(link);
			rc = ng_errf(err, NG_ENOMEM, "%s: out of memory", s->name);
			break;
		}
		if (mtype < 0 || normalise(name)) {
			if (mtype < 0)
				TERR(
				    "%s: member '%.200s' has tar type '%c', which an image archive "
				    "never holds: refusing it",
				    s->name, name, type >= 32 && type < 127 ? type : '?');
			else
				TERR("%s: member name '%.200s' is absolute or contains '..': "
				     "refusing "
				     "an archive that writes outside itself",
				     s->name, name);
			free(name);
			free(link);
			break;
		}
		if (!name[0] && mtype == OCITAR_DIR) {
			free(name);
			free(link);
			off += 512 + ((size + 511) & ~511ULL);
			continue;
		}
		if (s->nm == OCI_TAR_MAX_MEMBERS) {
			free(name);
			free(link);
			rc = ng_errf(err, NG_ELIMIT, "%s: more than %d members", s->name,
				     OCI_TAR_MAX_MEMBERS);
			break;
		}
		if (s->nm == cap) {
			size_t nc = cap ? cap * 2 : 64;
			struct ocitar_member *m = realloc(s->m, nc * sizeof(*m));
			if (!m) {
				free(name);
				free(link);
				rc = ng_errf(err, NG_ENOMEM, "%s: out of memory", s->name);
				break;
			}
			s->m = m;
			cap = nc;
		}
		s->m[s->nm++] = (struct ocitar_member){name, link, mtype, off + 512,
						       mtype == OCITAR_FILE ? size : 0};
		off += 512 + ((size + 511) & ~511ULL);
	}
	free(lname);
	free(llink);
	free(ppath);
	free(plink);
	if (!rc && s->nm)
		qsort(s->m, s->nm, sizeof(*s->m), cmp_member);
	for (size_t i = 1; !rc && i < s->nm; i++)
		if (!strcmp(s->m[i].name, s->m[i - 1].name))
			rc = ng_errf(
			    err, NG_EINVAL,
			    "%s: member '%.200s' appears twice: refusing an ambiguous archive",
			    s->name, s->m[i].name);
	if (rc) {
		ocitar_free(s->m, s->nm);
		return rc;
	}
	*out = s->m;
	*nout = s->nm;
	return 0;
}

void ocitar_free(struct ocitar_member *m, size_t n)
{
	for (size_t i = 0; m && i < n; i++) {
		free(m[i].name);
		free(m[i].link);
	}
	free(m);
}

const struct ocitar_member *ocitar_find(const struct ocitar_member *m, size_t n, const char *name)
{
	struct ocitar_member key = {(char *)name, NULL, 0, 0, 0};

	return n ? bsearch(&key, m, n, sizeof(*m), cmp_member) : NULL;
}
