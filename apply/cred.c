/* cred.c: the credential chain of cred.h (azure-rest.md §5). */
#include "cred.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../bundle-format/codec.h"
#include "../bundle-format/digest.h"
#include "../bundle-format/fileio.h"

extern char **environ;

enum kind { K_NONE, K_SECRET, K_CERT, K_WORKLOAD, K_APPSVC, K_IMDS, K_CLI };
static const char *const kind_name[] = {"none yet",
					"EnvironmentCredential (client secret)",
					"EnvironmentCredential (client certificate)",
					"WorkloadIdentityCredential",
					"ManagedIdentityCredential (App Service)",
					"ManagedIdentityCredential (IMDS)",
					"AzureCliCredential"};

#define NCACHE 8

struct az_cred {
	struct http_ctx *http;
	const struct az_cloud *cloud;
	int quiet, announced;
	enum kind kind;
	struct {
		char resource[AZ_URL_MAX];
		char *auth; /* "Bearer ..." */
		time_t expires;
	} cache[NCACHE];
};

/* --- clouds --- */

static void set(char *dst, const char *v)
{
	snprintf(dst, AZ_URL_MAX, "%s", v);
}

/* authority, ARM, vault resource, vault/blob/attestation suffixes (Azure
 * CLI `az cloud show`); the storage resource is the same everywhere. */
static const char *const clouds[][7] = {
    {"AzureCloud", "https://login.microsoftonline.com", "https://management.azure.com",
     "vault.azure.net", "blob.core.windows.net", "attest.azure.net"},
    {"AzureUSGovernment", "https://login.microsoftonline.us",
     "https://management.usgovcloudapi.net", "vault.usgovcloudapi.net",
     "blob.core.usgovcloudapi.net", "attest.azure.us"},
    {"AzureChinaCloud", "https://login.chinacloudapi.cn", "https://management.chinacloudapi.cn",
     "vault.azure.cn", "blob.core.chinacloudapi.cn", "attest.azure.cn"}};

int az_cloud_named(const char *name, struct az_cloud *c, struct ng_err *err)
{
	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < sizeof(clouds) / sizeof(clouds[0]); i++) {
		const char *const *k = clouds[i];
		if (strcmp(name, k[0]))
			continue;
		snprintf(c->name, sizeof(c->name), "%s", k[0]);
		set(c->authority, k[1]);
		set(c->management, k[2]);
		set(c->management_resource, k[2]);
		strcat(c->management_resource, "/");
		set(c->storage_resource, "https://storage.azure.com");
		snprintf(c->vault_resource, AZ_URL_MAX, "https://%s", k[3]);
		set(c->vault_suffix, k[3]);
		set(c->blob_suffix, k[4]);
		set(c->attest_suffix, k[5]);
		set(c->imds, "http://169.254.169.254");
		return 0;
	}
	return ng_errf(err, NG_EINVAL,
		       "cloud '%.64s': unknown: use AzureCloud, AzureUSGovernment, "
		       "AzureChinaCloud or a custom cloud naming every endpoint",
		       name);
}

static int loopback_http(const char *u)
{
	return !strncmp(u, "http://127.", 11) || !strncmp(u, "http://localhost", 16) ||
	       !strncmp(u, "http://[::1]", 12);
}

/* IMDS is plain http on the link-local address by design (never routed). */
static int imds_http(const char *u)
{
	return !strncmp(u, "http://169.254.169.254", 22) &&
	       (u[22] == '\0' || u[22] == '/' || u[22] == ':');
}

