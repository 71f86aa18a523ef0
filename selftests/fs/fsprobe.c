// SPDX-License-Identifier: GPL-2.0
/*
 * fsprobe: small filesystem checks the shell cannot do well, for the
 * disaggfs selftests. Each subcommand prints what it checked and exits 0,
 * or prints why not and exits 1.
 *
 *   fsprobe mmap-write FILE SIZE SEED   shared writable mapping, msync, munmap
 *   fsprobe verify FILE SIZE SEED       the file holds the pattern
 *   fsprobe write FILE SIZE SEED        the pattern by write(2)
 *   fsprobe direct FILE SIZE SEED       O_DIRECT write, then O_DIRECT read back
 *   fsprobe unlinked FILE               open, unlink, still readable, gone after close
 *   fsprobe xattr FILE [NS]             NS.* (user) set/get/list/remove; security.* refused
 *   fsprobe xattr-ok FILE NS            exit 0 if FILE's filesystem takes NS.* xattrs
 *   fsprobe exchange A B                renameat2(RENAME_EXCHANGE), then NOREPLACE refused
 *   fsprobe mkfiles DIR N               N files with known names
 *   fsprobe readdir DIR N               readdir sees those N exactly once
 *   fsprobe bigdir DIR N                mkfiles, readdir, then unlink them all
 *   fsprobe create-stat DIR N           N times: O_EXCL create, close, lstat;
 *                                       prints the microseconds per file
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#define die(...) do { fprintf(stderr, "fsprobe: " __VA_ARGS__); \
		      fprintf(stderr, " (%s)\n", strerror(errno)); exit(1); } while (0)

static unsigned char pat(uint64_t seed, uint64_t off)
{
	uint64_t x = (off / 8 + 1) * 0x9e3779b97f4a7c15ull ^ seed;

	x ^= x >> 29;
	return (unsigned char)(x >> (8 * (off % 8)));
}

static void fill(unsigned char *p, size_t len, uint64_t seed, uint64_t off)
{
	for (size_t i = 0; i < len; i++)
		p[i] = pat(seed, off + i);
}

static int cmd_write(const char *f, size_t size, uint64_t seed, int direct)
{
	size_t chunk = 1 << 20, done = 0;
	unsigned char *buf;
	int fd;

	if (posix_memalign((void **)&buf, 4096, chunk))
		die("memalign");
	fd = open(f, O_WRONLY | O_CREAT | O_TRUNC | (direct ? O_DIRECT : 0), 0644);
	if (fd < 0)
		die("open %s", f);
	while (done < size) {
		size_t n = size - done < chunk ? size - done : chunk;
		ssize_t w;

		fill(buf, n, seed, done);
		w = pwrite(fd, buf, n, done);
		if (w != (ssize_t)n)
			die("pwrite %s at %zu: %zd", f, done, w);
		done += n;
	}
	if (close(fd))
		die("close %s", f);
	free(buf);
	printf("wrote %zu bytes%s to %s\n", size, direct ? " with O_DIRECT" : "", f);
	return 0;
}

static int cmd_verify(const char *f, size_t size, uint64_t seed, int direct)
{
	size_t chunk = 1 << 20, done = 0;
	unsigned char *buf, *want;
	struct stat st;
	int fd;

	if (posix_memalign((void **)&buf, 4096, chunk) || !(want = malloc(chunk)))
		die("alloc");
	fd = open(f, O_RDONLY | (direct ? O_DIRECT : 0));
	if (fd < 0)
		die("open %s", f);
	if (fstat(fd, &st))
		die("fstat");
	if ((size_t)st.st_size != size) {
		errno = 0;
		die("%s: size %lld, want %zu", f, (long long)st.st_size, size);
	}
	while (done < size) {
		size_t n = size - done < chunk ? size - done : chunk;
		ssize_t r = pread(fd, buf, chunk, done);

		if (r != (ssize_t)n)
			die("pread %s at %zu: %zd", f, done, r);
		fill(want, n, seed, done);
		if (memcmp(buf, want, n)) {
			errno = 0;
			die("%s: data differs in [%zu, %zu)", f, done, done + n);
		}
		done += n;
	}
	close(fd);
	printf("verified %zu bytes%s of %s\n", size, direct ? " with O_DIRECT" : "", f);
	return 0;
}

static int cmd_mmap_write(const char *f, size_t size, uint64_t seed)
{
	unsigned char *p;
	int fd = open(f, O_RDWR | O_CREAT | O_TRUNC, 0644);

	if (fd < 0)
		die("open %s", f);
	if (ftruncate(fd, size))
		die("ftruncate");
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		die("mmap");
	close(fd);	/* the mapping alone must get the data out */
	fill(p, size, seed, 0);
	if (msync(p, size / 2, MS_SYNC))
		die("msync");
	if (munmap(p, size))
		die("munmap");
	printf("wrote %zu bytes through a shared mapping of %s\n", size, f);
	return 0;
}

