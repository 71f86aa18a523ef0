// SPDX-License-Identifier: GPL-2.0
/*
 * fsload: data-integrity and concurrency loads for the disaggfs selftests.
 * Each subcommand prints what it did and exits 0, or prints why not and
 * exits 1.
 *
 *   fsload randwrite FILE REF SIZE SEED OPS MAXLEN dense|sparse
 *       Writes FILE and the reference copy REF (on tmpfs) alike: dense
 *       fills all SIZE bytes first, sparse only sets the size; then OPS
 *       writes of 1..MAXLEN random bytes at random offsets, each through
 *       buffered pwrite, O_DIRECT pwrite (unaligned) or a shared mapping
 *       (REF always by pwrite). Seeded: the same arguments, the same file.
 *   fsload cmp FILE REF [direct]
 *       FILE and REF are byte for byte the same (FILE read with O_DIRECT).
 *   fsload writers DIR N SIZE SEED
 *       N processes at once: each writes its own file DIR/w<i> and its
 *       disjoint, unaligned share of DIR/shared, in random chunks and order.
 *   fsload writers-verify DIR N SIZE SEED
 *       The files hold what "writers" wrote.
 *   fsload mmap-writers FILE N SIZE SEED
 *       N processes map FILE shared and write interleaved 1000-byte stripes.
 *   fsload pattern-verify FILE SIZE SEED
 *       FILE holds the pattern (as mmap-writers and "shared" write it).
 *   fsload renames DIR SECONDS [MASK]
 *       For SECONDS: one process renames DIR/A <-> DIR/B and A/x <-> A/x2
 *       over and over; others open and stat every path the target file may
 *       have, read and write it through a descriptor opened before, and
 *       create and unlink files through a descriptor of the moving
 *       directory. Every open/stat must find the right file or fail
 *       ENOENT; descriptor I/O must never fail; decoy files with the same
 *       leaf names elsewhere must never be reached or changed. MASK (default
 *       7) picks the processes besides the renamer: 1 the descriptor user,
 *       2 the directory-descriptor user, 4 two probers.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define die(...) do { fprintf(stderr, "fsload: " __VA_ARGS__);		\
		      if (errno) fprintf(stderr, " (%s)", strerror(errno));	\
		      fprintf(stderr, "\n"); exit(1); } while (0)

static unsigned char pat(uint64_t seed, uint64_t off)
{
	uint64_t x = (off / 8 + 1) * 0x9e3779b97f4a7c15ull ^ (seed * 0xff51afd7ed558ccdull);

	x ^= x >> 29;
	return (unsigned char)(x >> (8 * (off % 8)));
}

static void fill(unsigned char *p, size_t len, uint64_t seed, uint64_t off)
{
	for (size_t i = 0; i < len; i++)
		p[i] = pat(seed, off + i);
}

static uint64_t rs;	/* xorshift64* state */

static uint64_t rnd(void)
{
	rs ^= rs >> 12;
	rs ^= rs << 25;
	rs ^= rs >> 27;
	return rs * 0x2545f4914f6cdd1dull;
}

static void seed_rnd(uint64_t s)
{
	rs = s * 0x9e3779b97f4a7c15ull + 1;
	for (int i = 0; i < 8; i++)
		rnd();
}

static void *xalloc(size_t n)
{
	void *p;

	if (posix_memalign(&p, 4096, n ? n : 1))
		die("out of memory");
	return p;
}

static void pwrite_all(int fd, const void *buf, size_t n, off_t off, const char *what)
{
	ssize_t w = pwrite(fd, buf, n, off);

	if (w != (ssize_t)n)
		die("pwrite %s at %lld len %zu: %zd", what, (long long)off, n, w);
}

/* -------- randwrite, cmp -------- */

