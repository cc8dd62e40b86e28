/* The bundle format's rules as SPEC.md states them: names (§3.2), header
 * bytes (§3.3), sparse maps (§3.4), manifest canonical form and schema (§5),
 * and a write/read/extract round trip with trust thresholds (§6). Expected
 * values come from the SPEC's text, not from our output. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "../../bundle-format/bundle.h"
#include "../../bundle-format/fileio.h"
#include "../../bundle-format/tarfmt.h"
#include "harness.h"

static void test_names(void)
{
	CU_ASSERT(tar_name_valid("MANIFEST.json"));
	CU_ASSERT(tar_name_valid("SIGNATURES/ab.sig"));
	CU_ASSERT(tar_name_valid("encfs.img"));
	CU_ASSERT(!tar_name_valid(""));
	CU_ASSERT(!tar_name_valid("/etc/passwd"));
	CU_ASSERT(!tar_name_valid(".."));
	CU_ASSERT(!tar_name_valid("a/../b"));
	CU_ASSERT(!tar_name_valid("a/./b"));
	CU_ASSERT(!tar_name_valid("./a"));
	CU_ASSERT(!tar_name_valid("a/b/c"));
	CU_ASSERT(!tar_name_valid("a/"));
	CU_ASSERT(!tar_name_valid("a//b"));
	CU_ASSERT(!tar_name_valid(".hidden"));
	CU_ASSERT(!tar_name_valid("sp ace"));
	CU_ASSERT(!tar_name_valid("a\\b"));
	CU_ASSERT(tar_name_valid(
	    "a23456789012345678901234567890123456789012345678901234567890123456789012345678"
	    "9"));
	CU_ASSERT(!tar_name_valid(
	    "a234567890123456789012345678901234567890123456789012345678901234567890123456789"
	    "01"));
	CU_ASSERT(manifest_payload_name_valid("policy.rego"));
	CU_ASSERT(!manifest_payload_name_valid("MANIFEST.json"));
	CU_ASSERT(!manifest_payload_name_valid("0day"));
	CU_ASSERT(!manifest_payload_name_valid("a/b"));
}

static void test_header_bytes(void)
{
	struct buf b;
	struct ng_err err;
	const char *h;
	unsigned sum = 0;

	buf_init(&b, 0);
	CU_ASSERT_EQUAL_FATAL(tar_header_encode(&b, "hello.txt", 6, 0, 0, &err), 0);
	/* x block + "18 path=hello.txt\n" padded + ustar block (SPEC §3.3). */
	CU_ASSERT_EQUAL_FATAL(b.len, 3 * 512);
	h = (const char *)b.data;
	CU_ASSERT_STRING_EQUAL(h, "PaxHeaders.0/hello.txt");
	CU_ASSERT_EQUAL(h[156], 'x');
	CU_ASSERT(!memcmp(h + 512, "18 path=hello.txt\n", 18)); /* 18 = its own length */
	h += 1024;
	CU_ASSERT_STRING_EQUAL(h, "hello.txt");
	CU_ASSERT(!memcmp(h + 100, "0000644\0", 8));
	CU_ASSERT(!memcmp(h + 108, "0000000\0", 8));
	CU_ASSERT(!memcmp(h + 124, "00000000006\0", 12));
	CU_ASSERT(!memcmp(h + 136, "00000000000\0", 12));
	CU_ASSERT_EQUAL(h[156], '0');
	CU_ASSERT(!memcmp(h + 257,
			  "ustar\0"
			  "00",
			  8));
	for (int i = 0; i < 512; i++)
		sum += (i >= 148 && i < 156) ? ' ' : (unsigned char)h[i];
	CU_ASSERT_EQUAL(strtoul(h + 148, NULL, 8), sum);
	CU_ASSERT_EQUAL(h[155], ' ');
	buf_free(&b);
	buf_init(&b, 0);
	CU_ASSERT_NOT_EQUAL(tar_header_encode(&b, "../x", 1, 0, 0, &err), 0);
	buf_free(&b);
}

