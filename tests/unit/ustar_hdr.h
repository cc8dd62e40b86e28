/* ustar_hdr.h: one header block of a hand-built test archive (POSIX.1-1988
 * ustar: name, mode 0644, uid/gid 0, mtime 0, type, link, "ustar\000"
 * magic, checksum over the block with the checksum field as spaces). */
#ifndef NG_TEST_USTAR_HDR_H
#define NG_TEST_USTAR_HDR_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* size is the raw 12-byte size field (octal text or base-256 bytes); link
 * may be NULL. */
static inline void ustar_header(uint8_t *b, const char *name, char type, const char *link,
				const char size[12])
{
	unsigned sum = 0;

	memset(b, 0, 512);
	snprintf((char *)b, 100, "%s", name);
	memcpy(b + 100, "0000644", 7);
	memcpy(b + 108, "0000000", 7);
	memcpy(b + 116, "0000000", 7);
	memcpy(b + 124, size, 12);
	memcpy(b + 136, "00000000000", 11);
	b[156] = (uint8_t)type;
	if (link)
		snprintf((char *)b + 157, 100, "%s", link);
	memcpy(b + 257,
	       "ustar\0"
	       "00",
	       8);
	memset(b + 148, ' ', 8);
	for (int i = 0; i < 512; i++)
		sum += b[i];
	snprintf((char *)b + 148, 8, "%06o", sum);
}

#endif
