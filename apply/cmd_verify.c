/* nutapply verify: does the live mint run exactly this bundle? Two independent answers, both
 * naming the bundle's hostdata: Microsoft Azure Attestation's token and AMD's own signature on
 * the raw SEV-SNP report (attest.h). docs/verify.md says what each row proves. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "../bundle-format/bundle.h"
#include "../bundle-format/cli.h"
#include "../bundle-format/codec.h"
#include "../bundle-format/fileio.h"
#include "../bundle-format/jsonpath.h"
#include "attest.h"
#include "http.h"

const char cmd_verify_usage[] =
    "Usage: nutapply verify [BUNDLE] [--url URL | --token FILE] [--report FILE [--certs FILE]]\n"
    "         [--nonce HEX] [--json] [--trust PUB]... [--threshold N] [--ca-file FILE]\n"
    "         [--hostdata HEX] [--attestation-endpoint URL] [--jwks FILE]\n"
    "\n"
    "Checks that a live mint attests to the bundle's hostdata, through Microsoft Azure\n"
    "Attestation and, independently of Microsoft, through AMD's signature on the raw SEV-SNP\n"
    "report. Prints one row per check (expected and seen) and a verdict; docs/verify.md.\n"
    "\n"
    "  --url URL        the mint, whose GET URL/v1/attestation gives the MAA token\n"
    "  --token FILE     an MAA token: a bare JWT, or JSON with maa_token or token\n"
    "  --report FILE    an SNP report: 1184 bytes, /attest/raw's or /attest/combined's JSON\n"
    "  --certs FILE     VCEK, ASK, ARK as PEM, in that order (AMD KDS, THIM)\n"
    "  --nonce HEX      1 to 64 fresh bytes the token's x-ms-runtime and REPORT_DATA must carry\n"
    "  --json           the checks as JSON instead of a table\n"
    "  --trust PUB      a trusted bundle signing key (nutgen keygen's .pub), of which the\n"
    "                   bundle needs --threshold N (default 1)\n"
    "  --ca-file FILE   a CA (PEM) added to the system's for HTTPS\n"
    "  --hostdata HEX, --attestation-endpoint URL\n"
    "                   the expected hostdata (64 hex) and MAA provider (https://HOST) without\n"
    "                   a BUNDLE; the endpoint also overrides the BUNDLE's\n"
    "  --jwks FILE      the provider's keys ({provider}/certs) saved earlier, not fetched\n"
    "\n"
    "Exit status: 0 when every check holds, 1 when one fails or an input is refused, 2 on\n"
    "usage errors.\n";

enum { URL, TOKEN, REPORT, CERTS, NONCE, HOSTDATA, ENDPOINT, JWKS, CA_FILE, TRUST, NEED, JSON };

struct verify {
	const char *opt[TRUST], *bundle, *trust[8];
	int ntrust, threshold, json;
	struct http_ctx *http;
	uint8_t hostdata[32], nonce[64];
	size_t nonce_len;
	char provider[MAA_PROVIDER_MAX], nonce_hex[129];
};

/* GET url over verified TLS (http.h; anything but 200 fails with one line), or read file. */
static int get(const struct verify *o, const char *url, const char *file, size_t max, char **body,
	       size_t *n, struct ng_err *err)
{
	struct http_req rq = {
	    .method = "GET", .url = url, .idempotent = 1, .max_response = max, .budget_s = 60};
	struct http_resp rs;
	int rc;

	if (file)
		return read_file_capped(file, max, (uint8_t **)body, n, err);
	http_resp_init(&rs);
	if ((rc = http_do(o->http, &rq, &rs, err)) == 0 && rs.status != 200)
		rc = http_status_err(&rs, err, NG_ENET, url);
	*n = rs.body.len;
	*body = rc == 0 ? buf_steal(&rs.body) : NULL;
	http_resp_free(&rs);
	return rc == 0 && !*body ? ng_errf(err, NG_ENOMEM, "out of memory") : rc;
}