static void test_sparse_maps(void)
{
	struct tar_span ok[] = {{0, 4096}, {8192, 100}, {10000, 0}};
	struct tar_span overlap[] = {{0, 10}, {5, 10}};
	struct tar_span exceed[] = {{0, 10}, {5000, 5001}};
	struct tar_span empty_mid[] = {{0, 0}, {10, 5}};
	struct tar_span wrap[] = {{UINT64_MAX - 1, 4}};
	struct buf b;
	struct ng_err err;
	uint64_t data;

	CU_ASSERT_EQUAL(tar_sparse_map_check(ok, 3, 10000, &data, &err), 0);
	CU_ASSERT_EQUAL(data, 4196);
	CU_ASSERT_NOT_EQUAL(tar_sparse_map_check(overlap, 2, 100, &data, &err), 0);
	CU_ASSERT_NOT_EQUAL(tar_sparse_map_check(exceed, 2, 10000, &data, &err), 0);
	CU_ASSERT_NOT_EQUAL(tar_sparse_map_check(empty_mid, 2, 100, &data, &err), 0);
	CU_ASSERT_NOT_EQUAL(tar_sparse_map_check(wrap, 1, 100, &data, &err), 0);
	CU_ASSERT_NOT_EQUAL(tar_sparse_map_check(ok, 0, 100, &data, &err), 0);
	buf_init(&b, 0);
	CU_ASSERT_EQUAL(tar_sparse_map_encode(&b, ok, 3, &err), 0);
	CU_ASSERT_EQUAL(b.len, 512);
	CU_ASSERT(!memcmp(b.data, "3\n0\n4096\n8192\n100\n10000\n0\n", 26));
	CU_ASSERT_EQUAL(b.data[26], 0);
	buf_free(&b);
}

#define M_HEAD "{\n  \"created\": \"2026-01-01T00:00:00Z\",\n"
#define M_MID                                                                                      \
	"  \"format\": \"nutgen-bundle\",\n  \"format_version\": 1,\n  \"generator\": \"x\",\n"    \
	"  \"members\": [],\n"

static int parse(const char *s)
{
	struct manifest *m = NULL;
	struct ng_err err;
	int rc = manifest_parse((const uint8_t *)s, strlen(s), &m, &err);

	manifest_free(m);
	return rc;
}

static void test_manifest(void)
{
	CU_ASSERT_EQUAL(parse(M_HEAD M_MID "  \"serial\": 1\n}\n"), 0);
	/* Not canonical: missing final newline, extra space, float. */
	CU_ASSERT_NOT_EQUAL(parse(M_HEAD M_MID "  \"serial\": 1\n}"), 0);
	CU_ASSERT_NOT_EQUAL(parse(M_HEAD M_MID "  \"serial\":  1\n}\n"), 0);
	CU_ASSERT_NOT_EQUAL(parse(M_HEAD M_MID "  \"serial\": 1.5\n}\n"), 0);
	/* Schema. */
	CU_ASSERT_NOT_EQUAL(parse(M_HEAD M_MID "  \"serial\": 0\n}\n"), 0);
	CU_ASSERT_NOT_EQUAL(parse(M_HEAD M_MID "  \"serial\": 1,\n  \"zzz\": 1\n}\n"), 0);
	CU_ASSERT_NOT_EQUAL(
	    parse("{\n  \"created\": \"2026-02-30T00:00:00Z\",\n" M_MID "  \"serial\": 1\n}\n"), 0);
	CU_ASSERT_NOT_EQUAL(
	    parse(M_HEAD "  \"expires\": \"2025-01-01T00:00:00Z\",\n" M_MID "  \"serial\": 1\n}\n"),
	    0);
	CU_ASSERT_EQUAL(
	    parse(M_HEAD "  \"expires\": \"2027-01-01T00:00:00Z\",\n" M_MID "  \"serial\": 1\n}\n"),
	    0);
	CU_ASSERT_NOT_EQUAL(
	    parse(M_HEAD "  \"format\": \"nutgen-bundle\",\n  \"format_version\": 2,\n"
			 "  \"generator\": \"x\",\n  \"members\": [],\n  \"serial\": 1\n}\n"),
	    0);
}

