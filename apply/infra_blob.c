/* infra_blob.c: snapshot and download of the volume blob (see infra.h). */
#include "infra.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../bundle-format/fileio.h"
#include "blob_req.h"

int infra_blob_snapshot(struct http_ctx *http, const struct blob_auth *a, const char *url,
			char snap[64], struct ng_err *err)
{
	struct breq r;
	struct http_resp resp;
	const char *s;
	int rc;

	http_resp_init(&resp);
	if ((rc = breq_init(&r, "PUT", url, "comp=snapshot")))
		return ng_errf(err, rc, "snapshot: out of memory");
	if (!(rc = blob_call(http, a, &r, NULL, 0, &resp, err))) {
		if (resp.status != 201)
			rc = http_status_err(&resp, err, NG_ENET, "snapshot of the volume blob");
		else if (!(s = http_resp_header(&resp, "x-ms-snapshot")) || strlen(s) >= 64)
			rc = ng_errf(err, NG_ENET, "snapshot of the volume blob: no x-ms-snapshot");
		else
			snprintf(snap, 64, "%s", s);
	}
	breq_free(&r);
	http_resp_free(&resp);
	return rc;
}

static int get_range(struct http_ctx *http, const struct blob_auth *a, const char *url, int fd,
		     uint64_t off, uint64_t len, struct ng_err *err)
{
	struct breq r;
	struct http_resp resp;
	int rc;

	http_resp_init(&resp);
	if ((rc = breq_init(&r, "GET", url, NULL)) ||
	    (rc = breq_add(&r, "x-ms-range: bytes=%llu-%llu", (unsigned long long)off,
			   (unsigned long long)(off + len - 1)))) {
		breq_free(&r);
		return ng_errf(err, rc, "download: out of memory");
	}
	if (!(rc = blob_call(http, a, &r, NULL, 0, &resp, err))) {
		if (resp.status != 206 && resp.status != 200)
			rc = http_status_err(&resp, err, NG_ENET, "download of the volume blob");
		else if (resp.body.len != len)
			rc = ng_errf(err, NG_ENET, "download: range at %llu: %zu bytes, want %llu",
				     (unsigned long long)off, resp.body.len,
				     (unsigned long long)len);
		else if (pwrite(fd, resp.body.data, len, (off_t)off) != (ssize_t)len)
			rc = ng_errf(err, NG_EIO, "download: write failed");
	}
	breq_free(&r);
	http_resp_free(&resp);
	return rc;
}

int infra_blob_download(struct http_ctx *http, const struct blob_auth *a, const char *url,
			uint64_t size, const char *path, uint64_t *bytes, struct ng_err *err)
{
	struct safefile sf;
	struct blob_range *rg = NULL;
	size_t n = 0;
	int rc;

	*bytes = 0;
	if ((rc = safefile_open(&sf, path, 0600, err)))
		return rc;
	if (ftruncate(sf.fd, (off_t)size) != 0) {
		rc = ng_errf(err, NG_EIO, "%s: cannot size the download to %llu bytes", path,
			     (unsigned long long)size);
		goto out;
	}
	if ((rc = blob_page_ranges(http, a, url, &rg, &n, err)))
		goto out;
	for (size_t i = 0; i < n && !rc; i++)
		for (uint64_t o = rg[i].off; o < rg[i].off + rg[i].len && !rc; o += BLOB_MAX_PUT) {
			uint64_t l = rg[i].off + rg[i].len - o;
			l = l > BLOB_MAX_PUT ? BLOB_MAX_PUT : l;
			if (o + l > size)
				rc = ng_errf(err, NG_ENET,
					     "download: a page range lies past the blob");
			else if (!(rc = get_range(http, a, url, sf.fd, o, l, err)))
				*bytes += l;
		}
	if (!rc && fsync(sf.fd) != 0)
		rc = ng_errf(err, NG_EIO, "%s: fsync failed", path);
out:
	free(rg);
	if (rc) {
		safefile_abort(&sf);
		return rc;
	}
	return safefile_commit(&sf, err);
}
