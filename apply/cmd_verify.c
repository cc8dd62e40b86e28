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
    "  --url URL        the mint: GET URL/v1/attestation/info and URL/v1/attestation\n"
    "  --token FILE     an MAA token: a bare JWT, or JSON with maa_token or token\n"
    "  --report FILE    an SNP report: 1184 bytes, /attest/raw's or /attest/combined's JSON\n"
    "  --certs FILE     VCEK, ASK, ARK as PEM, in that order (AMD KDS, THIM)\n"
    "  --nonce HEX      a fresh challenge (1 to 64 bytes) that the token's x-ms-runtime and\n"
    "                   the report's REPORT_DATA must carry\n"
    "  --json           the checks as JSON instead of a table\n"
    "  --trust PUB      a trusted bundle signing key (nutgen keygen's .pub); the bundle then\n"
    "                   needs --threshold N (default 1) trusted signatures\n"
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

/* GET over verified TLS (http.h); anything but 200 fails with one line. */
static int fetch(const struct verify *o, const char *url, size_t max, char **body, size_t *n,
		 struct ng_err *err)
{
	static const char *const hdrs[] = {"Accept: application/json", NULL};
	struct http_req rq = {
	    .method = "GET", .url = url, .headers = hdrs, .idempotent = 1, .max_response = max};
	struct http_resp rs;
	int rc;

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
				      .ntrusted = (size_t)o->ntrust,
				      .threshold = (unsigned)(o->ntrust ? o->threshold : 0)};
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
		rc = ng_errf(err, NG_EVERIFY,
			     "%s: no policy.rego, or policy.hostdata or hostdata.txt differs from "
			     "SHA-256 of policy.rego: rebuild the bundle",
			     o->bundle);
	} else {
		memcpy(o->hostdata, pol->sha256, 32);
		snprintf(provider, MAA_PROVIDER_MAX, "%s", ep ? ep : "");
		hex_encode(b->file_sha256, 32, hex);
		verdict_add(v, "bundle", VERDICT_INFO, "",
			    "sha256 %s, serial %llu, %zu signature(s), %u trusted%s", hex,
			    (unsigned long long)b->m->serial, b->nsigs, b->trusted_signers,
			    o->ntrust ? "" : " (no --trust: signers not checked)");
	}
	bundle_free(b);
	return rc;
}

static int check_token(const struct verify *o, struct verdict *v, struct ng_err *err)
{
	const char *src = o->opt[URL] ? o->opt[URL] : o->opt[TOKEN];
	char *body = NULL, *jwks = NULL, u[1024];
	int ul = (int)strlen(src), rc;
	size_t n = 0, jn = 0;

	while (ul > 0 && src[ul - 1] == '/')
		ul--;
	if (o->opt[URL]) {
		snprintf(u, sizeof(u), "%.*s/v1/attestation/info", ul, src);
		rc = fetch(o, u, 65536, &body, &n, err);
		verdict_add(v, "mint.attestation-info", VERDICT_INFO, "", "%s",
			    rc ? err->msg : body);
		free(body);
		snprintf(u, sizeof(u), "%.*s/v1/attestation%s%s", ul, src,
			 o->opt[NONCE] ? "?nonce=" : "", o->nonce_hex);
		rc = fetch(o, u, MAA_BODY_MAX, &body, &n, err);
	} else {
		rc = read_file_capped(src, MAA_BODY_MAX, (uint8_t **)&body, &n, err);
	}
	snprintf(u, sizeof(u), "%s/certs", o->provider);
	if (rc == 0 && o->opt[JWKS])
		rc = read_file_capped(o->opt[JWKS], JWKS_MAX, (uint8_t **)&jwks, &jn, err);
	else if (rc == 0)
		rc = fetch(o, u, JWKS_MAX, &jwks, &jn, err);
	if (rc == 0 &&
	    (rc = maa_verify(body, n, jwks, jn, o->provider, o->hostdata,
			     o->opt[NONCE] ? o->nonce_hex : NULL, time(NULL), v, err)) < 0)
		ng_err_prefix(err, rc, "%s", src);
	free(body);
	free(jwks);
	return rc;
}

static int check_report(const struct verify *o, struct verdict *v, struct ng_err *err)
{
	uint8_t *in = NULL;
	char *certs = NULL;
	size_t n = 0, cn;
	int rc = read_file_capped(o->opt[REPORT], 4 * SNP_CHAIN_MAX, &in, &n, err);

	if (rc == 0 && o->opt[CERTS])
		rc = read_file_capped(o->opt[CERTS], SNP_CHAIN_MAX, (uint8_t **)&certs, &cn, err);
	if (rc == 0 && (rc = snp_verify(in, n, certs, o->hostdata, o->opt[NONCE] ? o->nonce : NULL,
					o->nonce_len, v, err)) < 0)
		ng_err_prefix(err, rc, "%s", o->opt[REPORT]);
	free(certs);
	free(in);
	return rc;
}

