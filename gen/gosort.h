/* gosort.h: Go's sort.Slice (pdqsort_func, go1.19+ src/sort/zsortfunc.go)
 * reproduced step for step. compactext4 orders xattr block entries with a
 * comparator that is not a strict weak order, so the result depends on the
 * exact sequence of comparisons and swaps; any other sort gives other bytes. */
#ifndef NG_GOSORT_H
#define NG_GOSORT_H

#include <stddef.h>

/* Sorts n elements of size bytes (size <= 256) at base. */
void go_sort_slice(void *base, size_t n, size_t size, int (*less)(const void *, const void *));

#endif