static int cmd_unlinked(const char *f)
{
	char buf[64] = "", dir[4096], *slash;
	int fd, found = 0;
	struct dirent *de;
	DIR *d;

	fd = open(f, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, "still here", 10) != 10)
		die("create %s", f);
	if (unlink(f))
		die("unlink %s", f);
	if (access(f, F_OK) == 0 || errno != ENOENT)
		die("%s still visible after unlink", f);
	if (pread(fd, buf, sizeof(buf), 0) != 10 || strcmp(buf, "still here"))
		die("read after unlink: '%s'", buf);
	if (pwrite(fd, "more", 4, 10) != 4 || fsync(fd))
		die("write after unlink");
	snprintf(dir, sizeof(dir), "%s", f);
	slash = strrchr(dir, '/');
	if (slash)
		*slash = 0;
	else
		strcpy(dir, ".");
	d = opendir(dir);
	if (!d)
		die("opendir %s", dir);
	while ((de = readdir(d)))
		found += !strncmp(de->d_name, ".disaggfs-", 10);
	closedir(d);
	if (found != 1) {
		errno = 0;
		die("%d silly-renamed files while open, want 1", found);
	}
	close(fd);
	d = opendir(dir);
	found = 0;
	while (d && (de = readdir(d)))
		found += !strncmp(de->d_name, ".disaggfs-", 10);
	if (d)
		closedir(d);
	if (found) {
		errno = 0;
		die("silly-renamed file left after close");
	}
	printf("open-unlinked file readable and writable; hidden name gone after close\n");
	return 0;
}

static int cmd_xattr(const char *f, const char *ns)
{
	char val[64], list[256], name[64];
	ssize_t n;

	snprintf(name, sizeof(name), "%s.dg", ns);
	if (setxattr(f, name, "value1", 6, XATTR_CREATE))
		die("setxattr %s", name);
	if (setxattr(f, name, "v", 1, XATTR_CREATE) == 0 || errno != EEXIST)
		die("XATTR_CREATE on an existing xattr did not fail with EEXIST");
	n = getxattr(f, name, NULL, 0);
	if (n != 6)
		die("getxattr size %zd", n);
	n = getxattr(f, name, val, sizeof(val));
	if (n != 6 || memcmp(val, "value1", 6))
		die("getxattr value");
	if (getxattr(f, name, val, 2) >= 0 || errno != ERANGE)
		die("small buffer did not give ERANGE");
	n = listxattr(f, list, sizeof(list));
	if (n < (ssize_t)strlen(name) + 1 || !memmem(list, n, name, strlen(name) + 1))
		die("listxattr (%zd)", n);
	if (removexattr(f, name))
		die("removexattr");
	if (getxattr(f, name, val, sizeof(val)) >= 0 || errno != ENODATA)
		die("removed xattr still there");
	if (setxattr(f, "security.dg", "x", 1, 0) == 0 || errno != EOPNOTSUPP)
		die("security.* not refused with EOPNOTSUPP");
	printf("%s.* xattrs: set, get, list, remove; security.* EOPNOTSUPP\n", ns);
	return 0;
}

static int cmd_xattr_ok(const char *f, const char *ns)
{
	char name[64];

	snprintf(name, sizeof(name), "%s.dg-probe", ns);
	if (setxattr(f, name, "x", 1, 0))
		return 1;
	removexattr(f, name);
	return 0;
}

static int cmd_exchange(const char *a, const char *b)
{
	if (renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE))
		die("renameat2 RENAME_EXCHANGE %s %s", a, b);
	if (renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_NOREPLACE) == 0 ||
	    errno != EEXIST)
		die("RENAME_NOREPLACE over an existing name did not fail with EEXIST");
	printf("RENAME_EXCHANGE swapped %s and %s; RENAME_NOREPLACE refused\n", a, b);
	return 0;
}

static void entry_path(char *path, size_t size, const char *dir, long i)
{
	snprintf(path, size, "%s/entry-with-a-longish-name-%07ld", dir, i);
}