static int cmd_randwrite(const char *file, const char *ref, size_t size, uint64_t seed,
			 long ops, size_t maxlen, int dense)
{
	int fd = open(file, O_RDWR | O_CREAT | O_TRUNC, 0644);
	int dfd = open(file, O_RDWR | O_DIRECT);
	int rfd = open(ref, O_RDWR | O_CREAT | O_TRUNC, 0644);
	unsigned char *buf = xalloc(maxlen + 4096 > (1 << 20) ? maxlen + 4096 : 1 << 20);
	long nbuf = 0, ndirect = 0, nmap = 0;
	size_t bytes = 0;

	if (fd < 0 || dfd < 0 || rfd < 0)
		die("open %s / %s", file, ref);
	seed_rnd(seed);
	if (dense) {
		for (size_t off = 0; off < size; off += 1 << 20) {
			size_t n = size - off < (1 << 20) ? size - off : 1 << 20;

			fill(buf, n, seed, off);
			pwrite_all(fd, buf, n, off, file);
			pwrite_all(rfd, buf, n, off, ref);
		}
	} else if (ftruncate(fd, size) || ftruncate(rfd, size)) {
		die("ftruncate");
	}
	for (long i = 0; i < ops; i++) {
		size_t len = 1 + rnd() % maxlen;
		size_t off = rnd() % size;
		unsigned kind = rnd() % 10;

		if (off + len > size)
			len = size - off;
		for (size_t k = 0; k < len; k++)
			buf[k + 3] = (unsigned char)rnd();
		if (kind < 6) {			/* buffered */
			pwrite_all(fd, buf + 3, len, off, file);
			nbuf++;
		} else if (kind < 8) {		/* O_DIRECT, unaligned on purpose */
			pwrite_all(dfd, buf + 3, len, off, file);
			ndirect++;
		} else {			/* shared mapping */
			size_t start = off & ~4095ul, mlen = off + len - start;
			unsigned char *m = mmap(NULL, mlen, PROT_READ | PROT_WRITE, MAP_SHARED,
						fd, start);

			if (m == MAP_FAILED)
				die("mmap %s at %zu len %zu", file, start, mlen);
			memcpy(m + (off - start), buf + 3, len);
			if ((i & 1) && msync(m, mlen, MS_SYNC))
				die("msync");
			if (munmap(m, mlen))
				die("munmap");
			nmap++;
		}
		pwrite_all(rfd, buf + 3, len, off, ref);
		bytes += len;
	}
	if (fsync(fd) || close(fd) || close(dfd) || close(rfd))
		die("fsync/close %s", file);
	printf("%s %s: %zu bytes, %ld random writes (%ld buffered, %ld O_DIRECT, %ld mmap), "
	       "%zu bytes written at random\n", dense ? "dense" : "sparse", file, size, ops, nbuf,
	       ndirect, nmap, bytes);
	free(buf);
	return 0;
}

static int cmd_cmp(const char *file, const char *ref, int direct)
{
	size_t chunk = 1 << 20;
	unsigned char *a = xalloc(chunk), *b = xalloc(chunk);
	int fd = open(file, O_RDONLY | (direct ? O_DIRECT : 0)), rfd = open(ref, O_RDONLY);
	struct stat sa, sb;
	off_t off = 0;

	if (fd < 0 || rfd < 0)
		die("open %s / %s", file, ref);
	if (fstat(fd, &sa) || fstat(rfd, &sb))
		die("fstat");
	if (sa.st_size != sb.st_size) {
		errno = 0;
		die("%s: size %lld, reference %lld", file, (long long)sa.st_size,
		    (long long)sb.st_size);
	}
	for (;;) {
		ssize_t na = pread(fd, a, chunk, off), nb = pread(rfd, b, chunk, off);

		if (na < 0)
			die("pread %s at %lld", file, (long long)off);
		if (na != nb) {
			errno = 0;
			die("%s: read %zd at %lld, reference %zd", file, na, (long long)off, nb);
		}
		if (!na)
			break;
		if (memcmp(a, b, na)) {
			ssize_t i = 0;

			while (a[i] == b[i])
				i++;
			errno = 0;
			die("%s differs from the reference at byte %lld (0x%02x, want 0x%02x)", file,
			    (long long)off + i, a[i], b[i]);
		}
		off += na;
	}
	printf("%s: %lld bytes the same as the reference%s\n", file, (long long)off,
	       direct ? " (read with O_DIRECT)" : "");
	return 0;
}

/* -------- concurrent writers -------- */

/* Writer i's share of the shared file: unaligned boundaries. */
static void share(int i, int n, size_t size, size_t *lo, size_t *hi)
{
	*lo = i ? (size / n) * i + 777 * i : 0;
	*hi = i == n - 1 ? size : (size / n) * (i + 1) + 777 * (i + 1);
}

