/* The canonical JSON printer against Python's json.dumps: the expected
 * strings below were produced by CPython 3.11's json module, not by us. */
#include <string.h>

#include "../../bundle-format/jsonw.h"
#include "harness.h"

static const char doc[] =
    "{\"b\":[1,\"x\\u00e9\\ud83d\\ude00\",null,true,false,{}],"
    "\"a\":{\"z\":\"q\\\"\\\\\\n\\t/\\u007f\\u0001\",\"y\":[]},\"n\":-42,\"f\":0.1,"
    "\"e\":1e-05,\"g\":1.5e20}";

/* json.dumps(doc, sort_keys=True, separators=(",", ":")) */
static const char want_compact[] =
    "{\"a\":{\"y\":[],\"z\":\"q\\\"\\\\\\n\\t/"
    "\\u007f\\u0001\"},\"b\":[1,\"x\\u00e9\\ud83d\\ude00\","
    "null,true,false,{}],\"e\":1e-05,\"f\":0.1,\"g\":1.5e+20,\"n\":-42}";
/* json.dumps(doc, sort_keys=True, indent=2) */
static const char want_pretty[] =
    "{\n  \"a\": {\n    \"y\": [],\n    \"z\": \"q\\\"\\\\\\n\\t/\\u007f\\u0001\"\n  },\n  \"b\": "
    "[\n"
    "    1,\n    \"x\\u00e9\\ud83d\\ude00\",\n    null,\n    true,\n    false,\n    {}\n  ],\n"
    "  \"e\": 1e-05,\n  \"f\": 0.1,\n  \"g\": 1.5e+20,\n  \"n\": -42\n}";

static void check(const struct jsonw_opts *o, const char *want)
{
	cJSON *j = cJSON_Parse(doc);
	struct buf b;
	struct ng_err err;

	CU_ASSERT_PTR_NOT_NULL_FATAL(j);
	buf_init(&b, 0);
	CU_ASSERT_EQUAL(jsonw_print(j, o, &b, &err), 0);
	CU_ASSERT_STRING_EQUAL((char *)b.data, want);
	buf_free(&b);
	cJSON_Delete(j);
}

static void test_compact(void)
{
	check(&JSONW_COMPACT_SORTED, want_compact);
}

static void test_pretty(void)
{
	check(&JSONW_PRETTY_SORTED, want_pretty);
}

static void test_rejects_bad_utf8(void)
{
	struct buf b;
	struct ng_err err;

	buf_init(&b, 0);
	CU_ASSERT_EQUAL(jsonw_string("a\xc0\xafz", 1, &b, &err), NG_EINVAL);
	buf_free(&b);
	buf_init(&b, 0);
	CU_ASSERT_EQUAL(jsonw_string("\xed\xa0\x80", 1, &b, &err), NG_EINVAL); /* surrogate */
	buf_free(&b);
}

static void test_duplicate_keys(void)
{
	cJSON *j = cJSON_Parse("{\"a\":1,\"a\":2}");
	struct buf b;
	struct ng_err err;

	buf_init(&b, 0);
	CU_ASSERT_EQUAL(jsonw_print(j, &JSONW_COMPACT_SORTED, &b, &err), NG_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "duplicate"));
	buf_free(&b);
	cJSON_Delete(j);
}

static const struct ng_test tests[] = {
    {"compact sorted equals json.dumps", test_compact},
    {"indent=2 equals json.dumps", test_pretty},
    {"invalid UTF-8 rejected", test_rejects_bad_utf8},
    {"duplicate keys rejected", test_duplicate_keys},
};
NG_TEST_MAIN("jsonw", tests)
