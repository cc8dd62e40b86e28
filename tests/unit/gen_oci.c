/* The image archive reader (tar member index, link and path rules), the
 * strict JSON rules, image reference normalisation and the layer cache. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../bundle-format/cli.h"
#include "../../bundle-format/fileio.h"
#include "../../gen/layercache.h"
#include "../../gen/ociarchive.h"
#include "../../gen/ocijson.h"
#include "../../gen/ociimage.h"
#include "../../gen/ociref.h"
#include "harness.h"
#include "ustar_hdr.h"

/* A tar built in memory, one ustar header per member (POSIX.1-1988 ustar). */
struct tarb {
	uint8_t *p;
	size_t n;
};

static void tar_raw(struct tarb *t, const char *name, char type, const char *link, const void *data,
		    size_t len, const char *size_field)
{
	uint8_t h[512];
	char size[12] = {0};

	if (size_field)
		memcpy(size, size_field, 12);
	else
		snprintf(size, sizeof(size), "%011o", (unsigned)(len & 07777777777));
	ustar_header(h, name, type, link, size);
	t->p = realloc(t->p, t->n + 512 + ((len + 511) & ~(size_t)511) + 1024);
	memcpy(t->p + t->n, h, 512);
	t->n += 512;
	memset(t->p + t->n, 0, (len + 511) & ~(size_t)511);
	if (len)
		memcpy(t->p + t->n, data, len);
	t->n += (len + 511) & ~(size_t)511;
}

static void tar_file(struct tarb *t, const char *name, const char *data)
{
	tar_raw(t, name, '0', NULL, data, strlen(data), NULL);
}

static void tar_end(struct tarb *t)
{
	memset(t->p + t->n, 0, 1024);
	t->n += 1024;
}

static int open_tar(struct tarb *t, struct oci_src **s, struct ng_err *e)
{
	return oci_src_open_tar_mem(t->p, t->n, "t.tar", s, e);
}

static char *member_text(struct oci_src *s, const char *name)
{
	uint8_t *b = NULL;
	size_t n;
	struct ng_err e;

	if (oci_src_read(s, name, 1 << 20, &b, &n, &e))
		return NULL;
	return (char *)b;
}

static void test_tar_members(void)
{
	struct tarb t = {0};
	struct oci_src *s = NULL;
	struct ng_err e;
	char *txt;
	char pax[300], longname[220];

	memset(longname, 'a', 200);
	strcpy(longname + 200, "/long.json");
	/* "LEN path=VALUE\n" where LEN counts itself (3 digits here) */
	snprintf(pax, sizeof(pax), "%d path=%s\n", (int)(strlen(longname) + 10), longname);
	tar_file(&t, "./index.json", "{}");
	tar_raw(&t, "PaxHeaders/x", 'x', NULL, pax, strlen(pax), NULL);
	tar_file(&t, "ignored-name", "pax");
	tar_raw(&t, "././@LongLink", 'L', NULL, "gnu/long/name.txt", 18, NULL);
	tar_file(&t, "short", "gnu");
	/* A size on a header-only type carries no data (Go isHeaderOnlyType). */
	tar_raw(&t, "dir/", '5', NULL, NULL, 0, "00000001000\0");
	tar_file(&t, "dir/real", "real");
	tar_raw(&t, "dir/sym", '2', "real", NULL, 0, NULL);
	tar_raw(&t, "hard", '1', "dir/real", NULL, 0, NULL);
	tar_raw(&t, "chain", '2', "dir/sym", NULL, 0, NULL);
	tar_raw(&t, "dir/out", '2', "../../etc/passwd", NULL, 0, NULL);
	tar_raw(&t, "abs", '2', "/etc/passwd", NULL, 0, NULL);
	/* base-256 size field (GNU, star): 3 bytes */
	tar_raw(&t, "b256", '0', NULL, "xyz", 3, "\x80\0\0\0\0\0\0\0\0\0\0\x03");
	tar_end(&t);
	CU_ASSERT_EQUAL_FATAL(open_tar(&t, &s, &e), 0);
	CU_ASSERT_STRING_EQUAL((txt = member_text(s, "index.json")), "{}");
	free(txt);
	CU_ASSERT_STRING_EQUAL((txt = member_text(s, longname)), "pax");
	free(txt);
	CU_ASSERT_STRING_EQUAL((txt = member_text(s, "gnu/long/name.txt")), "gnu");
	free(txt);
	CU_ASSERT_STRING_EQUAL((txt = member_text(s, "dir/sym")), "real");
	free(txt);
	CU_ASSERT_STRING_EQUAL((txt = member_text(s, "hard")), "real");
	free(txt);
	CU_ASSERT_STRING_EQUAL((txt = member_text(s, "b256")), "xyz");
	free(txt);
	CU_ASSERT_PTR_NULL(member_text(s, "chain"));   /* links do not chain */
	CU_ASSERT_PTR_NULL(member_text(s, "dir/out")); /* leaves the archive */
	CU_ASSERT_PTR_NULL(member_text(s, "abs"));     /* absolute target */
	CU_ASSERT_PTR_NULL(member_text(s, "dir"));     /* a directory */
	CU_ASSERT_PTR_NULL(member_text(s, "short"));   /* replaced by the long name */
	CU_ASSERT_PTR_NULL(member_text(s, "../index.json"));
	CU_ASSERT_PTR_NULL(member_text(s, "./index.json"));
	CU_ASSERT_PTR_NULL(member_text(s, "/index.json"));
	CU_ASSERT_EQUAL(oci_src_exists(s, "index.json"), 1);
	CU_ASSERT_EQUAL(oci_src_exists(s, "nope"), 0);
	{
		uint8_t *b;
		size_t n;
		CU_ASSERT_EQUAL(oci_src_read(s, "dir/real", 2, &b, &n, &e), NG_ELIMIT);
		CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "dir/real"));
	}
	oci_src_free(s);
	free(t.p);
}

