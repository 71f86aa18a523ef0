// SPDX-License-Identifier: GPL-2.0
/*
 * memcheck - fill anonymous memory with a checksummed pattern and check
 * every byte, in random and in sequential order, several times over.
 *
 *   memcheck [-p PASSES] [-s SEED] [--order alt|seq|random] [--hold FILE]
 *            [--until FILE] [--corrupt] MIB
 *
 * Every 4 KiB page holds its index, a generation number and a stream of
 * words derived from (seed, index, generation); a page read back is
 * compared word for word. Passes alternate random and sequential order
 * and rewrite every page with a new generation halfway through.
 * --order seq or random: every pass (and the rewrite) in that order
 * instead (benchmarks of read-ahead; swap slots follow the order pages
 * were swapped out in, so only passes in one order keep a trend).
 *
 * --hold FILE: after the passes, create FILE and wait for SIGUSR1, then
 * check every page once more (used around swapoff).
 * --until FILE: after the passes, go on with more passes (each odd one
 * followed by a rewrite of every page with a new generation, in random
 * order) until FILE exists; it is looked for between passes. Prints a
 * line per pass, for tests that do things to the swap device meanwhile.
 * --corrupt: flip one bit of one page after filling, to prove a mismatch
 * is caught (the run must then fail).
 *
 * Exit status: 0 when every page matched, 1 on any mismatch, 2 on usage
 * or set-up errors. Prints one summary line.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define PAGE		4096u
#define WORDS		(PAGE / sizeof(uint64_t))

static uint64_t seed = 0x6469736167676167ull;	/* "disaggag" */

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

static void fill(uint64_t *p, uint64_t idx, uint64_t gen)
{
	uint64_t x = mix(seed ^ (idx * 0x9e3779b97f4a7c15ull) ^ gen);
	size_t i;

	p[0] = idx;
	p[1] = gen;
	for (i = 2; i < WORDS; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = x;
	}
}

/* Returns the number of wrong words in page @idx. */
static size_t check(const uint64_t *p, uint64_t idx, uint64_t gen)
{
	uint64_t want[WORDS];
	size_t i, bad = 0;

	fill(want, idx, gen);
	for (i = 0; i < WORDS; i++)
		bad += p[i] != want[i];
	return bad;
}

static uint64_t rng_state = 1;

static uint64_t rnd(void)
{
	rng_state = mix(rng_state + 0x9e3779b97f4a7c15ull);
	return rng_state;
}

static volatile sig_atomic_t released;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void on_usr1(int sig)
{
	(void)sig;
	released = 1;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "passes", required_argument, NULL, 'p' },
		{ "seed", required_argument, NULL, 's' },
		{ "hold", required_argument, NULL, 'H' },
		{ "until", required_argument, NULL, 'U' },
		{ "corrupt", no_argument, NULL, 'C' },
		{ "order", required_argument, NULL, 'O' },
		{ NULL, 0, NULL, 0 },
	};
	const char *hold = NULL, *until = NULL;
	double start;
	int corrupt = 0, order_mode = 0;	/* 0 alt, 1 seq, 2 random */
	unsigned long passes = 4, mib, pass;
	uint64_t *order, gen = 1, bad = 0, bad_pages = 0, touched = 0;
	size_t n, i;
	char *mem;
	int c;

	while ((c = getopt_long(argc, argv, "p:s:", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			passes = strtoul(optarg, NULL, 0);
			break;
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 'H':
			hold = optarg;
			break;
		case 'U':
			until = optarg;
			break;
		case 'C':
			corrupt = 1;
			break;
		case 'O':
			if (!strcmp(optarg, "alt"))
				order_mode = 0;
			else if (!strcmp(optarg, "seq"))
				order_mode = 1;
			else if (!strcmp(optarg, "random"))
				order_mode = 2;
			else
				goto usage;
			break;
		default:
			goto usage;
		}
	}
	if (optind != argc - 1)
		goto usage;
	mib = strtoul(argv[optind], NULL, 0);
	if (!mib || mib > (1ul << 20) || passes < 1)
		goto usage;

	n = mib * (1024 * 1024 / PAGE);
	mem = mmap(NULL, n * PAGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	order = calloc(n, sizeof(*order));
	if (mem == MAP_FAILED || !order) {
		fprintf(stderr, "memcheck: cannot map %lu MiB: %s\n", mib,
			strerror(errno));
		return 2;
	}
	/* Transparent huge pages would hide page-granular swapping. */
	madvise(mem, n * PAGE, MADV_NOHUGEPAGE);
	rng_state = seed;
	start = now();
	for (i = 0; i < n; i++)
		order[i] = i;

	for (i = 0; i < n; i++)
		fill((uint64_t *)(mem + i * PAGE), i, gen);
	touched += n;
	if (corrupt)
		mem[(n / 2) * PAGE + 123] ^= 0x10;

	for (pass = 0; pass < passes || (until && access(until, F_OK)); pass++) {
		int random = order_mode ? order_mode == 2 : !(pass & 1);

		if (random) {
			for (i = n - 1; i > 0; i--) {
				size_t j = rnd() % (i + 1);
				uint64_t t = order[i];

				order[i] = order[j];
				order[j] = t;
			}
		}
		for (i = 0; i < n; i++) {
			uint64_t idx = random ? order[i] : i;
			size_t b = check((uint64_t *)(mem + idx * PAGE), idx, gen);

			if (b && bad_pages < 10)
				fprintf(stderr, "memcheck: pass %lu page %llu: %zu wrong words\n",
					pass, (unsigned long long)idx, b);
			bad += b;
			bad_pages += !!b;
		}
		touched += n;
		if (pass == passes / 2 || (until && pass >= passes && (pass & 1))) {
			gen++;
			for (i = 0; i < n; i++) {
				uint64_t idx = order_mode == 1 ? i : order[i];

				fill((uint64_t *)(mem + idx * PAGE), idx, gen);
			}
			touched += n;
		}
		if (until) {
			printf("memcheck: pass %lu done at %.0f s, generation %llu, %llu bad pages so far\n",
			       pass, now() - start, (unsigned long long)gen,
			       (unsigned long long)bad_pages);
			fflush(stdout);
		}
	}

	if (hold) {
		int fd;

		signal(SIGUSR1, on_usr1);
		fd = open(hold, O_CREAT | O_WRONLY | O_TRUNC, 0644);
		if (fd < 0) {
			fprintf(stderr, "memcheck: %s: %s\n", hold, strerror(errno));
			return 2;
		}
		close(fd);
		while (!released)
			pause();
		for (i = 0; i < n; i++) {
			size_t b = check((uint64_t *)(mem + i * PAGE), i, gen);

			if (b && bad_pages < 10)
				fprintf(stderr, "memcheck: after hold, page %zu: %zu wrong words\n",
					i, b);
			bad += b;
			bad_pages += !!b;
		}
		touched += n;
	}

	printf("memcheck: %lu MiB, %llu page visits, %llu bad pages, %llu bad words\n",
	       mib, (unsigned long long)touched, (unsigned long long)bad_pages,
	       (unsigned long long)bad);
	return bad ? 1 : 0;

usage:
	fprintf(stderr, "usage: memcheck [-p PASSES] [-s SEED] [--order alt|seq|random] [--hold FILE] [--until FILE] [--corrupt] MIB\n");
	return 2;
}
