/* arm_expr.h: the part of ARM template expressions az confcom understands
 * (../shared/research/confcom-policy.md §3): the first whole-token
 * [parameters('NAME')] or [variables('NAME')] of a string is replaced by the
 * value's Python str(); names match case-insensitively; whether it is a
 * parameter is decided by the word "parameters" anywhere in the string.
 * Everything else (concat(), if(), ...) stays literal text. */
#ifndef NG_ARM_EXPR_H
#define NG_ARM_EXPR_H

#include <cjson/cJSON.h>

#include "../bundle-format/buf.h"
#include "../bundle-format/err.h"

/* Resolves s against arm's parameters (values from given_params, the
 * "parameters" object of a -p file, else defaultValue) and variables. *out is
 * malloc'd; *unresolved is set when the named value is undefined (then *out
 * is a copy of s). who names the container in messages. */
int arm_expr_resolve(const cJSON *arm, const cJSON *given_params, const char *who, const char *s,
		     char **out, int *unresolved, struct ng_err *err);
/* The member of obj named name, ignoring case (ARM property lookup). */
const cJSON *arm_lookup_ci(const cJSON *obj, const char *name);
/* Appends Python's str() of a string, bool or integral number; -1 otherwise. */
int arm_py_str(const cJSON *v, struct buf *b);

#endif
