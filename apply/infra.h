/* infra.h: what the files of `nutapply infra` share (cmd_infra.c: plan, up,
 * target.json; infra_down.c: down; infra_blob.c: the volume-blob safety
 * steps of down: a snapshot in its account or a full local copy before
 * anything could lose the encfs blob, azure-rest.md §1.7, §1.5, §1.9). */
#ifndef NG_INFRA_H
#define NG_INFRA_H

#include "arm.h"
#include "azcall.h"
#include "blob.h"

#define INFRA_API_KV  "2023-07-01"
#define INFRA_API_MI  "2023-01-31"
#define INFRA_API_ATT "2021-06-01"

/* Indexes of infra.v: the infra file's members, in the order of the table in
 * cmd_infra.c (docs/infra.md). */
enum {
	F_SUB,
	F_RG,
	F_LOC,
	F_KV,
	F_SA,
	F_ATT,
	F_MI,
	F_SHARE,
	F_CG,
	F_KEK,
	F_HSM,
	F_ATTURL,
	F_OPID,
	F_OPTYPE,
	F_N
};

struct infra {
	char v[F_N][256];
	struct az_session s;
	int open;
	struct arm_client *arm;
	double timeout;
};

/* GET /providers/TYPE/NAME in the resource group. */
int infra_get(struct infra *in, const char *type, const char *name, const char *api, cJSON **out,
	      struct ng_err *err);

struct down_opts {
	int quick, purge, delete_data, snapshot;
	const char *download;
};

/* `infra down`: see docs/infra.md. */
int infra_down(struct infra *in, const struct down_opts *o, struct ng_err *err);

/* Snapshot Blob; snap (size 64) gets x-ms-snapshot. */
int infra_blob_snapshot(struct http_ctx *http, const struct blob_auth *a, const char *url,
			char snap[64], struct ng_err *err);

/* Downloads the page blob to path (written sparse through a temp file and
 * renamed, mode 0600): only the written ranges are fetched, 4 MiB per Get
 * Blob, each answer's length checked; *bytes gets the bytes fetched. */
int infra_blob_download(struct http_ctx *http, const struct blob_auth *a, const char *url,
			uint64_t size, const char *path, uint64_t *bytes, struct ng_err *err);

#endif
