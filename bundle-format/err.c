#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>

int ng_errf(struct ng_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return code;
}

int ng_err_prefix(struct ng_err *err, int code, const char *fmt, ...)
{
	char whole[2 * NG_ERR_MAX + 2];
	size_t n;
	va_list ap;

	if (!err)
		return code;
	va_start(ap, fmt);
	vsnprintf(whole, NG_ERR_MAX, fmt, ap);
	va_end(ap);
	n = strlen(whole);
	whole[n++] = ':';
	whole[n++] = ' ';
	memcpy(whole + n, err->msg, NG_ERR_MAX);
	whole[n + NG_ERR_MAX - 1] = '\0';
	memcpy(err->msg, whole, NG_ERR_MAX - 1);
	err->msg[NG_ERR_MAX - 1] = '\0';
	return code;
}

int ng_err_openssl(struct ng_err *err, int code, const char *what)
{
	unsigned long e = ERR_get_error();
	char reason[256] = "no detail";

	if (e)
		ERR_error_string_n(e, reason, sizeof(reason));
	ERR_clear_error();
	return ng_errf(err, code, "%s: %s", what, reason);
}

const char *ng_code_name(int code)
{
	static const char *names[] = {"OK",	   "EINVAL",  "EIO",	"ENOMEM",
				      "ECRYPTO",   "EVERIFY", "ENET",	"ELIMIT",
				      "ENOTFOUND", "EEXIST",  "EUSAGE", "EINTERNAL"};
	int i = -code;

	if (i < 0 || i >= (int)(sizeof(names) / sizeof(names[0])))
		return "EUNKNOWN";
	return names[i];
}