int az_cloud_from_json(const cJSON *j, struct az_cloud *c, struct ng_err *err)
{
	static const char *const keys[] = {
	    "authority",	"management",	  "management_resource",
	    "storage_resource", "vault_resource", "vault_suffix",
	    "blob_suffix",	"attest_suffix",  "imds"};
	char *dst[9];
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(j, "name"), *it;

	if (!cJSON_IsObject(j) || !cJSON_IsString(n))
		return ng_errf(err, NG_EINVAL, "cloud: must be an object with a string \"name\"");
	if (cJSON_GetArraySize(j) == 1)
		return az_cloud_named(n->valuestring, c, err);
	memset(c, 0, sizeof(*c));
	dst[0] = c->authority, dst[1] = c->management, dst[2] = c->management_resource;
	dst[3] = c->storage_resource, dst[4] = c->vault_resource, dst[5] = c->vault_suffix;
	dst[6] = c->blob_suffix, dst[7] = c->attest_suffix, dst[8] = c->imds;
	cJSON_ArrayForEach(it, j)
	{
		int k = -1;
		for (int i = 0; i < 9; i++)
			if (!strcmp(it->string, keys[i]))
				k = i;
		if (k < 0 && strcmp(it->string, "name"))
			return ng_errf(err, NG_EINVAL, "cloud: unknown member \"%.40s\"",
				       it->string);
		if (!cJSON_IsString(it) || strlen(it->valuestring) >= AZ_URL_MAX ||
		    !it->valuestring[0])
			return ng_errf(err, NG_EINVAL, "cloud.%.40s: must be a non-empty string",
				       it->string);
		if (k < 0)
			continue;
		const char *v = it->valuestring;
		int url = k <= 4 || k == 8;
		if (url && strncmp(v, "https://", 8) && !((k == 0 || k == 8) && loopback_http(v)) &&
		    !(k == 8 && imds_http(v)))
			return ng_errf(err, NG_EINVAL, "cloud.%s: '%.80s' must be an https:// URL",
				       keys[k], v);
		set(dst[k], v);
	}
	for (int i = 0; i < 9; i++)
		if (!dst[i][0])
			return ng_errf(err, NG_EINVAL,
				       "cloud: custom cloud '%.32s' must name \"%s\"",
				       n->valuestring, keys[i]);
	snprintf(c->name, sizeof(c->name), "%s", n->valuestring);
	return 0;
}

/* --- credential --- */

int az_cred_new(struct http_ctx *http, const struct az_cloud *cloud, int quiet,
		struct az_cred **out, struct ng_err *err)
{
	struct az_cred *c = calloc(1, sizeof(*c));
	if (!c)
		return ng_errf(err, NG_ENOMEM, "out of memory");
	c->http = http;
	c->cloud = cloud;
	c->quiet = quiet;
	*out = c;
	return 0;
}

void az_cred_free(struct az_cred *c)
{
	if (!c)
		return;
	for (int i = 0; i < NCACHE; i++)
		if (c->cache[i].auth) {
			OPENSSL_cleanse(c->cache[i].auth, strlen(c->cache[i].auth));
			free(c->cache[i].auth);
		}
	free(c);
}

const char *az_cred_name(const struct az_cred *c)
{
	return kind_name[c ? c->kind : K_NONE];
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

/* "https://vault.azure.net" -> "https://vault.azure.net/.default" */
static void scope_of(const char *resource, char *out, size_t n)
{
	size_t l = strlen(resource);
	while (l && resource[l - 1] == '/')
		l--;
	snprintf(out, n, "%.*s/.default", (int)l, resource);
}

static char *form_escape(const char *s)
{
	struct buf b;
	buf_init(&b, 0);
	for (; *s; s++) {
		if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || strchr("-._~", *s))
			buf_append(&b, s, 1);
		else
			buf_printf(&b, "%%%02X", (unsigned char)*s);
	}
	return b.oom ? (buf_free(&b), NULL) : buf_steal(&b);
}

static void wipe_free(char *s)
{
	if (s) {
		OPENSSL_cleanse(s, strlen(s));
		free(s);
	}
}

/* Reads access_token and the expiry from a token reply (Entra: expires_in
 * number; IMDS/App Service: strings; CLI: accessToken/expires_on). */
static int parse_token(const char *json, size_t len, const char *who, char **tok, time_t *exp,
		       struct ng_err *err)
{
	cJSON *j = cJSON_ParseWithLength(json, len), *t, *e;
	time_t now = time(NULL);