static void expect_bad_tar(struct tarb *t, const char *what)
{
	struct oci_src *s = NULL;
	struct ng_err e;

	e.msg[0] = 0;
	CU_ASSERT_NOT_EQUAL(open_tar(t, &s, &e), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, what));
	if (!strstr(e.msg, what))
		fprintf(stderr, "want '%s' in: %s\n", what, e.msg);
	oci_src_free(s);
	free(t->p);
	memset(t, 0, sizeof(*t));
}

static void test_tar_hostile(void)
{
	struct tarb t = {0};

	tar_file(&t, "a", "1");
	tar_file(&t, "./a", "2");
	tar_end(&t);
	expect_bad_tar(&t, "appears twice");
	tar_file(&t, "x/../../y", "1");
	tar_end(&t);
	expect_bad_tar(&t, "contains '..'");
	tar_raw(&t, "fifo", '6', NULL, NULL, 0, NULL);
	tar_end(&t);
	expect_bad_tar(&t, "tar type '6'");
	tar_file(&t, "a", "1");
	t.p[0] ^= 1; /* checksum no longer matches */
	tar_end(&t);
	expect_bad_tar(&t, "checksum");
	tar_raw(&t, "big", '0', NULL, "x", 1, "00000077777\0");
	expect_bad_tar(&t, "past the end");
	tar_file(&t, "a", "1");
	tar_end(&t);
	t.p[t.n - 512] = 1; /* zero block, then data */
	expect_bad_tar(&t, "zero block");
	t.p = calloc(1, 1);
	t.n = 0;
	expect_bad_tar(&t, "empty");
	tar_raw(&t, "PaxHeaders/x", 'x', NULL, "99 path=x\n", 10, NULL);
	tar_file(&t, "a", "1");
	tar_end(&t);
	expect_bad_tar(&t, "pax");
}

static int parse(const char *s, struct ng_err *e)
{
	cJSON *j = NULL;
	int rc = ocijson_parse((const uint8_t *)s, strlen(s), "doc", &j, e);
	cJSON_Delete(j);
	return rc;
}

static void test_json_strict(void)
{
	struct ng_err e;
	char deep[300];
	int i;

	CU_ASSERT_EQUAL(parse("{\"a\":1,\"b\":[{\"c\":2}]}\n", &e), 0);
	CU_ASSERT_NOT_EQUAL(parse("{\"layers\":[],\"Layers\":[1]}", &e), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "appears twice"));
	CU_ASSERT_NOT_EQUAL(parse("{\"a\":{\"x\":1,\"x\":2}}", &e), 0);
	CU_ASSERT_NOT_EQUAL(parse("{\"a\":1} {}", &e), 0);
	CU_ASSERT_NOT_EQUAL(parse("{\"a\":1,}", &e), 0);
	{
		cJSON *j = NULL;
		CU_ASSERT_NOT_EQUAL(ocijson_parse((const uint8_t *)"{}\0{}", 5, "doc", &j, &e), 0);
	}
	for (i = 0; i < 70; i++)
		deep[i] = '[';
	for (; i < 140; i++)
		deep[i] = ']';
	deep[i] = 0;
	CU_ASSERT_EQUAL(parse(deep, &e), NG_ELIMIT);
	memmove(deep + 10, deep + 60, strlen(deep + 60) + 1);
	deep[strlen(deep) - 50] = 0; /* 10 deep */
	CU_ASSERT_EQUAL(parse(deep, &e), 0);
	{
		/* Many keys: duplicate detection stays n log n. */
		size_t n = 200000;
		char *big = malloc(n * 16 + 16), *p = big;
		clock_t t0 = clock();
		p += sprintf(p, "{");
		for (size_t k = 0; k < n; k++)
			p += sprintf(p, "%s\"k%zu\":1", k ? "," : "", k);
		sprintf(p, "}");
		CU_ASSERT_EQUAL(parse(big, &e), 0);
		CU_ASSERT(clock() - t0 < 20 * CLOCKS_PER_SEC);
		free(big);
	}
}

