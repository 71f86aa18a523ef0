// SPDX-License-Identifier: GPL-2.0
/*
 * fsmeta - metadata operations per second, for scripts/bench-fs (mdtest is
 * not packaged in Debian).
 *
 *   fsmeta [-d] [-n FILES] [-r ENTRIES RDIR] DIR
 *
 * In DIR (which must exist, without files named f0000000...) it runs timed
 * phases, one after the other, over the same FILES names (default 10000):
 *
 *   create   open(O_CREAT|O_EXCL|O_WRONLY, 0644) + close of an empty file
 *   stat     stat() of every file, in creation order
 *   readdir  opendir + readdir to the end + closedir of DIR, or with -r of
 *            RDIR, which must hold exactly the ENTRIES names f0000000...
 *            (made beforehand, e.g. on the server); every name is checked
 *   unlink   unlink() of every file
 *
 * With -d, before the stat, readdir and unlink phases it syncs and writes
 * 3 to /proc/sys/vm/drop_caches, so cached dentries, inodes and directory
 * pages do not answer for the server: each phase starts cold.
 *
 * It prints one "PHASE ops=N seconds=S ops_per_s=R" line per phase and
 * exits 0, or names the first failing call and exits 1.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *dir, *rdir;
static long nfiles = 10000, nentries;
static int drop;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void name_of(long i, char *buf, size_t len)
{
	snprintf(buf, len, "%s/f%07ld", dir, i);
}

static void fail(const char *what, const char *path)
{
	fprintf(stderr, "fsmeta: %s %s: %s\n", what, path, strerror(errno));
	exit(1);
}

static void drop_caches(void)
{
	int fd;

	if (!drop)
		return;
	sync();
	fd = open("/proc/sys/vm/drop_caches", O_WRONLY);
	if (fd < 0 || write(fd, "3\n", 2) != 2)
		fail("writing 3 to", "/proc/sys/vm/drop_caches");
	close(fd);
}

static void report(const char *phase, long ops, double t0)
{
	double s = now() - t0;

	printf("%s ops=%ld seconds=%.3f ops_per_s=%.1f\n", phase, ops, s,
	       s > 0 ? ops / s : 0.0);
	fflush(stdout);
}

static void phase_create(void)
{
	char path[4096];
	double t0 = now();
	long i;
	int fd;

	for (i = 0; i < nfiles; i++) {
		name_of(i, path, sizeof(path));
		fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0644);
		if (fd < 0)
			fail("create", path);
		if (close(fd))
			fail("close", path);
	}
	report("create", nfiles, t0);
}

static void phase_stat(void)
{
	char path[4096];
	struct stat st;
	double t0;
	long i;

	drop_caches();
	t0 = now();
	for (i = 0; i < nfiles; i++) {
		name_of(i, path, sizeof(path));
		if (stat(path, &st))
			fail("stat", path);
		if (!S_ISREG(st.st_mode) || st.st_size != 0) {
			errno = EINVAL;
			fail("stat (not an empty regular file)", path);
		}
	}
	report("stat", nfiles, t0);
}

static void phase_readdir(const char *path, long expect)
{
	unsigned char *seen = calloc(expect, 1);
	struct dirent *de;
	long n = 0, i;
	char *end;
	double t0;
	DIR *d;

	if (!seen)
		fail("calloc for", path);
	drop_caches();
	t0 = now();
	d = opendir(path);
	if (!d)
		fail("opendir", path);
	for (;;) {
		errno = 0;
		de = readdir(d);
		if (!de) {
			if (errno)
				fail("readdir", path);
			break;
		}
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		i = de->d_name[0] == 'f' ? strtol(de->d_name + 1, &end, 10) : -1;
		if (i < 0 || *end || i >= expect || seen[i]) {
			errno = EINVAL;
			fail("readdir: unexpected or repeated entry in", path);
		}
		seen[i] = 1;
		n++;
	}
	closedir(d);
	report("readdir", n, t0);
	if (n != expect) {
		fprintf(stderr, "fsmeta: readdir of %s saw %ld of %ld files\n", path, n, expect);
		exit(1);
	}
	free(seen);
}

static void phase_unlink(void)
{
	char path[4096];
	double t0;
	long i;

	drop_caches();
	t0 = now();
	for (i = 0; i < nfiles; i++) {
		name_of(i, path, sizeof(path));
		if (unlink(path))
			fail("unlink", path);
	}
	report("unlink", nfiles, t0);
}

int main(int argc, char **argv)
{
	char *end;
	int c;

	while ((c = getopt(argc, argv, "n:dr:")) != -1) {
		switch (c) {
		case 'n':
			nfiles = strtol(optarg, &end, 10);
			if (*end || nfiles < 1 || nfiles > 9999999) {
				fprintf(stderr, "fsmeta: -n wants 1..9999999\n");
				return 2;
			}
			break;
		case 'd':
			drop = 1;
			break;
		case 'r':
			nentries = strtol(optarg, &end, 10);
			if (*end || nentries < 1 || nentries > 9999999) {
				fprintf(stderr, "fsmeta: -r wants 1..9999999\n");
				return 2;
			}
			break;
		default:
			goto usage;
		}
	}
	if (optind != argc - 1 - !!nentries)
		goto usage;
	if (nentries)
		rdir = argv[optind++];
	dir = argv[optind];

	phase_create();
	phase_stat();
	if (rdir)
		phase_readdir(rdir, nentries);
	else
		phase_readdir(dir, nfiles);
	phase_unlink();
	return 0;
usage:
	fprintf(stderr, "usage: fsmeta [-d] [-n FILES] [-r ENTRIES RDIR] DIR\n");
	return 2;
}
