/* snp.h: the AMD SEV-SNP attestation report (AMD SEV-SNP Firmware ABI
 * Specification, "ATTESTATION_REPORT Structure", report versions 2 to 5) and
 * its proof of origin: the report's ECDSA P-384 signature by the chip's VCEK,
 * the VCEK's by AMD's ASK, the ASK's by the ARK, and the ARK equal to one of
 * AMD's roots pinned in this project (templates/amd/, docs/verify.md). This
 * check does not involve Microsoft: it holds even if MAA were lying. */
#ifndef NA_SNP_H
#define NA_SNP_H

#include <stddef.h>
#include <stdint.h>

#include "../bundle-format/err.h"
#include "verdict.h"

#define SNP_REPORT_LEN 1184  /* 0x4A0 */
#define SNP_SIGNED_LEN 0x2A0 /* the signature covers bytes 0..0x29F */
#define SNP_CHAIN_MAX  65536 /* bytes of PEM: three certificates are ~6.5 KiB */

struct snp_report {
	uint32_t version, guest_svn, vmpl, sig_algo;
	uint64_t policy, current_tcb, platform_info, reported_tcb, committed_tcb, launch_tcb;
	uint8_t family_id[16], image_id[16];
	uint8_t report_data[64], measurement[48], host_data[32];
	uint8_t id_key_digest[48], author_key_digest[48], report_id[32], chip_id[64];
	uint8_t raw[SNP_REPORT_LEN];
};

/* Guest policy bit 19: the hypervisor may debug the guest (read its memory). */
#define SNP_POLICY_DEBUG (1ULL << 19)

/* Parses exactly SNP_REPORT_LEN bytes; refuses other sizes, unknown versions,
 * a signature algorithm other than ECDSA P-384 with SHA-384 and non-zero
 * padding in r or s. */
int snp_report_parse(const uint8_t *p, size_t n, struct snp_report *r, struct ng_err *err);

/* Reads a report as the SKR sidecar or a file gives it: 1184 raw bytes, its
 * hex, /attest/raw's {"report":"<hex>"} or /attest/combined's
 * {"evidence":"<b64>","endorsements":"<b64 PEM>"}. *chain_pem is set (malloc'd,
 * NUL-terminated) only when the input carried endorsements, else NULL. */
int snp_evidence_load(const uint8_t *in, size_t n, const char *name, uint8_t report[SNP_REPORT_LEN],
		      char **chain_pem, struct ng_err *err);

/* VCEK, ASK, ARK in that order, as PEM (AMD KDS, THIM, the SKR sidecar's
 * endorsements). Anything but exactly these three certificates, in this
 * order, with nothing but whitespace around them, is refused. */
struct snp_chain;
int snp_chain_parse(const char *pem, size_t n, const char *name, struct snp_chain **out,
		    struct ng_err *err);
void snp_chain_free(struct snp_chain *c);

struct snp_expect {
	const uint8_t *hostdata; /* 32 bytes: the bundle's */
	const uint8_t *nonce;	 /* NULL: no freshness check */
	size_t nonce_len;	 /* 1..64 */
};

/* Adds one verdict row per check (snp.* names) and informational rows for
 * the TCB and the measurement. */
void snp_check(const struct snp_report *r, const struct snp_chain *c, const struct snp_expect *e,
	       struct verdict *v);

/* The product family ("Milan", "Genoa") whose pinned ARK has this SHA-256
 * over its DER, or NULL. */
const char *snp_pinned_ark(const uint8_t fp[32]);

#endif
