/* harness.h: the CUnit frame every unit test program uses. A test file lists
 * its tests and ends with NG_TEST_MAIN; the program prints CUnit's own run
 * summary, which tests/run.sh reads to count tests. */
#ifndef NG_TEST_HARNESS_H
#define NG_TEST_HARNESS_H

#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>

struct ng_test {
	const char *name;
	CU_TestFunc fn;
};

/* Source tree root (for tests/data), from $NG_SRCDIR or the current directory. */
static inline const char *ng_srcdir(void)
{
	const char *s = getenv("NG_SRCDIR");
	return s && *s ? s : ".";
}

#define NG_TEST_MAIN(suite_name, table)                                                            \
	int main(void)                                                                             \
	{                                                                                          \
		CU_pSuite s;                                                                       \
		unsigned fails;                                                                    \
		if (CU_initialize_registry() != CUE_SUCCESS)                                       \
			return 2;                                                                  \
		s = CU_add_suite(suite_name, NULL, NULL);                                          \
		for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)                      \
			CU_add_test(s, table[i].name, table[i].fn);                                \
		CU_basic_set_mode(CU_BRM_VERBOSE);                                                 \
		CU_basic_run_tests();                                                              \
		fails = CU_get_number_of_tests_failed();                                           \
		CU_cleanup_registry();                                                             \
		return fails ? 1 : 0;                                                              \
	}

#endif
