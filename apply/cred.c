/* cred.c: the credential chain of cred.h (azure-rest.md §5). */
#include "cred.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/core_names.h>
#include <openssl/pem.h>
#include <spawn.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../bundle-format/codec.h"
#include "../bundle-format/fileio.h"

extern char **environ;

#define NF   9
#define F(m) offsetof(struct az_cloud, m)
static const size_t offs[NF] = {F(authority),	     F(management),	F(management_resource),
				F(storage_resource), F(vault_resource), F(vault_suffix),
				F(blob_suffix),	     F(attest_suffix),	F(imds)};
static const char *const keys[NF] = {"authority",	 "management",	   "management_resource",
				     "storage_resource", "vault_resource", "vault_suffix",
				     "blob_suffix",	 "attest_suffix",  "imds"};
/* 1 https, 2 also loopback http (tests), 3 also IMDS's link-local http
 * (never routed), 0 a host name suffix. */
static const char rule[NF + 1] = "211110003";

/* Name, then the members in order (Azure CLI `az cloud show`). */
static const char *const clouds[][NF + 1] = {
    {"AzureCloud", "https://login.microsoftonline.com", "https://management.azure.com",
     "https://management.azure.com/", "https://storage.azure.com", "https://vault.azure.net",
     "vault.azure.net", "blob.core.windows.net", "attest.azure.net", "http://169.254.169.254"},
    {"AzureUSGovernment", "https://login.microsoftonline.us",
     "https://management.usgovcloudapi.net", "https://management.usgovcloudapi.net/",
     "https://storage.azure.com", "https://vault.usgovcloudapi.net", "vault.usgovcloudapi.net",
     "blob.core.usgovcloudapi.net", "attest.azure.us", "http://169.254.169.254"},
    {"AzureChinaCloud", "https://login.chinacloudapi.cn", "https://management.chinacloudapi.cn",
     "https://management.chinacloudapi.cn/", "https://storage.azure.com", "https://vault.azure.cn",
     "vault.azure.cn", "blob.core.chinacloudapi.cn", "attest.azure.cn", "http://169.254.169.254"}};

int az_cloud_named(const char *name, struct az_cloud *c, struct ng_err *err)
{
	for (size_t i = 0; i < sizeof(clouds) / sizeof(clouds[0]); i++) {
		if (strcmp(name, clouds[i][0]))
			continue;
		memset(c, 0, sizeof(*c));
		strcpy(c->name, name);
		for (int k = 0; k < NF; k++)
			strcpy((char *)c + offs[k], clouds[i][k + 1]);
		return 0;
	}
	return ng_errf(err, NG_EINVAL,
		       "cloud '%.64s': unknown: use AzureCloud, AzureUSGovernment, "
		       "AzureChinaCloud or a custom cloud naming every endpoint",
		       name);
}

static int url_ok(const char *v, char r)
{
	static const char *const plain[] = {"http://127.", "http://localhost", "http://[::1]",
					    "http://169.254.169.254"};
	for (int i = 0; r >= '2' && i < (r == '3' ? 4 : 3); i++) {
		size_t n = strlen(plain[i]);
		if (!strncmp(v, plain[i], n) && (i < 3 || strchr(":/", v[n])))
			return 1;
	}
	return r == '0' || !strncmp(v, "https://", 8);
}

int az_cloud_from_json(const cJSON *j, struct az_cloud *c, struct ng_err *err)
{
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(j, "name"), *it;
	int k;

	if (!cJSON_IsObject(j) || !cJSON_IsString(n))
		return ng_errf(err, NG_EINVAL, "cloud: must be an object with a string \"name\"");
	if (cJSON_GetArraySize(j) == 1)
		return az_cloud_named(n->valuestring, c, err);
	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "%s", n->valuestring);
	cJSON_ArrayForEach(it, j)
	{
		const char *v = cJSON_GetStringValue(it);
		for (k = 0; k < NF && strcmp(it->string, keys[k]);)
			k++;
		if (k == NF && strcmp(it->string, "name"))
			return ng_errf(err, NG_EINVAL, "cloud: unknown member \"%.40s\"",
				       it->string);
		if (!v || !*v || strlen(v) >= AZ_URL_MAX || (k < NF && !url_ok(v, rule[k])))
			return ng_errf(err, NG_EINVAL, "cloud.%.40s: must be a non-empty %s",
				       it->string,
				       k < NF && rule[k] > '0' ? "https:// URL" : "string");
		if (k < NF)
			strcpy((char *)c + offs[k], v);
	}
	for (k = 0; k < NF; k++)
		if (!((char *)c + offs[k])[0])
			return ng_errf(err, NG_EINVAL, "cloud: custom cloud '%s' must name \"%s\"",
				       c->name, keys[k]);
	return 0;
}

