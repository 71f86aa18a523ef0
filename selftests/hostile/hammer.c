// SPDX-License-Identifier: GPL-2.0
/*
 * hammer: keep a disagg device or mount busy while its node misbehaves,
 * without starting a program per request (each costs a good part of a
 * second in an emulated guest). Errors are expected: it tallies them by
 * errno and only fails when a call returns something impossible.
 *
 *   hammer dev PATH PAGES SECONDS [PID]   4 KiB O_DIRECT writes and reads
 *                                         at random pages below PAGES
 *   hammer fs DIR SECONDS [PID]           stat, readdir, read, write,
 *                                         xattrs, create, rename, unlink...
 *
 * Stops after SECONDS, or as soon as process PID is gone (the hostile
 * node exits after its count of bad replies).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/time.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

static unsigned long nr_ok, nr_err, by_errno[4096];
static time_t deadline;
static pid_t watch;
static int stop;

static int go_on(void);

static void tally(long ret)
{
	if (!go_on())
		stop = 1;
	if (ret >= 0) {
		nr_ok++;
		return;
	}
	nr_err++;
	if (errno > 0 && errno < 4096)
		by_errno[errno]++;
}

/* Checked before each call (a call may wait for the node's timeout). */
static int go_on(void)
{
	if (time(NULL) >= deadline)
		return 0;
	return !watch || kill(watch, 0) == 0;
}

static void report(const char *what)
{
	int e;

	printf("hammer %s: %lu calls ok, %lu failed", what, nr_ok, nr_err);
	for (e = 1; e < 4096; e++)
		if (by_errno[e] && strerrorname_np(e))
			printf(", %s %lu", strerrorname_np(e), by_errno[e]);
		else if (by_errno[e])
			printf(", errno %d %lu", e, by_errno[e]);
	printf("\n");
}

static int hammer_dev(const char *path, unsigned long pages)
{
	void *buf;
	int fd = open(path, O_RDWR | O_DIRECT);

	if (fd < 0 || posix_memalign(&buf, 4096, 4096)) {
		perror(path);
		return 1;
	}
	memset(buf, 0x5a, 4096);
	while (go_on()) {
		off_t off = (off_t)(random() % pages) * 4096;
		ssize_t n;

		if (random() % 2)
			n = pwrite(fd, buf, 4096, off);
		else
			n = pread(fd, buf, 4096, off);
		if (n >= 0 && n != 4096) {
			fprintf(stderr, "hammer: %zd bytes at %lld\n", n, (long long)off);
			return 1;
		}
		tally(n);
	}
	close(fd);
	report("dev");
	return 0;
}

static void fs_round(const char *dir)
{
	char p[4096], q[4096], buf[65536];
	struct stat st;
	struct statfs sf;
	struct dirent *de;
	DIR *d;
	int fd;
	ssize_t n;

	snprintf(p, sizeof(p), "%s/file", dir);
#define tally(x) do { if (stop) return; tally(x); } while (0)
	tally(stat(p, &st));
	tally(stat(dir, &st));
	snprintf(q, sizeof(q), "%s/link", dir);
	tally(lstat(q, &st));
	tally(readlink(q, buf, sizeof(buf)));
	d = opendir(dir);
	tally(d ? 0 : -1);
	if (d) {
		errno = 0;
		while ((de = readdir(d)))
			;
		tally(errno ? -1 : 0);
		closedir(d);
	}
	fd = open(p, O_RDONLY);
	tally(fd);
	if (fd >= 0) {
		tally(read(fd, buf, sizeof(buf)));
		tally(pread(fd, buf, 4096, 4096));
		posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
		close(fd);
	}
	snprintf(q, sizeof(q), "%s/new%ld", dir, random() % 4);
	fd = open(q, O_WRONLY | O_CREAT, 0644);
	tally(fd);
	if (fd >= 0) {
		memset(buf, 'w', 8192);
		n = pwrite(fd, buf, 1 + random() % 8192, random() % 4096);
		tally(n);
		tally(fsync(fd));
		tally(ftruncate(fd, random() % 10000));
		tally(close(fd));
	}
	tally(getxattr(p, "user.x", buf, sizeof(buf)));
	tally(getxattr(p, "user.x", NULL, 0));
	tally(setxattr(p, "user.x", "v", 1, 0));
	tally(listxattr(p, buf, sizeof(buf)));
	tally(listxattr(p, NULL, 0));
	tally(removexattr(p, "user.x"));
	tally(statfs(dir, &sf));
	tally(chmod(p, 0600 + random() % 0100));
	snprintf(p, sizeof(p), "%s/dnew", dir);
	tally(mkdir(p, 0755));
	tally(rmdir(p));
	snprintf(p, sizeof(p), "%s/new%ld", dir, random() % 4);
	tally(rename(q, p));
	tally(unlink(p));
	snprintf(p, sizeof(p), "%s/lnew", dir);
	tally(symlink("target", p));
	tally(unlink(p));
#undef tally
}

static int hammer_fs(const char *dir)
{
	while (!stop && go_on())
		fs_round(dir);	/* about 30 calls; ends early on stop */
	report("fs");
	return 0;
}

int main(int argc, char **argv)
{
	int secs_arg = argc > 1 && !strcmp(argv[1], "dev") ? 4 : 3;

	if (argc < secs_arg + 1 ||
	    (strcmp(argv[1], "dev") && strcmp(argv[1], "fs"))) {
		fprintf(stderr, "usage: hammer dev PATH PAGES SECONDS [PID] | fs DIR SECONDS [PID]\n");
		return 2;
	}
	srandom(getpid());
	deadline = time(NULL) + atoi(argv[secs_arg]);
	if (argc > secs_arg + 1)
		watch = atoi(argv[secs_arg + 1]);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(argv[1], "dev"))
		return hammer_dev(argv[2], strtoul(argv[3], NULL, 0) ?: 1);
	return hammer_fs(argv[2]);
}
