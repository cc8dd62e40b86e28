/* apply_http.c: the pure parts of the HTTP client: Retry-After parsing
 * (RFC 9110 §10.2.3 examples), backoff bounds, which statuses retry, and
 * that redaction never lets a credential through. */
#include <string.h>

#include "../../apply/http.h"
#include "harness.h"

static void test_retry_after(void)
{
	time_t now = 784111777; /* Sun, 06 Nov 1994 08:49:37 GMT, RFC 9110's example */
	CU_ASSERT_EQUAL(http_parse_retry_after("120", now), 120000);
	CU_ASSERT_EQUAL(http_parse_retry_after(" 0 ", now), 0);
	CU_ASSERT_EQUAL(http_parse_retry_after("Sun, 06 Nov 1994 08:49:47 GMT", now), 10000);
	CU_ASSERT_EQUAL(http_parse_retry_after("Sunday, 06-Nov-94 08:49:57 GMT", now), 20000);
	CU_ASSERT_EQUAL(http_parse_retry_after("Sun Nov  6 08:50:37 1994", now), 60000);
	CU_ASSERT_EQUAL(http_parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now), 0);
	CU_ASSERT_EQUAL(http_parse_retry_after("99999999999", now), 86400000L);
	CU_ASSERT_EQUAL(http_parse_retry_after("-5", now), -1);
	CU_ASSERT_EQUAL(http_parse_retry_after("12abc", now), -1);
	CU_ASSERT_EQUAL(http_parse_retry_after("", now), -1);
	CU_ASSERT_EQUAL(http_parse_retry_after("Sun, 06 Nov 1994 08:49:47 XYZ", now), -1);
	CU_ASSERT_EQUAL(http_parse_retry_after(NULL, now), -1);
}

static void test_backoff(void)
{
	CU_ASSERT_EQUAL(http_backoff_ms(1, 0.5, 30, 0.0), 0);
	CU_ASSERT_EQUAL(http_backoff_ms(1, 0.5, 30, 0.999999), 499);
	CU_ASSERT_EQUAL(http_backoff_ms(3, 0.5, 30, 0.5), 1000);
	CU_ASSERT_EQUAL(http_backoff_ms(20, 0.5, 30, 0.5), 15000); /* capped at max */
	for (int a = 1; a < 12; a++)
		CU_ASSERT(http_backoff_ms(a, 1, 8, 0.9999) <= 8000);
}

static void test_retryable(void)
{
	CU_ASSERT(http_status_retryable(408));
	CU_ASSERT(http_status_retryable(429));
	CU_ASSERT(http_status_retryable(500));
	CU_ASSERT(http_status_retryable(503));
	CU_ASSERT(!http_status_retryable(501));
	CU_ASSERT(!http_status_retryable(505));
	CU_ASSERT(!http_status_retryable(404));
	CU_ASSERT(!http_status_retryable(409));
	CU_ASSERT(!http_status_retryable(201));
}

static void test_redact_url(void)
{
	char o[512];
	http_redact_url("https://a.blob.core.windows.net/c/b?comp=page&sig=AbC%2Bd&se=2026", o,
			sizeof(o));
	CU_ASSERT_STRING_EQUAL(o, "https://a.blob.core.windows.net/c/b?...");
	http_redact_url("https://h/x?client_secret=s3&Access_Token=t&api-version=7.4", o,
			sizeof(o));
	CU_ASSERT_PTR_NULL(strstr(o, "s3"));
	http_redact_url("https://h/p", o, sizeof(o));
	CU_ASSERT_STRING_EQUAL(o, "https://h/p");
	http_redact_url("https://h/p?sig=SECRETSECRET", o, 14); /* truncated, terminated */
	CU_ASSERT_STRING_EQUAL(o, "https://h/p?.");
}

static void test_uuid(void)
{
	char a[37], b[37];
	http_uuid(a);
	http_uuid(b);
	CU_ASSERT_EQUAL(strlen(a), 36);
	CU_ASSERT_EQUAL(a[14], '4');
	CU_ASSERT(strcmp(a, b) != 0);
}

static const struct ng_test tests[] = {
    {"retry_after", test_retry_after}, {"backoff", test_backoff}, {"retryable", test_retryable},
    {"redact_url", test_redact_url},   {"uuid", test_uuid},
};

NG_TEST_MAIN("apply_http", tests)
