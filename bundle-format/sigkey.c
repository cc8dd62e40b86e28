#include "sigkey.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/store.h>
#include <openssl/ui.h>

#include "digest.h"
#include "fileio.h"

#define PASS_MAX 1024

static int read_line_fd(int fd, char *buf, size_t len)
{
	size_t n = 0;

	while (n + 1 < len) {
		ssize_t r = read(fd, buf + n, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0 || buf[n] == '\n')
			break;
		n++;
	}
	if (n && buf[n - 1] == '\r')
		n--;
	buf[n] = 0;
	return 0;
}

int sigkey_read_passphrase(const struct sigkey_pass *ps, const char *prompt, int confirm, char *buf,
			   size_t len, struct ng_err *err)
{
	const char *env = getenv("NUTGEN_KEY_PASSPHRASE");
	int tty;

	if (ps && ps->fd >= 0) {
		if (read_line_fd(ps->fd, buf, len))
			return ng_errf(err, NG_EIO, "cannot read the passphrase from descriptor %d",
				       ps->fd);
		return 1;
	}
	if (env) {
		if (strlen(env) >= len)
			return ng_errf(err, NG_ELIMIT, "NUTGEN_KEY_PASSPHRASE is too long");
		snprintf(buf, len, "%s", env);
		return 1;
	}
	tty = open("/dev/tty", O_RDWR | O_CLOEXEC);
	if (tty < 0)
		return 0;
	close(tty);
	if (EVP_read_pw_string(buf, (int)len, prompt, confirm) != 0)
		return ng_errf(err, NG_EINVAL,
			       "no passphrase read from the terminal (or they differ)");
	return 1;
}

struct pass_ctx {
	const struct sigkey_pass *ps;
	const char *src;
	int asked;
};

static int pem_pass_cb(char *buf, int size, int rwflag, void *u)
{
	struct pass_ctx *c = u;
	char prompt[300];
	int r;

	(void)rwflag;
	if (c->asked++)
		return -1; /* a wrong passphrase is not retried */
	snprintf(prompt, sizeof(prompt), "Passphrase for %.250s: ", c->src);
	r = sigkey_read_passphrase(c->ps, prompt, 0, buf, (size_t)size, NULL);
	return r == 1 ? (int)strlen(buf) : -1;
}

int sigkey_load_private(const char *src, const struct sigkey_pass *ps, EVP_PKEY **out,
			struct ng_err *err)
{
	struct pass_ctx pc = {ps, src, 0};
	UI_METHOD *ui = UI_UTIL_wrap_read_pem_callback(pem_pass_cb, 0);
	OSSL_STORE_CTX *st;
	EVP_PKEY *k = NULL;

	*out = NULL;
	if (!ui)
		return ng_err_openssl(err, NG_ENOMEM, "UI method");
	ERR_clear_error();
	st = OSSL_STORE_open(src, ui, &pc, NULL, NULL);
	if (!st) {
		UI_destroy_method(ui);
		ERR_clear_error();
		return ng_errf(
		    err, access(src, F_OK) && !strchr(src, ':') ? NG_ENOTFOUND : NG_EINVAL,
		    "%s: cannot open the signing key (a PEM file from `nutgen keygen` or "
		    "an OpenSSL store URI)",
		    src);
	}
	while (!k && !OSSL_STORE_eof(st)) {
		OSSL_STORE_INFO *info = OSSL_STORE_load(st);
		if (!info)
			break;
		if (OSSL_STORE_INFO_get_type(info) == OSSL_STORE_INFO_PKEY)
			k = OSSL_STORE_INFO_get1_PKEY(info);
		OSSL_STORE_INFO_free(info);
	}
	OSSL_STORE_close(st);
	UI_destroy_method(ui);
	ERR_clear_error();
	if (!k)
		return ng_errf(err, NG_EINVAL,
			       "%s: no private key loaded (wrong passphrase, or none given: use "
			       "--passphrase-fd or NUTGEN_KEY_PASSPHRASE)",
			       src);
	if (!EVP_PKEY_is_a(k, "ED25519")) {
		EVP_PKEY_free(k);
		return ng_errf(err, NG_EINVAL,
			       "%s: not an Ed25519 key; make one with `nutgen keygen`", src);
	}
	*out = k;
	return 0;
}

int sigkey_public_raw(EVP_PKEY *k, uint8_t pub[SIGKEY_PUB_LEN], struct ng_err *err)
{
	size_t n = SIGKEY_PUB_LEN;

	if (!EVP_PKEY_is_a(k, "ED25519") || EVP_PKEY_get_raw_public_key(k, pub, &n) != 1 ||
	    n != SIGKEY_PUB_LEN)
		return ng_err_openssl(err, NG_ECRYPTO, "cannot get the Ed25519 public key");
	return 0;
}

