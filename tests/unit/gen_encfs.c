/* encfs.c option parsing and validation (no image is written here; the
 * integration tests check images against cryptsetup and e2fsprogs). */
#include <string.h>

#include "../../gen/encfs.h"
#include "harness.h"

static void test_parse_size(void)
{
	struct ng_err err;
	uint64_t v;

	CU_ASSERT_EQUAL(encfs_parse_size("1GiB", &v, &err), 0);
	CU_ASSERT_EQUAL(v, 1ULL << 30);
	CU_ASSERT_EQUAL(encfs_parse_size("1024M", &v, &err), 0);
	CU_ASSERT_EQUAL(v, 1ULL << 30);
	CU_ASSERT_EQUAL(encfs_parse_size("67108864", &v, &err), 0);
	CU_ASSERT_EQUAL(v, 67108864);
	CU_ASSERT_EQUAL(encfs_parse_size("", &v, &err), NG_EINVAL);
	CU_ASSERT_EQUAL(encfs_parse_size("-1", &v, &err), NG_EINVAL);
	CU_ASSERT_EQUAL(encfs_parse_size("1GB", &v, &err), NG_EINVAL);
	CU_ASSERT_EQUAL(encfs_parse_size("99999999999999999999", &v, &err), NG_EINVAL);
	CU_ASSERT_EQUAL(encfs_parse_size("17179869184TiB", &v, &err), NG_EINVAL);
	CU_ASSERT_EQUAL(encfs_parse_size(NULL, &v, &err), NG_EINVAL);
}

static void test_validate(void)
{
	struct ng_err err;
	struct encfs_add add = {"/nonexistent-nutgen", "x"};
	struct encfs_add dots = {"/etc/hostname", "a/../b"};
	struct encfs_opts o = {.size = ENCFS_DEFAULT_SIZE};

	CU_ASSERT_EQUAL(encfs_validate(&o, &err), 0);
	o.size = ENCFS_DEFAULT_SIZE + 512;
	CU_ASSERT_EQUAL(encfs_validate(&o, &err), NG_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "multiple of 4096"));
	o.size = ENCFS_MIN_SIZE - 4096;
	CU_ASSERT_EQUAL(encfs_validate(&o, &err), NG_EINVAL);
	o.size = ENCFS_MIN_SIZE;
	o.journal_mib = 32;
	CU_ASSERT_EQUAL(encfs_validate(&o, &err), NG_EINVAL);
	o.journal_mib = 0;
	o.inodes = 10;
	CU_ASSERT_EQUAL(encfs_validate(&o, &err), NG_EINVAL);
	o.inodes = 0;
	o.marker = "a/b";
	CU_ASSERT_EQUAL(encfs_validate(&o, &err), NG_EINVAL);
	o.marker = "";
	CU_ASSERT_EQUAL(encfs_validate(&o, &err), 0);
	o.adds = &add;
	o.nadds = 1;
	CU_ASSERT_EQUAL(encfs_validate(&o, &err), NG_ENOTFOUND);
	o.adds = &dots;
	CU_ASSERT_EQUAL(encfs_validate(&o, &err), NG_EINVAL);
}

static const struct ng_test tests[] = {
    {"size parsing", test_parse_size},
    {"option validation", test_validate},
};

NG_TEST_MAIN("gen_encfs", tests)