enum kind { K_NONE, K_SECRET, K_CERT, K_WORKLOAD, K_IMDS, K_CLI };
static const char *const kind_name[] = {"none",
					"EnvironmentCredential (client secret)",
					"EnvironmentCredential (client certificate)",
					"WorkloadIdentityCredential",
					"ManagedIdentityCredential (IMDS)",
					"AzureCliCredential"};
#define NCACHE	  8
#define TOKEN_MAX 16384

struct az_cred {
	struct http_ctx *http;
	const struct az_cloud *cloud;
	int quiet;
	enum kind kind;
	struct {
		char resource[AZ_URL_MAX], auth[TOKEN_MAX + 8]; /* "Bearer ..." */
		time_t expires;
	} cache[NCACHE];
};

int az_cred_new(struct http_ctx *http, const struct az_cloud *cloud, int quiet,
		struct az_cred **out, struct ng_err *err)
{
	if (!(*out = calloc(1, sizeof(**out))))
		return ng_errf(err, NG_ENOMEM, "out of memory");
	(*out)->http = http;
	(*out)->cloud = cloud;
	(*out)->quiet = quiet;
	return 0;
}

void az_cred_free(struct az_cred *c)
{
	if (c)
		OPENSSL_cleanse(c, sizeof(*c));
	free(c);
}

void az_cred_invalidate(struct az_cred *c, const char *resource)
{
	for (int i = 0; i < NCACHE; i++)
		if (!strcmp(c->cache[i].resource, resource))
			c->cache[i].expires = 0;
}

static const char *env(const char *n)
{
	const char *v = getenv(n);
	return v && *v ? v : NULL;
}

/* Length without trailing slashes ("https://management.azure.com/"). */
static int trimmed(const char *s)
{
	size_t n = strlen(s);
	while (n && s[n - 1] == '/')
		n--;
	return (int)n;
}

/* Appends "[&]name=" (unless name is NULL) and v percent-encoded. */
static void put_esc(struct buf *b, const char *name, const char *v)
{
	char *e = curl_easy_escape(NULL, v ? v : "", 0);
	if (name)
		buf_printf(b, "%s%s=", b->len ? "&" : "", name);
	if (!e || buf_puts(b, e))
		b->oom = 1;
	if (e)
		OPENSSL_cleanse(e, strlen(e));
	curl_free(e);
}

static void put_b64(struct buf *b, const void *p, size_t n)
{
	char *e = base64url_encode(p, n);
	if (!e || buf_puts(b, e))
		b->oom = 1;
	free(e);
}

static void wipe(struct buf *b)
{
	if (b->data)
		OPENSSL_cleanse(b->data, b->len);
	buf_free(b);
}

static time_t number(const cJSON *e)
{
	const char *v = cJSON_GetStringValue(e);
	return cJSON_IsNumber(e) ? (time_t)e->valuedouble : v ? atoll(v) : 0;
}

/* A token reply (wiped after) into auth: access_token (az: accessToken), and
 * expires_in seconds or expires_on epoch, numbers or strings (§5.1-5.5). */
