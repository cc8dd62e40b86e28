/* explain.c: the plain-text review of a rendered deployment (nutgen
 * explain): per container what the policy admits, then what the key release
 * requires. Built from the policy's own containers list, so it cannot
 * disagree with the policy. */
#include <stdlib.h>
#include <string.h>

#include "../bundle-format/buf.h"
#include "../bundle-format/codec.h"
#include "render_int.h"

static void explain_list(struct buf *b, const char *label, const cJSON *list)
{
	const cJSON *it;
	buf_printf(b, "  %-14s", label);
	if (!cJSON_GetArraySize(list))
		buf_puts(b, "(none)");
	cJSON_ArrayForEach(it, list)
	{
		char *s = cJSON_IsString(it) ? NULL : cJSON_PrintUnformatted(it);
		buf_printf(b, "%s%s", it == list->child ? "" : " ", s ? s : it->valuestring);
		free(s);
	}
	buf_puts(b, "\n");
}

char *render_explain(const struct deployment *d, const cJSON *containers, const char *hostdata,
		     const char *profile, int debug, const struct keyfacts *k)
{
	struct buf b;
	const cJSON *c;
	buf_init(&b, 4u << 20);
	buf_printf(&b, "Deployment %s in %s (%s), policy profile %s\n",
		   deployment_str(d, "target.container_group"),
		   deployment_str(d, "target.location"), deployment_str(d, "target.cloud"),
		   profile);
	buf_printf(&b, "hostdata %s\n", hostdata);
	if (debug)
		buf_puts(&b,
			 "WARNING: DEBUG POLICY: /bin/sh and /bin/bash may be executed in every "
			 "container, stack dumps and runtime logs are allowed. Anyone who can "
			 "deploy can read the mint's keys. Never release a real key to it.\n");
	buf_puts(&b, "\n");
	cJSON_ArrayForEach(c, containers)
	{
		const cJSON *r, *m, *caps;
		const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(c, "name"));
		const cJSON *id = cJSON_GetObjectItem(c, "id");
		buf_printf(&b, "Container %s\n", name);
		buf_printf(&b, "  %-14s%s\n", "image",
			   id ? id->valuestring : "(ACI pause container, fixed by the profile)");
		explain_list(&b, "layers", cJSON_GetObjectItem(c, "layers"));
		explain_list(&b, "command", cJSON_GetObjectItem(c, "command"));
		buf_printf(&b, "  %-14s%s\n", "working dir",
			   cJSON_GetStringValue(cJSON_GetObjectItem(c, "working_dir")));
		buf_printf(&b, "  %-14s\n", "env rules");
		cJSON_ArrayForEach(r, cJSON_GetObjectItem(c, "env_rules"))
		{
			const char *pat = cJSON_GetStringValue(cJSON_GetObjectItem(r, "pattern"));
			const char *st = cJSON_GetStringValue(cJSON_GetObjectItem(r, "strategy"));
			buf_printf(
			    &b, "    %-6s %s%s\n", !strcmp(st, "string") ? "exact" : "regex", pat,
			    cJSON_IsTrue(cJSON_GetObjectItem(r, "required")) ? " (required)" : "");
			/* The sidecar arguments are base64: show what they say. */
			if (!strncmp(pat, "EncfsSideCarArgs=", 17) ||
			    !strncmp(pat, "SkrSideCarArgs=", 15)) {
				const char *v = strchr(pat, '=') + 1;
				uint8_t *dec = NULL;
				size_t n = 0;
				struct ng_err e2;
				if (base64_decode(v, strlen(v), &dec, &n, &e2) == 0) {
					buf_printf(&b, "           decoded: %.*s\n", (int)n,
						   (char *)dec);
					free(dec);
				}
			}
		}
		buf_printf(&b, "  %-14s\n", "mounts");
		cJSON_ArrayForEach(m, cJSON_GetObjectItem(c, "mounts"))
		{
			const cJSON *opts = cJSON_GetObjectItem(m, "options");
			buf_printf(&b, "    %s <- %s (%s)\n",
				   cJSON_GetStringValue(cJSON_GetObjectItem(m, "destination")),
				   cJSON_GetStringValue(cJSON_GetObjectItem(m, "source")),
				   cJSON_GetStringValue(cJSON_GetArrayItem(opts, 2)));
		}
		caps = cJSON_GetObjectItem(c, "capabilities");
		buf_printf(&b, "  %-14s%s, %d capabilities%s\n", "privileges",
			   cJSON_IsTrue(cJSON_GetObjectItem(c, "allow_elevated")) ? "PRIVILEGED"
										  : "unprivileged",
			   cJSON_GetArraySize(cJSON_GetObjectItem(caps, "bounding")),
			   cJSON_IsTrue(cJSON_GetObjectItem(c, "no_new_privileges"))
			       ? ", no new privileges"
			       : "");
		explain_list(&b, "exec allowed", cJSON_GetObjectItem(c, "exec_processes"));
		buf_puts(&b, "\n");
	}
	buf_printf(&b, "Key release: Key Vault %s releases key %s (%s) only to a token from\n",
		   k->vault_url, k->name, k->type);
	buf_printf(&b, "https://%s with x-ms-sevsnpvm-hostdata = %s,\n",
		   deployment_endpoints(d)->attestation_host, hostdata);
	buf_puts(&b, "x-ms-compliance-status = azure-compliant-uvm, x-ms-sevsnpvm-is-debuggable = "
		     "false, x-ms-sevsnpvm-vmpl = 0.\n");
	if (!strcmp(k->type, "RSA-HSM"))
		buf_printf(&b, "Volume key = HKDF-SHA256(RSA d, salt %s, label \"%s\").\n", k->salt,
			   k->label);
	buf_printf(&b, "Volume %s mounted %s at %s (mint sees %s/%s).\n", k->blob_url,
		   deployment_bool(d, "encfs.read_write") ? "read-write" : "read-only",
		   deployment_str(d, "encfs.mount_point"),
		   deployment_str(d, "containers.mint.data_mount"),
		   strrchr(deployment_str(d, "encfs.mount_point"), '/') + 1);
	return b.oom ? (buf_free(&b), NULL) : buf_steal(&b);
}
