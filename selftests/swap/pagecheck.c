// SPDX-License-Identifier: GPL-2.0
/*
 * pagecheck - write a block device with a pattern unique to every page,
 * and read it back page by page, with O_DIRECT.
 *
 *   pagecheck write DEV FIRST PAGES SEED
 *   pagecheck read [--expect-intact] [--random] DEV FIRST PAGES SEED
 *   pagecheck chase DEV FIRST PAGES SEED NEWSEED
 *
 * Pages FIRST..FIRST+PAGES-1 (4 KiB each). Every page holds a magic
 * number, the seed, its index and a stream of words derived from both, so
 * a page of another write (another seed), of another place (another index)
 * or zeros is told apart from the page written. "write" writes 256 pages a
 * call. "read" reads one page a call, in order (--random: in an order
 * shuffled from the seed), and sorts each into intact (exactly
 * its pattern), EIO (the read failed with EIO) or wrong (anything else:
 * other data, a short read, another error), saying what the first wrong
 * pages held. Prints one summary line with the slowest read.
 *
 * "chase" reads pages (written with SEED) in order and, after reading
 * page i, overwrites page i + 2 with NEWSEED: every page from FIRST + 2
 * on must read as NEWSEED. It chases a read-ahead cache: the write lands
 * on a page just read ahead (or being read ahead), which must not be
 * served afterwards. Any page not intact is wrong.
 *
 * Exit status: 0 when no page was wrong (and, with --expect-intact, none
 * failed), 1 otherwise, 2 on usage or set-up errors.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PAGE		4096u
#define WORDS		(PAGE / sizeof(uint64_t))
#define BATCH		256u
#define MAGIC		0x4b43454847415044ull	/* "DPAGECHK" */

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

