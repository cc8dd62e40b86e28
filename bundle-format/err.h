/* err.h: the one error convention of nutgen and nutapply.
 *
 * Every fallible function returns 0 on success or one of the negative codes
 * below, and writes a one-line, human-readable reason into a caller-owned
 * struct ng_err. The message names the input and, where there is one, the fix;
 * it never carries secret material (keys, tokens, SAS signatures, passphrases).
 * Only main() turns a code into an exit status (see cli.h).
 */
#ifndef NG_ERR_H
#define NG_ERR_H

#include <stddef.h>

enum ng_code {
	NG_OK = 0,
	NG_EINVAL = -1,	   /* hostile or malformed input */
	NG_EIO = -2,	   /* file system or pipe failure */
	NG_ENOMEM = -3,	   /* allocation failed */
	NG_ECRYPTO = -4,   /* a cryptographic library call failed */
	NG_EVERIFY = -5,   /* a digest, signature or policy check failed */
	NG_ENET = -6,	   /* network or remote service failure */
	NG_ELIMIT = -7,	   /* input exceeds a documented limit */
	NG_ENOTFOUND = -8, /* a named thing does not exist */
	NG_EEXIST = -9,	   /* refusing to overwrite or replace */
	NG_EUSAGE = -10,   /* command line misuse (exit 2) */
	NG_EINTERNAL = -11 /* a bug: should not happen */
};

#define NG_ERR_MAX 512

struct ng_err {
	char msg[NG_ERR_MAX];
};

/* Sets err->msg from the format (printf-style) and returns code, so callers
 * can write `return ng_errf(err, NG_EIO, "%s: ...", path);`. err may be NULL. */
int ng_errf(struct ng_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prepends "prefix: " to an already set message, for context added by
 * callers (the input's name, the step). Returns code unchanged. */
int ng_err_prefix(struct ng_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Appends the OpenSSL error queue's first reason to msg and clears the queue,
 * so that library failures are explained without dumping the whole stack. */
int ng_err_openssl(struct ng_err *err, int code, const char *what);

/* Short name of a code, for logs and tests ("EINVAL"). */
const char *ng_code_name(int code);

#endif