/* Write [lo, hi) of fd with pattern seed, in random chunks in random order. */
static void write_shuffled(int fd, size_t lo, size_t hi, uint64_t seed, const char *what)
{
	size_t nchunks = 0, cap = 64, *cuts = malloc(cap * sizeof(*cuts));
	unsigned char *buf = xalloc(70000);

	for (size_t off = lo; off < hi;) {
		size_t len = 1 + rnd() % 65536;

		if (off + len > hi)
			len = hi - off;
		if (nchunks + 2 > cap)
			cuts = realloc(cuts, (cap *= 2) * sizeof(*cuts));
		cuts[nchunks++] = off;
		off += len;
	}
	cuts[nchunks] = hi;
	/* Shuffle an index of chunks. */
	size_t *idx = malloc(nchunks * sizeof(*idx));

	for (size_t k = 0; k < nchunks; k++)
		idx[k] = k;
	for (size_t k = nchunks; k > 1; k--) {
		size_t j = rnd() % k, t = idx[k - 1];

		idx[k - 1] = idx[j];
		idx[j] = t;
	}
	for (size_t k = 0; k < nchunks; k++) {
		size_t off = cuts[idx[k]], len = cuts[idx[k] + 1] - off;

		fill(buf, len, seed, off);
		pwrite_all(fd, buf, len, off, what);
	}
	free(idx);
	free(cuts);
	free(buf);
}

static int wait_all(int n, const char *what)
{
	int bad = 0, st;

	for (int i = 0; i < n; i++) {
		if (wait(&st) < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
			bad++;
	}
	if (bad) {
		errno = 0;
		die("%d of %d %s failed", bad, n, what);
	}
	return 0;
}

static int cmd_writers(const char *dir, int n, size_t size, uint64_t seed)
{
	char path[4096];
	int sfd;

	snprintf(path, sizeof(path), "%s/shared", dir);
	sfd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (sfd < 0)
		die("create %s", path);
	close(sfd);
	for (int i = 0; i < n; i++) {
		if (fork() == 0) {
			size_t lo, hi;
			int fd;

			seed_rnd(seed * 100 + i);
			snprintf(path, sizeof(path), "%s/w%d", dir, i);
			fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
			if (fd < 0)
				die("create %s", path);
			snprintf(path, sizeof(path), "%s/shared", dir);
			sfd = open(path, O_RDWR);
			if (sfd < 0)
				die("open %s", path);
			share(i, n, size, &lo, &hi);
			/* Alternate between the two files, a half at a time. */
			write_shuffled(sfd, lo, lo + (hi - lo) / 2, seed, "shared");
			write_shuffled(fd, 0, size / 2, seed + 1 + i, "own file");
			write_shuffled(sfd, lo + (hi - lo) / 2, hi, seed, "shared");
			write_shuffled(fd, size / 2, size, seed + 1 + i, "own file");
			if (fsync(fd) || close(fd) || close(sfd))
				die("writer %d: fsync/close", i);
			_exit(0);
		}
	}
	wait_all(n, "writers");
	printf("%d writers: own files and disjoint shares of %s/shared, %zu bytes each file\n",
	       n, dir, size);
	return 0;
}

static int verify_pattern(const char *f, size_t size, uint64_t seed)
{
	size_t chunk = 1 << 20;
	unsigned char *buf = xalloc(chunk), *want = xalloc(chunk);
	int fd = open(f, O_RDONLY);
	struct stat st;

	if (fd < 0 || fstat(fd, &st))
		die("open %s", f);
	if ((size_t)st.st_size != size) {
		errno = 0;
		die("%s: size %lld, want %zu", f, (long long)st.st_size, size);
	}
	for (size_t off = 0; off < size; off += chunk) {
		size_t n = size - off < chunk ? size - off : chunk;
		ssize_t r = pread(fd, buf, n, off);

		if (r != (ssize_t)n)
			die("pread %s at %zu: %zd", f, off, r);
		fill(want, n, seed, off);
		if (memcmp(buf, want, n)) {
			size_t i = 0;

			while (buf[i] == want[i])
				i++;
			errno = 0;
			die("%s: wrong data at byte %zu", f, off + i);
		}
	}
	close(fd);
	free(buf);
	free(want);
	return 0;
}

static int cmd_writers_verify(const char *dir, int n, size_t size, uint64_t seed)
{
	char path[4096];

	for (int i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/w%d", dir, i);
		verify_pattern(path, size, seed + 1 + i);
	}
	snprintf(path, sizeof(path), "%s/shared", dir);
	verify_pattern(path, size, seed);
	printf("%s: %d writers' files and the shared file verified\n", dir, n);
	return 0;
}

static int cmd_mmap_writers(const char *f, int n, size_t size, uint64_t seed)
{
	const size_t stripe = 1000;
	int fd = open(f, O_RDWR | O_CREAT | O_TRUNC, 0644);

	if (fd < 0 || ftruncate(fd, size))
		die("create %s", f);
	close(fd);
	for (int i = 0; i < n; i++) {
		if (fork() == 0) {
			unsigned char *m;

			fd = open(f, O_RDWR);
			if (fd < 0)
				die("open %s", f);
			m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
			if (m == MAP_FAILED)
				die("mmap");
			close(fd);
			for (size_t off = i * stripe; off < size; off += n * stripe) {
				size_t len = size - off < stripe ? size - off : stripe;

				fill(m + off, len, seed, off);
				if ((off / stripe) % 97 == 0 && msync(m, size, MS_ASYNC))
					die("msync");
			}
			if (msync(m, size, MS_SYNC) || munmap(m, size))
				die("msync/munmap");
			_exit(0);
		}
	}
	wait_all(n, "mapping writers");
	printf("%d processes wrote %zu bytes of %s through shared mappings\n", n, size, f);
	return 0;
}

/* -------- renames -------- */

static const char *TARGET = "TARGET-CONTENT";

static int mkfile(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0 || write(fd, s, strlen(s)) != (ssize_t)strlen(s))
		die("create %s", path);
	return close(fd);
}

