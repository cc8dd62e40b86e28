#include "maa.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../bundle-format/codec.h"

int maa_provider_normalize(const char *in, char out[MAA_PROVIDER_MAX], struct ng_err *err)
{
	const char *h = in;
	size_t n;

	if (!strncasecmp(h, "https://", 8))
		h += 8;
	else if (strstr(h, "://"))
		return ng_errf(err, NG_EINVAL,
			       "attestation endpoint %.80s: only https:// providers are trusted",
			       in);
	n = strcspn(h, "/");
	if (h[n] && strcmp(h + n, "/"))
		return ng_errf(err, NG_EINVAL,
			       "attestation endpoint %.80s: give the provider without a path", in);
	if (n == 0 || n + 9 > MAA_PROVIDER_MAX)
		return ng_errf(err, NG_EINVAL, "attestation endpoint %.80s: no host", in);
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)h[i]) && !strchr(".-:[]", h[i]))
			return ng_errf(err, NG_EINVAL,
				       "attestation endpoint %.80s: not a host name", in);
	memcpy(out, "https://", 8);
	for (size_t i = 0; i < n; i++)
		out[8 + i] = (char)tolower((unsigned char)h[i]);
	out[8 + n] = 0;
	return 0;
}

int maa_token_extract(const char *body, size_t n, char **token, char **claimed_endpoint,
		      struct ng_err *err)
{
	const char *t;
	cJSON *o;

	*token = *claimed_endpoint = NULL;
	if (n > MAA_BODY_MAX)
		return ng_errf(err, NG_ELIMIT, "attestation answer is %zu bytes, more than %d", n,
			       MAA_BODY_MAX);
	while (n && isspace((unsigned char)*body))
		body++, n--;
	if (!n || *body != '{') {
		*token = strndup(body, n);
		return *token ? 0 : ng_errf(err, NG_ENOMEM, "out of memory");
	}
	o = cJSON_ParseWithLength(body, n);
	if (!(t = jwt_str(o, "maa_token")) && !(t = jwt_str(o, "token"))) {
		const char *why = jwt_str(o, "detail") ? jwt_str(o, "detail") : jwt_str(o, "error");
		ng_errf(err, NG_EINVAL, "attestation answer has no maa_token%s%.120s",
			why ? ": the mint says: " : "", why ? why : "");
		cJSON_Delete(o);
		return NG_EINVAL;
	}
	*token = strdup(t);
	if (jwt_str(o, "maa_endpoint"))
		*claimed_endpoint = strdup(jwt_str(o, "maa_endpoint"));
	cJSON_Delete(o);
	return *token ? 0 : ng_errf(err, NG_ENOMEM, "out of memory");
}

int maa_header_check(const struct jwt *j, const char *provider, struct ng_err *err)
{
	const char *jku = jwt_str(j->header, "jku");
	size_t n = strlen(provider);

	if (!jwt_str(j->header, "kid"))
		return ng_errf(err, NG_EINVAL, "token header has no kid: not an MAA token");
	if (cJSON_HasObjectItem(j->header, "jku") && !jku)
		return ng_errf(err, NG_EINVAL, "token jku is not a string");
	/* The keys come from the provider we were told to trust; a jku pointing
	 * anywhere else is an attempt to supply the keys with the token. */
	if (jku) {
		const char *h = strncasecmp(jku, "https://", 8) ? NULL : jku + 8;
		size_t hn = h ? strcspn(h, "/?#") : 0;
		int same = h && hn + 8 == n;
		for (size_t i = 0; same && i < hn; i++)
			same = tolower((unsigned char)h[i]) == provider[8 + i];
		if (!same)
			return ng_errf(
			    err, NG_EVERIFY,
			    "token jku %.80s is not on the attestation provider %s: refused", jku,
			    provider);
	}
	return 0;
}

static const cJSON *claim(const struct jwt *j, const char *name)
{
	return cJSON_GetObjectItemCaseSensitive(j->payload, name);
}

static int num(const struct jwt *j, const char *name)
{
	const cJSON *c = claim(j, name);
	return cJSON_IsNumber(c) && c->valuedouble >= 0 && c->valuedouble < 1e9
		   ? (int)c->valuedouble
		   : -1;
}

static void check_str(const struct jwt *j, struct verdict *v, const char *row, const char *name,
		      const char *want)
{
	const char *s = jwt_str(j->payload, name);
	verdict_add(v, row, s && !strcmp(s, want) ? VERDICT_PASS : VERDICT_FAIL, want,
		    s ? s : "(absent or not a string)");
}

