/* The image metadata readers on hostile bytes: the first byte picks the
 * input's role. 'j': one JSON document through the strict parser and the
 * descriptor reader. Otherwise the rest is an image archive (tar) indexed in
 * memory and resolved as an OCI layout or a docker-save archive: index →
 * manifest → config with every digest checked. Nothing may crash, leak or
 * read out of bounds; limits hold. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../gen/ociarchive.h"
#include "../../gen/ociimage.h"
#include "../../gen/ocijson.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ng_err err;

	if (size < 1)
		return 0;
	if (data[0] == 'j') {
		cJSON *j = NULL;
		if (ocijson_parse(data + 1, size - 1, "fuzz", &j, &err) == 0) {
			struct oci_desc d;
			(void)ocijson_desc(j, "fuzz", &d, &err);
			for (const cJSON *c = j->child; c; c = c->next)
				(void)ocijson_desc(c, "fuzz", &d, &err);
			cJSON_Delete(j);
		}
		return 0;
	} else {
		struct oci_src *s = NULL;
		struct oci_image img;
		struct oci_select sel = {NULL, NULL, NULL};
		if (oci_src_open_tar_mem(data + 1, size - 1, "fuzz.tar", &s, &err))
			return 0;
		if (oci_image_resolve(s, &sel, &img, &err) == 0)
			oci_image_release(&img);
		sel.digest =
		    "sha256:0000000000000000000000000000000000000000000000000000000000000000";
		sel.reference = "example.com/a/b:1";
		sel.platform = data[0] & 1 ? "linux/arm64" : "linux/amd64";
		if (oci_image_resolve(s, &sel, &img, &err) == 0)
			oci_image_release(&img);
		oci_src_free(s);
	}
	return 0;
}