static int parse_token(struct buf *b, enum kind k, char *auth, time_t *exp, struct ng_err *err)
{
	cJSON *j = cJSON_ParseWithLength(b->data ? (char *)b->data : "", b->len);
	const cJSON *in = cJSON_GetObjectItem(j, "expires_in");
	const cJSON *on = cJSON_GetObjectItem(j, "expires_on");
	const char *v = cJSON_GetStringValue(cJSON_GetObjectItem(j, "access_token"));
	int rc = 0;

	v = v ? v : cJSON_GetStringValue(cJSON_GetObjectItem(j, "accessToken"));
	if (!v || !*v || strlen(v) > TOKEN_MAX || strpbrk(v, " \r\n\t")) {
		rc = ng_errf(err, NG_ENET, "%s: token reply has no usable access token",
			     kind_name[k]);
	} else {
		snprintf(auth, TOKEN_MAX + 8, "Bearer %s", v);
		*exp = in ? time(NULL) + number(in) : on ? number(on) : time(NULL) + 300;
	}
	cJSON_Delete(j);
	if (b->data)
		OPENSSL_cleanse(b->data, b->len);
	return rc;
}

/* Client assertion for the token endpoint aud (§5.2): PS256, salt as long
 * as the digest (RFC 7518 §3.5; OpenSSL 3 defaults to the maximum). */
static int assertion(const char *aud, const char *client, struct buf *out, struct ng_err *err)
{
	const char *path = env("AZURE_CLIENT_CERTIFICATE_PATH");
	FILE *f = fopen(path, "r");
	X509 *x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
	EVP_PKEY *k = NULL;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	OSSL_PARAM pss[] = {OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_PAD_MODE, "pss", 0),
			    OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_PSS_SALTLEN, "digest", 0),
			    OSSL_PARAM_END};
	unsigned char th[32], sig[1024];
	size_t sl = sizeof(sig);
	char jti[37], hdr[128], pl[1024], *t;
	long long now = time(NULL);
	int rc = 0;

	if (f) {
		rewind(f);
		k = PEM_read_PrivateKey(f, NULL, NULL, getenv("AZURE_CLIENT_CERTIFICATE_PASSWORD"));
		fclose(f);
	}
	if (!k || !x || !X509_digest(x, EVP_sha256(), th, NULL)) {
		rc = ng_errf(err, NG_EINVAL,
			     "AZURE_CLIENT_CERTIFICATE_PATH %s: needs a PEM with the certificate "
			     "and its private key (convert a PFX with openssl pkcs12 -nodes)",
			     path);
		goto out;
	}
	t = base64url_encode(th, sizeof(th));
	snprintf(hdr, sizeof(hdr), "{\"alg\":\"PS256\",\"typ\":\"JWT\",\"x5t#S256\":\"%s\"}",
		 t ? t : "");
	free(t);
	http_uuid(jti);
	snprintf(pl, sizeof(pl),
		 "{\"aud\":\"%s\",\"iss\":\"%s\",\"sub\":\"%s\",\"jti\":\"%s\",\"nbf\":%lld,"
		 "\"iat\":%lld,\"exp\":%lld}",
		 aud, client, client, jti, now, now, now + 600);
	put_b64(out, hdr, strlen(hdr));
	buf_puts(out, ".");
	put_b64(out, pl, strlen(pl));
	if (!md || EVP_DigestSignInit_ex(md, NULL, "SHA256", NULL, NULL, k, pss) != 1 ||
	    EVP_DigestSign(md, sig, &sl, out->data, out->len) != 1)
		rc = ng_err_openssl(err, NG_ECRYPTO, "client assertion (PS256: an RSA key)");
	buf_puts(out, ".");
	put_b64(out, sig, sl);
out:
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(k);
	X509_free(x);
	return rc;
}

/* Entra v2 client credentials (§5.1-5.3) or IMDS (§5.4); IMDS not answering
 * at all is NG_ENOTFOUND so that the chain moves on. */
