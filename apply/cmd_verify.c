/* nutapply verify: does the live mint run exactly this bundle? Two
 * independent answers: Microsoft Azure Attestation's token (maa.c) and AMD's
 * own signature on the raw SEV-SNP report (snp.c). Both must name the
 * bundle's hostdata. See docs/verify.md for what each row proves. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../bundle-format/bundle.h"
#include "../bundle-format/cli.h"
#include "../bundle-format/codec.h"
#include "../bundle-format/fileio.h"
#include "http.h"
#include "maa.h"
#include "snp.h"

const char cmd_verify_usage[] =
    "Usage: nutapply verify [BUNDLE] [--url URL | --token FILE] [--report FILE]\n"
    "                       [--nonce HEX] [--json] [--trust PUB]...\n"
    "\n"
    "Checks that a live mint attests to the bundle's hostdata, through Microsoft Azure\n"
    "Attestation and, independently of Microsoft, through AMD's signature on the raw\n"
    "SEV-SNP report. Prints one row per check (expected and seen) and a verdict.\n"
    "\n"
    "  --url URL          the mint's base URL: GET URL/v1/attestation/info and\n"
    "                     URL/v1/attestation (its maa_token)\n"
    "  --token FILE       an MAA token: a bare JWT, or JSON with maa_token or token\n"
    "  --report FILE      a raw SNP report: 1184 bytes, hex, /attest/raw's JSON or\n"
    "                     /attest/combined's JSON (which carries the VCEK chain)\n"
    "  --certs FILE       VCEK, ASK, ARK as PEM, in that order (AMD KDS, THIM)\n"
    "  --nonce HEX        a fresh challenge (up to 64 bytes) that must be in the token's\n"
    "                     x-ms-runtime and in the report's REPORT_DATA\n"
    "  --json             print the checks as JSON instead of a table\n"
    "  --trust PUB        a trusted bundle signing key (nutgen keygen's .pub); with it\n"
    "                     the bundle must carry --threshold N (default 1) trusted\n"
    "                     signatures, without it the signers are only listed\n"
    "  --threshold N      distinct trusted signatures the bundle needs\n"
    "  --ca-file FILE     add a CA (PEM) to the system trust store for HTTPS\n"
    "  --hostdata HEX     expected hostdata (64 hex) when no BUNDLE is given\n"
    "  --attestation-endpoint URL\n"
    "                     the MAA provider when no BUNDLE is given (https://HOST)\n"
    "  --jwks FILE        the provider's signing keys ({provider}/certs) saved earlier,\n"
    "                     instead of fetching them over TLS\n"
    "\n"
    "Exit status: 0 when every check holds, 1 when one fails or an input is refused,\n"
    "2 on usage errors.\n";

struct verify_opts {
	const char *bundle, *url, *token, *report, *certs, *nonce, *hostdata, *endpoint, *jwks;
	const char *ca_file;
	const char *trust[8];
	int ntrust, threshold, json;
	struct http_ctx *http;
};

/* GET over verified TLS (http.h); anything but 200 fails with one line. */
static int fetch(const struct verify_opts *o, const char *url, size_t max, char **body, size_t *n,
		 struct ng_err *err)
{
	static const char *const hdrs[] = {"Accept: application/json", NULL};
	struct http_req rq = {.method = "GET",
			      .url = url,
			      .headers = hdrs,
			      .idempotent = 1,
			      .budget_s = 60,
			      .max_response = max};
	struct http_resp rs;
	int rc;

	*body = NULL;
	http_resp_init(&rs);
	if ((rc = http_do(o->http, &rq, &rs, err)) == 0 && rs.status != 200)
		rc = http_status_err(&rs, err, NG_ENET, url);
	if (rc == 0) {
		*n = rs.body.len;
		if (!(*body = buf_steal(&rs.body)))
			rc = ng_errf(err, NG_ENOMEM, "out of memory");
	}
	http_resp_free(&rs);
	return rc;
}

/* The release policy's authority (the provider whose tokens Key Vault
 * accepts) into ep; its hostdata claim must be the bundle's. */
static int release_policy_facts(const struct bundle_member *rp, const char *hex, char *ep,
				size_t elen)
{
	cJSON *j = rp && rp->data ? cJSON_Parse((const char *)rp->data) : NULL;
	const cJSON *any = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "anyOf"), 0), *c;
	const char *auth = jwt_str(any, "authority");
	int ok = auth != NULL;

	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(any, "allOf"))
	{
		const char *cl = jwt_str(c, "claim"), *eq = jwt_str(c, "equals");
		if (cl && !strcmp(cl, "x-ms-sevsnpvm-hostdata") && (!eq || strcmp(eq, hex)))
			ok = 0;
	}
	if (ok)
		snprintf(ep, elen, "%s", auth);
	cJSON_Delete(j);
	return ok;
}