	if (!j)
		return ng_errf(err, NG_ENET, "%s: token reply is not JSON", who);
	t = cJSON_GetObjectItemCaseSensitive(j, "access_token");
	if (!t)
		t = cJSON_GetObjectItemCaseSensitive(j, "accessToken");
	if (!cJSON_IsString(t) || !t->valuestring[0] || strlen(t->valuestring) > 16384 ||
	    strpbrk(t->valuestring, " \r\n\t")) {
		cJSON_Delete(j);
		return ng_errf(err, NG_ENET, "%s: token reply has no usable access token", who);
	}
	*exp = now + 300;
	if ((e = cJSON_GetObjectItemCaseSensitive(j, "expires_in")))
		*exp =
		    now + (time_t)(cJSON_IsNumber(e) ? e->valuedouble
						     : atof(e->valuestring ? e->valuestring : "0"));
	else if ((e = cJSON_GetObjectItemCaseSensitive(j, "expires_on")))
		*exp = (time_t)(cJSON_IsNumber(e) ? e->valuedouble
						  : atof(e->valuestring ? e->valuestring : "0"));
	if (asprintf(tok, "Bearer %s", t->valuestring) < 0)
		*tok = NULL;
	cJSON_Delete(j);
	return *tok ? 0 : ng_errf(err, NG_ENOMEM, "out of memory");
}

/* PS256 client assertion (azure-rest.md §5.2). */
static int client_assertion(const char *pem_path, const char *tenant, const char *client,
			    const char *authority, char **out, struct ng_err *err)
{
	FILE *f = fopen(pem_path, "r");
	X509 *x = NULL;
	EVP_PKEY *k = NULL;
	EVP_MD_CTX *md = NULL;
	EVP_PKEY_CTX *pc = NULL;
	unsigned char *der = NULL, sig[1024], th[32];
	size_t sl = sizeof(sig);
	char jti[37], *h64 = NULL, *p64 = NULL, *s64 = NULL, *x5t = NULL, hdr[256], pl[1024];
	int rc = 0, dl;
	time_t now = time(NULL);

	*out = NULL;
	if (!f)
		return ng_errf(err, NG_EIO, "AZURE_CLIENT_CERTIFICATE_PATH %s: %s", pem_path,
			       strerror(errno));
	x = PEM_read_X509(f, NULL, NULL, NULL);
	rewind(f);
	k = PEM_read_PrivateKey(f, NULL, NULL, (void *)getenv("AZURE_CLIENT_CERTIFICATE_PASSWORD"));
	fclose(f);
	if (!x || !k) {
		rc = ng_errf(err, NG_EINVAL,
			     "AZURE_CLIENT_CERTIFICATE_PATH %s: needs a PEM with the certificate "
			     "and its private key (convert a PFX with openssl pkcs12 -nodes)",
			     pem_path);
		goto out;
	}
	if ((dl = i2d_X509(x, &der)) <= 0) {
		rc = ng_err_openssl(err, NG_ECRYPTO, "client certificate");
		goto out;
	}
	sha256(der, (size_t)dl, th);
	http_uuid(jti);
	x5t = base64url_encode(th, sizeof(th));
	snprintf(hdr, sizeof(hdr), "{\"alg\":\"PS256\",\"typ\":\"JWT\",\"x5t#S256\":\"%s\"}",
		 x5t ? x5t : "");
	snprintf(pl, sizeof(pl),
		 "{\"aud\":\"%s/%s/oauth2/v2.0/token\",\"iss\":\"%s\",\"sub\":\"%s\","
		 "\"jti\":\"%s\",\"nbf\":%lld,\"iat\":%lld,\"exp\":%lld}",
		 authority, tenant, client, client, jti, (long long)now, (long long)now,
		 (long long)now + 600);
	h64 = base64url_encode((const uint8_t *)hdr, strlen(hdr));
	p64 = base64url_encode((const uint8_t *)pl, strlen(pl));
	struct buf in;
	buf_init(&in, 0);
	buf_printf(&in, "%s.%s", h64 ? h64 : "", p64 ? p64 : "");
	if (!(md = EVP_MD_CTX_new()) || EVP_DigestSignInit(md, &pc, EVP_sha256(), NULL, k) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING) != 1 ||
	    EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, RSA_PSS_SALTLEN_DIGEST) != 1 ||
	    EVP_DigestSign(md, sig, &sl, in.data, in.len) != 1) {
		rc = ng_err_openssl(err, NG_ECRYPTO, "client assertion (PS256, RSA key needed)");
	} else if (!(s64 = base64url_encode(sig, sl)) ||
		   asprintf(out, "%s.%s", (char *)in.data, s64) < 0) {
		*out = NULL;
		rc = ng_errf(err, NG_ENOMEM, "out of memory");
	}
	buf_free(&in);