/* The bundle is verified completely (signatures, digests) before anything is fetched. Its
 * hostdata is SHA-256 of policy.rego (the manifest's digest of it), which policy.hostdata and
 * hostdata.txt must equal; its provider is SPEC's deployment.attestation_endpoint. */
static int bundle_facts(struct verify *o, char *provider, struct verdict *v, struct ng_err *err)
{
	uint8_t keys[8][SIGKEY_PUB_LEN];
	struct bundle_read_opts ro = {.trusted = (const uint8_t(*)[SIGKEY_PUB_LEN])keys,
				      .ntrusted = o->ntrust,
				      .threshold = o->ntrust ? o->threshold : 0};
	const struct bundle_member *pol, *txt;
	const char *hd, *ep;
	struct bundle *b = NULL;
	char hex[65];
	int rc = 0;

	for (int i = 0; rc == 0 && i < o->ntrust; i++)
		rc = sigkey_load_public(o->trust[i], keys[i], err);
	if (rc < 0 || (rc = bundle_open(o->bundle, &ro, &b, err)) < 0)
		return rc;
	pol = bundle_member_get(b, "policy.rego");
	txt = bundle_member_get(b, "hostdata.txt");
	hd = json_path_str(b->m->json, "policy.hostdata");
	ep = json_path_str(b->m->json, "deployment.attestation_endpoint");
	hex_encode(pol ? pol->sha256 : o->hostdata, 32, hex);
	if (!pol || !hd || strcmp(hd, hex) ||
	    (txt && (!txt->data || strncmp((char *)txt->data, hex, 64)))) {
		rc = ng_errf(err, NG_EVERIFY, "%s: hostdata differs from SHA-256 of policy.rego",
			     o->bundle);
	} else {
		memcpy(o->hostdata, pol->sha256, 32);
		snprintf(provider, MAA_PROVIDER_MAX, "%s", ep ? ep : "");
		verdict_add(v, "bundle", VERDICT_INFO, "",
			    "serial %llu, %u of %zu signatures trusted%s",
			    (unsigned long long)b->m->serial, b->trusted_signers, b->nsigs,
			    o->ntrust ? "" : " (no --trust)");
	}
	bundle_free(b);
	return rc;
}

static int check(const struct verify *o, struct verdict *v, struct ng_err *err)
{
	const char *src = o->opt[URL] ? o->opt[URL] : o->opt[TOKEN];
	char *body = NULL, *jwks = NULL, *rep = NULL, *certs = NULL, u[1024];
	int ul = src ? (int)strlen(src) : 0, rc = 0;
	size_t n = 0, jn = 0;

	while (ul > 0 && src[ul - 1] == '/')
		ul--;
	snprintf(u, sizeof(u), "%.*s/v1/attestation%s%s", ul, src ? src : "",
		 o->opt[NONCE] ? "?nonce=" : "", o->nonce_hex);
	if (src && (rc = get(o, u, o->opt[TOKEN], MAA_BODY_MAX, &body, &n, err)) == 0) {
		snprintf(u, sizeof(u), "%s/certs", o->provider);
		rc = get(o, u, o->opt[JWKS], JWKS_MAX, &jwks, &jn, err);
	}
	if (src && rc == 0 &&
	    (rc = maa_verify(body, n, jwks, jn, o->provider, o->hostdata, o->nonce_hex, time(NULL),
			     v, err)) < 0)
		ng_err_prefix(err, rc, "%s", src);
	if (rc == 0 && o->opt[REPORT] &&
	    (rc = get(o, NULL, o->opt[REPORT], 4 * SNP_CHAIN_MAX, &rep, &n, err)) == 0 &&
	    (!o->opt[CERTS] ||
	     (rc = get(o, NULL, o->opt[CERTS], SNP_CHAIN_MAX, &certs, &jn, err)) == 0) &&
	    (rc = snp_verify((uint8_t *)rep, n, certs, o->hostdata, o->nonce, o->nonce_len, v,
			     err)) < 0)
		ng_err_prefix(err, rc, "%s", o->opt[REPORT]);
	free(body);
	free(jwks);
	free(rep);
	free(certs);
	return rc;
}

