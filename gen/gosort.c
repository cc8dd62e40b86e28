/* gosort.c: see gosort.h. Same algorithm and constants as Go's pdqsort_func
 * (insertion sort up to 12, heapsort fallback, ninther pivot from 50,
 * xorshift 13/7/17 pattern breaking seeded with the length). */
#include "gosort.h"

#include <string.h>

struct ls {
	unsigned char *b;
	size_t size;
	int (*less)(const void *, const void *);
};

static int lt(const struct ls *d, long i, long j)
{
	return d->less(d->b + (size_t)i * d->size, d->b + (size_t)j * d->size);
}

static void sw(const struct ls *d, long i, long j)
{
	unsigned char t[256];
	unsigned char *x = d->b + (size_t)i * d->size, *y = d->b + (size_t)j * d->size;

	memcpy(t, x, d->size);
	memcpy(x, y, d->size);
	memcpy(y, t, d->size);
}

static void insertion(const struct ls *d, long a, long b)
{
	for (long i = a + 1; i < b; i++)
		for (long j = i; j > a && lt(d, j, j - 1); j--)
			sw(d, j, j - 1);
}

static void sift_down(const struct ls *d, long lo, long hi, long first)
{
	long root = lo;

	for (;;) {
		long child = 2 * root + 1;
		if (child >= hi)
			return;
		if (child + 1 < hi && lt(d, first + child, first + child + 1))
			child++;
		if (!lt(d, first + root, first + child))
			return;
		sw(d, first + root, first + child);
		root = child;
	}
}

static void heap_sort(const struct ls *d, long a, long b)
{
	long first = a, hi = b - a;

	for (long i = (hi - 1) / 2; i >= 0; i--)
		sift_down(d, i, hi, first);
	for (long i = hi - 1; i >= 0; i--) {
		sw(d, first, first + i);
		sift_down(d, 0, i, first);
	}
}

static int bits_len(unsigned long x)
{
	int n = 0;

	while (x) {
		n++;
		x >>= 1;
	}
	return n;
}

static void break_patterns(const struct ls *d, long a, long b)
{
	long length = b - a;

	if (length >= 8) {
		unsigned long long r = (unsigned long long)length;
		unsigned long modulus = 1ul << bits_len((unsigned long)length);
		for (long idx = a + (length / 4) * 2 - 1; idx <= a + (length / 4) * 2 + 1; idx++) {
			long other;
			r ^= r << 13;
			r ^= r >> 7;
			r ^= r << 17;
			other = (long)((unsigned long)r & (modulus - 1));
			if (other >= length)
				other -= length;
			sw(d, idx, a + other);
		}
	}
}

static void order2(const struct ls *d, long *a, long *b, int *swaps)
{
	if (lt(d, *b, *a)) {
		long t = *a;
		(*swaps)++;
		*a = *b;
		*b = t;
	}
}

static long median(const struct ls *d, long a, long b, long c, int *swaps)
{
	order2(d, &a, &b, swaps);
	order2(d, &b, &c, swaps);
	order2(d, &a, &b, swaps);
	return b;
}

enum { UNKNOWN, INCREASING, DECREASING };

static long choose_pivot(const struct ls *d, long a, long b, int *hint)
{
	long l = b - a, i = a + l / 4 * 1, j = a + l / 4 * 2, k = a + l / 4 * 3;
	int swaps = 0;

	if (l >= 8) {
		if (l >= 50) {
			i = median(d, i - 1, i, i + 1, &swaps);
			j = median(d, j - 1, j, j + 1, &swaps);
			k = median(d, k - 1, k, k + 1, &swaps);
		}
		j = median(d, i, j, k, &swaps);
	}
	*hint = swaps == 0 ? INCREASING : swaps == 12 ? DECREASING : UNKNOWN;
	return j;
}

static void reverse_range(const struct ls *d, long a, long b)
{
	for (long i = a, j = b - 1; i < j; i++, j--)
		sw(d, i, j);
}

static int partial_insertion(const struct ls *d, long a, long b)
{
	long i = a + 1;

	for (int step = 0; step < 5; step++) {
		while (i < b && !lt(d, i, i - 1))
			i++;
		if (i == b)
			return 1;
		if (b - a < 50)
			return 0;
		sw(d, i, i - 1);
		if (i - a >= 2)
			for (long j = i - 1; j >= 1; j--) {
				if (!lt(d, j, j - 1))
					break;
				sw(d, j, j - 1);
			}
		if (b - i >= 2)
			for (long j = i + 1; j < b; j++) {
				if (!lt(d, j, j - 1))
					break;
				sw(d, j, j - 1);
			}
	}
	return 0;
}

static long partition_equal(const struct ls *d, long a, long b, long pivot)
{
	long i = a + 1, j = b - 1;

	sw(d, a, pivot);
	for (;;) {
		while (i <= j && !lt(d, a, i))
			i++;
		while (i <= j && lt(d, a, j))
			j--;
		if (i > j)
			break;
		sw(d, i, j);
		i++;
		j--;
	}
	return i;
}

static long partition(const struct ls *d, long a, long b, long pivot, int *already)
{
	long i = a + 1, j = b - 1;

	sw(d, a, pivot);
	while (i <= j && lt(d, i, a))
		i++;
	while (i <= j && !lt(d, j, a))
		j--;
	if (i > j) {
		sw(d, j, a);
		*already = 1;
		return j;
	}
	sw(d, i, j);
	i++;
	j--;
	for (;;) {
		while (i <= j && lt(d, i, a))
			i++;
		while (i <= j && !lt(d, j, a))
			j--;
		if (i > j)
			break;
		sw(d, i, j);
		i++;
		j--;
	}
	sw(d, j, a);
	*already = 0;
	return j;
}

static void pdqsort(const struct ls *d, long a, long b, int limit)
{
	int balanced = 1, partitioned = 1;

	for (;;) {
		long length = b - a, pivot, mid;
		int hint, already;
		if (length <= 12) {
			insertion(d, a, b);
			return;
		}
		if (limit == 0) {
			heap_sort(d, a, b);
			return;
		}
		if (!balanced) {
			break_patterns(d, a, b);
			limit--;
		}
		pivot = choose_pivot(d, a, b, &hint);
		if (hint == DECREASING) {
			reverse_range(d, a, b);
			pivot = (b - 1) - (pivot - a);
			hint = INCREASING;
		}
		if (balanced && partitioned && hint == INCREASING && partial_insertion(d, a, b))
			return;
		if (a > 0 && !lt(d, a - 1, pivot)) {
			a = partition_equal(d, a, b, pivot);
			continue;
		}
		mid = partition(d, a, b, pivot, &already);
		partitioned = already;
		if (mid - a < b - mid) {
			balanced = mid - a >= length / 8;
			pdqsort(d, a, mid, limit);
			a = mid + 1;
		} else {
			balanced = b - mid >= length / 8;
			pdqsort(d, mid + 1, b, limit);
			b = mid;
		}
	}
}

void go_sort_slice(void *base, size_t n, size_t size, int (*less)(const void *, const void *))
{
	struct ls d = {base, size, less};

	pdqsort(&d, 0, (long)n, bits_len(n));
}