int sigkey_load_public(const char *path, uint8_t pub[SIGKEY_PUB_LEN], struct ng_err *err)
{
	uint8_t *pem = NULL;
	size_t n;
	BIO *b;
	EVP_PKEY *k;
	int rc = read_file_capped(path, 64 * 1024, &pem, &n, err);

	if (rc)
		return rc;
	b = BIO_new_mem_buf(pem, (int)n);
	k = b ? PEM_read_bio_PUBKEY(b, NULL, NULL, NULL) : NULL;
	BIO_free(b);
	OPENSSL_cleanse(pem, n);
	free(pem);
	ERR_clear_error();
	if (!k)
		return ng_errf(err, NG_EINVAL,
			       "%s: not a PEM public key (the .pub from `nutgen keygen`)", path);
	rc = sigkey_public_raw(k, pub, err);
	EVP_PKEY_free(k);
	if (rc)
		return ng_errf(err, NG_EINVAL, "%s: not an Ed25519 public key", path);
	return 0;
}

void sigkey_id(const uint8_t pub[SIGKEY_PUB_LEN], char hex[SIGKEY_ID_HEX + 1])
{
	sha256_hex(pub, SIGKEY_PUB_LEN, hex);
}

int sigkey_sign(EVP_PKEY *k, const void *msg, size_t n, uint8_t sig[SIGKEY_SIG_LEN],
		struct ng_err *err)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	size_t sl = SIGKEY_SIG_LEN;
	int ok;

	/* Ed25519 is "pure": no digest is named, the message is signed whole. */
	ok = c && EVP_DigestSignInit(c, NULL, NULL, NULL, k) == 1 &&
	     EVP_DigestSign(c, sig, &sl, msg, n) == 1 && sl == SIGKEY_SIG_LEN;
	EVP_MD_CTX_free(c);
	return ok ? 0 : ng_err_openssl(err, NG_ECRYPTO, "Ed25519 signing failed");
}

int sigkey_verify(const uint8_t pub[SIGKEY_PUB_LEN], const void *msg, size_t n,
		  const uint8_t sig[SIGKEY_SIG_LEN])
{
	EVP_PKEY *k = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, SIGKEY_PUB_LEN);
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	int ok = k && c && EVP_DigestVerifyInit(c, NULL, NULL, NULL, k) == 1 &&
		 EVP_DigestVerify(c, sig, SIGKEY_SIG_LEN, msg, n) == 1;

	EVP_MD_CTX_free(c);
	EVP_PKEY_free(k);
	ERR_clear_error();
	return ok;
}

static int bio_to_file(BIO *b, const char *path, mode_t mode, struct ng_err *err)
{
	char *p;
	long n = BIO_get_mem_data(b, &p);

	return write_file_atomic(path, p, (size_t)n, mode, err);
}

int sigkey_generate(const char *priv_path, const char *pub_path, const char *passphrase,
		    uint8_t pub[SIGKEY_PUB_LEN], struct ng_err *err)
{
	EVP_PKEY *k = NULL;
	BIO *bp = NULL, *bq = NULL;
	int rc = 0;

	if (access(priv_path, F_OK) == 0 || access(pub_path, F_OK) == 0)
		return ng_errf(err, NG_EEXIST, "%s or %s already exists; not overwriting a key",
			       priv_path, pub_path);
	k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	bp = BIO_new(BIO_s_secmem());
	bq = BIO_new(BIO_s_mem());
	if (!k || !bp || !bq) {
		rc = ng_err_openssl(err, NG_ECRYPTO, "Ed25519 key generation");
		goto done;
	}
	if (PEM_write_bio_PKCS8PrivateKey(bp, k, passphrase ? EVP_aes_256_cbc() : NULL, NULL, 0,
					  NULL, (void *)passphrase) != 1 ||
	    PEM_write_bio_PUBKEY(bq, k) != 1 || sigkey_public_raw(k, pub, err)) {
		rc = ng_err_openssl(err, NG_ECRYPTO, "writing the key");
		goto done;
	}
	if ((rc = bio_to_file(bp, priv_path, 0600, err)))
		goto done;
	if ((rc = bio_to_file(bq, pub_path, 0644, err)))
		unlink(priv_path);
done:
	BIO_free(bp);
	BIO_free(bq);
	EVP_PKEY_free(k);
	return rc;
}