static volatile sig_atomic_t stop;
static void on_alarm(int sig)
{
	(void)sig;
	stop = 1;
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

/* Child: run fn until SECONDS are over; report counts in its exit. */
static pid_t spawn(void (*fn)(const char *, ino_t), const char *dir, ino_t ino, int secs)
{
	pid_t p = fork();

	if (p == 0) {
		signal(SIGALRM, on_alarm);
		alarm(secs);
		fn(dir, ino);
		_exit(0);
	}
	return p;
}

static void renamer(const char *dir, ino_t ino)
{
	char a[4096], b[4096], x[4096], x2[4096];
	long n = 0;

	(void)ino;
	snprintf(a, sizeof(a), "%s/A", dir);
	snprintf(b, sizeof(b), "%s/B", dir);
	snprintf(x, sizeof(x), "%s/A/x", dir);
	snprintf(x2, sizeof(x2), "%s/A/x2", dir);
	while (!stop) {
		if (rename(a, b))
			die("renamer: rename A -> B after %ld rounds", n);
		if (rename(b, a))
			die("renamer: rename B -> A after %ld rounds", n);
		if (n % 3 == 0) {
			if (rename(x, x2))
				die("renamer: rename A/x -> A/x2 after %ld rounds", n);
			if (rename(x2, x))
				die("renamer: rename A/x2 -> A/x after %ld rounds", n);
		}
		n++;
	}
	printf("renamer: %ld rounds (A <-> B, and A/x <-> A/x2 every third)\n", n);
}

static void prober(const char *dir, ino_t ino)
{
	static const char *paths[] = { "A/x/y/target", "B/x/y/target", "A/x2/y/target",
				       "B/x2/y/target" };
	long found = 0, enoent = 0, n = 0;
	char path[4096], buf[64];

	while (!stop) {
		const char *rel = paths[n++ % 4];
		struct stat st;
		int fd;

		snprintf(path, sizeof(path), "%s/%s", dir, rel);
		if (n & 1) {
			fd = open(path, O_RDONLY);
			if (fd < 0) {
				if (errno != ENOENT)
					die("open %s", rel);
				enoent++;
				continue;
			}
			memset(buf, 0, sizeof(buf));
			if (pread(fd, buf, sizeof(buf) - 1, 0) < 0)
				die("read %s", rel);
			if (fstat(fd, &st))
				die("fstat %s", rel);
			close(fd);
			if (strcmp(buf, TARGET) || st.st_ino != ino) {
				errno = 0;
				die("open %s reached another file: '%s', ino %lu", rel, buf,
				    (unsigned long)st.st_ino);
			}
			found++;
		} else {
			if (stat(path, &st)) {
				if (errno != ENOENT)
					die("stat %s", rel);
				enoent++;
				continue;
			}
			if (st.st_ino != ino || !S_ISREG(st.st_mode)) {
				errno = 0;
				die("stat %s reached another file (ino %lu)", rel,
				    (unsigned long)st.st_ino);
			}
			found++;
		}
	}
	printf("prober: %ld opens/stats found the target, %ld ENOENT, none wrong\n", found,
	       enoent);
}

static void fd_user(const char *dir, ino_t ino)
{
	char path[4096], buf[64];
	long n = 0;
	int fd;

	(void)ino;
	snprintf(path, sizeof(path), "%s/A/x/y/target", dir);
	/* Opened while the renamer may run: retry ENOENT. */
	while ((fd = open(path, O_RDWR)) < 0 && errno == ENOENT)
		;
	if (fd < 0)
		die("open target");
	while (!stop) {
		memset(buf, 0, sizeof(buf));
		if (pread(fd, buf, sizeof(buf) - 1, 0) != (ssize_t)strlen(TARGET) ||
		    strcmp(buf, TARGET))
			die("descriptor user: read: '%s' after %ld rounds", buf, n);
		if (pwrite(fd, TARGET, strlen(TARGET), 0) != (ssize_t)strlen(TARGET))
			die("descriptor user: write after %ld rounds", n);
		if (n % 8 == 0 && fsync(fd))
			die("descriptor user: fsync after %ld rounds", n);
		n++;
	}
	close(fd);
	printf("descriptor user: %ld reads and writes, none failed\n", n);
}

static void dirfd_user(const char *dir, ino_t ino)
{
	char path[4096], name[64];
	long n = 0;
	int dfd;

	(void)ino;
	snprintf(path, sizeof(path), "%s/A/x/y", dir);
	while ((dfd = open(path, O_RDONLY | O_DIRECTORY)) < 0 && errno == ENOENT)
		;
	if (dfd < 0)
		die("open A/x/y");
	while (!stop) {
		int fd;

		snprintf(name, sizeof(name), "tmp%ld", n % 4);
		fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL, 0644);
		if (fd < 0)
			die("directory descriptor user: openat(O_CREAT) %s after %ld rounds", name, n);
		if (write(fd, "t", 1) != 1)
			die("directory descriptor user: write %s after %ld rounds", name, n);
		if (close(fd))
			die("directory descriptor user: close %s after %ld rounds", name, n);
		if (unlinkat(dfd, name, 0))
			die("directory descriptor user: unlinkat %s after %ld rounds", name, n);
		n++;
	}
	close(dfd);
	printf("directory descriptor user: %ld creates and unlinks, none failed\n", n);
}