static int same_provider(const char *a, const char *b)
{
	char na[MAA_PROVIDER_MAX], nb[MAA_PROVIDER_MAX];

	return maa_provider_normalize(a, na, NULL) == 0 &&
	       maa_provider_normalize(b, nb, NULL) == 0 && !strcmp(na, nb);
}

/* The expected hostdata and provider from a bundle: it is read and checked
 * completely (signatures, digests) before anything is fetched. hostdata is
 * the SHA-256 of policy.rego, which the manifest records as that member's
 * digest; policy.hostdata, hostdata.txt and the release policy must agree.
 * The provider is the release policy's authority (SPEC's
 * deployment.attestation_endpoint when there is no release policy). */
static int bundle_facts(const struct verify_opts *o, uint8_t hd[32], char *endpoint, size_t elen,
			struct verdict *v, struct ng_err *err)
{
	uint8_t trust[8][SIGKEY_PUB_LEN];
	struct bundle_read_opts ro = {0};
	struct bundle *b = NULL;
	const struct bundle_member *pol, *txt, *rp;
	const cJSON *m, *h, *e;
	char hex[65];
	int rc = 0;

	for (int i = 0; rc == 0 && i < o->ntrust; i++)
		rc = sigkey_load_public(o->trust[i], trust[i], err);
	ro.trusted = (const uint8_t(*)[SIGKEY_PUB_LEN])trust;
	ro.ntrusted = (size_t)o->ntrust;
	ro.threshold = o->ntrust ? (unsigned)(o->threshold ? o->threshold : 1) : 0;
	if (rc < 0 || (rc = bundle_open(o->bundle, &ro, &b, err)) < 0)
		return rc;
	m = b->m->json;
	h = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(m, "policy"),
					     "hostdata");
	e = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(m, "deployment"),
					     "attestation_endpoint");
	pol = bundle_member_get(b, "policy.rego");
	txt = bundle_member_get(b, "hostdata.txt");
	rp = bundle_member_get(b, "release-policy.json");
	*endpoint = 0;
	if (pol)
		hex_encode(pol->sha256, 32, hex);
	if (!pol)
		rc = ng_errf(err, NG_EINVAL, "%s: no policy.rego: not a deployment bundle",
			     o->bundle);
	else if (!cJSON_IsString(h) || strcmp(h->valuestring, hex) ||
		 (txt && (!txt->data || strncmp((char *)txt->data, hex, 64))))
		rc = ng_errf(
		    err, NG_EVERIFY,
		    "%s: policy.hostdata or hostdata.txt differs from SHA-256 of policy.rego: "
		    "rebuild the bundle",
		    o->bundle);
	else if (rp && !release_policy_facts(rp, hex, endpoint, elen))
		rc = ng_errf(err, NG_EVERIFY,
			     "%s: release-policy.json has no authority or another hostdata: "
			     "rebuild the bundle",
			     o->bundle);
	else if (!rp && cJSON_IsString(e))
		snprintf(endpoint, elen, "%s", e->valuestring);
	else if (cJSON_IsString(e) && !same_provider(e->valuestring, endpoint))
		rc = ng_errf(err, NG_EVERIFY,
			     "%s: deployment.attestation_endpoint is not the release policy's "
			     "authority: rebuild the bundle",
			     o->bundle);
	if (rc == 0 && !*endpoint && !o->endpoint && (o->url || o->token))
		rc = ng_errf(err, NG_EINVAL,
			     "%s: names no attestation provider: give --attestation-endpoint",
			     o->bundle);
	if (rc == 0) {
		memcpy(hd, pol->sha256, 32);
		hex_encode(b->file_sha256, 32, hex);
		verdict_addf(v, "bundle", VERDICT_INFO, "",
			     "sha256 %s, serial %llu, %zu signature(s), %u trusted%s", hex,
			     (unsigned long long)b->m->serial, b->nsigs, b->trusted_signers,
			     o->ntrust ? "" : " (no --trust: signers not checked)");
	}
	bundle_free(b);
	return rc;
}

static int read_text(const char *path, size_t max, char **out, size_t *n, struct ng_err *err)
{
	return read_file_capped(path, max, (uint8_t **)out, n, err);
}