static void fill(uint64_t *p, uint64_t idx, uint64_t seed)
{
	uint64_t x = mix(seed ^ (idx * 0x9e3779b97f4a7c15ull)) | 1;
	size_t i;

	p[0] = MAGIC;
	p[1] = seed;
	p[2] = idx;
	for (i = 3; i < WORDS; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = x;
	}
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* What a wrong page holds, in a few words. */
static void describe(const uint64_t *p, char *buf, size_t len)
{
	size_t i, zero = 0;

	for (i = 0; i < WORDS; i++)
		zero += !p[i];
	if (zero == WORDS)
		snprintf(buf, len, "all zeros");
	else if (p[0] == MAGIC)
		snprintf(buf, len, "pagecheck page %llu of seed %llu",
			 (unsigned long long)p[2], (unsigned long long)p[1]);
	else
		snprintf(buf, len, "other data (%zu zero words, first word %#llx)",
			 zero, (unsigned long long)p[0]);
}

static int usage(void)
{
	fprintf(stderr, "usage: pagecheck write DEV FIRST PAGES SEED\n"
		"       pagecheck read [--expect-intact] [--random] DEV FIRST PAGES SEED\n"
		"       pagecheck chase DEV FIRST PAGES SEED NEWSEED\n");
	return 2;
}

int main(int argc, char **argv)
{
	uint64_t first, pages, seed, newseed = 0, i, intact = 0, eio = 0, wrong = 0;
	int writing, chase, expect_intact = 0, random_order = 0, fd, a = 2;
	double slowest = 0, start;
	uint64_t *buf, *want, *wbuf, *order = NULL;
	char what[128];

	if (argc < 2)
		return usage();
	writing = !strcmp(argv[1], "write");
	chase = !strcmp(argv[1], "chase");
	if (!writing && !chase && strcmp(argv[1], "read"))
		return usage();
	if (chase) {
		if (argc != 7)
			return usage();
		newseed = strtoull(argv[6], NULL, 0);
		argc--;
	}
	for (; !writing && !chase && argc > a && argv[a][0] == '-'; a++) {
		if (!strcmp(argv[a], "--expect-intact"))
			expect_intact = 1;
		else if (!strcmp(argv[a], "--random"))
			random_order = 1;
		else
			return usage();
	}
	if (argc != a + 4)
		return usage();
	first = strtoull(argv[a + 1], NULL, 0);
	pages = strtoull(argv[a + 2], NULL, 0);
	seed = strtoull(argv[a + 3], NULL, 0);
	if (!pages)
		return usage();
	fd = open(argv[a], (writing ? O_WRONLY : chase ? O_RDWR : O_RDONLY) |
		  O_DIRECT);
	if (fd < 0) {
		fprintf(stderr, "pagecheck: %s: %s\n", argv[a], strerror(errno));
		return 2;
	}
	if (posix_memalign((void **)&buf, PAGE, BATCH * PAGE) ||
	    posix_memalign((void **)&want, PAGE, PAGE) ||
	    posix_memalign((void **)&wbuf, PAGE, PAGE)) {
		fprintf(stderr, "pagecheck: out of memory\n");
		return 2;
	}

	if (writing) {
		for (i = 0; i < pages; i += BATCH) {
			uint64_t n = pages - i < BATCH ? pages - i : BATCH, j;
			ssize_t r;

			for (j = 0; j < n; j++)
				fill(buf + j * WORDS, first + i + j, seed);
			r = pwrite(fd, buf, n * PAGE, (first + i) * PAGE);
			if (r != (ssize_t)(n * PAGE)) {
				fprintf(stderr, "pagecheck: writing page %llu: %s\n",
					(unsigned long long)(first + i),
					r < 0 ? strerror(errno) : "short write");
				return 1;
			}
		}
		printf("pagecheck: wrote %llu pages from page %llu, seed %llu\n",
		       (unsigned long long)pages, (unsigned long long)first,
		       (unsigned long long)seed);
		return 0;
	}

	if (random_order) {
		order = malloc(pages * sizeof(*order));
		if (!order) {
			fprintf(stderr, "pagecheck: out of memory\n");
			return 2;
		}
		for (i = 0; i < pages; i++)
			order[i] = first + i;
		/* Fisher-Yates, from the seed. */
		for (i = pages - 1; i > 0; i--) {
			uint64_t j = mix(seed + i) % (i + 1), x = order[i];

			order[i] = order[j];
			order[j] = x;
		}
	}
	start = now();
	for (uint64_t k = 0; k < pages; k++) {
		double t = now();
		ssize_t r;
		int err;

		i = order ? order[k] : first + k;
		r = pread(fd, buf, PAGE, i * PAGE);
		err = errno;

		t = now() - t;
		if (t > slowest)
			slowest = t;
		if (chase && i + 2 < first + pages) {
			fill(wbuf, i + 2, newseed);
			if (pwrite(fd, wbuf, PAGE, (i + 2) * PAGE) != PAGE) {
				fprintf(stderr, "pagecheck: writing page %llu: %s\n",
					(unsigned long long)(i + 2), strerror(errno));
				return 1;
			}
		}
		if (r < 0 && err == EIO) {
			eio++;
			continue;
		}
		if (r == PAGE) {
			fill(want, i, chase && i >= first + 2 ? newseed : seed);
			if (!memcmp(buf, want, PAGE)) {
				intact++;
				continue;
			}
			describe(buf, what, sizeof(what));
		} else if (r < 0) {
			snprintf(what, sizeof(what), "error %s", strerror(err));
		} else {
			snprintf(what, sizeof(what), "short read of %zd bytes", r);
		}
		if (wrong < 10)
			fprintf(stderr, "pagecheck: page %llu WRONG: %s\n",
				(unsigned long long)i, what);
		wrong++;
	}
	printf("pagecheck: %llu pages: %llu intact, %llu EIO, %llu wrong; slowest read %.0f ms; %.3f s\n",
	       (unsigned long long)pages, (unsigned long long)intact,
	       (unsigned long long)eio, (unsigned long long)wrong, slowest * 1000,
	       now() - start);
	return wrong || (expect_intact && eio) ? 1 : 0;
}
