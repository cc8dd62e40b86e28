#include "digest.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "codec.h"

struct sha256_ctx {
	EVP_MD_CTX *md;
};

struct sha256_ctx *sha256_new(void)
{
	struct sha256_ctx *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->md = EVP_MD_CTX_new();
	if (!c->md || !EVP_DigestInit_ex(c->md, EVP_sha256(), NULL)) {
		sha256_free(c);
		return NULL;
	}
	return c;
}

void sha256_free(struct sha256_ctx *c)
{
	if (!c)
		return;
	EVP_MD_CTX_free(c->md);
	free(c);
}

void sha256_update(struct sha256_ctx *c, const void *p, size_t n)
{
	EVP_DigestUpdate(c->md, p, n);
}

void sha256_final(struct sha256_ctx *c, uint8_t out[SHA256_LEN])
{
	unsigned int len = SHA256_LEN;

	EVP_DigestFinal_ex(c->md, out, &len);
}

void sha256(const void *p, size_t n, uint8_t out[SHA256_LEN])
{
	unsigned int len = SHA256_LEN;

	EVP_Digest(p, n, out, &len, EVP_sha256(), NULL);
}

void sha256_hex(const void *p, size_t n, char out[SHA256_HEX_LEN + 1])
{
	uint8_t d[SHA256_LEN];

	sha256(p, n, d);
	hex_encode(d, SHA256_LEN, out);
}

int sha256_file(const char *path, uint8_t out[SHA256_LEN], struct ng_err *err)
{
	static const size_t chunk = 1 << 20;
	struct sha256_ctx *c;
	uint8_t *b;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return ng_errf(err, NG_EIO, "%s: cannot open: %s", path, strerror(errno));
	c = sha256_new();
	b = malloc(chunk);
	if (!c || !b) {
		close(fd);
		sha256_free(c);
		free(b);
		return ng_errf(err, NG_ENOMEM, "%s: out of memory", path);
	}
	while ((n = read(fd, b, chunk)) > 0)
		sha256_update(c, b, (size_t)n);
	close(fd);
	free(b);
	if (n < 0) {
		sha256_free(c);
		return ng_errf(err, NG_EIO, "%s: read failed: %s", path, strerror(errno));
	}
	sha256_final(c, out);
	sha256_free(c);
	return 0;
}

int digest_parse_sha256(const char *s, uint8_t out[SHA256_LEN], struct ng_err *err)
{
	if (strncmp(s, "sha256:", 7) != 0)
		return ng_errf(err, NG_EINVAL, "digest '%.80s' is not of the form sha256:<hex>", s);
	if (strlen(s + 7) != SHA256_HEX_LEN)
		return ng_errf(err, NG_EINVAL, "digest '%.80s' does not have 64 hex digits", s);
	for (const char *p = s + 7; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return ng_errf(err, NG_EINVAL,
				       "digest '%.80s' must be lowercase hex (OCI image spec)", s);
	return hex_decode(s + 7, out, SHA256_LEN, err);
}