static int cmd_mkfiles(const char *dir, long n)
{
	char path[4096];

	for (long i = 0; i < n; i++) {
		int fd;

		entry_path(path, sizeof(path), dir, i);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
		if (fd < 0)
			die("create %s", path);
		close(fd);
	}
	printf("created %ld files in %s\n", n, dir);
	return 0;
}

static int cmd_readdir(const char *dir, long n)
{
	unsigned char *seen = calloc(n, 1);
	struct dirent *de;
	long i, count = 0;
	DIR *d;

	if (!seen)
		die("calloc");
	d = opendir(dir);
	if (!d)
		die("opendir");
	while ((errno = 0, de = readdir(d))) {
		char *end;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (strncmp(de->d_name, "entry-with-a-longish-name-", 26))
			die("unexpected entry %s", de->d_name);
		i = strtol(de->d_name + 26, &end, 10);
		if (*end || i < 0 || i >= n || seen[i]++)
			die("entry %s bad or seen twice", de->d_name);
		count++;
	}
	if (errno)
		die("readdir");
	closedir(d);
	free(seen);
	if (count != n) {
		errno = 0;
		die("readdir saw %ld of %ld entries", count, n);
	}
	printf("readdir of %ld entries: each seen once\n", n);
	return 0;
}

static int cmd_create_stat(const char *dir, long n)
{
	struct timespec t0, t1;
	char path[4096];
	struct stat st;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long i = 0; i < n; i++) {
		int fd;

		snprintf(path, sizeof(path), "%s/cs-%07ld", dir, i);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
		if (fd < 0)
			die("create %s", path);
		close(fd);
		if (lstat(path, &st))
			die("lstat %s", path);
		if (!S_ISREG(st.st_mode) || st.st_size)
			die("%s: not an empty regular file", path);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("create-stat %ld files: %.1f us per file\n", n,
	       ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / 1e3 / (n ? n : 1));
	return 0;
}

static int cmd_bigdir(const char *dir, long n)
{
	char path[4096];

	if (cmd_mkfiles(dir, n) || cmd_readdir(dir, n))
		return 1;
	for (long i = 0; i < n; i++) {
		entry_path(path, sizeof(path), dir, i);
		if (unlink(path))
			die("unlink %s", path);
	}
	printf("removed %ld files\n", n);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "mmap-write"))
		return cmd_mmap_write(argv[2], strtoull(argv[3], NULL, 0), strtoull(argv[4], NULL, 0));
	if (argc == 5 && !strcmp(argv[1], "verify"))
		return cmd_verify(argv[2], strtoull(argv[3], NULL, 0), strtoull(argv[4], NULL, 0), 0);
	if (argc == 5 && !strcmp(argv[1], "write"))
		return cmd_write(argv[2], strtoull(argv[3], NULL, 0), strtoull(argv[4], NULL, 0), 0);
	if (argc == 5 && !strcmp(argv[1], "direct")) {
		size_t size = strtoull(argv[3], NULL, 0);
		uint64_t seed = strtoull(argv[4], NULL, 0);

		return cmd_write(argv[2], size, seed, 1) || cmd_verify(argv[2], size, seed, 1);
	}
	if (argc == 3 && !strcmp(argv[1], "unlinked"))
		return cmd_unlinked(argv[2]);
	if ((argc == 3 || argc == 4) && !strcmp(argv[1], "xattr"))
		return cmd_xattr(argv[2], argc == 4 ? argv[3] : "user");
	if (argc == 4 && !strcmp(argv[1], "xattr-ok"))
		return cmd_xattr_ok(argv[2], argv[3]);
	if (argc == 4 && !strcmp(argv[1], "exchange"))
		return cmd_exchange(argv[2], argv[3]);
	if (argc == 4 && !strcmp(argv[1], "mkfiles"))
		return cmd_mkfiles(argv[2], strtol(argv[3], NULL, 0));
	if (argc == 4 && !strcmp(argv[1], "readdir"))
		return cmd_readdir(argv[2], strtol(argv[3], NULL, 0));
	if (argc == 4 && !strcmp(argv[1], "bigdir"))
		return cmd_bigdir(argv[2], strtol(argv[3], NULL, 0));
	if (argc == 4 && !strcmp(argv[1], "create-stat"))
		return cmd_create_stat(argv[2], strtol(argv[3], NULL, 0));
	fprintf(stderr, "usage: see the comment at the top of fsprobe.c\n");
	return 2;
}