static void test_utf8(void)
{
	CU_ASSERT(ocijson_utf8_ok("plain"));
	CU_ASSERT(ocijson_utf8_ok("h\xc3\xa9llo \xe2\x82\xac \xf0\x9d\x84\x9e"));
	CU_ASSERT(!ocijson_utf8_ok("\xc0\x80"));	 /* overlong NUL */
	CU_ASSERT(!ocijson_utf8_ok("\xed\xa0\x80"));	 /* surrogate */
	CU_ASSERT(!ocijson_utf8_ok("\xf4\x90\x80\x80")); /* past U+10FFFF */
	CU_ASSERT(!ocijson_utf8_ok("\xe0\x9f\xbf"));	 /* overlong 3-byte */
	CU_ASSERT(!ocijson_utf8_ok("\xff"));
	CU_ASSERT(!ocijson_utf8_ok("\xe2\x82")); /* truncated */
}

static void test_descriptor(void)
{
	struct ng_err e;
	struct oci_desc d;
	cJSON *j;
	const char *good = "{\"mediaType\":\"m\",\"digest\":\"sha256:"
			   "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\","
			   "\"size\":12}";

	j = cJSON_Parse(good);
	CU_ASSERT_EQUAL(ocijson_desc(j, "t", &d, &e), 0);
	CU_ASSERT_EQUAL(d.size, 12);
	cJSON_ReplaceItemInObject(j, "size", cJSON_CreateNumber(-1));
	CU_ASSERT_NOT_EQUAL(ocijson_desc(j, "t", &d, &e), 0);
	cJSON_ReplaceItemInObject(j, "size", cJSON_CreateNumber(1.5));
	CU_ASSERT_NOT_EQUAL(ocijson_desc(j, "t", &d, &e), 0);
	cJSON_ReplaceItemInObject(j, "size", cJSON_CreateNumber(1e300));
	CU_ASSERT_NOT_EQUAL(ocijson_desc(j, "t", &d, &e), 0);
	cJSON_ReplaceItemInObject(j, "size", cJSON_CreateNumber(3));
	cJSON_ReplaceItemInObject(j, "digest", cJSON_CreateString("sha512:00"));
	CU_ASSERT_NOT_EQUAL(ocijson_desc(j, "t", &d, &e), 0);
	cJSON_Delete(j);
}

static void ref_is(const char *in, const char *repo, const char *tag, int has_digest)
{
	char *r = NULL, *t = NULL, *d = NULL;
	struct ng_err e;

	CU_ASSERT_EQUAL_FATAL(oci_parse_reference(in, &r, &t, &d, &e), 0);
	CU_ASSERT_STRING_EQUAL(r, repo);
	if (tag) {
		CU_ASSERT_STRING_EQUAL(t, tag);
	} else {
		CU_ASSERT_PTR_NULL(t);
	}
	CU_ASSERT_EQUAL(d != NULL, has_digest);
	free(r);
	free(t);
	free(d);
}

static void test_reference(void)
{
	char *r = NULL;
	struct ng_err e;
	const char *dg = "@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	char buf[200];

	/* Docker's normalisation (distribution/reference ParseNormalizedNamed). */
	ref_is("nginx", "docker.io/library/nginx", NULL, 0);
	ref_is("nginx:1.25", "docker.io/library/nginx", "1.25", 0);
	ref_is("cashubtc/nutshell:0.16", "docker.io/cashubtc/nutshell", "0.16", 0);
	ref_is("mcr.microsoft.com/azurelinux/distroless/base:3.0",
	       "mcr.microsoft.com/azurelinux/distroless/base", "3.0", 0);
	snprintf(buf, sizeof(buf), "localhost:5000/a/b%s", dg);
	ref_is(buf, "localhost:5000/a/b", NULL, 1);
	ref_is("localhost/x", "localhost/x", NULL, 0);
	ref_is("docker.io/nginx:1", "docker.io/library/nginx", "1", 0);
	ref_is("index.docker.io/library/nginx", "docker.io/library/nginx", NULL, 0);
	ref_is("docker.io/cashubtc/nutshell", "docker.io/cashubtc/nutshell", NULL, 0);
	CU_ASSERT_NOT_EQUAL(oci_parse_reference("Upper/case", &r, NULL, NULL, &e), 0);
	CU_ASSERT_NOT_EQUAL(oci_parse_reference("a//b", &r, NULL, NULL, &e), 0);
	CU_ASSERT_NOT_EQUAL(oci_parse_reference("a:", &r, NULL, NULL, &e), 0);
	CU_ASSERT_NOT_EQUAL(oci_parse_reference("a@sha256:00", &r, NULL, NULL, &e), 0);
	CU_ASSERT_NOT_EQUAL(oci_parse_reference("", &r, NULL, NULL, &e), 0);
	CU_ASSERT_PTR_NULL(r);
}