static int check_token(const struct verify_opts *o, const char *provider, const uint8_t hd[32],
		       const char *nonce_hex, struct verdict *v, struct ng_err *err)
{
	char *body = NULL, *tok = NULL, *claimed = NULL, *jwks = NULL, url[MAA_PROVIDER_MAX + 8];
	size_t n, jn;
	struct jwt j = {0};
	struct maa_expect e = {provider, hd, nonce_hex, time(NULL)};
	int rc;

	if (o->url) {
		char u[1024];
		int ul = (int)strlen(o->url);
		while (ul > 0 && o->url[ul - 1] == '/')
			ul--;
		if (ul > 900)
			return ng_errf(err, NG_EUSAGE, "--url: longer than 900 characters");
		snprintf(u, sizeof(u), "%.*s/v1/attestation/info", ul, o->url);
		if (fetch(o, u, 65536, &body, &n, err) == 0)
			verdict_add(v, "mint.attestation-info", VERDICT_INFO, "", body);
		else
			verdict_add(v, "mint.attestation-info", VERDICT_INFO, "", err->msg);
		free(body);
		body = NULL;
		snprintf(u, sizeof(u), "%.*s/v1/attestation%s%s", ul, o->url,
			 nonce_hex ? "?nonce=" : "", nonce_hex ? nonce_hex : "");
		rc = fetch(o, u, MAA_BODY_MAX, &body, &n, err);
	} else if ((rc = read_text(o->token, MAA_BODY_MAX, &body, &n, err)) < 0) {
		goto out;
	}
	if (rc == 0 && (rc = maa_token_extract(body, n, &tok, &claimed, err)) == 0 &&
	    (rc = jwt_parse(tok, strlen(tok), &j, err)) == 0)
		rc = maa_header_check(&j, provider, err);
	if (rc < 0) {
		ng_err_prefix(err, rc, "%s", o->url ? o->url : o->token);
		goto out;
	}
	if (claimed)
		verdict_add(v, "mint.maa-endpoint", VERDICT_INFO, "", claimed);
	snprintf(url, sizeof(url), "%s/certs", provider);
	rc = o->jwks ? read_text(o->jwks, JWKS_MAX, &jwks, &jn, err)
		     : fetch(o, url, JWKS_MAX, &jwks, &jn, err);
	if (rc == 0)
		maa_check(&j, jwks, jn, &e, v);
out:
	jwt_release(&j);
	free(body);
	free(tok);
	free(claimed);
	free(jwks);
	return rc;
}

static int check_report(const struct verify_opts *o, const uint8_t hd[32], const uint8_t *nonce,
			size_t nonce_len, struct verdict *v, struct ng_err *err)
{
	uint8_t *in = NULL, rep[SNP_REPORT_LEN];
	char *chain = NULL;
	size_t n, cn;
	struct snp_report r;
	struct snp_chain *c = NULL;
	struct snp_expect e = {hd, nonce, nonce_len};
	int rc = read_file_capped(o->report, 4 * SNP_CHAIN_MAX, &in, &n, err);

	if (rc == 0 && (rc = snp_evidence_load(in, n, o->report, rep, &chain, err)) == 0 &&
	    (rc = snp_report_parse(rep, SNP_REPORT_LEN, &r, err)) < 0)
		ng_err_prefix(err, rc, "%s", o->report);
	if (rc == 0 && o->certs) {
		free(chain);
		chain = NULL;
		rc = read_text(o->certs, SNP_CHAIN_MAX, &chain, &cn, err);
	} else if (rc == 0 && chain) {
		cn = strlen(chain);
	} else if (rc == 0) {
		char chip[129];
		hex_encode(r.chip_id, 64, chip);
		rc =
		    ng_errf(err, NG_EUSAGE,
			    "%s: no VCEK chain: pass --certs FILE with the VCEK, ASK and ARK, e.g. "
			    "from https://kdsintf.amd.com/vcek/v1/Milan/%s",
			    o->report, chip);
	}
	if (rc == 0)
		rc = snp_chain_parse(chain, cn, o->certs ? o->certs : o->report, &c, err);
	if (rc == 0)
		snp_check(&r, c, &e, v);
	snp_chain_free(c);
	free(chain);
	free(in);
	return rc;
}

