#include "jwt.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "../bundle-format/codec.h"

/* Decodes one base64url part into a JSON object, refusing duplicate members:
 * a verifier and Key Vault reading different copies of one claim would
 * disagree about what the token says. */
static int part_json(const char *p, size_t n, const char *what, cJSON **out, struct ng_err *err)
{
	uint8_t *raw = NULL;
	size_t len, count = 0;
	const char *end = NULL;
	cJSON *o, *a, *b;

	if (base64url_decode(p, n, &raw, &len, err) < 0)
		return ng_err_prefix(err, NG_EINVAL, "token %s", what);
	o = cJSON_ParseWithLengthOpts((const char *)raw, len, &end, 0);
	if (!cJSON_IsObject(o) || end != (const char *)raw + len) {
		cJSON_Delete(o);
		free(raw);
		return ng_errf(err, NG_EINVAL, "token %s is not one JSON object", what);
	}
	free(raw);
	cJSON_ArrayForEach(a, o)
	{
		if (++count > JWT_CLAIMS) {
			cJSON_Delete(o);
			return ng_errf(err, NG_ELIMIT, "token %s has more than %d members", what,
				       JWT_CLAIMS);
		}
		for (b = a->next; b; b = b->next)
			if (!strcmp(a->string, b->string)) {
				ng_errf(err, NG_EINVAL, "token %s repeats member \"%.40s\"", what,
					a->string);
				cJSON_Delete(o);
				return NG_EINVAL;
			}
	}
	*out = o;
	return 0;
}

const char *jwt_str(const cJSON *obj, const char *name)
{
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(obj, name);
	return cJSON_IsString(s) ? s->valuestring : NULL;
}

void jwt_release(struct jwt *j)
{
	if (!j)
		return;
	cJSON_Delete(j->header);
	cJSON_Delete(j->payload);
	free(j->signing_input);
	free(j->sig);
	memset(j, 0, sizeof(*j));
}

int jwt_parse(const char *tok, size_t n, struct jwt *j, struct ng_err *err)
{
	const char *d1, *d2, *alg, *typ;
	int rc;

	memset(j, 0, sizeof(*j));
	while (n && isspace((unsigned char)tok[n - 1]))
		n--;
	if (n > JWT_MAX)
		return ng_errf(err, NG_ELIMIT, "token is %zu bytes, more than %d", n, JWT_MAX);
	d1 = memchr(tok, '.', n);
	d2 = d1 ? memchr(d1 + 1, '.', n - (size_t)(d1 + 1 - tok)) : NULL;
	if (!d2 || memchr(d2 + 1, '.', n - (size_t)(d2 + 1 - tok)))
		return ng_errf(err, NG_EINVAL,
			       "token is not a signed compact JWS (header.payload.signature)");
	if ((rc = part_json(tok, (size_t)(d1 - tok), "header", &j->header, err)) < 0)
		return rc;
	alg = jwt_str(j->header, "alg");
	typ = jwt_str(j->header, "typ");
	if (!alg || strcmp(alg, "RS256"))
		rc = ng_errf(err, NG_EVERIFY,
			     "token alg \"%.20s\" refused: only RS256 (MAA) is accepted",
			     alg ? alg : "(missing)");
	else if (cJSON_HasObjectItem(j->header, "typ") && (!typ || strcmp(typ, "JWT")))
		rc = ng_errf(err, NG_EINVAL, "token typ is not \"JWT\"");
	else if (d2 + 1 == tok + n)
		rc = ng_errf(err, NG_EINVAL, "token has no signature");
	else if (cJSON_HasObjectItem(j->header, "crit"))
		rc = ng_errf(err, NG_EINVAL,
			     "token header has \"crit\" extensions: not an MAA token");
	else if ((rc = part_json(d1 + 1, (size_t)(d2 - d1 - 1), "payload", &j->payload, err)) ==
		     0 &&
		 (rc = base64url_decode(d2 + 1, n - (size_t)(d2 + 1 - tok), &j->sig, &j->sig_len,
					err)) < 0)
		ng_err_prefix(err, rc, "token signature");
	if (rc == 0 && !(j->signing_input = strndup(tok, (size_t)(d2 - tok))))
		rc = ng_errf(err, NG_ENOMEM, "out of memory");
	if (rc < 0) {
		jwt_release(j);
		return rc;
	}
	j->signing_len = (size_t)(d2 - tok);
	return 0;
}

static int key_of_x5c(const char *b64, EVP_PKEY **key, struct ng_err *err)
{
	uint8_t *der = NULL;
	const uint8_t *p;
	size_t n;
	X509 *x;
	int rc = 0;

	if (base64_decode(b64, strlen(b64), &der, &n, err) < 0)
		return ng_err_prefix(err, NG_EINVAL, "JWKS x5c");
	p = der;
	x = d2i_X509(NULL, &p, (long)n);
	if (!x || p != der + n)
		rc = ng_errf(err, NG_EINVAL, "JWKS x5c[0] is not one DER certificate");
	else if (!(*key = X509_get_pubkey(x)) || EVP_PKEY_get_base_id(*key) != EVP_PKEY_RSA ||
		 EVP_PKEY_get_bits(*key) < 2048) {
		EVP_PKEY_free(*key);
		*key = NULL;
		rc = ng_errf(err, NG_EINVAL, "JWKS key is not RSA of 2048 bits or more");
	}
	ERR_clear_error();
	X509_free(x);
	free(der);
	return rc;
}

int jwks_key(const char *jwks, size_t n, const char *kid, EVP_PKEY **key, struct ng_err *err)
{
	cJSON *o, *k;
	const cJSON *keys;
	int rc = NG_ENOTFOUND;

	*key = NULL;
	if (!kid)
		return ng_errf(err, NG_ENOTFOUND, "token has no kid");
	if (n > JWKS_MAX)
		return ng_errf(err, NG_ELIMIT, "JWKS is %zu bytes, more than %d", n, JWKS_MAX);
	o = cJSON_ParseWithLength(jwks, n);
	keys = cJSON_GetObjectItemCaseSensitive(o, "keys");
	if (!cJSON_IsArray(keys)) {
		cJSON_Delete(o);
		return ng_errf(err, NG_EINVAL, "JWKS is not {\"keys\":[...]}");
	}
	cJSON_ArrayForEach(k, keys)
	{
		const char *id = jwt_str(k, "kid"), *kty = jwt_str(k, "kty");
		const cJSON *x5c = cJSON_GetObjectItemCaseSensitive(k, "x5c");
		if (!id || strcmp(id, kid))
			continue;
		if (!kty || strcmp(kty, "RSA") || !cJSON_IsArray(x5c) ||
		    !cJSON_IsString(cJSON_GetArrayItem(x5c, 0)))
			rc = ng_errf(err, NG_EINVAL, "JWKS entry for the kid is not RSA with x5c");
		else
			rc = key_of_x5c(cJSON_GetArrayItem(x5c, 0)->valuestring, key, err);
		break;
	}
	cJSON_Delete(o);
	if (rc == NG_ENOTFOUND)
		ng_errf(err, rc, "no key with the token's kid in the JWKS");
	return rc;
}

int jwt_verify_rs256(const struct jwt *j, EVP_PKEY *key, struct ng_err *err)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int ok = md && (int)j->sig_len == EVP_PKEY_get_size(key) &&
		 EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
		 EVP_DigestVerify(md, j->sig, j->sig_len, (const uint8_t *)j->signing_input,
				  j->signing_len) == 1;

	EVP_MD_CTX_free(md);
	ERR_clear_error();
	return ok ? 0 : ng_errf(err, NG_EVERIFY, "token signature does not verify with its key");
}