static int parse_args(int argc, char **argv, struct verify *o)
{
	static const char *const names[] = {
	    "url",  "token",   "report", "certs",     "nonce", "hostdata", "attestation-endpoint",
	    "jwks", "ca-file", "trust",	 "threshold", "json"};
	struct option lo[JSON + 2] = {{0}};
	const char **opt = o->opt, *why;
	int ch, bad = 0, maa;

	for (int i = 0; i <= JSON; i++) /* all but --json take a value */
		lo[i] = (struct option){names[i], i < JSON ? required_argument : no_argument, 0, i};
	optind = 1;
	while (!bad && (ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (ch >= 0 && ch < TRUST)
			opt[ch] = optarg;
		else if (ch == TRUST && o->ntrust < 8)
			o->trust[o->ntrust++] = optarg;
		else if (ch == JSON)
			o->json = 1;
		else if (ch != NEED || (o->threshold = atoi(optarg)) < 1 || o->threshold > 8)
			bad = 1;
	}
	o->bundle = optind < argc ? argv[optind++] : NULL;
	maa = opt[URL] || opt[TOKEN];
	o->nonce_len = opt[NONCE] && strlen(opt[NONCE]) <= 128 ? strlen(opt[NONCE]) / 2 : 0;
	why =
	    bad			     ? "unknown option, over 8 --trust or --threshold not 1..8"
	    : optind < argc	     ? "one BUNDLE at most"
	    : opt[URL] && opt[TOKEN] ? "give --url or --token, not both"
	    : !maa && !opt[REPORT]   ? "nothing to verify: give --url, --token or --report"
	    : !o->bundle == !opt[HOSTDATA]	  ? "give either a BUNDLE or --hostdata HEX"
	    : !o->bundle && maa && !opt[ENDPOINT] ? "give a BUNDLE or --attestation-endpoint URL"
	    : opt[HOSTDATA] && hex_decode(opt[HOSTDATA], o->hostdata, 32, NULL)
		? "--hostdata: expected 64 hex digits (SHA-256 of the policy)"
	    : opt[NONCE] && (!o->nonce_len || hex_decode(opt[NONCE], o->nonce, o->nonce_len, NULL))
		? "--nonce: expected 2 to 128 hex digits"
	    : opt[URL] && strlen(opt[URL]) > 900 ? "--url: longer than 900 characters"
						 : NULL;
	hex_encode(o->nonce, o->nonce_len, o->nonce_hex);
	return why ? cli_usage_error("nutapply", "verify", "%s", why) : 0;
}

int cmd_verify(int argc, char **argv)
{
	struct verify o = {.threshold = 1};
	struct verdict v = {cJSON_CreateArray(), 0, 0};
	struct ng_err err = {{0}};
	char ep[MAA_PROVIDER_MAX] = "";
	int rc = parse_args(argc, argv, &o);
	const char *name = o.opt[ENDPOINT];

	if (rc == 0 && o.bundle)
		rc = bundle_facts(&o, ep, &v, &err);
	if (rc == 0 && (o.opt[URL] || o.opt[TOKEN]) &&
	    (rc = maa_provider_normalize(name ? name : ep, o.provider, &err)) < 0)
		ng_err_prefix(&err, rc, "%s", name ? "--attestation-endpoint" : o.bundle);
	if (rc == 0 && (o.opt[URL] || (o.opt[TOKEN] && !o.opt[JWKS])))
		rc = http_ctx_new(&(struct http_opts){.ca_file = o.opt[CA_FILE]}, &o.http, &err);
	if (rc == 0)
		rc = check(&o, &v, &err);
	/* Messages quote hostile values (alg, jku, the mint's detail): one printable line. */
	for (char *c = err.msg; *c; c++)
		*c = (unsigned char)*c < 0x20 || *c == 0x7f ? '?' : *c;
	if (rc == 0)
		verdict_print(&v, o.json, stdout);
	rc = rc > 0 ? rc : rc < 0 ? cli_fail("nutapply verify", rc, &err) : !verdict_ok(&v);
	http_ctx_free(o.http);
	cJSON_Delete(v.rows);
	return rc;
}