static void expect_file(const char *dir, const char *rel, const char *content)
{
	char path[4096], buf[64] = "";
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	fd = open(path, O_RDONLY);
	if (fd < 0 || read(fd, buf, sizeof(buf) - 1) < 0)
		die("open %s", rel);
	close(fd);
	if (strcmp(buf, content)) {
		errno = 0;
		die("%s holds '%s', want '%s'", rel, buf, content);
	}
}

/* Every regular file below DIR (relative path + content) as one string. */
static void list_tree(const char *dir, const char *rel, char *out, size_t sz)
{
	char path[4096];
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	d = opendir(path);
	if (!d)
		die("opendir %s", path);
	while ((de = readdir(d))) {
		char sub[4096];

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", rel, de->d_name);
		if (de->d_type == DT_UNKNOWN) {
			struct stat st;
			char full[8192];

			snprintf(full, sizeof(full), "%s/%s", dir, sub);
			if (lstat(full, &st))
				die("lstat %s", full);
			de->d_type = S_ISDIR(st.st_mode) ? DT_DIR : DT_REG;
		}
		if (de->d_type == DT_DIR)
			list_tree(dir, sub, out, sz);
		else {
			strncat(out, sub, sz - strlen(out) - 1);
			strncat(out, " ", sz - strlen(out) - 1);
		}
	}
	closedir(d);
}