/* True when some string in the runtime claim, at any depth, is the nonce. */
static int has_string(const cJSON *o, const char *want, int depth)
{
	const cJSON *c;

	if (cJSON_IsString(o))
		return !strcasecmp(o->valuestring, want);
	if (depth > 16)
		return 0;
	cJSON_ArrayForEach(c, o) if (has_string(c, want, depth + 1)) return 1;
	return 0;
}

static void check_time(const struct jwt *j, const struct maa_expect *e, struct verdict *v)
{
	const cJSON *nbf = claim(j, "nbf"), *exp = claim(j, "exp");
	double now = (double)e->now;
	int ok = cJSON_IsNumber(nbf) && cJSON_IsNumber(exp) && nbf->valuedouble <= now + MAA_SKEW &&
		 now - MAA_SKEW < exp->valuedouble;

	verdict_addf(v, "maa.validity", ok ? VERDICT_PASS : VERDICT_FAIL,
		     "nbf <= now < exp (120 s skew)", "nbf %.0f, exp %.0f, now %.0f",
		     cJSON_IsNumber(nbf) ? nbf->valuedouble : -1,
		     cJSON_IsNumber(exp) ? exp->valuedouble : -1, now);
}

void maa_check(const struct jwt *j, const char *jwks, size_t jwks_len, const struct maa_expect *e,
	       struct verdict *v)
{
	EVP_PKEY *key = NULL;
	struct ng_err err;
	char want[65];
	const cJSON *c;
	const char *iss = jwt_str(j->payload, "iss");
	int rc = jwks_key(jwks, jwks_len, jwt_str(j->header, "kid"), &key, &err);

	if (rc == 0)
		rc = jwt_verify_rs256(j, key, &err);
	EVP_PKEY_free(key);
	verdict_add(v, "maa.signature", rc ? VERDICT_FAIL : VERDICT_PASS,
		    "RS256 by a key the provider publishes", rc ? err.msg : "valid");
	verdict_add(v, "maa.issuer", iss && !strcmp(iss, e->provider) ? VERDICT_PASS : VERDICT_FAIL,
		    e->provider, iss ? iss : "(absent)");
	check_time(j, e, v);
	check_str(j, v, "maa.attestation-type", "x-ms-attestation-type", "sevsnpvm");
	check_str(j, v, "maa.compliance", "x-ms-compliance-status", "azure-compliant-uvm");
	hex_encode(e->hostdata, 32, want);
	check_str(j, v, "maa.hostdata", "x-ms-sevsnpvm-hostdata", want);
	c = claim(j, "x-ms-sevsnpvm-is-debuggable");
	verdict_add(v, "maa.debuggable", cJSON_IsFalse(c) ? VERDICT_PASS : VERDICT_FAIL, "false",
		    cJSON_IsTrue(c)    ? "true"
		    : cJSON_IsFalse(c) ? "false"
				       : "(absent or not boolean)");
	c = claim(j, "x-ms-sevsnpvm-vmpl");
	verdict_addf(v, "maa.vmpl",
		     cJSON_IsNumber(c) && c->valuedouble == 0 ? VERDICT_PASS : VERDICT_FAIL, "0",
		     "%s", cJSON_IsNumber(c) ? (c->valuedouble == 0 ? "0" : "not 0") : "(absent)");
	if (e->nonce_hex) {
		rc = has_string(claim(j, "x-ms-runtime"), e->nonce_hex, 0);
		verdict_add(v, "maa.nonce", rc ? VERDICT_PASS : VERDICT_FAIL, e->nonce_hex,
			    rc ? "found in x-ms-runtime" : "not in x-ms-runtime");
	}
	c = claim(j, "x-ms-sevsnpvm-launchmeasurement");
	verdict_add(v, "maa.measurement", VERDICT_INFO, "",
		    cJSON_IsString(c) ? c->valuestring : "(absent)");
	verdict_addf(v, "maa.tcb", VERDICT_INFO, "",
		     "bootloader-svn %d, tee-svn %d, snpfw-svn %d, microcode-svn %d, guestsvn %d",
		     num(j, "x-ms-sevsnpvm-bootloader-svn"), num(j, "x-ms-sevsnpvm-tee-svn"),
		     num(j, "x-ms-sevsnpvm-snpfw-svn"), num(j, "x-ms-sevsnpvm-microcode-svn"),
		     num(j, "x-ms-sevsnpvm-guestsvn"));
}