out:
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(k);
	X509_free(x);
	OPENSSL_free(der);
	free(h64), free(p64), free(s64), free(x5t);
	return rc;
}

/* Entra v2 client credentials grant (§5.1) with a secret or assertion. */
static int entra(struct az_cred *c, const char *resource, char **tok, time_t *exp,
		 struct ng_err *err)
{
	const char *tenant = env("AZURE_TENANT_ID"), *client = env("AZURE_CLIENT_ID");
	const char *auth =
	    env("AZURE_AUTHORITY_HOST") ? env("AZURE_AUTHORITY_HOST") : c->cloud->authority;
	char scope[AZ_URL_MAX + 16], url[600], *secret = NULL, *e1, *e2, *e3, *e4, *body = NULL;
	struct http_resp resp;
	int rc = 0;
	const char *who = kind_name[c->kind];

	size_t al = strlen(auth);
	while (al && auth[al - 1] == '/')
		al--;
	char authority[AZ_URL_MAX];
	snprintf(authority, sizeof(authority), "%.*s", (int)al, auth);
	scope_of(resource, scope, sizeof(scope));
	if (c->kind == K_SECRET) {
		secret = strdup(env("AZURE_CLIENT_SECRET"));
	} else if (c->kind == K_CERT) {
		if ((rc = client_assertion(env("AZURE_CLIENT_CERTIFICATE_PATH"), tenant, client,
					   authority, &secret, err)))
			return rc;
	} else { /* workload identity: the projected token rotates, read it every time */
		uint8_t *d;
		size_t dl;
		if ((rc = read_file_capped(env("AZURE_FEDERATED_TOKEN_FILE"), 65536, &d, &dl, err)))
			return ng_err_prefix(err, rc, "AZURE_FEDERATED_TOKEN_FILE");
		while (dl && (d[dl - 1] == '\n' || d[dl - 1] == '\r'))
			d[--dl] = 0;
		secret = (char *)d;
	}
	if (!secret)
		return ng_errf(err, NG_ENOMEM, "out of memory");
	e1 = form_escape(client);
	e2 = form_escape(scope);
	e3 = form_escape(secret);
	e4 = form_escape(tenant);
	wipe_free(secret);
	if (!e1 || !e2 || !e3 || !e4 ||
	    asprintf(&body,
		     c->kind == K_SECRET
			 ? "client_id=%s&scope=%s&grant_type=client_credentials&client_secret=%s"
			 : "client_id=%s&scope=%s&grant_type=client_credentials&client_assertion_"
			   "type=urn%%3Aietf%%3Aparams%%3Aoauth%%3Aclient-assertion-type%%3Ajwt-"
			   "bearer&client_assertion=%s",
		     e1, e2, e3) < 0)
		body = NULL;
	snprintf(url, sizeof(url), "%s/%s/oauth2/v2.0/token", authority, e4 ? e4 : "");
	free(e1), free(e2), wipe_free(e3), free(e4);
	if (!body)
		return ng_errf(err, NG_ENOMEM, "out of memory");
	const char *hdrs[] = {"Content-Type: application/x-www-form-urlencoded",
			      "Accept: application/json", NULL};
	struct http_req q = {.method = "POST",
			     .url = url,
			     .headers = hdrs,
			     .body = body,
			     .body_len = strlen(body),
			     .idempotent = 1};
	http_resp_init(&resp);
	rc = http_do(c->http, &q, &resp, err);
	wipe_free(body);
	if (!rc && resp.status != 200) {
		char what[128];
		snprintf(what, sizeof(what), "%s: token for %s", who, resource);
		rc = http_status_err(&resp, err, NG_ENET, what);
	} else if (!rc) {
		rc = parse_token((const char *)resp.body.data, resp.body.len, who, tok, exp, err);
	}
	if (resp.body.data)
		OPENSSL_cleanse(resp.body.data, resp.body.len);
	http_resp_free(&resp);
	return rc;
}