static int cmd_renames(const char *dir, int secs, int mask)
{
	static const char *decoys[][2] = {
		{ "A/y/target", "DECOY-A-y" }, { "A/target", "DECOY-A" },
		{ "target", "DECOY-top" }, { "x/y/target", "DECOY-x-y" },
		{ "y/target", "DECOY-y" }, { "A/x/target", "DECOY-A-x" },
		{ "C/x/y/target", "DECOY-C" },
	};
	static const char *dirs[] = { "A", "A/x", "A/x/y", "A/y", "x", "x/y", "y", "C", "C/x",
				      "C/x/y" };
	char path[4096], tree[8192] = "";
	struct stat st;
	pid_t pids[5];
	size_t i;
	double t0;
	int bad = 0, status;

	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, dirs[i]);
		if (mkdir(path, 0755))
			die("mkdir %s", path);
	}
	for (i = 0; i < sizeof(decoys) / sizeof(decoys[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, decoys[i][0]);
		mkfile(path, decoys[i][1]);
	}
	snprintf(path, sizeof(path), "%s/A/x/y/target", dir);
	mkfile(path, TARGET);
	if (stat(path, &st))
		die("stat target");
	setvbuf(stdout, NULL, _IOLBF, 0);
	t0 = now();
	int np = 0;

	if (mask & 1)
		pids[np++] = spawn(fd_user, dir, st.st_ino, secs);
	if (mask & 2)
		pids[np++] = spawn(dirfd_user, dir, st.st_ino, secs);
	usleep(200000);
	pids[np++] = spawn(renamer, dir, st.st_ino, secs);
	if (mask & 4) {
		pids[np++] = spawn(prober, dir, st.st_ino, secs);
		pids[np++] = spawn(prober, dir, st.st_ino, secs);
	}
	for (i = 0; i < (size_t)np; i++)
		if (waitpid(pids[i], &status, 0) < 0 || !WIFEXITED(status) ||
		    WEXITSTATUS(status))
			bad++;
	if (bad) {
		errno = 0;
		die("%d of %d processes failed", bad, np);
	}
	/* Everything is where it was, decoys untouched, nothing stray. */
	expect_file(dir, "A/x/y/target", TARGET);
	for (i = 0; i < sizeof(decoys) / sizeof(decoys[0]); i++)
		expect_file(dir, decoys[i][0], decoys[i][1]);
	list_tree(dir, ".", tree, sizeof(tree));
	{
		int nfiles = 0;

		for (char *p = tree; *p; p++)
			nfiles += *p == ' ';
		if (nfiles != 8) {
			errno = 0;
			die("files after the renames: %s(want the target and 7 decoys)", tree);
		}
	}
	printf("renames for %.1f s: no torn path, decoys untouched, nothing stray\n",
	       now() - t0);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 9 && !strcmp(argv[1], "randwrite"))
		return cmd_randwrite(argv[2], argv[3], strtoull(argv[4], NULL, 0),
				     strtoull(argv[5], NULL, 0), strtol(argv[6], NULL, 0),
				     strtoull(argv[7], NULL, 0), !strcmp(argv[8], "dense"));
	if ((argc == 4 || argc == 5) && !strcmp(argv[1], "cmp"))
		return cmd_cmp(argv[2], argv[3], argc == 5 && !strcmp(argv[4], "direct"));
	if (argc == 6 && !strcmp(argv[1], "writers"))
		return cmd_writers(argv[2], atoi(argv[3]), strtoull(argv[4], NULL, 0),
				   strtoull(argv[5], NULL, 0));
	if (argc == 6 && !strcmp(argv[1], "writers-verify"))
		return cmd_writers_verify(argv[2], atoi(argv[3]), strtoull(argv[4], NULL, 0),
					  strtoull(argv[5], NULL, 0));
	if (argc == 6 && !strcmp(argv[1], "mmap-writers"))
		return cmd_mmap_writers(argv[2], atoi(argv[3]), strtoull(argv[4], NULL, 0),
					strtoull(argv[5], NULL, 0));
	if (argc == 5 && !strcmp(argv[1], "pattern-verify")) {
		verify_pattern(argv[2], strtoull(argv[3], NULL, 0), strtoull(argv[4], NULL, 0));
		printf("%s: %s bytes verified\n", argv[2], argv[3]);
		return 0;
	}
	if ((argc == 4 || argc == 5) && !strcmp(argv[1], "renames"))
		return cmd_renames(argv[2], atoi(argv[3]), argc == 5 ? atoi(argv[4]) : 7);
	fprintf(stderr, "usage: see the comment at the top of fsload.c\n");
	return 2;
}