static int parse_args(int argc, char **argv, struct verify_opts *o)
{
	static const struct option lo[] = {{"url", required_argument, 0, 'u'},
					   {"token", required_argument, 0, 't'},
					   {"report", required_argument, 0, 'r'},
					   {"certs", required_argument, 0, 'c'},
					   {"nonce", required_argument, 0, 'n'},
					   {"json", no_argument, 0, 'j'},
					   {"hostdata", required_argument, 0, 'H'},
					   {"attestation-endpoint", required_argument, 0, 'e'},
					   {"jwks", required_argument, 0, 'k'},
					   {"trust", required_argument, 0, 'T'},
					   {"threshold", required_argument, 0, 'N'},
					   {"ca-file", required_argument, 0, 'A'},
					   {0, 0, 0, 0}};
	int ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 'u':
			o->url = optarg;
			break;
		case 't':
			o->token = optarg;
			break;
		case 'r':
			o->report = optarg;
			break;
		case 'c':
			o->certs = optarg;
			break;
		case 'n':
			o->nonce = optarg;
			break;
		case 'j':
			o->json = 1;
			break;
		case 'H':
			o->hostdata = optarg;
			break;
		case 'e':
			o->endpoint = optarg;
			break;
		case 'k':
			o->jwks = optarg;
			break;
		case 'A':
			o->ca_file = optarg;
			break;
		case 'T':
			if (o->ntrust == 8)
				return cli_usage_error("nutapply", "verify",
						       "at most 8 --trust keys");
			o->trust[o->ntrust++] = optarg;
			break;
		case 'N':
			o->threshold = atoi(optarg);
			if (o->threshold < 1 || o->threshold > 8)
				return cli_usage_error("nutapply", "verify",
						       "--threshold must be 1..8");
			break;
		default:
			return cli_usage_error("nutapply", "verify", "unknown option");
		}
	}
	if (optind < argc)
		o->bundle = argv[optind++];
	if (optind < argc)
		return cli_usage_error("nutapply", "verify", "unexpected argument '%s'",
				       argv[optind]);
	if (o->url && o->token)
		return cli_usage_error("nutapply", "verify", "give --url or --token, not both");
	if (!o->url && !o->token && !o->report)
		return cli_usage_error("nutapply", "verify",
				       "nothing to verify: give --url, --token or --report");
	if (!o->bundle && !o->hostdata)
		return cli_usage_error("nutapply", "verify", "give a BUNDLE or --hostdata HEX");
	if (!o->bundle && (o->url || o->token) && !o->endpoint)
		return cli_usage_error("nutapply", "verify",
				       "give a BUNDLE or --attestation-endpoint URL");
	return 0;
}

int cmd_verify(int argc, char **argv)
{
	struct verify_opts o = {0};
	struct verdict *v = calloc(1, sizeof(*v));
	struct ng_err err = {{0}};
	uint8_t hd[32], nonce[64];
	char provider[MAA_PROVIDER_MAX], nonce_hex[129];
	size_t nonce_len = 0;
	int rc, ok;

	if (!v)
		return cli_fail("nutapply verify", NG_ENOMEM, NULL);
	if ((rc = parse_args(argc, argv, &o)) != 0) {
		free(v);
		return rc;
	}
	if (o.bundle) {
		char ep[MAA_PROVIDER_MAX];
		if ((rc = bundle_facts(&o, hd, ep, sizeof(ep), v, &err)) == 0 &&
		    (o.url || o.token) &&
		    (rc = maa_provider_normalize(o.endpoint ? o.endpoint : ep, provider, &err)) < 0)
			ng_err_prefix(&err, rc, "%s: attestation endpoint", o.bundle);
		if (rc == 0 && o.hostdata)
			verdict_add(v, "bundle.hostdata-override", VERDICT_INFO, "",
				    "--hostdata ignored: the bundle's is used");
	} else if (strlen(o.hostdata) != 64 || hex_decode(o.hostdata, hd, 32, &err) < 0) {
		rc = ng_errf(&err, NG_EUSAGE,
			     "--hostdata: expected 64 hex digits (SHA-256 of the policy)");
	} else if (o.endpoint && (rc = maa_provider_normalize(o.endpoint, provider, &err)) < 0) {
		ng_err_prefix(&err, NG_EUSAGE, "--attestation-endpoint");
	}
	if (rc == 0 && (o.url || (o.token && !o.jwks))) {
		struct http_opts ho = {.ca_file = o.ca_file};
		rc = http_ctx_new(&ho, &o.http, &err);
	}
	if (rc == 0 && o.nonce) {
		nonce_len = strlen(o.nonce) / 2;
		if (!nonce_len || nonce_len > 64 || strlen(o.nonce) % 2 ||
		    hex_decode(o.nonce, nonce, nonce_len, &err) < 0)
			rc = ng_errf(&err, NG_EUSAGE, "--nonce: expected 2 to 128 hex digits");
		else
			hex_encode(nonce, nonce_len, nonce_hex);
	}
	if (rc == 0 && (o.url || o.token))
		rc = check_token(&o, provider, hd, o.nonce ? nonce_hex : NULL, v, &err);
	if (rc == 0 && o.report)
		rc = check_report(&o, hd, o.nonce ? nonce : NULL, nonce_len, v, &err);
	http_ctx_free(o.http);
	if (rc < 0) {
		/* Messages quote hostile values (alg, jku, the mint's detail):
		 * keep them one printable line. */
		for (char *c = err.msg; *c; c++)
			if ((unsigned char)*c < 0x20 || *c == 0x7f)
				*c = '?';
		free(v);
		return cli_fail("nutapply verify", rc, &err);
	}
	if (o.json)
		verdict_print_json(v, stdout);
	else
		verdict_print_table(v, stdout);
	ok = verdict_ok(v);
	free(v);
	return ok ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}