/* Managed identity (§5.4). *unavailable set when nothing answers. */
static int managed(struct az_cred *c, const char *resource, char **tok, time_t *exp,
		   int *unavailable, struct ng_err *err)
{
	char url[1024], hdr[600], *r = form_escape(resource), *id = NULL;
	const char *client = env("AZURE_CLIENT_ID"), *ep = env("IDENTITY_ENDPOINT");
	const char *imds = env("AZURE_POD_IDENTITY_AUTHORITY_HOST")
			       ? env("AZURE_POD_IDENTITY_AUTHORITY_HOST")
			       : c->cloud->imds;
	struct http_resp resp;
	int rc;

	*unavailable = 0;
	if (client)
		id = form_escape(client);
	if (!r || (client && !id)) {
		free(r), free(id);
		return ng_errf(err, NG_ENOMEM, "out of memory");
	}
	const char *hdrs[] = {hdr, NULL};
	struct http_req q = {
	    .method = "GET", .url = url, .headers = hdrs, .idempotent = 1, .no_proxy = 1};
	if (c->kind == K_APPSVC) {
		snprintf(url, sizeof(url), "%s?api-version=2019-08-01&resource=%s%s%s", ep, r,
			 id ? "&client_id=" : "", id ? id : "");
		snprintf(hdr, sizeof(hdr), "X-IDENTITY-HEADER: %s", env("IDENTITY_HEADER"));
	} else {
		size_t l = strlen(imds);
		while (l && imds[l - 1] == '/')
			l--;
		snprintf(
		    url, sizeof(url),
		    "%.*s/metadata/identity/oauth2/token?api-version=2018-02-01&resource=%s%s%s",
		    (int)l, imds, r, id ? "&client_id=" : "", id ? id : "");
		snprintf(hdr, sizeof(hdr), "Metadata: true");
		q.connect_s = 1;
		q.retry_statuses_4xx = 1;
	}
	free(r), free(id);
	http_resp_init(&resp);
	rc = http_do(c->http, &q, &resp, err);
	OPENSSL_cleanse(hdr, sizeof(hdr));
	if (rc == NG_ENET && !resp.status && c->kind == K_IMDS)
		*unavailable = 1;
	else if (!rc && resp.status != 200)
		rc = http_status_err(&resp, err, NG_ENET, "managed identity token");
	else if (!rc)
		rc = parse_token((const char *)resp.body.data, resp.body.len, kind_name[c->kind],
				 tok, exp, err);
	if (resp.body.data)
		OPENSSL_cleanse(resp.body.data, resp.body.len);
	http_resp_free(&resp);
	return rc;
}

/* Azure CLI (§5.5): posix_spawnp, no shell; stdout JSON holds the token.
 * az's stderr goes to ours: it explains itself ("run az login") and never
 * carries a token. */
