#include "jsonpath.h"

#include <string.h>

const char *json_path_str(const cJSON *j, const char *path)
{
	char part[64];

	while (j && *path) {
		size_t n = strcspn(path, ".");
		if (n >= sizeof(part))
			return NULL;
		memcpy(part, path, n);
		part[n] = 0;
		j = cJSON_GetObjectItemCaseSensitive(j, part);
		path += n + (path[n] == '.');
	}
	return cJSON_IsString(j) ? j->valuestring : NULL;
}
