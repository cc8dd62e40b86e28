#include "progress.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int quiet;
static char label[64];
static uint64_t total;
static double last;
static int active;

void progress_set_quiet(int q)
{
	quiet = q;
}

int progress_enabled(void)
{
	return !quiet && isatty(STDERR_FILENO);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void progress_begin(const char *l, uint64_t t)
{
	snprintf(label, sizeof(label), "%s", l);
	total = t;
	last = 0;
	active = progress_enabled();
}

void progress_update(uint64_t done)
{
	double t;

	if (!active)
		return;
	t = now();
	if (t - last < 0.1)
		return;
	last = t;
	if (total)
		fprintf(stderr, "\r%s: %3d%% (%llu/%llu MiB)", label, (int)(done * 100 / total),
			(unsigned long long)(done >> 20), (unsigned long long)(total >> 20));
	else
		fprintf(stderr, "\r%s: %llu MiB", label, (unsigned long long)(done >> 20));
	fflush(stderr);
}

void progress_end(void)
{
	if (!active)
		return;
	fprintf(stderr, "\r%*s\r", (int)strlen(label) + 40, "");
	fflush(stderr);
	active = 0;
}
