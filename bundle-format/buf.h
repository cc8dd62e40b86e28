/* buf.h: a growable byte buffer, always NUL-terminated so text can be used
 * as a C string. The size cap makes it safe to fill from hostile input. */
#ifndef NG_BUF_H
#define NG_BUF_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct buf {
	uint8_t *data;
	size_t len;
	size_t cap;
	size_t max; /* 0: no cap */
	int oom;    /* sticky: an append failed or hit max */
};

void buf_init(struct buf *b, size_t max);
void buf_free(struct buf *b);
int buf_append(struct buf *b, const void *p, size_t n);
int buf_puts(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Transfers ownership of the data (NUL-terminated) to the caller. */
char *buf_steal(struct buf *b);

#endif