static int http_token(struct az_cred *c, const char *res, char *auth, time_t *exp,
		      struct ng_err *err)
{
	const char *host = env("AZURE_AUTHORITY_HOST"), *imds = c->cloud->imds;
	const char *id = env("AZURE_CLIENT_ID"), *fed = env("AZURE_FEDERATED_TOKEN_FILE");
	const char *hdrs[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
	char what[AZ_URL_MAX + 64], scope[AZ_URL_MAX + 16];
	struct http_req q = {.method = "POST", .headers = hdrs, .idempotent = 1};
	struct http_resp r;
	struct buf url, body, cred;
	uint8_t *d = NULL;
	size_t n;
	int rc = 0;

	buf_init(&url, 0);
	buf_init(&body, 0);
	buf_init(&cred, 0);
	host = host ? host : c->cloud->authority;
	snprintf(scope, sizeof(scope), "%.*s/.default", trimmed(res), res);
	if (c->kind == K_IMDS) {
		/* no proxy (IMDS refuses forwarded calls), 404/410 retried (IMDS
		 * updating), 1 s to connect so that laptops move on quickly */
		hdrs[0] = "Metadata: true";
		q.method = "GET";
		q.no_proxy = q.retry_statuses_4xx = 1;
		q.connect_s = 1;
		buf_printf(&url, "%.*s/metadata/identity/oauth2/token?api-version=2018-02-01",
			   trimmed(imds), imds);
		put_esc(&url, "resource", res);
		if (id)
			put_esc(&url, "client_id", id);
	} else {
		buf_printf(&url, "%.*s/", trimmed(host), host);
		put_esc(&url, NULL, env("AZURE_TENANT_ID"));
		buf_puts(&url, "/oauth2/v2.0/token");
		if (c->kind == K_CERT && !url.oom)
			rc = assertion((char *)url.data, id, &cred, err);
		/* the federated token rotates: read it every time (§5.3) */
		if (c->kind == K_WORKLOAD && (rc = read_file_capped(fed, 65536, &d, &n, err)))
			ng_err_prefix(err, rc, "AZURE_FEDERATED_TOKEN_FILE");
		else if (c->kind == K_WORKLOAD)
			buf_append(&cred, d, strcspn((char *)d, "\r\n"));
		put_esc(&body, "client_id", id);
		put_esc(&body, "scope", scope);
		put_esc(&body, "grant_type", "client_credentials");
		if (c->kind != K_SECRET)
			put_esc(&body, "client_assertion_type",
				"urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
		put_esc(&body, c->kind == K_SECRET ? "client_secret" : "client_assertion",
			c->kind == K_SECRET ? env("AZURE_CLIENT_SECRET") : (char *)cred.data);
	}
	q.url = (char *)url.data;
	q.body = body.data;
	q.body_len = body.len;
	http_resp_init(&r);
	if (!rc && (url.oom || body.oom || cred.oom))
		rc = ng_errf(err, NG_ENOMEM, "out of memory");
	rc = rc ? rc : http_do(c->http, &q, &r, err);
	snprintf(what, sizeof(what), "%s: token for %s", kind_name[c->kind], res);
	if (rc == NG_ENET && !r.status && c->kind == K_IMDS)
		rc = ng_errf(err, NG_ENOTFOUND, "IMDS: no answer");
	else if (!rc && r.status != 200)
		rc = http_status_err(&r, err, NG_ENET, what);
	else if (!rc)
		rc = parse_token(&r.body, c->kind, auth, exp, err);
	if (d)
		OPENSSL_cleanse(d, n);
	free(d);
	wipe(&url);
	wipe(&body);
	wipe(&cred);
	http_resp_free(&r);
	return rc;
}

/* Azure CLI (§5.5), spawned without a shell; its stdout is the token JSON,
 * its stderr ours (it explains itself, "run az login", and holds no token). */
static int cli(const char *resource, char *auth, time_t *exp, struct ng_err *err)
{
	char *argv[] = {
	    "az",   "account", "get-access-token", "--resource", (char *)resource, "--output",
	    "json", NULL};
	posix_spawn_file_actions_t fa;
	struct buf o;
	char b[4096];
	ssize_t n;
	pid_t pid;
	int p[2], st = 0, rc;

	if (pipe2(p, O_CLOEXEC))
		return ng_errf(err, NG_EIO, "az: pipe: %s", strerror(errno));
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p[1], 1);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	rc = posix_spawnp(&pid, "az", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	buf_init(&o, 1 << 20);
	while (!rc && ((n = read(p[0], b, sizeof(b))) > 0 || (n < 0 && errno == EINTR)))
		buf_append(&o, b, n > 0 ? (size_t)n : 0);
	close(p[0]);
	OPENSSL_cleanse(b, sizeof(b));
	while (!rc && waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (rc || (WIFEXITED(st) && WEXITSTATUS(st) == 127))
		rc = ng_errf(err, NG_ENOTFOUND, "az: not found");
	else if (!WIFEXITED(st) || WEXITSTATUS(st))
		rc = ng_errf(err, NG_ENET,
			     "az account get-access-token failed (exit %d): run 'az login' or set "
			     "another credential",
			     WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	else
		rc = o.oom ? ng_errf(err, NG_ELIMIT, "az: output too large")
			   : parse_token(&o, K_CLI, auth, exp, err);
	wipe(&o);
	return rc;
}

/* The chosen credential's token, or the chain walked to choose one: only
 * managed identity and az fall through (a configured environment or
 * workload credential's own error is the useful one). */
static int fetch(struct az_cred *c, const char *res, char *auth, time_t *exp, struct ng_err *err)
{
	static const char *const names[] = {"EnvironmentCredential", "WorkloadIdentityCredential",
					    "ManagedIdentityCredential", "AzureCliCredential"};
	const char *only = env("AZURE_TOKEN_CREDENTIALS");
	int ids = env("AZURE_TENANT_ID") && env("AZURE_CLIENT_ID"), rc;
	enum kind chain[] = {K_NONE, ids && env("AZURE_FEDERATED_TOKEN_FILE") ? K_WORKLOAD : K_NONE,
			     K_IMDS, K_CLI};

	if (ids && (env("AZURE_CLIENT_SECRET") || env("AZURE_CLIENT_CERTIFICATE_PATH")))
		chain[0] = env("AZURE_CLIENT_SECRET") ? K_SECRET : K_CERT;
	if (c->kind)
		return c->kind == K_CLI ? cli(res, auth, exp, err)
					: http_token(c, res, auth, exp, err);
	for (int i = 0; i < 4; i++) {
		if (!chain[i] || (only && strcmp(only, names[i])))
			continue;
		c->kind = chain[i];
		rc = fetch(c, res, auth, exp, err);
		if (rc)
			c->kind = K_NONE;
		if (rc != NG_ENOTFOUND || i < 2)
			return rc;
	}
	return ng_errf(err, NG_ENOTFOUND,
		       "no Azure credential: no environment or workload identity, no IMDS answer, "
		       "no az%s: set AZURE_TENANT_ID/AZURE_CLIENT_ID with AZURE_CLIENT_SECRET or "
		       "AZURE_CLIENT_CERTIFICATE_PATH, or run 'az login'",
		       only ? " (AZURE_TOKEN_CREDENTIALS narrows the chain)" : "");
}

int az_cred_authorization(struct az_cred *c, const char *resource, const char **authorization,
			  struct ng_err *err)
{
	enum kind before = c->kind;
	int s = 0, rc;

	*authorization = NULL;
	if (strlen(resource) >= AZ_URL_MAX)
		return ng_errf(err, NG_EINVAL, "token resource too long");
	/* this resource's slot, else the one expiring first (empty ones: 0) */
	for (int i = 0; i < NCACHE && strcmp(c->cache[s].resource, resource); i++)
		if (!strcmp(c->cache[i].resource, resource) ||
		    c->cache[i].expires < c->cache[s].expires)
			s = i;
	if (strcmp(c->cache[s].resource, resource) || c->cache[s].expires - 300 <= time(NULL)) {
		if ((rc = fetch(c, resource, c->cache[s].auth, &c->cache[s].expires, err)))
			return rc;
		snprintf(c->cache[s].resource, AZ_URL_MAX, "%s", resource);
		if (!before && !c->quiet)
			fprintf(stderr, "nutapply: using %s\n", kind_name[c->kind]);
	}
	*authorization = c->cache[s].auth;
	return 0;
}