static int cli(const char *resource, char **tok, time_t *exp, int *unavailable, struct ng_err *err)
{
	int out[2], st = 0, rc;
	pid_t pid;
	posix_spawn_file_actions_t fa;
	char *argv[] = {
	    "az",   "account", "get-access-token", "--resource", (char *)resource, "--output",
	    "json", NULL};
	struct buf o;
	char b[4096];
	ssize_t n;

	*unavailable = 0;
	if (pipe2(out, O_CLOEXEC))
		return ng_errf(err, NG_EIO, "az: pipe: %s", strerror(errno));
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	int sr = posix_spawnp(&pid, "az", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(out[1]);
	if (sr) {
		close(out[0]);
		*unavailable = 1;
		return ng_errf(err, NG_ENOTFOUND, "az: %s", strerror(sr));
	}
	buf_init(&o, 1 << 20);
	while ((n = read(out[0], b, sizeof(b))) > 0 || (n < 0 && errno == EINTR))
		if (n > 0)
			buf_append(&o, b, (size_t)n);
	close(out[0]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(st) || WEXITSTATUS(st)) {
		rc = ng_errf(err, NG_ENET,
			     "az account get-access-token failed (exit %d): run 'az login' or "
			     "set another credential",
			     WIFEXITED(st) ? WEXITSTATUS(st) : -1);
		if (WIFEXITED(st) && WEXITSTATUS(st) == 127)
			*unavailable = 1;
	} else if (o.oom) {
		rc = ng_errf(err, NG_ELIMIT, "az: output too large");
	} else {
		rc = parse_token(o.data ? (char *)o.data : "", o.len, kind_name[K_CLI], tok, exp,
				 err);
	}
	if (o.data)
		OPENSSL_cleanse(o.data, o.len);
	buf_free(&o);
	return rc;
}

static int fetch(struct az_cred *c, const char *resource, char **tok, time_t *exp,
		 struct ng_err *err)
{
	const char *only = env("AZURE_TOKEN_CREDENTIALS");
	int env_ok = env("AZURE_TENANT_ID") && env("AZURE_CLIENT_ID");
	int rc, unavail;
	char tried[256] = "";

	if (c->kind != K_NONE) {
		if (c->kind <= K_WORKLOAD)
			return entra(c, resource, tok, exp, err);
		if (c->kind == K_CLI)
			return cli(resource, tok, exp, &unavail, err);
		return managed(c, resource, tok, exp, &unavail, err);
	}
#define ALLOW(n) (!only || !strcmp(only, n))
	if (ALLOW("EnvironmentCredential") && env_ok &&
	    (env("AZURE_CLIENT_SECRET") || env("AZURE_CLIENT_CERTIFICATE_PATH"))) {
		c->kind = env("AZURE_CLIENT_SECRET") ? K_SECRET : K_CERT;
		return entra(c, resource, tok, exp, err);
	}
	if (ALLOW("WorkloadIdentityCredential") && env_ok && env("AZURE_FEDERATED_TOKEN_FILE")) {
		c->kind = K_WORKLOAD;
		return entra(c, resource, tok, exp, err);
	}
	if (ALLOW("ManagedIdentityCredential")) {
		c->kind = env("IDENTITY_ENDPOINT") && env("IDENTITY_HEADER") ? K_APPSVC : K_IMDS;
		rc = managed(c, resource, tok, exp, &unavail, err);
		if (rc == 0 || !unavail)
			return rc;
		strcat(tried, "managed identity (no IMDS answer)");
	}
	if (ALLOW("AzureCliCredential")) {
		c->kind = K_CLI;
		rc = cli(resource, tok, exp, &unavail, err);
		if (rc == 0 || !unavail)
			return rc;
		strcat(tried, tried[0] ? ", Azure CLI (az not found)" : "Azure CLI (az not found)");
	}
#undef ALLOW
	c->kind = K_NONE;
	return ng_errf(err, NG_ENOTFOUND,
		       "no Azure credential: tried environment, workload identity%s%s; set "
		       "AZURE_TENANT_ID/AZURE_CLIENT_ID with AZURE_CLIENT_SECRET or "
		       "AZURE_CLIENT_CERTIFICATE_PATH, or run 'az login'",
		       tried[0] ? ", " : "", tried);
}

int az_cred_authorization(struct az_cred *c, const char *resource, const char **authorization,
			  struct ng_err *err)
{
	time_t now = time(NULL), exp = 0;
	int slot = -1, rc;
	char *tok = NULL;

	*authorization = NULL;
	if (strlen(resource) >= AZ_URL_MAX)
		return ng_errf(err, NG_EINVAL, "token resource too long");
	for (int i = 0; i < NCACHE; i++)
		if (!strcmp(c->cache[i].resource, resource)) {
			slot = i;
			if (c->cache[i].auth && c->cache[i].expires - 300 > now) {
				*authorization = c->cache[i].auth;
				return 0;
			}
		}
	if ((rc = fetch(c, resource, &tok, &exp, err)))
		return rc;
	if (!c->announced && !c->quiet)
		fprintf(stderr, "nutapply: using %s\n", kind_name[c->kind]);
	c->announced = 1;
	if (slot < 0) {
		slot = 0;
		for (int i = 0; i < NCACHE; i++)
			if (!c->cache[i].resource[0] ||
			    c->cache[i].expires < c->cache[slot].expires) {
				slot = i;
				if (!c->cache[i].resource[0])
					break;
			}
	}
	wipe_free(c->cache[slot].auth);
	snprintf(c->cache[slot].resource, AZ_URL_MAX, "%s", resource);
	c->cache[slot].auth = tok;
	c->cache[slot].expires = exp;
	*authorization = tok;
	return 0;
}
