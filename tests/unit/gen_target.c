/* gen/target: the KEK fingerprint gate on target.json. The fixture
 * (tests/data/infra) was made with the openssl CLI: kek.sha256 is
 * `openssl pkey -pubin -outform DER | sha256sum`, an independent oracle. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../bundle-format/fileio.h"
#include "../../gen/target.h"
#include "harness.h"

static char path[4096], fp[80];
static char *doc;
static size_t doclen;

static void setup(void)
{
	char p[4096];
	uint8_t *d = NULL;
	size_t n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/tests/data/infra/target.json", ng_srcdir());
	snprintf(p, sizeof(p), "%s/tests/data/infra/kek.sha256", ng_srcdir());
	CU_ASSERT_FATAL((f = fopen(p, "r")) != NULL);
	CU_ASSERT_FATAL(fgets(fp, sizeof(fp), f) != NULL);
	fclose(f);
	fp[strcspn(fp, "\n")] = 0;
	if (!doc) {
		CU_ASSERT_FATAL(read_file_capped(path, 1 << 20, &d, &n, NULL) == 0);
		doc = (char *)d;
		doclen = n;
	}
}

static void test_forms(void)
{
	unsigned char a[32], b[32];
	char colon[128] = "", upper[80];
	struct ng_err err;

	setup();
	CU_ASSERT(target_fingerprint_parse(fp, "fp", a, &err) == 0);
	CU_ASSERT(target_fingerprint_parse(fp + 7, "fp", b, &err) == 0);
	CU_ASSERT(memcmp(a, b, 32) == 0);
	for (int i = 0; i < 32; i++)
		snprintf(colon + strlen(colon), sizeof(colon) - strlen(colon), "%s%.2s",
			 i ? ":" : "", fp + 7 + 2 * i);
	CU_ASSERT(target_fingerprint_parse(colon, "fp", b, &err) == 0 && !memcmp(a, b, 32));
	snprintf(upper, sizeof(upper), "SHA256:%s", fp + 7);
	for (char *c = upper; *c; c++)
		*c = (char)(*c >= 'a' && *c <= 'f' ? *c - 32 : *c);
	CU_ASSERT(target_fingerprint_parse(upper, "fp", b, &err) == 0 && !memcmp(a, b, 32));
	CU_ASSERT(target_fingerprint_parse("abcd", "fp", b, &err) == NG_EINVAL);
	CU_ASSERT(strstr(err.msg, "fp: want the 64 hex digits") != NULL);
	upper[20] = 'g';
	CU_ASSERT(target_fingerprint_parse(upper, "fp", b, &err) == NG_EINVAL);
	CU_ASSERT(target_fingerprint_parse(NULL, "fp", b, &err) == NG_EUSAGE);
}

static void test_load(void)
{
	struct target *t = NULL;
	struct ng_err err;

	setup();
	CU_ASSERT_FATAL(target_load(path, fp, &t, &err) == 0);
	CU_ASSERT_STRING_EQUAL(target_fingerprint(t), fp);
	CU_ASSERT_STRING_EQUAL(target_str(t, "storage.share"), "caddy");
	CU_ASSERT_STRING_EQUAL(target_str(t, "identity.client_id"),
			       "11111111-1111-4111-8111-111111111111");
	CU_ASSERT(target_str(t, "storage.nope") == NULL);
	CU_ASSERT(target_kek(t) != NULL);
	target_free(t);
}

static void test_refusals(void)
{
	struct target *t = NULL;
	struct ng_err err;
	char wrong[80], *m;

	setup();
	snprintf(wrong, sizeof(wrong), "%s", fp);
	wrong[10] = wrong[10] == '0' ? '1' : '0';
	CU_ASSERT(target_load(path, wrong, &t, &err) == NG_EVERIFY && !t);
	CU_ASSERT(strstr(err.msg, "does not match --kek-fingerprint") != NULL);
	/* kek.sha256 edited to agree with a wrong typed value: still refused */
	m = strdup(doc);
	memcpy(strstr(m, fp), wrong, strlen(wrong));
	CU_ASSERT(target_parse(m, doclen, "t.json", wrong, &t, &err) == NG_EVERIFY && !t);
	/* the recorded copy disagreeing with the key */
	CU_ASSERT(target_parse(m, doclen, "t.json", fp, &t, &err) == NG_EVERIFY && !t);
	CU_ASSERT(strstr(err.msg, "kek.sha256 disagrees") != NULL);
	free(m);
	/* a member missing */
	m = strdup(doc);
	memcpy(strstr(m, "\"client_id\""), "\"clientXid\"", 11);
	CU_ASSERT(target_parse(m, doclen, "t.json", fp, &t, &err) == NG_EINVAL);
	CU_ASSERT(strstr(err.msg, "t.json: identity.client_id missing") != NULL);
	free(m);
	CU_ASSERT(target_parse("[]", 2, "t.json", fp, &t, &err) == NG_EINVAL);
	CU_ASSERT(target_parse(doc, doclen - 3, "t.json", fp, &t, &err) == NG_EINVAL);
	free(doc);
	doc = NULL;
}

static const struct ng_test tests[] = {
    {"fingerprint forms", test_forms},
    {"load", test_load},
    {"refusals", test_refusals},
};
NG_TEST_MAIN("gen_target", tests)
