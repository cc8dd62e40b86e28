/* verdict.h: the table `nutapply verify` prints: one row per check with the
 * value expected and the value seen, so that an auditor can read why a mint
 * passed or failed without rerunning anything. Rows marked informational
 * (TCB, measurement) never fail the verdict. */
#ifndef NA_VERDICT_H
#define NA_VERDICT_H

#include <stdio.h>

#define VERDICT_MAX_ROWS 48
#define VERDICT_VAL_MAX	 200

enum verdict_state { VERDICT_FAIL = 0, VERDICT_PASS = 1, VERDICT_INFO = 2 };

struct verdict_row {
	char name[40];
	int state;
	char expected[VERDICT_VAL_MAX];
	char seen[VERDICT_VAL_MAX];
};

struct verdict {
	struct verdict_row rows[VERDICT_MAX_ROWS];
	int n;
};

/* Adds a row; values longer than VERDICT_VAL_MAX are cut with "...". */
void verdict_add(struct verdict *v, const char *name, int state, const char *expected,
		 const char *seen);
/* The same with a printf-style seen value. */
void verdict_addf(struct verdict *v, const char *name, int state, const char *expected,
		  const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* 1 when at least one row passed and none failed. */
int verdict_ok(const struct verdict *v);
void verdict_print_table(const struct verdict *v, FILE *f);
/* {"checks":[{"check","expected","seen","status"}...],"ok":bool} */
int verdict_print_json(const struct verdict *v, FILE *f);

#endif
