/* apply_blob.c: the upload plan (which 512-byte pages are sent, in which
 * pieces), Get Page Ranges parsing, and the Shared Key string-to-sign
 * checked against a signature Azurite 3.35.0 computed itself (its debug log,
 * "Calculated authentication header based on key1"). */
#include <fcntl.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* the static helpers under test: the plan, the page list parser, the
 * string-to-sign (this program does not link libapply's blob.o) */
#include "../../apply/blob.c"
#include "../../bundle-format/codec.h"
#include "harness.h"

static int tmpfile_of(uint64_t size)
{
	char p[] = "/tmp/apply_blob.XXXXXX";
	int fd = mkstemp(p);
	unlink(p);
	if (fd >= 0 && ftruncate(fd, (off_t)size))
		return -1;
	return fd;
}

static void wr(int fd, uint64_t off, size_t n, int byte)
{
	char *b = malloc(n);
	memset(b, byte, n);
	CU_ASSERT_EQUAL(pwrite(fd, b, n, (off_t)off), (ssize_t)n);
	free(b);
}

static void test_plan(void)
{
	struct ng_err err;
	struct blob_range *r;
	size_t n;
	int fd = tmpfile_of(64ull << 20);

	CU_ASSERT_FATAL(fd >= 0);
	/* all holes: nothing to send */
	CU_ASSERT_EQUAL(plan(fd, 64ull << 20, &r, &n, &err), 0);
	CU_ASSERT_EQUAL(n, 0);
	free(r);
	/* written zeros are skipped; an unaligned byte makes its whole page */
	wr(fd, 1 << 20, 65536, 0);
	wr(fd, 1000, 1, 7);
	/* 10 MiB of data: cut into 4 MiB pieces */
	wr(fd, 8u << 20, 10u << 20, 1);
	/* two pages 1024 bytes apart: one range with the zero gap */
	wr(fd, 40u << 20, 512, 2);
	wr(fd, (40u << 20) + 1536, 512, 3);
	/* pages 4 KiB apart: two ranges */
	wr(fd, 50u << 20, 512, 4);
	wr(fd, (50u << 20) + 4608, 512, 5);
	/* the last page of the image */
	wr(fd, (64u << 20) - 512, 512, 6);
	CU_ASSERT_EQUAL(plan(fd, 64ull << 20, &r, &n, &err), 0);
	CU_ASSERT_EQUAL_FATAL(n, 8);
	CU_ASSERT(r[0].off == 512 && r[0].len == 512);
	CU_ASSERT(r[1].off == 8u << 20 && r[1].len == 4u << 20);
	CU_ASSERT(r[2].off == 12u << 20 && r[2].len == 4u << 20);
	CU_ASSERT(r[3].off == 16u << 20 && r[3].len == 2u << 20);
	CU_ASSERT(r[4].off == 40u << 20 && r[4].len == 2048);
	CU_ASSERT(r[5].off == 50u << 20 && r[5].len == 512);
	CU_ASSERT(r[6].off == (50u << 20) + 4608 && r[6].len == 512);
	CU_ASSERT(r[7].off == (64u << 20) - 512 && r[7].len == 512);
	free(r);
	close(fd);
}

static void test_page_list(void)
{
	struct ng_err err;
	struct blob_range *r;
	size_t n;
	char m[256];
	const char *ok =
	    "<?xml version=\"1.0\"?><PageList><PageRange><Start>0</Start><End>4095</End>"
	    "</PageRange><PageRange><Start>4096</Start><End>8191</End></PageRange>"
	    "<PageRange><Start>1048576</Start><End>1049087</End></PageRange>"
	    "<NextMarker>abc</NextMarker></PageList>";
	r = NULL;
	n = 0;
	CU_ASSERT_EQUAL(parse_page_list(ok, &r, &n, m, &err), 0);
	CU_ASSERT_EQUAL_FATAL(n, 2); /* adjacent entries merged */
	CU_ASSERT(r[0].off == 0 && r[0].len == 8192);
	CU_ASSERT(r[1].off == 1048576 && r[1].len == 512);
	CU_ASSERT_STRING_EQUAL(m, "abc");
	/* a second page appends, merging with the last range */
	CU_ASSERT_EQUAL(parse_page_list("<PageList>\n <PageRange>\n  <Start>1049088</Start>\n"
					"  <End>1049599</End>\n </PageRange>\n</PageList>",
					&r, &n, m, &err),
			0);
	CU_ASSERT_EQUAL_FATAL(n, 2);
	CU_ASSERT(r[1].off == 1048576 && r[1].len == 1024);
	CU_ASSERT_STRING_EQUAL(m, "");
	free(r);
	r = NULL;
	n = 0;
	CU_ASSERT_EQUAL(parse_page_list("<PageList />", &r, &n, m, &err), 0);
	CU_ASSERT_EQUAL(n, 0);
	static const char *const bad[] = {
	    "<PageRange><Start>1</Start><End>512</End></PageRange>",
	    "<PageRange><Start>512</Start><End>511</End></PageRange>",
	    "<PageRange><Start>-0</Start><End>511</End></PageRange>",
	    "<PageRange><Start>0</Start></PageRange>",
	    "<PageRange><Start>99999999999999999999</Start><End>511</End></PageRange>",
	    "<PageRange><Start>1024</Start><End>1535</End></PageRange>"
	    "<PageRange><Start>0</Start><End>511</End></PageRange>"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = NULL;
		n = 0;
		CU_ASSERT_NOT_EQUAL(parse_page_list(bad[i], &r, &n, m, &err), 0);
		free(r);
	}
}

static void test_shared_key(void)
{
	const char *key64 =
	    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTO"
	    "tr/KBHBeksoGMGw==";
	const char *hdrs[] = {"x-ms-date: Wed, 25 Nov 2026 14:20:47 GMT",
			      "x-ms-version: 2025-07-05", NULL};
	struct ng_err err;
	uint8_t *key, mac[32];
	size_t kl;
	unsigned int ml;
	char *sts = string_to_sign("devstoreaccount1", "PUT",
				   "https://127.0.0.1:38143/devstoreaccount1/vol?restype=container",
				   hdrs, 0);
	CU_ASSERT_STRING_EQUAL(sts,
			       "PUT\n\n\n\n\n\n\n\n\n\n\n\nx-ms-date:Wed, 25 Nov 2026 14:20:47 "
			       "GMT\nx-ms-version:2025-07-05\n/devstoreaccount1/"
			       "devstoreaccount1/vol\nrestype:container");
	CU_ASSERT_EQUAL_FATAL(base64_decode(key64, strlen(key64), &key, &kl, &err), 0);
	HMAC(EVP_sha256(), key, (int)kl, (unsigned char *)sts, strlen(sts), mac, &ml);
	char *sig = base64_encode(mac, ml);
	CU_ASSERT_STRING_EQUAL(sig, "OfOp0HeBMDmpRu4/hb/euDxA9ZO8pPp/Bw7E4SmHCZ4=");
	free(sig);
	free(key);
	free(sts);
	/* azure-rest.md §1.10 worked layout: Put Page with lease and MD5 */
	/* headers as breq_add keeps them: sorted, lower-case x-ms-* names */
	const char *h2[] = {"Content-MD5: M==",
			    "x-ms-date: Tue, 24 Nov 2026 20:00:00 GMT",
			    "x-ms-lease-id: L",
			    "x-ms-page-write: update",
			    "x-ms-range: bytes=0-4194303",
			    "x-ms-version: 2025-07-05",
			    NULL};
	sts = string_to_sign("devstoreaccount1", "PUT",
			     "http://127.0.0.1:10000/devstoreaccount1/nutimages/"
			     "encfs.img?comp=page",
			     h2, 4194304);
	CU_ASSERT_STRING_EQUAL(sts, "PUT\n\n\n4194304\nM==\n\n\n\n\n\n\n\n"
				    "x-ms-date:Tue, 24 Nov 2026 20:00:00 GMT\nx-ms-lease-id:L\n"
				    "x-ms-page-write:update\nx-ms-range:bytes=0-4194303\n"
				    "x-ms-version:2025-07-05\n/devstoreaccount1/devstoreaccount1/"
				    "nutimages/encfs.img\ncomp:page");
	free(sts);
}

/* §1.10 sorts canonicalized headers by name: a prefix name comes first even
 * when a value would sort the whole lines the other way ('-' < ':'). */
static void test_header_order(void)
{
	struct breq r;
	int range = -1, md5 = -1;

	CU_ASSERT_EQUAL(breq_init(&r, "GET", "https://a.blob.core.windows.net/c/b", NULL), 0);
	CU_ASSERT_EQUAL(breq_add(&r, "x-ms-range-get-content-md5: true"), 0);
	CU_ASSERT_EQUAL(breq_add(&r, "x-ms-range: bytes=0-511"), 0);
	for (int i = 0; r.h[i]; i++)
		if (!strncmp(r.h[i], "x-ms-range", 10))
			*(r.h[i][10] == ':' ? &range : &md5) = i;
	CU_ASSERT(range >= 0 && md5 > range);
	breq_free(&r);
}

static void test_account(void)
{
	struct ng_err err;
	char a[64];
	CU_ASSERT_EQUAL(
	    blob_account_from_url("https://acct.blob.core.windows.net/c/b", a, sizeof(a), &err), 0);
	CU_ASSERT_STRING_EQUAL(a, "acct");
	CU_ASSERT_EQUAL(
	    blob_account_from_url("https://127.0.0.1:1/devstoreaccount1/c/b", a, sizeof(a), &err),
	    0);
	CU_ASSERT_STRING_EQUAL(a, "devstoreaccount1");
	CU_ASSERT_NOT_EQUAL(blob_account_from_url("ftp://x/y", a, sizeof(a), &err), 0);
	CU_ASSERT_NOT_EQUAL(blob_account_from_url("https://hostonly", a, sizeof(a), &err), 0);
}

static const struct ng_test tests[] = {
    {"plan", test_plan},       {"page_list", test_page_list},	    {"shared_key", test_shared_key},
    {"account", test_account}, {"header_order", test_header_order},
};

NG_TEST_MAIN("apply_blob", tests)
