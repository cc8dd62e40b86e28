/* The layer hasher as a library: digests beside the root, thread safety,
 * compactext4's time encoding, Go's sort order, and hostile tar archives
 * (huge sizes, oversized meta entries, deep paths, link loops) that must
 * fail cleanly with bounded memory. Roots themselves are checked against
 * Microsoft's vectors in tests/integration/layer_vectors.sh. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../bundle-format/codec.h"
#include "../../bundle-format/digest.h"
#include "../../gen/ext4w.h"
#include "../../gen/gosort.h"
#include "../../gen/layer.h"
#include "harness.h"
#include "ustar_hdr.h"

static const char *vpath(const char *name)
{
	static __thread char p[4096];
	snprintf(p, sizeof(p), "%s/tests/data/vectors/layers/%s", ng_srcdir(), name);
	return p;
}

/* sha256 column of layer-hashes.tsv */
static int tsv_field(const char *name, int col, char out[65])
{
	char line[1024], path[4096];
	FILE *f;
	int found = 0;

	snprintf(path, sizeof(path), "%s/tests/data/vectors/layer-hashes.tsv", ng_srcdir());
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		char *t1 = strchr(line, '\t'), *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
		if (!t1 || !t2 || (size_t)(t1 - line) != strlen(name) ||
		    strncmp(line, name, strlen(name)))
			continue;
		memcpy(out, col == 1 ? t1 + 1 : t2 + 1, 64);
		out[64] = 0;
		found = 1;
	}
	fclose(f);
	return found;
}

static void hex(const uint8_t d[32], char out[65])
{
	hex_encode(d, 32, out);
}

static void test_digests(void)
{
	static const char *names[] = {"single-file.tar", "nested-dirs.tar.gz",
				      "realistic-small.tar.gz"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct layer_result r;
		struct ng_err err;
		char want[65], got[65], plain[256];
		CU_ASSERT_EQUAL_FATAL(layer_hash_file(vpath(names[i]), NULL, &r, &err), 0);
		CU_ASSERT_FATAL(tsv_field(names[i], 1, want));
		hex(r.blob_digest, got);
		CU_ASSERT_STRING_EQUAL(got, want);
		CU_ASSERT_FATAL(tsv_field(names[i], 2, want));
		hex(r.root, got);
		CU_ASSERT_STRING_EQUAL(got, want);
		/* diff_id = the digest of the uncompressed twin tar */
		snprintf(plain, sizeof(plain), "%s", names[i]);
		if (strstr(plain, ".gz"))
			*strstr(plain, ".gz") = 0;
		CU_ASSERT_FATAL(tsv_field(plain, 1, want));
		hex(r.diff_id, got);
		CU_ASSERT_STRING_EQUAL(got, want);
		CU_ASSERT(r.tar_bytes % 512 == 0);
		CU_ASSERT(r.ext4_bytes % 4096 == 0 && r.ext4_bytes >= 14 * 4096);
	}
}

struct tjob {
	const char *name;
	uint8_t root[32];
	int rc;
};

static void *hash_thread(void *arg)
{
	struct tjob *j = arg;
	struct layer_result r;
	struct ng_err err;

	j->rc = layer_hash_file(vpath(j->name), NULL, &r, &err);
	memcpy(j->root, r.root, 32);
	return NULL;
}

static void test_threads(void)
{
	static const char *names[] = {
	    "many-files.tar", "xattrs.tar",    "whiteouts.tar", "hardlinks.tar",
	    "multi-mb.tar",   "many-dirs.tar", "mtimes.tar",	"realistic-small.tar.gz"};
	struct tjob jobs[8];
	pthread_t th[8];

	for (int i = 0; i < 8; i++) {
		jobs[i].name = names[i];
		CU_ASSERT_EQUAL_FATAL(pthread_create(&th[i], NULL, hash_thread, &jobs[i]), 0);
	}
	for (int i = 0; i < 8; i++) {
		char want[65], got[65];
		pthread_join(th[i], NULL);
		CU_ASSERT_EQUAL(jobs[i].rc, 0);
		CU_ASSERT_FATAL(tsv_field(names[i], 2, want));
		hex(jobs[i].root, got);
		CU_ASSERT_STRING_EQUAL(got, want);
	}
}

