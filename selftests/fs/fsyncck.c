// SPDX-License-Identifier: GPL-2.0
/*
 * fsyncck: what fsync() and close() answer, for the disaggfs durability
 * selftests (fs/fsync_crash.sh, fs/wb_errors.sh). The data is fsprobe's
 * pattern (fsprobe verify FILE SIZE SEED checks it). Results are printed
 * as "fsync=N close=N" with N 0 or an errno name.
 *
 *   fsyncck write FILE SIZE SEED fsync|close
 *	write the pattern; fsync (then close), or only close; print both
 *   fsyncck hold FILE SIZE SEED wb|dirty GO
 *	write the pattern; "wb": sync_file_range() writes it back and waits
 *	(no fsync), "dirty": leave it in the page cache; print "ready", wait
 *	until the file GO exists, then fsync and close and print both
 *   fsyncck errs FILE SIZE SEED ERR [GO]
 *	write; fsync must fail with ERR, a second fsync return 0, close 0
 *   fsyncck closeerr FILE SIZE SEED ERR
 *	write; close (no fsync) must fail with ERR
 *   fsyncck duperr FILE SIZE SEED ERR [GO]
 *	write; close of a dup must fail with ERR, then fsync of the first
 *	descriptor (the error was reported, not consumed) with ERR too, a
 *	second fsync return 0 and close 0
 *
 * With GO, errs and duperr print "reported" once the error was, and wait
 * until the file GO exists before the calls that must return 0 (the test
 * lets the node's device write again meanwhile: an fsync is stable only
 * when the node can write the file's metadata).
 *
 * ERR is an errno name (EIO, ENOSPC). Exit 0 when what was checked holds
 * (always for write and hold), 1 when not, 2 on a setup failure.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define die(...) do { fprintf(stderr, "fsyncck: " __VA_ARGS__); \
		      fprintf(stderr, " (%s)\n", strerror(errno)); exit(2); } while (0)

/* fsprobe's pattern. */
static unsigned char pat(uint64_t seed, uint64_t off)
{
	uint64_t x = (off / 8 + 1) * 0x9e3779b97f4a7c15ull ^ seed;

	x ^= x >> 29;
	return (unsigned char)(x >> (8 * (off % 8)));
}

static const char *ename(int e)
{
	const char *n;

	if (!e)
		return "0";
	n = strerrorname_np(e);
	return n ? n : "?";
}

static int parse_err(const char *s)
{
	for (int e = 1; e < 4096; e++) {
		const char *n = strerrorname_np(e);

		if (n && !strcmp(n, s))
			return e;
	}
	fprintf(stderr, "fsyncck: unknown errno name %s\n", s);
	exit(2);
}

/* Open FILE and write SIZE bytes of the pattern into it (page cache). */
static int write_pattern(const char *f, size_t size, uint64_t seed)
{
	size_t chunk = 1 << 16, done = 0;
	unsigned char *buf = malloc(chunk);
	int fd;

	if (!buf)
		die("malloc");
	fd = open(f, O_WRONLY | O_CREAT, 0644);
	if (fd < 0)
		die("open %s", f);
	while (done < size) {
		size_t n = size - done < chunk ? size - done : chunk;
		ssize_t w;

		for (size_t i = 0; i < n; i++)
			buf[i] = pat(seed, done + i);
		w = pwrite(fd, buf, n, (off_t)done);
		if (w <= 0)
			die("write %s at %zu", f, done);
		done += (size_t)w;
	}
	free(buf);
	return fd;
}

/* The errno of a call that returned @rc. */
static int rc_err(int rc)
{
	return rc ? errno : 0;
}

static void wait_go(int argc, char **argv)
{
	struct stat st;

	if (argc < 7)
		return;
	printf("\nreported\n");
	while (stat(argv[6], &st))
		usleep(20000);
}

static int expect(const char *what, int got, int want)
{
	printf("%s=%s", what, ename(got));
	if (got == want) {
		printf(" ");
		return 0;
	}
	printf("(want %s) ", ename(want));
	return 1;
}

int main(int argc, char **argv)
{
	const char *cmd, *f;
	size_t size;
	uint64_t seed;
	int fd, fd2, bad = 0, err;

	if (argc < 6) {
		fprintf(stderr, "usage: see the comment at the top of fsyncck.c\n");
		return 2;
	}
	cmd = argv[1];
	f = argv[2];
	size = strtoull(argv[3], NULL, 0);
	seed = strtoull(argv[4], NULL, 0);
	setvbuf(stdout, NULL, _IOLBF, 0);

	if (!strcmp(cmd, "write")) {
		fd = write_pattern(f, size, seed);
		if (!strcmp(argv[5], "fsync"))
			printf("fsync=%s ", ename(rc_err(fsync(fd))));
		printf("close=%s\n", ename(rc_err(close(fd))));
		return 0;
	}
	if (!strcmp(cmd, "hold")) {
		struct stat st;

		if (argc < 7)
			return 2;
		fd = write_pattern(f, size, seed);
		if (!strcmp(argv[5], "wb") &&
		    sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WAIT_BEFORE |
				    SYNC_FILE_RANGE_WRITE |
				    SYNC_FILE_RANGE_WAIT_AFTER))
			die("sync_file_range %s", f);
		printf("ready\n");
		while (stat(argv[6], &st))
			usleep(20000);
		printf("fsync=%s ", ename(rc_err(fsync(fd))));
		printf("close=%s\n", ename(rc_err(close(fd))));
		return 0;
	}
	err = parse_err(argv[5]);
	fd = write_pattern(f, size, seed);
	if (!strcmp(cmd, "errs")) {
		bad |= expect("fsync", rc_err(fsync(fd)), err);
		wait_go(argc, argv);
		bad |= expect("fsync", rc_err(fsync(fd)), 0);
		bad |= expect("close", rc_err(close(fd)), 0);
	} else if (!strcmp(cmd, "closeerr")) {
		bad |= expect("close", rc_err(close(fd)), err);
	} else if (!strcmp(cmd, "duperr")) {
		fd2 = dup(fd);
		if (fd2 < 0)
			die("dup");
		bad |= expect("close-dup", rc_err(close(fd2)), err);
		bad |= expect("fsync", rc_err(fsync(fd)), err);
		wait_go(argc, argv);
		bad |= expect("fsync", rc_err(fsync(fd)), 0);
		bad |= expect("close", rc_err(close(fd)), 0);
	} else {
		fprintf(stderr, "fsyncck: unknown command %s\n", cmd);
		return 2;
	}
	printf("\n");
	return bad;
}
