#include "codec.h"

#include <stdlib.h>
#include <string.h>

static const char b64std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

void hex_encode(const uint8_t *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int hex_decode(const char *in, uint8_t *out, size_t outlen, struct ng_err *err)
{
	if (strlen(in) != 2 * outlen)
		return ng_errf(err, NG_EINVAL, "expected %zu hex digits, got %zu", 2 * outlen,
			       strlen(in));
	for (size_t i = 0; i < outlen; i++) {
		int hi = hexval(in[2 * i]), lo = hexval(in[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return ng_errf(err, NG_EINVAL, "not a hex digit at offset %zu",
				       hi < 0 ? 2 * i : 2 * i + 1);
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

static char *encode(const uint8_t *in, size_t n, const char *alpha, int pad)
{
	size_t cap = (n + 2) / 3 * 4 + 1, o = 0;
	char *out = malloc(cap);

	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;
		size_t left = n - i;
		if (left > 1)
			v |= (uint32_t)in[i + 1] << 8;
		if (left > 2)
			v |= in[i + 2];
		out[o++] = alpha[v >> 18 & 63];
		out[o++] = alpha[v >> 12 & 63];
		if (left > 1)
			out[o++] = alpha[v >> 6 & 63];
		else if (pad)
			out[o++] = '=';
		if (left > 2)
			out[o++] = alpha[v & 63];
		else if (pad)
			out[o++] = '=';
	}
	out[o] = '\0';
	return out;
}

char *base64_encode(const uint8_t *in, size_t n)
{
	return encode(in, n, b64std, 1);
}

char *base64url_encode(const uint8_t *in, size_t n)
{
	return encode(in, n, b64url, 0);
}

static int decode(const char *in, size_t inlen, uint8_t **out, size_t *outlen, const char *alpha,
		  int pad, struct ng_err *err)
{
	int8_t rev[256];
	size_t data = inlen, o = 0;
	uint8_t *buf;

	memset(rev, -1, sizeof(rev));
	for (int i = 0; i < 64; i++)
		rev[(unsigned char)alpha[i]] = (int8_t)i;
	if (pad) {
		if (inlen % 4)
			return ng_errf(err, NG_EINVAL, "base64 length %zu is not a multiple of 4",
				       inlen);
		while (data > 0 && inlen - data < 2 && in[data - 1] == '=')
			data--;
	}
	if (data % 4 == 1)
		return ng_errf(err, NG_EINVAL, "base64 text has an impossible length");
	buf = malloc(data / 4 * 3 + 3);
	if (!buf)
		return ng_errf(err, NG_ENOMEM, "out of memory decoding base64");
	for (size_t i = 0; i < data; i += 4) {
		uint32_t v = 0;
		size_t k, chunk = data - i < 4 ? data - i : 4;
		for (k = 0; k < chunk; k++) {
			int8_t c = rev[(unsigned char)in[i + k]];
			if (c < 0) {
				free(buf);
				return ng_errf(err, NG_EINVAL,
					       "invalid base64 character at offset %zu", i + k);
			}
			v |= (uint32_t)c << (18 - 6 * k);
		}
		buf[o++] = (uint8_t)(v >> 16);
		if (chunk > 2)
			buf[o++] = (uint8_t)(v >> 8);
		if (chunk > 3)
			buf[o++] = (uint8_t)v;
		/* Non-zero leftover bits mean two encodings for one value:
		 * refuse, so a signed text has exactly one byte form. */
		if ((chunk == 2 && (v & 0xffff)) || (chunk == 3 && (v & 0xff))) {
			free(buf);
			return ng_errf(err, NG_EINVAL, "non-canonical base64 trailing bits");
		}
	}
	*out = buf;
	*outlen = o;
	return 0;
}

int base64_decode(const char *in, size_t inlen, uint8_t **out, size_t *outlen, struct ng_err *err)
{
	return decode(in, inlen, out, outlen, b64std, 1, err);
}

int base64url_decode(const char *in, size_t inlen, uint8_t **out, size_t *outlen,
		     struct ng_err *err)
{
	if (memchr(in, '=', inlen))
		return ng_errf(err, NG_EINVAL, "base64url text must not be padded");
	return decode(in, inlen, out, outlen, b64url, 0, err);
}
