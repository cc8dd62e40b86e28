/* progress.h: progress lines on stderr for work that takes seconds (hashing,
 * uploads, polling). Shown only when stderr is a terminal and --quiet was not
 * given, so pipes, logs and CI stay clean. Redraws at most ~10 times a second. */
#ifndef NG_PROGRESS_H
#define NG_PROGRESS_H

#include <stdint.h>

void progress_set_quiet(int quiet);
int progress_enabled(void);
/* total 0 means unknown: shows a running count instead of a percentage. */
void progress_begin(const char *label, uint64_t total);
void progress_update(uint64_t done);
void progress_end(void);

#endif
