/* deployment_check.c: the value rules of a deployment file
 * (docs/deployment.md), each failure naming its JSON path. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "deployment_int.h"

/* ---- value checks ---- */

int deployment_chars_ok(const char *s, const char *extra, int alpha, int upper, size_t min,
			size_t max)
{
	size_t n = strlen(s);
	if (n < min || n > max)
		return 0;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (isdigit(c) || (alpha && islower(c)) || (alpha && upper && isupper(c)) ||
		    (extra && strchr(extra, c)))
			continue;
		return 0;
	}
	return 1;
}

int deployment_url_ok(const char *s)
{
	if (strncmp(s, "https://", 8) || strlen(s) < 9 || strlen(s) > 512)
		return 0;
	if (s[strlen(s) - 1] == '/')
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || *s == '"' || *s == '?' || *s == '#' ||
		    (unsigned char)*s >= 0x7f)
			return 0;
	return 1;
}

static int abs_path_ok(const char *s)
{
	if (s[0] != '/' || strlen(s) > 255 || strstr(s, "//") || strstr(s, "/../") ||
	    strstr(s, "/./"))
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || (unsigned char)*s >= 0x7f)
			return 0;
	return 1;
}

struct check {
	const char *path;
	const char *extra; /* allowed besides digits (and letters when alpha) */
	int alpha, upper;
	size_t min, max;
	const char *what;
};

static const struct check name_checks[] = {
    {"target.resource_group", "-_.()", 1, 1, 1, 90, "1-90 letters, digits, -_.()"},
    {"target.location", "", 1, 0, 1, 40, "a region name such as northeurope"},
    {"target.container_group", "-", 1, 0, 1, 63, "1-63 lowercase letters, digits, -"},
    {"target.key_vault", "-", 1, 1, 3, 24, "3-24 letters, digits, -"},
    {"target.storage_account", "", 1, 0, 3, 24, "3-24 lowercase letters and digits"},
    {"target.attestation_provider", "", 1, 0, 3, 24, "3-24 lowercase letters and digits"},
    {"target.managed_identity", "-_", 1, 1, 3, 128, "3-128 letters, digits, -_"},
    {"containers.skr.name", "-", 1, 0, 1, 63, "1-63 lowercase letters, digits, -"},
    {"containers.encfs.name", "-", 1, 0, 1, 63, "1-63 lowercase letters, digits, -"},
    {"containers.caddy.name", "-", 1, 0, 1, 63, "1-63 lowercase letters, digits, -"},
    {"containers.mint.name", "-", 1, 0, 1, 63, "1-63 lowercase letters, digits, -"},
    {"containers.caddy.file_share", "-", 1, 0, 3, 63, "3-63 lowercase letters, digits, -"},
    {"encfs.key_name", "-", 1, 1, 1, 127, "1-127 letters, digits, -"},
    {"encfs.blob_container", "-", 1, 0, 3, 63, "3-63 lowercase letters, digits, -"},
    {"encfs.blob_name", "-_.", 1, 1, 1, 255, "1-255 letters, digits, -_."},
    {"policy_profile", "-.", 1, 0, 1, 64, "a profile under templates/policy/profiles"},
};

static int one_of(const char *v, const char *const *set)
{
	for (; *set; set++)
		if (!strcmp(v, *set))
			return 1;
	return 0;
}

