/* infra_down.c: `nutapply infra down` (see infra.h, docs/infra.md): the
 * container group first, the volume never lost, the vault's soft delete and
 * purge as the seed's cleanup.sh handles them, without its hazards. */
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../bundle-format/codec.h"
#include "infra.h"

/* Soft-deleted vault: left recoverable, or purged with --purge unless
 * purge protection forbids it (seed cleanup.sh, H22). */
static int vault_after_delete(struct infra *in, int purge, struct ng_err *err)
{
	char path[1200];
	cJSON *d = NULL;
	int rc;

	snprintf(path, sizeof(path),
		 "/subscriptions/%s/providers/Microsoft.KeyVault/locations/%s/deletedVaults/%s",
		 in->v[F_SUB], in->v[F_LOC], in->v[F_KV]);
	rc = arm_request(in->arm, "GET", path, INFRA_API_KV, NULL, in->timeout, &d, err);
	if (rc == NG_ENOTFOUND) {
		printf("key vault %s: not soft-deleted (nothing to purge)\n", in->v[F_KV]);
		return 0;
	}
	if (rc)
		return rc;
	cJSON *pp =
	    cJSON_GetObjectItem(cJSON_GetObjectItem(d, "properties"), "purgeProtectionEnabled");
	int prot = cJSON_IsTrue(pp);
	cJSON_Delete(d);
	if (!purge)
		printf("key vault %s: soft-deleted, recoverable (its keys too); --purge to purge\n",
		       in->v[F_KV]);
	else if (prot)
		printf("key vault %s: soft-deleted with purge protection: it cannot be purged; "
		       "Azure purges it when its retention ends\n",
		       in->v[F_KV]);
	else {
		strcat(path, "/purge");
		if ((rc = arm_request(in->arm, "POST", path, INFRA_API_KV, NULL, in->timeout, NULL,
				      err)))
			return ng_err_prefix(err, rc, "purge of key vault %s", in->v[F_KV]);
		printf("key vault %s: purged\n", in->v[F_KV]);
	}
	return 0;
}

static int del(struct infra *in, const char *type, const char *name, const char *api,
	       struct ng_err *err)
{
	char path[512];
	int rc;
	snprintf(path, sizeof(path), "/providers/%s/%s", type, name);
	rc = arm_request(in->arm, "DELETE", path, api, NULL, in->timeout, NULL, err);
	if (rc == NG_ENOTFOUND)
		rc = 0;
	if (!rc)
		printf("%s %s: deleted\n", type, name);
	return rc;
}

int infra_down(struct infra *in, const struct down_opts *o, struct ng_err *err)
{
	cJSON *sa = NULL;
	char *key = NULL, url[768];
	uint8_t *kb = NULL;
	size_t kl = 0;
	struct blob_state st = {0};
	int rc, keep_sa = 0;

	/* 1. the volume: does the blob exist? (account key via listKeys) */
	rc = infra_get(in, "Microsoft.Storage/storageAccounts", in->v[F_SA], ARM_API_STORAGE, &sa,
		       err);
	if (rc && rc != NG_ENOTFOUND)
		goto out;
	if (!rc) {
		const char *ep = az_json_str(sa, "properties.primaryEndpoints.blob");
		struct blob_auth ba = {0};
		if (!ep) {
			rc = ng_errf(err, NG_ENET, "storage account %s: no blob endpoint",
				     in->v[F_SA]);
			goto out;
		}
		snprintf(url, sizeof(url), "%s%sencfs/encfs.img", ep,
			 ep[strlen(ep) - 1] == '/' ? "" : "/");
		if ((rc = arm_storage_key(in->arm, in->v[F_SA], &key, err)) ||
		    (rc = base64_decode(key, strlen(key), &kb, &kl, err)))
			goto out;
		ba.account = in->v[F_SA];
		ba.key = kb;
		ba.key_len = kl;
		if ((rc = blob_status(in->s.http, &ba, url, &st, err)))
			goto out;
		if (st.exists && (!o->delete_data || (o->quick && !o->download))) {
			if (o->quick) {
				rc = ng_errf(
				    err, NG_EEXIST,
				    "--quick refused: %s holds the encfs volume (the mint's "
				    "database); add --delete-data --download FILE, or drop "
				    "--quick to keep the storage account",
				    in->v[F_SA]);
				goto out;
			}
			keep_sa = 1;
		}
		if (st.exists && o->delete_data && o->download) {
			uint64_t got = 0;
			if ((rc = infra_blob_download(in->s.http, &ba, url, st.size, o->download,
						      &got, err)))
				goto out;
			printf("volume blob: downloaded to %s (%llu bytes of data, size %llu)\n",
			       o->download, (unsigned long long)got, (unsigned long long)st.size);
		} else if (st.exists && o->delete_data && o->snapshot) {
			char snap[64];
			if ((rc = infra_blob_snapshot(in->s.http, &ba, url, snap, err)))
				goto out;
			printf("volume blob: snapshot %s\n", snap);
			keep_sa = 1; /* the snapshot lives in the account */
		}
	}
	/* 2. the container group first: nothing may write the volume after */
	if ((rc = arm_group_delete(in->arm, in->v[F_CG], in->timeout, err)))
		goto out;
	printf("container group %s: deleted\n", in->v[F_CG]);
	if (o->quick) {
		rc = arm_request(in->arm, "DELETE", "", ARM_API_DEPLOYMENTS, NULL, in->timeout,
				 NULL, err);
		if (rc && rc != NG_ENOTFOUND)
			goto out;
		printf("resource group %s: deleted\n", in->v[F_RG]);
	} else {
		if ((!in->v[F_HSM][0] &&
		     (rc = del(in, "Microsoft.KeyVault/vaults", in->v[F_KV], INFRA_API_KV, err))) ||
		    (!keep_sa && (rc = del(in, "Microsoft.Storage/storageAccounts", in->v[F_SA],
					   ARM_API_STORAGE, err))) ||
		    (!in->v[F_ATTURL][0] &&
		     (rc = del(in, "Microsoft.Attestation/attestationProviders", in->v[F_ATT],
			       INFRA_API_ATT, err))) ||
		    (rc = del(in, "Microsoft.ManagedIdentity/userAssignedIdentities", in->v[F_MI],
			      INFRA_API_MI, err)))
			goto out;
		if (keep_sa)
			printf("storage account %s: kept: it holds the encfs volume%s; "
			       "down --delete-data --download FILE removes it\n",
			       in->v[F_SA], o->snapshot ? " and its snapshot" : "");
		else if ((rc = arm_request(in->arm, "DELETE", "", ARM_API_DEPLOYMENTS, NULL,
					   in->timeout, NULL, err)) &&
			 rc != NG_ENOTFOUND)
			goto out;
		else
			printf("resource group %s: deleted\n", in->v[F_RG]);
	}
	rc = in->v[F_HSM][0] ? 0 : vault_after_delete(in, o->purge, err);
out:
	if (key) {
		OPENSSL_cleanse(key, strlen(key));
		free(key);
	}
	if (kb) {
		OPENSSL_cleanse(kb, kl);
		free(kb);
	}
	cJSON_Delete(sa);
	return rc;
}
