/* sigkey.h: Ed25519 (RFC 8032) keys for bundle signatures (SPEC.md §4).
 *
 * A key id is the lowercase hex SHA-256 of the 32-byte raw public key, so
 * anyone can compute it: `openssl pkey -pubin -in K.pub -outform DER | tail
 * -c 32 | sha256sum`. Private keys are loaded through OSSL_STORE, so a PEM
 * file from `nutgen keygen` and a key behind any OpenSSL 3 provider (a
 * PKCS#11 HSM or smart card, "pkcs11:..." or another URI) work alike. A
 * passphrase never comes from argv: it is read from a file descriptor the
 * caller names, else $NUTGEN_KEY_PASSPHRASE, else the terminal. */
#ifndef NG_SIGKEY_H
#define NG_SIGKEY_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "err.h"

#define SIGKEY_PUB_LEN 32
#define SIGKEY_SIG_LEN 64
#define SIGKEY_ID_HEX  64

struct sigkey_pass {
	int fd; /* >= 0: read the passphrase (first line) from this descriptor */
};

/* src: a path to a PEM private key or an OSSL_STORE URI. */
int sigkey_load_private(const char *src, const struct sigkey_pass *ps, EVP_PKEY **out,
			struct ng_err *err);
/* A PEM "PUBLIC KEY" (or private key, whose public half is taken) file. */
int sigkey_load_public(const char *path, uint8_t pub[SIGKEY_PUB_LEN], struct ng_err *err);

int sigkey_public_raw(EVP_PKEY *k, uint8_t pub[SIGKEY_PUB_LEN], struct ng_err *err);
void sigkey_id(const uint8_t pub[SIGKEY_PUB_LEN], char hex[SIGKEY_ID_HEX + 1]);

int sigkey_sign(EVP_PKEY *k, const void *msg, size_t n, uint8_t sig[SIGKEY_SIG_LEN],
		struct ng_err *err);
/* 1 when sig is a valid signature of msg by pub, 0 otherwise. */
int sigkey_verify(const uint8_t pub[SIGKEY_PUB_LEN], const void *msg, size_t n,
		  const uint8_t sig[SIGKEY_SIG_LEN]);

/* Generates a key pair: priv_path (mode 0600, PKCS#8 PEM, encrypted with
 * AES-256-CBC when passphrase is non-NULL) and pub_path (0644). Refuses to
 * overwrite either. */
int sigkey_generate(const char *priv_path, const char *pub_path, const char *passphrase,
		    uint8_t pub[SIGKEY_PUB_LEN], struct ng_err *err);

/* Reads a passphrase into buf: from ps->fd, else $NUTGEN_KEY_PASSPHRASE,
 * else the terminal (twice when confirm). Returns 1 when one was read, 0 when
 * none is available (no fd, no variable, no terminal), or an error. */
int sigkey_read_passphrase(const struct sigkey_pass *ps, const char *prompt, int confirm, char *buf,
			   size_t len, struct ng_err *err);

#endif
