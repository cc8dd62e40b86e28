/* jsonpath.h: reading a string member of parsed JSON by a dotted path
 * ("key_vault.uri"), the one lookup both programs use on target.json and on
 * Azure's replies. */
#ifndef NG_JSONPATH_H
#define NG_JSONPATH_H

#include <cjson/cJSON.h>

/* The string at path (members separated by '.', each under 64 bytes), or
 * NULL when any step is missing or the value is not a string. */
const char *json_path_str(const cJSON *j, const char *path);

#endif