/* §5.3 of the research note: the decode -> encode round trip of implicit
 * parents. */
static void test_time_round_trip(void)
{
	static const struct {
		uint64_t in, out;
	} cases[] = {
	    {0, 0},
	    {0x12345678, 0x12345678},
	    {0x12345678ULL | (123456789ULL << 34), 0x12345678ULL | (123456789ULL << 34)},
	    {0x80000000ULL, 0xFFFFFFFF80000000ULL},  /* 2038..2106, extra 0 */
	    {0xFFFFFFFF7FFFFFFFULL, 0x37FFFFFFFULL}, /* negative time: clamped */
	    {0x37FFFFFFFULL, 0x37FFFFFFFULL},
	    {0x100000000ULL, 0x100000000ULL},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct tar_time t = ext4w_time_decode(cases[i].in);
		CU_ASSERT_EQUAL(ext4w_time_encode(&t), cases[i].out);
	}
	{
		struct tar_time t = {1, -62135596800LL, 0}; /* Go's zero time */
		CU_ASSERT_EQUAL(ext4w_time_encode(&t), 0);
		t.sec = -0x80000001LL;
		CU_ASSERT_EQUAL(ext4w_time_encode(&t), 0x80000000ULL);
		t.sec = -1;
		t.nsec = 5;
		CU_ASSERT_EQUAL(ext4w_time_encode(&t), 0xFFFFFFFFFFFFFFFFULL);
	}
}

static int int_less(const void *a, const void *b)
{
	return *(const int *)a < *(const int *)b;
}

/* With a proper order the port must sort; exact order with compactext4's
 * comparator is pinned by xattrs-many-block.tar. */
static void test_gosort_sorts(void)
{
	unsigned s = 1;
	for (int n = 0; n < 600; n += 7) {
		int *v = malloc(sizeof(int) * (size_t)(n + 1));
		for (int i = 0; i < n; i++) {
			s = s * 1103515245 + 12345;
			v[i] = (int)(s >> 16) % (n / 3 + 1); /* duplicates too */
		}
		if (n % 2)
			for (int i = 0; i < n; i++)
				v[i] = n - i; /* decreasing */
		go_sort_slice(v, (size_t)n, sizeof(int), int_less);
		for (int i = 1; i < n; i++)
			CU_ASSERT(v[i - 1] <= v[i]);
		free(v);
	}
}

/* ---- hostile archives ---- */

static void hdr(uint8_t *b, const char *name, char type, const char *size_octal)
{
	char size[12] = {0};

	snprintf(size, sizeof(size), "%s", size_octal);
	ustar_header(b, name, type, NULL, size);
}

static int hash_bytes(const uint8_t *p, size_t n, struct ng_err *err)
{
	char path[4096];
	const char *tmp = getenv("TMPDIR");
	struct layer_result r;
	FILE *f;
	int rc;

	snprintf(path, sizeof(path), "%s/ng-gen-layer-%d.tar", tmp && *tmp ? tmp : "/tmp",
		 (int)getpid());
	f = fopen(path, "wb");
	CU_ASSERT_FATAL(f != NULL);
	CU_ASSERT_FATAL(fwrite(p, 1, n, f) == n || n == 0);
	fclose(f);
	rc = layer_hash_file(path, NULL, &r, err);
	unlink(path);
	return rc;
}

static void test_huge_size_is_truncation(void)
{
	uint8_t b[3 * 512];
	struct ng_err err;

	memset(b, 0, sizeof(b));
	hdr(b, "big", '0', "77777777777"); /* 8 GiB claimed, 1 KiB present */
	CU_ASSERT(hash_bytes(b, sizeof(b), &err) < 0);
	CU_ASSERT(strstr(err.msg, "unexpected EOF") != NULL);
	/* base-256: 2^62 bytes */
	hdr(b, "big", '0', "");
	memset(b + 124, 0, 12);
	b[124] = 0x80;
	b[128] = 0x40;
	{
		unsigned sum = 0;
		memset(b + 148, ' ', 8);
		for (int i = 0; i < 512; i++)
			sum += b[i];
		snprintf((char *)b + 148, 8, "%06o", sum);
	}
	CU_ASSERT(hash_bytes(b, sizeof(b), &err) < 0);
}

