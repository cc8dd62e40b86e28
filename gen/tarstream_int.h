/* tarstream_int.h: state shared by tarstream.c (headers and data),
 * tarparse.c (field and PAX parsing) and tarsparse.c (sparse entries).
 * Not an interface for other modules. */
#ifndef NG_TARSTREAM_INT_H
#define NG_TARSTREAM_INT_H

#include "tarstream.h"

#define BLK		 512
#define MAX_SPECIAL_FILE (1u << 20) /* Go's maxSpecialFileSize */

enum { FMT_V7, FMT_USTAR, FMT_GNU, FMT_STAR };

struct tar_frag {
	int64_t off, len;
};

struct tar_reader {
	struct layersrc *src;
	const char *name;
	uint64_t off;
	uint64_t data_left, pad;   /* physical data of the current entry */
	uint8_t blk[BLK];	   /* the last header block read */
	int fmt;		   /* its format */
	char *hname, *hlink;	   /* name/link of the returned header */
	char *longname, *longlink; /* pending GNU L/K */
	struct tar_pax *pax;	   /* pending or returned PAX records */
	size_t npax;
	uint8_t *special; /* contents of the last meta entry */
	/* sparse entry: data fragments and the logical position */
	int sparse;
	struct tar_frag *frags;
	size_t nfrags, fi;
	uint64_t lpos, lsize;
};

int tar_read_full(struct tar_reader *tr, uint8_t *buf, size_t n, size_t *got, struct ng_err *err);
int tar_unexpected_eof(struct tar_reader *tr, struct ng_err *err);
int tar_set_str(char **dst, const uint8_t *s, size_t n, struct tar_reader *tr, struct ng_err *err);

size_t tar_field_len(const uint8_t *b, size_t n);
int64_t tar_parse_octal(const uint8_t *b, size_t n, int *bad);
int64_t tar_parse_numeric(const uint8_t *b, size_t n, int *bad);
int tar_parse_dec(const uint8_t *s, size_t n, int64_t *out);
void tar_time_unix(struct tar_time *t, int64_t sec, int64_t nsec);
int tar_parse_pax_time(const uint8_t *s, size_t n, struct tar_time *t);
int tar_parse_pax(struct tar_reader *tr, const uint8_t *b, size_t n, struct ng_err *err);
const struct tar_pax *tar_pax_get(const struct tar_reader *tr, const char *key);
void tar_pax_clear(struct tar_reader *tr);

int tar_is_sparse(const struct tar_reader *tr, const struct tar_hdr *h);
/* Turns the current entry into a sparse one (may change h->size and the
 * name); physical data is then read through the two functions below. */
int tar_sparse_setup(struct tar_reader *tr, struct tar_hdr *h, struct ng_err *err);
int tar_sparse_peek(struct tar_reader *tr, const uint8_t **p, size_t *n, size_t max,
		    struct ng_err *err);
void tar_sparse_consume(struct tar_reader *tr, size_t n);
void tar_sparse_clear(struct tar_reader *tr);

#endif