static void test_round_trip(void)
{
	char *dir = NULL, p[4200], q[4200], q2[4200];
	struct ng_err err;
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"),
		 *k2 = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	uint8_t pub[2][32];
	cJSON *f = cJSON_Parse("{\"created\":\"2026-01-01T00:00:00Z\",\"serial\":5}");
	struct bundle *b = NULL;
	struct stat st;
	int fd;

	CU_ASSERT_EQUAL_FATAL(make_private_tmpdir("bf_bundle", &dir, &err), 0);
	snprintf(p, sizeof(p), "%s/img", dir);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CU_ASSERT_EQUAL_FATAL(ftruncate(fd, 64 << 20), 0);
	CU_ASSERT_EQUAL(pwrite(fd, "data", 4, 40 << 20), 4);
	close(fd);
	struct bundle_input in[] = {{.name = "text.txt", .data = "hello", .len = 5},
				    {.name = "encfs.img", .path = p, .sparse = 1}};
	snprintf(q, sizeof(q), "%s/b.tgz", dir);
	CU_ASSERT_EQUAL_FATAL(bundle_create(q, f, in, 2, &k, 1, &err), 0);
	sigkey_public_raw(k, pub[0], &err);
	sigkey_public_raw(k2, pub[1], &err);

	struct bundle_read_opts o = {
	    .trusted = (const uint8_t(*)[32])pub, .ntrusted = 1, .threshold = 1};
	CU_ASSERT_EQUAL(bundle_open(q, &o, &b, &err), 0);
	CU_ASSERT_EQUAL_FATAL(b != NULL, 1);
	CU_ASSERT_EQUAL(b->nmembers, 2);
	CU_ASSERT_STRING_EQUAL(b->members[0].name, "encfs.img"); /* sorted */
	CU_ASSERT(b->members[0].sparse);
	CU_ASSERT_EQUAL(b->members[0].size, 64 << 20);
	CU_ASSERT(b->members[0].stored < 8192);
	CU_ASSERT_STRING_EQUAL((char *)bundle_member_get(b, "text.txt")->data, "hello");
	CU_ASSERT_EQUAL(b->m->serial, 5);
	bundle_free(b);
	b = NULL;
	/* Threshold 2 with one signer: refused; co-signed by k2: accepted. */
	o.ntrusted = 2;
	o.threshold = 2;
	CU_ASSERT_EQUAL(bundle_open(q, &o, &b, &err), NG_EVERIFY);
	struct bundle_read_opts plain = {0};
	CU_ASSERT_EQUAL(bundle_cosign(q, k2, &plain, &err), 0);
	CU_ASSERT_EQUAL(bundle_cosign(q, k2, &plain, &err), 1);
	/* Extraction into a private directory: same content, holes kept. */
	snprintf(p, sizeof(p), "%s/x", dir);
	CU_ASSERT_EQUAL_FATAL(mkdir(p, 0700), 0);
	o.extract_dir = p;
	CU_ASSERT_EQUAL(bundle_open(q, &o, &b, &err), 0);
	bundle_free(b);
	snprintf(p, sizeof(p), "%s/x/encfs.img", dir);
	CU_ASSERT_EQUAL_FATAL(stat(p, &st), 0);
	CU_ASSERT_EQUAL(st.st_size, 64 << 20);
	CU_ASSERT(st.st_blocks < 64);
	/* Extraction never follows a link planted in the directory. */
	snprintf(p, sizeof(p), "%s/y", dir);
	CU_ASSERT_EQUAL_FATAL(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/y/text.txt", dir);
	snprintf(q2, sizeof(q2), "%s/outside", dir);
	CU_ASSERT_EQUAL_FATAL(symlink(q2, p), 0);
	snprintf(p, sizeof(p), "%s/y", dir);
	o.extract_dir = p;
	CU_ASSERT_NOT_EQUAL(bundle_open(q, &o, &b, &err), 0);
	CU_ASSERT_NOT_EQUAL(access(q2, F_OK), 0);
	/* Expired, and rollback. */
	o.extract_dir = NULL;
	o.min_serial = 6;
	CU_ASSERT_EQUAL(bundle_open(q, &o, &b, &err), NG_EVERIFY);
	CU_ASSERT(strstr(err.msg, "rollback") != NULL);
	remove_tree(dir);
	free(dir);
	cJSON_Delete(f);
	EVP_PKEY_free(k);
	EVP_PKEY_free(k2);
}

/* The tar bytes a gzip file decompresses to (zlib, not our reader), or 0
 * bytes when it is not valid gzip: an independent check that an accepted
 * bundle never decodes to other bytes than the signed one. */
static size_t gunzip_all(const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
	z_stream z;
	size_t got;
	int zr;

	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, 31) != Z_OK)
		return 0;
	z.next_in = (uint8_t *)in;
	z.avail_in = (uInt)n;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	zr = inflate(&z, Z_FINISH);
	got = cap - z.avail_out;
	inflateEnd(&z);
	return zr == Z_STREAM_END && z.avail_in == 0 ? got : 0;
}

/* Acceptance: a byte changed anywhere in a bundle fails verification. Bytes
 * of a small bundle (plain and sparse members, two stored blocks, SPEC §2.1)
 * are inverted in turn. */
