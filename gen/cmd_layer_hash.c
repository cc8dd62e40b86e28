/* nutgen layer-hash: prints the dm-verity root hash Azure computes for each
 * image layer (what a CCE policy lists), like sha256sum prints digests. */
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../bundle-format/cli.h"
#include "../bundle-format/codec.h"
#include "../bundle-format/progress.h"
#include "layer.h"

const char cmd_layer_hash_usage[] =
    "Usage: nutgen layer-hash [-j N] [--ext4 OUT] [--quiet] FILE...\n"
    "\n"
    "Prints, for each container image layer FILE (a tar, plain or gzip/zstd\n"
    "compressed; '-' reads standard input), the dm-verity root hash that Azure\n"
    "confidential containers measure and that a CCE policy lists for it:\n"
    "\n"
    "  ROOTHASH  FILE\n"
    "\n"
    "The layer is converted to ext4 exactly as hcsshim's tar2ext4 does (what\n"
    "`az confcom` runs), and hashed with SHA-256, 4096-byte blocks and a salt of\n"
    "32 zero bytes. Layers the reference rejects are rejected with one line each.\n"
    "\n"
    "Options:\n"
    "  -j, --jobs N   hash up to N layers at once (default 1)\n"
    "      --ext4 OUT also write the ext4 image that was hashed to OUT (one FILE)\n"
    "  -q, --quiet    no progress on stderr\n"
    "\n"
    "Exit status: 0 all hashed, 1 some input rejected or unreadable, 2 usage error.\n";

struct job {
	const char *path;
	struct layer_result res;
	struct ng_err err;
	int rc, done;
};

struct pool {
	struct job *jobs;
	int n, next;
	const char *ext4_out;
	pthread_mutex_t mu;
	pthread_cond_t cv;
};

static void run_job(struct pool *p, struct job *j)
{
	struct layer_opts o = {0};

	o.ext4_out = p->ext4_out;
	if (!strcmp(j->path, "-")) {
		o.name = "-";
		j->rc = layer_hash_fd(0, &o, &j->res, &j->err);
	} else {
		j->rc = layer_hash_file(j->path, &o, &j->res, &j->err);
	}
}

static void *worker(void *arg)
{
	struct pool *p = arg;

	for (;;) {
		struct job *j;
		pthread_mutex_lock(&p->mu);
		if (p->next >= p->n) {
			pthread_mutex_unlock(&p->mu);
			return NULL;
		}
		j = &p->jobs[p->next++];
		pthread_mutex_unlock(&p->mu);
		run_job(p, j);
		pthread_mutex_lock(&p->mu);
		j->done = 1;
		pthread_cond_broadcast(&p->cv);
		pthread_mutex_unlock(&p->mu);
	}
}

int cmd_layer_hash(int argc, char **argv)
{
	static const struct option opts[] = {{"jobs", required_argument, 0, 'j'},
					     {"ext4", required_argument, 0, 'e'},
					     {"quiet", no_argument, 0, 'q'},
					     {0, 0, 0, 0}};
	struct pool p = {0};
	pthread_t *th = NULL;
	long jobs = 1;
	int c, nth = 0, failed = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "j:q", opts, NULL)) != -1) {
		char *end;
		switch (c) {
		case 'j':
			jobs = strtol(optarg, &end, 10);
			if (*end || jobs < 1 || jobs > 256)
				return cli_usage_error("nutgen", argv[0],
						       "-j wants a number from 1 to 256, not '%s'",
						       optarg);
			break;
		case 'e':
			p.ext4_out = optarg;
			break;
		case 'q':
			progress_set_quiet(1);
			break;
		default:
			return cli_usage_error("nutgen", argv[0], "unknown option");
		}
	}
	p.n = argc - optind;
	if (p.n < 1)
		return cli_usage_error("nutgen", argv[0], "no layer FILE given");
	if (p.ext4_out && p.n != 1)
		return cli_usage_error("nutgen", argv[0], "--ext4 takes exactly one FILE");
	p.jobs = calloc((size_t)p.n, sizeof(*p.jobs));
	if (jobs > p.n)
		jobs = p.n;
	th = calloc((size_t)jobs, sizeof(*th));
	if (!p.jobs || !th) {
		free(p.jobs);
		free(th);
		fprintf(stderr, "nutgen layer-hash: out of memory\n");
		return CLI_EXIT_FAIL;
	}
	for (int i = 0; i < p.n; i++)
		p.jobs[i].path = argv[optind + i];
	pthread_mutex_init(&p.mu, NULL);
	pthread_cond_init(&p.cv, NULL);
	progress_begin("hashing layers", (uint64_t)p.n);
	for (nth = 0; nth < jobs; nth++)
		if (pthread_create(&th[nth], NULL, worker, &p) != 0)
			break;
	if (nth == 0)
		worker(&p); /* no thread could start: do the work here */
	/* Print in argument order as results arrive, like sha256sum. */
	for (int i = 0; i < p.n; i++) {
		struct job *j = &p.jobs[i];
		char hex[65];
		pthread_mutex_lock(&p.mu);
		while (!j->done)
			pthread_cond_wait(&p.cv, &p.mu);
		pthread_mutex_unlock(&p.mu);
		progress_update((uint64_t)i + 1);
		if (j->rc < 0) {
			progress_end();
			fprintf(stderr, "nutgen layer-hash: %s\n", j->err.msg);
			failed = 1;
			continue;
		}
		hex_encode(j->res.root, 32, hex);
		printf("%s  %s\n", hex, j->path);
		fflush(stdout);
	}
	progress_end();
	for (int i = 0; i < nth; i++)
		pthread_join(th[i], NULL);
	pthread_mutex_destroy(&p.mu);
	pthread_cond_destroy(&p.cv);
	free(th);
	free(p.jobs);
	return failed ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}