static void test_cache(void)
{
	struct layer_cache c;
	struct ng_err e;
	char *dir = NULL, *p1, *p2, cmd[600];
	uint8_t root[32], got[32];
	const char *d1 = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
	const char *d2 = "sha256:2222222222222222222222222222222222222222222222222222222222222222";
	const char *b1 = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
	const char *b2 = "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
	const char *saved = cli_version;

	CU_ASSERT_EQUAL_FATAL(make_private_tmpdir("gen-oci-cache", &dir, &e), 0);
	layer_cache_open(&c, dir);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c.dir);
	memset(root, 0x5a, 32);
	CU_ASSERT_EQUAL(layer_cache_get(&c, d1, b1, got), LAYER_CACHE_MISS);
	CU_ASSERT_EQUAL(layer_cache_put(&c, d1, b1, root), 0);
	CU_ASSERT_EQUAL(layer_cache_get(&c, d1, b1, got), LAYER_CACHE_HIT);
	CU_ASSERT_EQUAL(memcmp(got, root, 32), 0);
	/* Another blob (say the zstd form) of the same diff_id is not vouched for. */
	CU_ASSERT_EQUAL(layer_cache_get(&c, d1, b2, got), LAYER_CACHE_MISS);
	CU_ASSERT_EQUAL(layer_cache_put(&c, d1, b2, root), 0);
	CU_ASSERT_EQUAL(layer_cache_get(&c, d1, b1, got), LAYER_CACHE_HIT);
	CU_ASSERT_EQUAL(layer_cache_get(&c, d1, b2, got), LAYER_CACHE_HIT);
	/* An intact entry under another key is not that key's entry. */
	if (asprintf(&p1, "%s/%s", c.dir, d1 + 7) < 0 || asprintf(&p2, "%s/%s", c.dir, d2 + 7) < 0)
		CU_FAIL_FATAL("oom");
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", p1, p2);
	CU_ASSERT_EQUAL(system(cmd), 0);
	CU_ASSERT_EQUAL(layer_cache_get(&c, d2, b1, got), LAYER_CACHE_CORRUPT);
	/* Another tool version's entries are not used. */
	cli_version = "9.9.9";
	CU_ASSERT_EQUAL(layer_cache_get(&c, d1, b1, got), LAYER_CACHE_CORRUPT);
	cli_version = saved;
	/* Truncation is detected. */
	snprintf(cmd, sizeof(cmd), "truncate -s 100 '%s'", p1);
	CU_ASSERT_EQUAL(system(cmd), 0);
	CU_ASSERT_EQUAL(layer_cache_get(&c, d1, b1, got), LAYER_CACHE_CORRUPT);
	/* ...and rewritten whole by the next put. */
	CU_ASSERT_EQUAL(layer_cache_put(&c, d1, b1, root), 0);
	CU_ASSERT_EQUAL(layer_cache_get(&c, d1, b1, got), LAYER_CACHE_HIT);
	CU_ASSERT_EQUAL(layer_cache_get(&c, "sha256:../x", b1, got), LAYER_CACHE_MISS);
	layer_cache_close(&c);
	free(p1);
	free(p2);
	remove_tree(dir);
	cleanup_unregister(dir);
	free(dir);
}

static const struct ng_test tests[] = {
    {"tar member index, long names, links", test_tar_members},
    {"tar hostile members rejected", test_tar_hostile},
    {"JSON duplicate keys, trailing data, depth", test_json_strict},
    {"descriptor fields", test_descriptor},
    {"UTF-8 validation", test_utf8},
    {"image reference normalisation", test_reference},
    {"layer cache self-checks", test_cache},
};

NG_TEST_MAIN("gen_oci", tests)