static void test_every_byte(void)
{
	char *dir = NULL, p[4200], q[4200], r[4200];
	struct ng_err err;
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	uint8_t pub[1][32], *data = NULL;
	size_t n = 0, failed = 0;
	cJSON *f = cJSON_Parse("{\"created\":\"2026-01-01T00:00:00Z\",\"serial\":5}");
	int fd;

	CU_ASSERT_EQUAL_FATAL(make_private_tmpdir("bf_bundle", &dir, &err), 0);
	snprintf(p, sizeof(p), "%s/img", dir);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CU_ASSERT_EQUAL_FATAL(ftruncate(fd, 256 << 10), 0);
	CU_ASSERT_EQUAL(pwrite(fd, "data", 4, 30000), 4);
	CU_ASSERT_EQUAL(pwrite(fd, "more", 4, 150000), 4);
	for (int j = 0; j < 14; j++)
		CU_ASSERT_EQUAL(pwrite(fd, "x", 1, 180000 + 4096 * j), 1);
	close(fd);
	struct bundle_input in[] = {{.name = "text.txt", .data = "hello", .len = 5},
				    {.name = "encfs.img", .path = p, .sparse = 1}};
	snprintf(q, sizeof(q), "%s/b.tgz", dir);
	snprintf(r, sizeof(r), "%s/flip.tgz", dir);
	CU_ASSERT_EQUAL_FATAL(bundle_create(q, f, in, 2, &k, 1, &err), 0);
	sigkey_public_raw(k, pub[0], &err);
	CU_ASSERT_EQUAL_FATAL(read_file_capped(q, 1 << 20, &data, &n, &err), 0);
	struct bundle_read_opts o = {
	    .trusted = (const uint8_t(*)[32])pub, .ntrusted = 1, .threshold = 1};
	size_t tar_cap = 1 << 20, tar_len, same_content = 0;
	uint8_t *tar = malloc(tar_cap), *flipped_tar = malloc(tar_cap);
	CU_ASSERT_PTR_NOT_NULL_FATAL(tar);
	CU_ASSERT_PTR_NOT_NULL_FATAL(flipped_tar);
	tar_len = gunzip_all(data, n, tar, tar_cap);
	CU_ASSERT_FATAL(tar_len > 65535);
	for (size_t i = 0; i < n; i++) {
		struct bundle *b = NULL;
		/* Every byte of the headers, signatures, maps, the block boundary
		 * and the end; inside the bulk data (one digest path for all of
		 * it) every 61st, to keep the test fast. */
		if (i >= 16384 && (i < 65536 - 256 || i >= 65536 + 256) && i + 2048 < n && i % 61)
			continue;
		data[i] ^= 0xff;
		/* Not write_file_atomic: its fsync per try would take minutes. */
		fd = open(r, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		CU_ASSERT_EQUAL_FATAL(write(fd, data, n), (ssize_t)n);
		close(fd);
		if (bundle_open(r, &o, &b, &err) == 0) {
			size_t m = gunzip_all(data, n, flipped_tar, tar_cap);
			bundle_free(b);
			if (m == tar_len && memcmp(flipped_tar, tar, m) == 0) {
				same_content++;
			} else {
				failed++;
				fprintf(stderr, "byte %zu of %zu inverted: still verifies\n", i, n);
			}
		}
		data[i] ^= 0xff;
	}
	CU_ASSERT_EQUAL(failed, 0);
	/* Stored blocks in one canonical framing leave no byte free to change
	 * while decoding to the same tar (as deflate's back-references did). */
	CU_ASSERT_EQUAL(same_content, 0);
	if (same_content)
		fprintf(stderr, "%zu inverted byte(s) decode to the signed bytes\n", same_content);
	free(tar);
	free(flipped_tar);
	free(data);
	remove_tree(dir);
	free(dir);
	cJSON_Delete(f);
	EVP_PKEY_free(k);
}

static const struct ng_test tests[] = {{"every byte inverted fails verify", test_every_byte},
				       {"member names (SPEC 3.2)", test_names},
				       {"header bytes (SPEC 3.3)", test_header_bytes},
				       {"sparse maps (SPEC 3.4)", test_sparse_maps},
				       {"manifest form and schema (SPEC 5)", test_manifest},
				       {"write, co-sign, verify, extract", test_round_trip}};

NG_TEST_MAIN("bundle", tests)
