/* Atomic writes leave either the old file or the new one, never a part. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../bundle-format/fileio.h"
#include "harness.h"

static char *dir;

static char *path_in(const char *name)
{
	static char p[4096];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return p;
}

static int count_entries(void)
{
	char cmd[4200];
	FILE *f;
	int n = -1;

	snprintf(cmd, sizeof(cmd), "ls -A '%s' | wc -l", dir);
	f = popen(cmd, "r");
	if (f) {
		if (fscanf(f, "%d", &n) != 1)
			n = -1;
		pclose(f);
	}
	return n;
}

static void test_atomic_write_and_abort(void)
{
	struct ng_err err;
	struct safefile sf;
	uint8_t *data;
	size_t n;
	struct stat st;

	CU_ASSERT_EQUAL_FATAL(make_private_tmpdir("ng-fileio", &dir, &err), 0);
	CU_ASSERT_EQUAL(write_file_atomic(path_in("a"), "old", 3, 0600, &err), 0);
	CU_ASSERT_EQUAL(stat(path_in("a"), &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 0777, 0600);
	CU_ASSERT_EQUAL_FATAL(safefile_open(&sf, path_in("a"), 0644, &err), 0);
	CU_ASSERT_EQUAL(write_all(sf.fd, "partial", 7), 0);
	CU_ASSERT_EQUAL(count_entries(), 2);
	safefile_abort(&sf);
	CU_ASSERT_EQUAL(count_entries(), 1);
	CU_ASSERT_EQUAL(read_file_capped(path_in("a"), 100, &data, &n, &err), 0);
	CU_ASSERT_EQUAL(n, 3);
	CU_ASSERT(memcmp(data, "old", 3) == 0);
	free(data);
	CU_ASSERT_EQUAL(read_file_capped(path_in("a"), 2, &data, &n, &err), NG_ELIMIT);
	CU_ASSERT_EQUAL(read_file_capped(path_in("missing"), 2, &data, &n, &err), NG_ENOTFOUND);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "missing"));
}

static void test_cleanup_removes_tree(void)
{
	char sub[4200];
	FILE *f;

	snprintf(sub, sizeof(sub), "%s/d/e", dir);
	CU_ASSERT_EQUAL(mkdir(path_in("d"), 0700), 0);
	CU_ASSERT_EQUAL(mkdir(sub, 0700), 0);
	strcat(sub, "/f");
	f = fopen(sub, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fclose(f);
	cleanup_run();
	CU_ASSERT_NOT_EQUAL(access(dir, F_OK), 0);
	free(dir);
}

static const struct ng_test tests[] = {
    {"atomic write, abort leaves old file", test_atomic_write_and_abort},
    {"cleanup removes registered tree", test_cleanup_removes_tree},
};
NG_TEST_MAIN("fileio", tests)