int deployment_validate(const char *name, const struct deployment *d, struct ng_err *err)
{
	static const char *const kinds[] = {"vault", "managed_hsm", NULL};
	static const char *const ktypes[] = {"RSA-HSM", "oct-HSM", NULL};
	static const char *const levels[] = {"",      "trace", "debug", "info", "warning",
					     "error", "fatal", "panic", NULL};
	static const char *const paths[] = {"containers.caddy.data_mount",
					    "containers.mint.data_mount", "encfs.shared_dir",
					    "encfs.mount_point"};
	const cJSON *v;
	const char *s;
	char p[256];

#define FAIL(path, ...) return ng_errf(err, NG_EINVAL, "%s: $.%s: " __VA_ARGS__)
	v = deployment_get(d, "version");
	if (v->valuedouble != 1)
		FAIL("version", "must be 1", name, "version");
	for (size_t i = 0; i < sizeof(name_checks) / sizeof(name_checks[0]); i++) {
		const struct check *c = &name_checks[i];
		if (!deployment_chars_ok(deployment_str(d, c->path), c->extra, c->alpha, c->upper,
					 c->min, c->max))
			return ng_errf(err, NG_EINVAL, "%s: $.%s: '%s' is not valid: use %s", name,
				       c->path, deployment_str(d, c->path), c->what);
	}
	s = deployment_str(d, "target.subscription");
	if (*s && !deployment_chars_ok(s, "-", 1, 0, 36, 36))
		FAIL("target.subscription", "must be empty or a subscription GUID", name,
		     "target.subscription");
	if (!one_of(deployment_str(d, "target.key_vault_kind"), kinds))
		FAIL("", "must be vault or managed_hsm", name, "target.key_vault_kind");
	if (!one_of(deployment_str(d, "encfs.key_type"), ktypes))
		FAIL("", "must be RSA-HSM or oct-HSM", name, "encfs.key_type");
	if (!one_of(deployment_str(d, "encfs.log_level"), levels))
		FAIL("", "must be empty or trace|debug|info|warning|error|fatal|panic", name,
		     "encfs.log_level");
	for (size_t i = 0; i < 3; i++) {
		static const char *const eps[] = {"target.endpoints.key_vault",
						  "target.endpoints.storage_blob",
						  "target.endpoints.attestation"};
		s = deployment_str(d, eps[i]);
		if (*s && !deployment_url_ok(s))
			return ng_errf(err, NG_EINVAL,
				       "%s: $.%s: must be empty or an https:// URL without path "
				       "end slash, query or spaces",
				       name, eps[i]);
	}
	for (size_t i = 0; i < 4; i++)
		if (!abs_path_ok(deployment_str(d, paths[i])))
			return ng_errf(err, NG_EINVAL, "%s: $.%s: must be an absolute path", name,
				       paths[i]);
	{
		const char *sd = deployment_str(d, "encfs.shared_dir");
		const char *mp = deployment_str(d, "encfs.mount_point");
		size_t n = strlen(sd);
		/* encfs mounts at <dir(mount_point)>/.filesystem-0 and links
		 * mount_point to it (sidecars.md §1.2): the parent must be the
		 * emptyDir shared with the mint. */
		if (strncmp(mp, sd, n) || mp[n] != '/' || !mp[n + 1] || strchr(mp + n + 1, '/'))
			FAIL("", "must be a direct child of encfs.shared_dir (%s)", name,
			     "encfs.mount_point", sd);
	}
	for (int c = 0; c < RC_COUNT; c++) {
		const cJSON *ct = cJSON_GetObjectItemCaseSensitive(
		    deployment_get(d, "containers"),
		    deployment_container_key((enum render_container)c));
		const char *img = deployment_image_ref(d, (enum render_container)c);
		double cpu = cJSON_GetObjectItem(ct, "cpu")->valuedouble;
		double mem = cJSON_GetObjectItem(ct, "memory_gb")->valuedouble;
		snprintf(p, sizeof(p), "containers.%s",
			 deployment_container_key((enum render_container)c));
		if (!*img || strlen(img) > 512 || strpbrk(img, " \t\r\n\"'"))
			return ng_errf(err, NG_EINVAL,
				       "%s: $.%s.image: must be an image reference such as "
				       "registry/name:tag or name@sha256:...",
				       name, p);
		if (!(cpu > 0 && cpu <= 4) || !(mem > 0 && mem <= 16))
			return ng_errf(err, NG_EINVAL,
				       "%s: $.%s: cpu must be in (0, 4] and memory_gb in (0, 16]",
				       name, p);
		for (int o = 0; o < c; o++)
			if (!strcmp(deployment_container_name(d, (enum render_container)o),
				    deployment_container_name(d, (enum render_container)c)))
				return ng_errf(err, NG_EINVAL, "%s: $.%s.name: used twice", name,
					       p);
	}
	v = deployment_get(d, "containers.mint.port");
	if (v->valuedouble < 1 || v->valuedouble > 65535 || v->valuedouble != (int)v->valuedouble ||
	    v->valuedouble == 80 || v->valuedouble == 443 || v->valuedouble == 8080)
		FAIL("", "must be a port 1-65535 other than 80, 443 (Caddy) and 8080 (SKR)", name,
		     "containers.mint.port");
	{
		const char *dom = deployment_str(d, "dns.custom_domain");
		const char *lab = deployment_str(d, "dns.label");
		if (!*dom && !*lab)
			return ng_errf(err, NG_EINVAL,
				       "%s: $.dns: set custom_domain or label (or CUSTOM_DOMAIN / "
				       "DNS_NAME_LABEL)",
				       name);
		if (*dom && (!deployment_chars_ok(dom, "-.", 1, 0, 3, 253) || !strchr(dom, '.') ||
			     dom[0] == '.' || dom[strlen(dom) - 1] == '.'))
			FAIL("", "'%s' is not a lowercase host name", name, "dns.custom_domain",
			     dom);
		if (*lab && (!deployment_chars_ok(lab, "-", 1, 0, 1, 63) ||
			     !islower((unsigned char)lab[0])))
			FAIL("", "must start with a letter; lowercase letters, digits, -", name,
			     "dns.label");
	}
	s = deployment_str(d, "acme_email");
	if (*s && (!strchr(s, '@') || strpbrk(s, " \t\r\n\"") || strlen(s) > 254))
		FAIL("", "must be empty or an e-mail address", name, "acme_email");
	s = deployment_str(d, "registry.server");
	if (*s && !deployment_chars_ok(s, "-.:", 1, 0, 1, 253))
		FAIL("", "must be empty or a registry host name", name, "registry.server");
	if (*s && !*deployment_str(d, "registry.username"))
		FAIL("", "must be set when registry.server is", name, "registry.username");
	if (strpbrk(deployment_str(d, "registry.username"), " \t\r\n\""))
		FAIL("", "must not contain spaces or quotes", name, "registry.username");
	if (*deployment_str(d, "encfs.blob_sas"))
		FAIL("",
		     "a SAS would be published in the public CCE policy (the encfs "
		     "arguments are pinned there): leave it empty and grant the managed "
		     "identity Storage Blob Data Contributor",
		     name, "encfs.blob_sas");
	v = deployment_get(d, "encfs.size_mib");
	if (v->valuedouble < 64 || v->valuedouble > 1048576 ||
	    v->valuedouble != (double)(long)v->valuedouble)
		FAIL("", "must be a whole number of MiB from 64 to 1048576", name,
		     "encfs.size_mib");
	s = deployment_str(d, "encfs.existing_volume.salt_hex");
	if (*s) {
		if (!deployment_chars_ok(s, "abcdefABCDEF", 0, 0, 2, 1024) || strlen(s) % 2)
			FAIL("", "must be an even number of hex digits (the seed's encfs-salt.txt)",
			     name, "encfs.existing_volume.salt_hex");
		if (strcmp(deployment_str(d, "encfs.key_type"), "RSA-HSM"))
			FAIL("", "an HKDF salt applies to RSA-HSM keys only", name,
			     "encfs.existing_volume.salt_hex");
	}
	if (strpbrk(deployment_str(d, "encfs.existing_volume.label"), "\r\n\"\\") ||
	    strlen(deployment_str(d, "encfs.existing_volume.label")) > 256)
		FAIL("", "must be a short plain label such as encfs", name,
		     "encfs.existing_volume.label");
	if (strpbrk(deployment_str(d, "containers.caddy.debug"), "\r\n\""))
		FAIL("", "must be a plain value", name, "containers.caddy.debug");
#undef FAIL
	return 0;
}