static int parse_args(int argc, char **argv, struct verify *o)
{
	static const struct option lo[] = {{"url", required_argument, 0, URL},
					   {"token", required_argument, 0, TOKEN},
					   {"report", required_argument, 0, REPORT},
					   {"certs", required_argument, 0, CERTS},
					   {"nonce", required_argument, 0, NONCE},
					   {"hostdata", required_argument, 0, HOSTDATA},
					   {"attestation-endpoint", required_argument, 0, ENDPOINT},
					   {"jwks", required_argument, 0, JWKS},
					   {"ca-file", required_argument, 0, CA_FILE},
					   {"trust", required_argument, 0, TRUST},
					   {"threshold", required_argument, 0, NEED},
					   {"json", no_argument, 0, JSON},
					   {0, 0, 0, 0}};
	const char *bad = NULL, **opt = o->opt;
	int ch, maa;

	optind = 1;
	o->threshold = 1;
	while (!bad && (ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (ch >= 0 && ch < TRUST)
			opt[ch] = optarg;
		else if (ch == TRUST && o->ntrust < 8)
			o->trust[o->ntrust++] = optarg;
		else if (ch == JSON)
			o->json = 1;
		else if (ch != NEED || (o->threshold = atoi(optarg)) < 1 || o->threshold > 8)
			bad = ch == TRUST  ? "at most 8 --trust keys"
			      : ch == NEED ? "--threshold must be 1..8"
					   : "unknown option";
	}
	o->bundle = optind < argc ? argv[optind++] : NULL;
	maa = opt[URL] || opt[TOKEN];
	o->nonce_len = opt[NONCE] ? strlen(opt[NONCE]) / 2 : 0;
	if (bad || optind < argc)
		bad = bad ? bad : "unexpected argument";
	else if (opt[URL] && opt[TOKEN])
		bad = "give --url or --token, not both";
	else if (!maa && !opt[REPORT])
		bad = "nothing to verify: give --url, --token or --report";
	else if (!o->bundle == !opt[HOSTDATA])
		bad = "give a BUNDLE or --hostdata HEX";
	else if (!o->bundle && hex_decode(opt[HOSTDATA], o->hostdata, 32, NULL))
		bad = "--hostdata: expected 64 hex digits (SHA-256 of the policy)";
	else if (!o->bundle && maa && !opt[ENDPOINT])
		bad = "give a BUNDLE or --attestation-endpoint URL";
	else if (opt[NONCE] && (!o->nonce_len || o->nonce_len > 64 ||
				hex_decode(opt[NONCE], o->nonce, o->nonce_len, NULL)))
		bad = "--nonce: expected 2 to 128 hex digits";
	else if (opt[URL] && strlen(opt[URL]) > 900)
		bad = "--url: longer than 900 characters";
	hex_encode(o->nonce, o->nonce_len, o->nonce_hex);
	return bad ? cli_usage_error("nutapply", "verify", "%s", bad) : 0;
}

int cmd_verify(int argc, char **argv)
{
	struct verify *o = calloc(1, sizeof(*o));
	struct verdict v = {cJSON_CreateArray(), 0, 0};
	struct ng_err err = {{0}};
	char ep[MAA_PROVIDER_MAX] = "";
	int rc =
	    o && v.rows ? parse_args(argc, argv, o) : cli_fail("nutapply verify", NG_ENOMEM, NULL);
	const char *name = rc == 0 ? o->opt[ENDPOINT] : NULL;

	if (rc != 0) {
		free(o);
		cJSON_Delete(v.rows);
		return rc;
	}
	if (o->bundle)
		rc = bundle_facts(o, ep, &v, &err);
	if (rc == 0 && (o->opt[URL] || o->opt[TOKEN]) &&
	    (rc = maa_provider_normalize(name ? name : ep, o->provider, &err)) < 0)
		ng_err_prefix(&err, rc, "%s", name ? "--attestation-endpoint" : o->bundle);
	if (rc == 0 && (o->opt[URL] || (o->opt[TOKEN] && !o->opt[JWKS])))
		rc = http_ctx_new(&(struct http_opts){.ca_file = o->opt[CA_FILE], .budget_s = 60},
				  &o->http, &err);
	if (rc == 0 && (o->opt[URL] || o->opt[TOKEN]))
		rc = check_token(o, &v, &err);
	if (rc == 0 && o->opt[REPORT])
		rc = check_report(o, &v, &err);
	/* Messages quote hostile values (alg, jku, the mint's detail): one printable line. */
	for (char *c = err.msg; *c; c++)
		*c = (unsigned char)*c < 0x20 || *c == 0x7f ? '?' : *c;
	if (rc == 0)
		verdict_print(&v, o->json, stdout);
	rc = rc < 0 ? cli_fail("nutapply verify", rc, &err) : !verdict_ok(&v);
	http_ctx_free(o->http);
	free(o);
	cJSON_Delete(v.rows);
	return rc;
}