static void test_meta_entry_limit(void)
{
	/* A PAX header claiming 2 MiB of records is refused before reading it. */
	uint8_t b[2 * 512];
	struct ng_err err;

	memset(b, 0, sizeof(b));
	hdr(b, "pax", 'x', "10000000");
	CU_ASSERT(hash_bytes(b, sizeof(b), &err) < 0);
	CU_ASSERT(strstr(err.msg, "1 MiB") != NULL);
	hdr(b, "gnu", 'L', "10000000");
	CU_ASSERT(hash_bytes(b, sizeof(b), &err) < 0);
}

static void test_bad_pax_records(void)
{
	uint8_t b[4 * 512];
	struct ng_err err;

	memset(b, 0, sizeof(b));
	hdr(b, "pax", 'x', "20");
	memcpy(b + 512, "99 path=x\n", 10); /* length beyond the data */
	hdr(b + 1024, "f", '0', "0");
	CU_ASSERT(hash_bytes(b, sizeof(b), &err) < 0);
	CU_ASSERT(strstr(err.msg, "PAX") != NULL);
}

static void test_deep_path_and_loops(void)
{
	/* 4000 nested implicit directories, then a hard link to itself and a
	 * symlink loop: the first is the reference's business (fine), the
	 * link must fail with "file not found", symlinks are never followed. */
	size_t depth = 4000, plen = depth * 2, n = 0;
	uint8_t *b = calloc(1, 64 * 1024);
	char *p = malloc(plen + 8);
	struct ng_err err;

	for (size_t i = 0; i < depth; i++)
		memcpy(p + 2 * i, "d/", 2);
	memcpy(p + plen, "f", 2);
	{
		/* PAX path record "LEN path=P\n", LEN counting its own digits */
		size_t body = 6 + strlen(p) + 1, len = body + 1;
		char *rec = malloc(plen + 64), sz[16], num[24];
		while ((size_t)snprintf(num, sizeof(num), "%zu", len) + body != len)
			len = (size_t)snprintf(num, sizeof(num), "%zu", len) + body;
		snprintf(rec, plen + 64, "%zu path=%s\n", len, p);
		snprintf(sz, sizeof(sz), "%o", (unsigned)strlen(rec));
		hdr(b, "pax", 'x', sz);
		memcpy(b + 512, rec, strlen(rec));
		n = 512 + ((strlen(rec) + 511) / 512) * 512;
		free(rec);
	}
	hdr(b + n, "placeholder", '0', "0");
	n += 512;
	if (hash_bytes(b, n + 1024, &err) != 0) {
		fprintf(stderr, "deep path: %s\n", err.msg);
		CU_FAIL("deep path rejected");
	}
	/* hard link onto itself */
	memset(b, 0, 64 * 1024);
	hdr(b, "a", '1', "0");
	memcpy(b + 157, "a", 1);
	{
		unsigned sum = 0;
		memset(b + 148, ' ', 8);
		for (int i = 0; i < 512; i++)
			sum += b[i];
		snprintf((char *)b + 148, 8, "%06o", sum);
	}
	CU_ASSERT(hash_bytes(b, 512 + 1024, &err) < 0);
	CU_ASSERT(strstr(err.msg, "file not found") != NULL);
	free(p);
	free(b);
}

static const struct ng_test tests[] = {
    {"digests beside the root (blob, diff_id)", test_digests},
    {"8 layers hashed concurrently", test_threads},
    {"compactext4 time encode/decode round trip", test_time_round_trip},
    {"Go pdqsort port sorts", test_gosort_sorts},
    {"huge sizes are truncation errors", test_huge_size_is_truncation},
    {"meta entries over 1 MiB refused", test_meta_entry_limit},
    {"malformed PAX records refused", test_bad_pax_records},
    {"deep paths work, self links fail", test_deep_path_and_loops},
};

NG_TEST_MAIN("gen_layer", tests)
