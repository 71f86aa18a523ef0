// SPDX-License-Identifier: GPL-2.0
/*
 * posixcmp: run one scripted sequence of filesystem operations in two
 * directories, one on disaggfs and one on a local tmpfs, and compare every
 * result: return values, errno values, the stat fields that must match
 * (type, mode, size, nlink, uid, gid; times only where the operation sets
 * them), sorted directory listings, file contents, xattr names and values,
 * readlink output. Where Documentation/fs.md documents that disaggfs
 * answers differently, the documented answer is expected (a "doc" check),
 * never skipped. Prints one TAP line per check ("ok N - ..." or
 * "not ok N - ... # why") and exits 1 if any check failed.
 *
 *   posixcmp [-n NFILES] [-e EXPORT] run DGDIR TMPDIR
 *                                           the whole sequence (both dirs empty);
 *                                           -e: the node's export directory
 *                                           (DGDIR's backing directory), where
 *                                           most of the NFILES entries of the
 *                                           large directory are made directly
 *   posixcmp verify DGDIR TMPDIR            compare the two trees only (e.g.
 *                                           after a remount of DGDIR)
 *
 * Must run as root (chown, trusted.* xattrs, drop_caches, seteuid).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/types.h>
#include <sys/xattr.h>
#include <unistd.h>

#define DISAGGFS_MAGIC 0x44474653
#define ANY LONG_MIN		/* any value, as long as both sides agree */
#define NOFD -1

static const char *root[2];	/* 0: disaggfs, 1: tmpfs */
static const char *export_dir;	/* -e: the node's export directory, seen directly */
static const char *side[2] = { "disaggfs", "tmpfs" };
static int cur;			/* the side an expression runs on */
static int fds[2][16];
static int nchk, nfail;

/* -------- reporting -------- */

static void okline(int ok, const char *desc, const char *fmt, ...)
{
	va_list ap;

	nchk++;
	if (ok) {
		printf("ok %d - %s\n", nchk, desc);
	} else {
		nfail++;
		printf("not ok %d - %s # ", nchk, desc);
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
		printf("\n");
	}
	fflush(stdout);
}

static const char *en(long e)
{
	static char buf[4][32];
	static int i;
	const char *n;

	if (!e)
		return "0";
	if (e == ANY)
		return "any";
	n = strerrorname_np((int)e);
	if (n)
		return n;
	snprintf(buf[i & 3], sizeof(buf[0]), "errno %ld", e);
	return buf[i++ & 3];
}

/* -------- paths and results -------- */

/* P("a/b"): the path of a/b under the current side's directory. */
static char *P(const char *rel)
{
	static char buf[16][2 * PATH_MAX];
	static int i;
	char *b = buf[i++ & 15];

	snprintf(b, sizeof(buf[0]), "%s/%s", root[cur], rel);
	return b;
}
#define FD(n) fds[cur][n]

struct res {
	long ret;
	long err;
};

/* Open-like calls: any descriptor counts as 0. errno is left alone. */
static long NORM(long v)
{
	return v >= 0 ? 0 : v;
}

static void fmtres(char *b, size_t sz, struct res r)
{
	if (r.ret < 0)
		snprintf(b, sz, "%ld/%s", r.ret, en(r.err));
	else
		snprintf(b, sz, "%ld", r.ret);
}

static int matches(struct res r, long ret, long err)
{
	return (ret == ANY || r.ret == ret) && (err == ANY || r.err == err);
}

/*
 * Both sides must agree, and if want_ret/want_err are not ANY, both must
 * give exactly that.
 */
static void judge(const char *desc, struct res *r, long want_ret, long want_err)
{
	char a[64], b[64];

	fmtres(a, sizeof(a), r[0]);
	fmtres(b, sizeof(b), r[1]);
	if (r[0].ret != r[1].ret || r[0].err != r[1].err)
		okline(0, desc, "disaggfs %s, tmpfs %s", a, b);
	else if (!matches(r[0], want_ret, want_err))
		okline(0, desc, "both %s, want %ld/%s", a, want_ret, en(want_err));
	else
		okline(1, desc, "");
}

#define RUN(r, expr) do {						\
	for (cur = 0; cur < 2; cur++) {					\
		long v_;						\
		errno = 0;						\
		v_ = (long)(expr);					\
		r[cur].ret = v_;					\
		r[cur].err = v_ < 0 ? errno : 0;			\
	}								\
	cur = 0;							\
} while (0)

#define CHECK(desc, wret, werr, expr) do {				\
	struct res r_[2];						\
	RUN(r_, expr);							\
	judge(desc, r_, wret, werr);					\
} while (0)
#define OK(desc, expr)		CHECK(desc, 0, 0, expr)
#define ERR(desc, e, expr)	CHECK(desc, -1, e, expr)
#define SAME(desc, expr)	CHECK(desc, ANY, ANY, expr)
#define RET(desc, v, expr)	CHECK(desc, v, 0, expr)
#define OPEN(desc, n, expr)	CHECK(desc, 0, 0, NORM(FD(n) = (expr)))
/* Both sides, no check (set-up). */
#define DO(expr) do { for (cur = 0; cur < 2; cur++) (void)(expr); cur = 0; } while (0)
/* One side only (0 disaggfs, 1 tmpfs), no check. */
#define ON(s, expr) do { cur = (s); (void)(expr); cur = 0; } while (0)

/*
 * A documented difference: disaggfs must give (dret, derr) as
 * Documentation/fs.md says; tmpfs must give (tret, terr) (ANY: anything).
 */
#define DOC(desc, doc, dret, derr, tret, terr, expr) do {		\
	struct res r_[2];						\
	char a_[64], b_[64], d_[256];					\
	RUN(r_, expr);							\
	fmtres(a_, sizeof(a_), r_[0]);					\
	fmtres(b_, sizeof(b_), r_[1]);					\
	snprintf(d_, sizeof(d_), "%s (doc: %s)", desc, doc);		\
	if (!matches(r_[0], dret, derr))				\
		okline(0, d_, "disaggfs %s, documented %ld/%s", a_,	\
		       (long)(dret), en(derr));				\
	else if (!matches(r_[1], tret, terr))				\
		okline(0, d_, "tmpfs %s, expected %ld/%s", b_,		\
		       (long)(tret), en(terr));				\
	else								\
		okline(1, d_, "");					\
} while (0)

/* -------- comparisons of state -------- */

static int cmpstat(const struct stat *a, const struct stat *b, char *why, size_t sz)
{
	if ((a->st_mode & S_IFMT) != (b->st_mode & S_IFMT))
		snprintf(why, sz, "type %o vs %o", a->st_mode & S_IFMT, b->st_mode & S_IFMT);
	else if (a->st_mode != b->st_mode)
		snprintf(why, sz, "mode %o vs %o", a->st_mode, b->st_mode);
	else if (!S_ISLNK(a->st_mode) && a->st_size != b->st_size)
		snprintf(why, sz, "size %lld vs %lld", (long long)a->st_size, (long long)b->st_size);
	else if (S_ISLNK(a->st_mode) && a->st_size != b->st_size)
		snprintf(why, sz, "symlink size %lld vs %lld", (long long)a->st_size,
			 (long long)b->st_size);
	else if (a->st_nlink != b->st_nlink)
		snprintf(why, sz, "nlink %lu vs %lu", (unsigned long)a->st_nlink,
			 (unsigned long)b->st_nlink);
	else if (a->st_uid != b->st_uid || a->st_gid != b->st_gid)
		snprintf(why, sz, "owner %u:%u vs %u:%u", a->st_uid, a->st_gid, b->st_uid, b->st_gid);
	else
		return 0;
	return 1;
}

/* Compare lstat/stat/fstat of REL (or of descriptor slot FDN) on both sides. */
static void samestat(const char *desc, const char *rel, int nofollow, int fdn)
{
	struct stat st[2];
	struct res r[2];
	char why[128];

	memset(st, 0, sizeof(st));
	RUN(r, fdn >= 0 ? fstat(FD(fdn), &st[cur]) :
	       nofollow ? lstat(P(rel), &st[cur]) : stat(P(rel), &st[cur]));
	if (r[0].ret || r[1].ret) {
		judge(desc, r, ANY, ANY);
		return;
	}
	if (cmpstat(&st[0], &st[1], why, sizeof(why)))
		okline(0, desc, "%s", why);
	else
		okline(1, desc, "");
}
#define STAT(desc, rel)		samestat(desc, rel, 0, NOFD)
#define LSTAT(desc, rel)	samestat(desc, rel, 1, NOFD)
#define FSTAT(desc, n)		samestat(desc, NULL, 0, n)

static struct stat stat_of(int s, const char *rel, int nofollow)
{
	struct stat st;
	int saved = cur;

	memset(&st, 0, sizeof(st));
	cur = s;
	if (nofollow ? lstat(P(rel), &st) : stat(P(rel), &st))
		st.st_mode = 0;
	cur = saved;
	return st;
}

/* Read a whole file (NULL path: from descriptor fd at offset 0). */
static long slurp(const char *path, int fd, char **out)
{
	size_t cap = 1 << 16, len = 0;
	char *buf = malloc(cap);
	int own = 0;
	ssize_t n;

	*out = buf;
	if (!buf)
		return -1;
	if (path) {
		fd = open(path, O_RDONLY);
		if (fd < 0)
			return -1;
		own = 1;
	}
	for (;;) {
		if (len == cap) {
			cap *= 2;
			buf = realloc(buf, cap);
			*out = buf;
			if (!buf)
				return -1;
		}
		n = pread(fd, buf + len, cap - len, len);
		if (n < 0) {
			int e = errno;

			if (own)
				close(fd);
			errno = e;
			return -1;
		}
		if (!n)
			break;
		len += n;
	}
	if (own)
		close(fd);
	return len;
}

static void cmpbytes(const char *desc, long n0, long n1, const char *b0, const char *b1)
{
	long i;

	if (n0 != n1) {
		okline(0, desc, "length %ld vs %ld", n0, n1);
		return;
	}
	for (i = 0; i < n0; i++)
		if (b0[i] != b1[i])
			break;
	if (i < n0)
		okline(0, desc, "contents differ from offset %ld (0x%02x vs 0x%02x)", i,
		       (unsigned char)b0[i], (unsigned char)b1[i]);
	else
		okline(1, desc, "");
}

/* Contents of REL (fdn < 0) or of descriptor slot fdn are the same. */
static void samedata(const char *desc, const char *rel, int fdn)
{
	char *b[2];
	struct res r[2];

	RUN(r, slurp(fdn >= 0 ? NULL : P(rel), fdn >= 0 ? FD(fdn) : -1, &b[cur]));
	if (r[0].ret < 0 || r[1].ret < 0)
		judge(desc, r, ANY, ANY);
	else
		cmpbytes(desc, r[0].ret, r[1].ret, b[0], b[1]);
	free(b[0]);
	free(b[1]);
}
#define DATA(desc, rel)		samedata(desc, rel, NOFD)
#define FDATA(desc, n)		samedata(desc, NULL, n)

static int strcmpp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Sorted listing of a directory, entries "name/dtype" ("." and ".."
 * left out); hidden silly-rename names counted apart when skip_silly.
 */
static long listdir(const char *path, char ***out, int skip_silly, long *silly)
{
	size_t cap = 64, n = 0;
	char **v = malloc(cap * sizeof(*v));
	struct dirent *de;
	DIR *d = opendir(path);

	*out = v;
	if (silly)
		*silly = 0;
	if (!d)
		return -1;
	while ((errno = 0, de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (skip_silly && !strncmp(de->d_name, ".disaggfs-", 10)) {
			if (silly)
				(*silly)++;
			continue;
		}
		if (n == cap) {
			cap *= 2;
			v = realloc(v, cap * sizeof(*v));
			*out = v;
		}
		if (asprintf(&v[n++], "%s/%d", de->d_name, de->d_type) < 0)
			abort();
	}
	if (errno) {
		int e = errno;

		closedir(d);
		errno = e;
		return -1;
	}
	closedir(d);
	qsort(v, n, sizeof(*v), strcmpp);
	return n;
}

static void freelist(char **v, long n)
{
	for (long i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* Compare two sorted listings; 0 if equal, else why. */
static int cmplists(char **a, long na, char **b, long nb, char *why, size_t sz)
{
	long i, j;

	for (i = j = 0; i < na || j < nb;) {
		int c = i == na ? 1 : j == nb ? -1 : strcmp(a[i], b[j]);

		if (!c) {
			i++, j++;
			continue;
		}
		snprintf(why, sz, "'%s' only on %s (%ld vs %ld entries)", c < 0 ? a[i] : b[j],
			 c < 0 ? "disaggfs" : "tmpfs", na, nb);
		return 1;
	}
	return 0;
}

static void samelist(const char *desc, const char *rel)
{
	char **v[2], why[PATH_MAX + 128];
	struct res r[2];

	RUN(r, listdir(P(rel), &v[cur], 0, NULL));
	if (r[0].ret < 0 || r[1].ret < 0)
		judge(desc, r, ANY, ANY);
	else if (cmplists(v[0], r[0].ret, v[1], r[1].ret, why, sizeof(why)))
		okline(0, desc, "%s", why);
	else
		okline(1, desc, "");
	freelist(v[0], r[0].ret < 0 ? 0 : r[0].ret);
	freelist(v[1], r[1].ret < 0 ? 0 : r[1].ret);
}
#define LIST(desc, rel) samelist(desc, rel)

/* Sorted xattr names of PATH (no follow) as a vector; -1 on error. */
static long listx(const char *path, char ***out)
{
	char buf[65536];
	ssize_t len = llistxattr(path, buf, sizeof(buf));
	char **v;
	long n = 0;

	*out = NULL;
	if (len < 0)
		return -1;
	v = malloc((len + 1) * sizeof(*v));
	for (ssize_t i = 0; i < len; i += strlen(buf + i) + 1)
		v[n++] = strdup(buf + i);
	qsort(v, n, sizeof(*v), strcmpp);
	*out = v;
	return n;
}

/* xattr names and values of REL are the same on both sides; 0 if so. */
static int cmpxattrs(const char *rel, char *why, size_t sz)
{
	char **v[2];
	struct res r[2];
	int bad = 0;

	RUN(r, listx(P(rel), &v[cur]));
	if (r[0].ret < 0 || r[1].ret < 0) {
		if (r[0].ret != r[1].ret || r[0].err != r[1].err) {
			snprintf(why, sz, "listxattr %ld/%s vs %ld/%s", r[0].ret, en(r[0].err),
				 r[1].ret, en(r[1].err));
			bad = 1;
		}
		goto out;
	}
	if (cmplists(v[0], r[0].ret, v[1], r[1].ret, why, sz)) {
		bad = 1;
		goto out;
	}
	for (long i = 0; i < r[0].ret && !bad; i++) {
		static char val[2][65536];
		struct res g[2];

		RUN(g, lgetxattr(P(rel), v[0][i], val[cur], sizeof(val[0])));
		if (g[0].ret != g[1].ret || g[0].err != g[1].err ||
		    (g[0].ret > 0 && memcmp(val[0], val[1], g[0].ret))) {
			snprintf(why, sz, "value of %s differs (%ld vs %ld bytes)", v[0][i],
				 g[0].ret, g[1].ret);
			bad = 1;
		}
	}
out:
	if (r[0].ret > 0)
		freelist(v[0], r[0].ret);
	else
		free(v[0]);
	if (r[1].ret > 0)
		freelist(v[1], r[1].ret);
	else
		free(v[1]);
	return bad;
}

static void samexattrs(const char *desc, const char *rel)
{
	char why[512];

	if (cmpxattrs(rel, why, sizeof(why)))
		okline(0, desc, "%s", why);
	else
		okline(1, desc, "");
}
#define XATTRS(desc, rel) samexattrs(desc, rel)

static void samelink(const char *desc, const char *rel)
{
	char buf[2][PATH_MAX + 1];
	struct res r[2];

	RUN(r, readlink(P(rel), buf[cur], PATH_MAX));
	if (r[0].ret < 0 || r[1].ret < 0 || r[0].ret != r[1].ret)
		judge(desc, r, ANY, ANY);
	else if (memcmp(buf[0], buf[1], r[0].ret))
		okline(0, desc, "'%.*s' vs '%.*s'", (int)r[0].ret, buf[0], (int)r[1].ret, buf[1]);
	else
		okline(1, desc, "");
}
#define READLINK(desc, rel) samelink(desc, rel)

/*
 * Walk both trees below REL and compare everything comparable; one check
 * for the whole tree, the first few differences as comments.
 */
static long tree_bad, tree_n;

static void tree_diff(const char *fmt, ...)
{
	va_list ap;

	if (tree_bad++ < 10) {
		printf("#   ");
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
		printf("\n");
	}
}

static void walk(const char *rel)
{
	struct stat a = stat_of(0, rel, 1), b = stat_of(1, rel, 1);
	char why[PATH_MAX + 128];

	tree_n++;
	if (!a.st_mode || !b.st_mode) {
		tree_diff("%s: lstat %s on disaggfs, %s on tmpfs", rel, a.st_mode ? "ok" : "fails",
			  b.st_mode ? "ok" : "fails");
		return;
	}
	if (cmpstat(&a, &b, why, sizeof(why))) {
		tree_diff("%s: %s", rel, why);
		return;
	}
	if (cmpxattrs(rel, why, sizeof(why)))
		tree_diff("%s: xattrs: %s", rel, why);
	if (S_ISREG(a.st_mode)) {
		char *buf[2];
		long n[2];

		for (cur = 0; cur < 2; cur++)
			n[cur] = slurp(P(rel), -1, &buf[cur]);
		cur = 0;
		if (n[0] < 0 || n[1] < 0 || n[0] != n[1] || memcmp(buf[0], buf[1], n[0]))
			tree_diff("%s: contents differ (%ld vs %ld bytes)", rel, n[0], n[1]);
		free(buf[0]);
		free(buf[1]);
	} else if (S_ISLNK(a.st_mode)) {
		char l[2][PATH_MAX + 1];
		ssize_t n[2];

		for (cur = 0; cur < 2; cur++)
			n[cur] = readlink(P(rel), l[cur], PATH_MAX);
		cur = 0;
		if (n[0] != n[1] || n[0] < 0 || memcmp(l[0], l[1], n[0]))
			tree_diff("%s: symlink targets differ", rel);
	} else if (S_ISDIR(a.st_mode)) {
		char **v[2];
		long n[2];

		for (cur = 0; cur < 2; cur++)
			n[cur] = listdir(P(rel), &v[cur], 0, NULL);
		cur = 0;
		if (n[0] < 0 || n[1] < 0) {
			tree_diff("%s: readdir failed", rel);
		} else if (cmplists(v[0], n[0], v[1], n[1], why, sizeof(why))) {
			tree_diff("%s: %s", rel, why);
		} else {
			for (long i = 0; i < n[0]; i++) {
				char sub[PATH_MAX];

				*strrchr(v[0][i], '/') = 0;	/* drop the d_type */
				snprintf(sub, sizeof(sub), "%s/%s", rel, v[0][i]);
				walk(sub);
			}
		}
		freelist(v[0], n[0] < 0 ? 0 : n[0]);
		freelist(v[1], n[1] < 0 ? 0 : n[1]);
	}
}

static void sametree(const char *desc)
{
	tree_bad = tree_n = 0;
	walk(".");
	if (tree_bad)
		okline(0, desc, "%ld difference(s) in %ld entries", tree_bad, tree_n);
	else
		okline(1, desc, "");
	printf("#   compared %ld entries\n", tree_n);
}

/* -------- helpers for the sequence -------- */

static double t_start;

static double now(void);

/* A section header with the time since the start. */
static void section(const char *what)
{
	printf("# %s (at %.1f s)\n", what, now() - t_start);
}

static char pat(uint64_t seed, uint64_t off)
{
	uint64_t x = (off / 8 + 1) * 0x9e3779b97f4a7c15ull ^ (seed * 0xff51afd7ed558ccdull);

	x ^= x >> 29;
	return (char)(x >> (8 * (off % 8)));
}

static char *pattern(size_t len, uint64_t seed)
{
	char *p;

	if (posix_memalign((void **)&p, 4096, len ? len : 1))
		abort();
	for (size_t i = 0; i < len; i++)
		p[i] = pat(seed, i);
	return p;
}

static void drop_caches(void)
{
	int fd;

	if (getenv("POSIXCMP_NO_DROP_CACHES"))
		return;
	fd = open("/proc/sys/vm/drop_caches", O_WRONLY);
	sync();
	if (fd < 0 || write(fd, "3", 1) != 1)
		printf("# cannot drop caches: %s\n", strerror(errno));
	if (fd >= 0)
		close(fd);
}

static void closeall(void)
{
	for (int s = 0; s < 2; s++)
		for (int i = 0; i < 16; i++)
			if (fds[s][i] >= 0) {
				close(fds[s][i]);
				fds[s][i] = -1;
			}
}

static int mkfile(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0)
		return -1;
	if (write(fd, data, len) != (ssize_t)len) {
		close(fd);
		return -1;
	}
	return close(fd);
}

static double ts(struct timespec t)
{
	return t.tv_sec + t.tv_nsec / 1e9;
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return ts(t);
}

/* Both sides' times of REL equal the given ones (0: not checked). */
static void times_are(const char *desc, const char *rel, int nofollow,
		      const struct timespec *at, const struct timespec *mt)
{
	for (int s = 0; s < 2; s++) {
		struct stat st = stat_of(s, rel, nofollow);

		if (!st.st_mode) {
			okline(0, desc, "stat failed on %s", side[s]);
			return;
		}
		if (at && (st.st_atim.tv_sec != at->tv_sec || st.st_atim.tv_nsec != at->tv_nsec)) {
			okline(0, desc, "%s: atime %ld.%09ld, want %ld.%09ld", side[s],
			       st.st_atim.tv_sec, st.st_atim.tv_nsec, at->tv_sec, at->tv_nsec);
			return;
		}
		if (mt && (st.st_mtim.tv_sec != mt->tv_sec || st.st_mtim.tv_nsec != mt->tv_nsec)) {
			okline(0, desc, "%s: mtime %ld.%09ld, want %ld.%09ld", side[s],
			       st.st_mtim.tv_sec, st.st_mtim.tv_nsec, mt->tv_sec, mt->tv_nsec);
			return;
		}
	}
	okline(1, desc, "");
}

/* Both sides' atime (which=0) or mtime (1) of REL is within [t0-2, t1+2]. */
static void time_near(const char *desc, const char *rel, int which, double t0, double t1)
{
	for (int s = 0; s < 2; s++) {
		struct stat st = stat_of(s, rel, 0);
		double t = ts(which ? st.st_mtim : st.st_atim);

		if (!st.st_mode || t < t0 - 2 || t > t1 + 2) {
			okline(0, desc, "%s: %s %.3f not within [%.3f, %.3f]", side[s],
			       which ? "mtime" : "atime", t, t0, t1);
			return;
		}
	}
	okline(1, desc, "");
}

/* Every side's value of EXPR (an int condition) is true. */
#define BOTH_TRUE(desc, expr) do {					\
	int ok_[2];							\
	for (cur = 0; cur < 2; cur++)					\
		ok_[cur] = !!(expr);					\
	cur = 0;							\
	okline(ok_[0] && ok_[1], desc, "disaggfs %s, tmpfs %s",	\
	       ok_[0] ? "yes" : "no", ok_[1] ? "yes" : "no");		\
} while (0)

/* -------- the sequence -------- */

static void t_create_open(void)
{
	char longname[300];

	section("create, open");
	OPEN("open(O_CREAT|O_WRONLY|O_TRUNC, 0666) creates f", 0,
	     open(P("f"), O_CREAT | O_WRONLY | O_TRUNC, 0666));
	STAT("new file: type, mode 0644 (umask 022), size 0, nlink 1, owner", "f");
	ERR("open(O_CREAT|O_EXCL) of an existing file", EEXIST,
	    NORM(open(P("f"), O_CREAT | O_EXCL | O_WRONLY, 0644)));
	ERR("open of a missing file", ENOENT, NORM(open(P("missing"), O_RDONLY)));
	ERR("open(O_CREAT) in a missing directory", ENOENT,
	    NORM(open(P("nodir/f"), O_CREAT | O_WRONLY, 0644)));
	ERR("open through a regular file", ENOTDIR, NORM(open(P("f/x"), O_RDONLY)));
	ERR("open(O_DIRECTORY) of a regular file", ENOTDIR,
	    NORM(open(P("f"), O_RDONLY | O_DIRECTORY)));
	OK("mkdir d", mkdir(P("d"), 0777));
	ERR("open(O_WRONLY) of a directory", EISDIR, NORM(open(P("d"), O_WRONLY)));
	OPEN("open(O_RDONLY|O_DIRECTORY) of a directory", 1, open(P("d"), O_RDONLY | O_DIRECTORY));
	memset(longname, 'n', 256);
	longname[256] = 0;
	ERR("open(O_CREAT) of a 256-byte name", ENAMETOOLONG,
	    NORM(open(P(longname), O_CREAT | O_WRONLY, 0644)));
	longname[255] = 0;
	OPEN("open(O_CREAT) of a 255-byte name", 2, open(P(longname), O_CREAT | O_WRONLY, 0600));
	STAT("255-byte name: mode 0600", longname);
	OK("unlink the 255-byte name", unlink(P(longname)));
	OPEN("open(O_CREAT|O_EXCL) of a new name", 3,
	     open(P("excl"), O_CREAT | O_EXCL | O_RDWR, 0640));
	RET("write 5 bytes", 5, write(FD(3), "hello", 5));
	OK("close", close(FD(3)));
	OPEN("open(O_TRUNC) of an existing file", 3, open(P("excl"), O_WRONLY | O_TRUNC));
	STAT("O_TRUNC made the size 0", "excl");
	OK("mknod S_IFIFO", mknod(P("fifo"), S_IFIFO | 0640, 0));
	LSTAT("FIFO: type and mode", "fifo");
	DO(close(FD(3)));
	DO(close(FD(2)));
	DO(close(FD(1)));
}

static void t_read_write(void)
{
	char *a = pattern(10000, 1), *b = pattern(5000, 2);
	struct timespec old[2] = { { 1000000000, 0 }, { 1000000000, 0 } };
	char buf[2][128];

	section("read, write, lseek, O_APPEND");
	RET("write 10000 bytes", 10000, write(FD(0), a, 10000));
	RET("pwrite 5000 bytes at 20000 (hole before)", 5000, pwrite(FD(0), b, 5000, 20000));
	FSTAT("fstat: size 25000", 0);
	ERR("read from an O_WRONLY descriptor", EBADF, read(FD(0), buf[cur], 10));
	OK("close", close(FD(0)));
	DATA("contents (data, hole, data)", "f");
	OPEN("open(O_RDWR)", 0, open(P("f"), O_RDWR));
	RET("pread of 100 at 24990 gives 10", 10, pread(FD(0), buf[cur], 100, 24990));
	RET("pread at EOF gives 0", 0, pread(FD(0), buf[cur], 100, 25000));
	RET("pread far past EOF gives 0", 0, pread(FD(0), buf[cur], 100, 1 << 30));
	RET("pread of 64 in the hole", 64, pread(FD(0), buf[cur], 64, 15000));
	BOTH_TRUE("the hole reads as zeros", !memcmp(buf[cur], (char[64]){ 0 }, 64));
	RET("lseek(SEEK_END) gives the size", 25000, lseek(FD(0), 0, SEEK_END));
	RET("lseek(SEEK_SET 7)", 7, lseek(FD(0), 7, SEEK_SET));
	RET("read 3 at the file position", 3, read(FD(0), buf[cur], 3));
	RET("write at the file position (10)", 4, write(FD(0), "WXYZ", 4));
	RET("file position advanced to 14", 14, lseek(FD(0), 0, SEEK_CUR));
	OK("utimensat: mtime to 2001", utimensat(AT_FDCWD, P("f"), old, 0));
	RET("pwrite 1 byte", 1, pwrite(FD(0), "!", 1, 100));
	OK("fsync", fsync(FD(0)));
	BOTH_TRUE("write moved mtime forward", stat_of(cur, "f", 0).st_mtim.tv_sec > 1000000000);
	OK("close", close(FD(0)));
	OPEN("open(O_WRONLY|O_APPEND)", 0, open(P("f"), O_WRONLY | O_APPEND));
	RET("pwrite on O_APPEND still appends (Linux)", 4, pwrite(FD(0), "tail", 4, 0));
	RET("write appends", 3, write(FD(0), "end", 3));
	RET("file position at the end", 25007, lseek(FD(0), 0, SEEK_CUR));
	ERR("read from an O_WRONLY|O_APPEND descriptor", EBADF, read(FD(0), buf[cur], 1));
	OK("close", close(FD(0)));
	OPEN("open(O_RDONLY)", 0, open(P("f"), O_RDONLY));
	ERR("write to an O_RDONLY descriptor", EBADF, write(FD(0), "x", 1));
	OK("close", close(FD(0)));
	DATA("contents after O_APPEND and positioned writes", "f");
	STAT("stat after the writes", "f");
	free(a);
	free(b);
}

static void t_truncate(void)
{
	char *a = pattern(8192, 3);

	section("truncate, ftruncate");
	OK("truncate up to 100000", truncate(P("f"), 100000));
	STAT("size 100000", "f");
	DATA("contents after growing (zeros at the end)", "f");
	OK("truncate down to 3000", truncate(P("f"), 3000));
	STAT("size 3000", "f");
	DATA("contents after shrinking", "f");
	OPEN("open(O_RDWR)", 0, open(P("f"), O_RDWR));
	OK("ftruncate to 5000", ftruncate(FD(0), 5000));
	FSTAT("fstat: size 5000", 0);
	RET("pwrite 8192 bytes at 0", 8192, pwrite(FD(0), a, 8192, 0));
	OK("ftruncate to 100 (mid-page)", ftruncate(FD(0), 100));
	OK("ftruncate back to 8192", ftruncate(FD(0), 8192));
	FDATA("bytes past the old 100 read as zeros, not stale data", 0);
	OK("close", close(FD(0)));
	drop_caches();
	DATA("the same after dropping the page cache", "f");
	OPEN("open(O_RDONLY)", 0, open(P("f"), O_RDONLY));
	ERR("ftruncate of an O_RDONLY descriptor", EINVAL, ftruncate(FD(0), 10));
	OK("close", close(FD(0)));
	ERR("truncate of a directory", EISDIR, truncate(P("d"), 0));
	ERR("truncate of a missing file", ENOENT, truncate(P("missing"), 0));
	ERR("truncate to a negative size", EINVAL, truncate(P("f"), -1));
	free(a);
}

static void t_chmod_chown(void)
{
	section("chmod, chown, permissions");
	OK("chmod 0600", chmod(P("f"), 0600));
	STAT("mode 0600", "f");
	OK("chmod 04755 (set-user-ID)", chmod(P("f"), 04755));
	STAT("mode 04755", "f");
	OPEN("open(O_RDONLY)", 0, open(P("f"), O_RDONLY));
	OK("fchmod 0640", fchmod(FD(0), 0640));
	FSTAT("fstat: mode 0640", 0);
	ERR("chmod of a missing file", ENOENT, chmod(P("missing"), 0644));
	OK("chmod of a directory to 0700", chmod(P("d"), 0700));
	STAT("directory mode 0700", "d");
	OK("chmod the directory back to 0755", chmod(P("d"), 0755));
	OK("chown 1234:5678", chown(P("f"), 1234, 5678));
	STAT("owner 1234:5678", "f");
	OK("chmod 06755", chmod(P("f"), 06755));
	OK("chown 1234:5678 again", chown(P("f"), 1234, 5678));
	STAT("chown cleared set-user-ID and set-group-ID", "f");
	OK("chown -1:-1 changes nothing", chown(P("f"), -1, -1));
	STAT("owner still 1234:5678", "f");
	OK("fchown 0:4321", fchown(FD(0), 0, 4321));
	FSTAT("fstat: owner 0:4321", 0);
	OK("close", close(FD(0)));
	OK("symlink lnk -> f", symlink("f", P("lnk")));
	OK("lchown of the symlink to 77:88", lchown(P("lnk"), 77, 88));
	LSTAT("symlink owner 77:88", "lnk");
	STAT("target's owner unchanged", "lnk");
	ERR("chown of a missing file", ENOENT, chown(P("missing"), 1, 1));
	OK("chown f back to 0:0", chown(P("f"), 0, 0));
	OK("chmod f 0644", chmod(P("f"), 0644));

	/* As an unprivileged user: the client's permission checks. */
	OK("mkdir pub 0777", mkdir(P("pub"), 0777));
	OK("chmod pub 0777", chmod(P("pub"), 0777));
	OK("chmod f 0600", chmod(P("f"), 0600));
	if (setegid(1000) || seteuid(1000)) {
		okline(0, "seteuid(1000)", "%s", strerror(errno));
		return;
	}
	ERR("uid 1000: open of a 0600 root file", EACCES, NORM(open(P("f"), O_RDONLY)));
	ERR("uid 1000: create in a 0755 root directory", EACCES,
	    NORM(open(P("nope"), O_CREAT | O_WRONLY, 0644)));
	ERR("uid 1000: chmod of a root file", EPERM, chmod(P("f"), 0777));
	ERR("uid 1000: chown of a root file", EPERM, chown(P("f"), 1000, 1000));
	OPEN("uid 1000: create in a 0777 directory", 0,
	     open(P("pub/mine"), O_CREAT | O_WRONLY, 0644));
	DO(close(FD(0)));
	ERR("uid 1000: utimensat(explicit times) of a root file", EPERM,
	    utimensat(AT_FDCWD, P("f"), (struct timespec[2]){ { 1, 0 }, { 1, 0 } }, 0));
	if (seteuid(0) || setegid(0)) {
		okline(0, "seteuid(0)", "%s", strerror(errno));
		exit(1);
	}
	STAT("new file owned by 1000:1000", "pub/mine");
	OK("chmod f 0644", chmod(P("f"), 0644));
}

static void t_utimes(void)
{
	struct timespec set[2] = { { 1000000000, 123456789 }, { 1100000000, 987654321 } };
	struct timespec omit_at[2] = { { 0, UTIME_OMIT }, { 1200000000, 500000000 } };
	struct timespec now_at[2] = { { 0, UTIME_NOW }, { 0, UTIME_OMIT } };
	struct timespec lset[2] = { { 900000000, 0 }, { 900000001, 0 } };
	double t0, t1;

	section("utimensat");
	OK("utimensat(atime, mtime with nanoseconds)", utimensat(AT_FDCWD, P("excl"), set, 0));
	times_are("atime and mtime exactly as set", "excl", 0, &set[0], &set[1]);
	OK("utimensat(UTIME_OMIT, mtime)", utimensat(AT_FDCWD, P("excl"), omit_at, 0));
	times_are("UTIME_OMIT kept atime; mtime as set", "excl", 0, &set[0], &omit_at[1]);
	t0 = now();
	OK("utimensat(UTIME_NOW, UTIME_OMIT)", utimensat(AT_FDCWD, P("excl"), now_at, 0));
	t1 = now();
	time_near("UTIME_NOW: atime is now", "excl", 0, t0, t1);
	times_are("UTIME_OMIT kept mtime", "excl", 0, NULL, &omit_at[1]);
	t0 = now();
	OK("utimensat(NULL): both now", utimensat(AT_FDCWD, P("excl"), NULL, 0));
	t1 = now();
	time_near("atime is now", "excl", 0, t0, t1);
	time_near("mtime is now", "excl", 1, t0, t1);
	OPEN("open(O_RDWR)", 0, open(P("excl"), O_RDWR));
	OK("futimens(explicit)", futimens(FD(0), set));
	OK("close", close(FD(0)));
	times_are("futimens set both", "excl", 0, &set[0], &set[1]);
	OK("utimensat(AT_SYMLINK_NOFOLLOW) of a symlink", utimensat(AT_FDCWD, P("lnk"), lset,
								      AT_SYMLINK_NOFOLLOW));
	times_are("the symlink's own times", "lnk", 1, &lset[0], &lset[1]);
	ERR("utimensat of a missing file", ENOENT, utimensat(AT_FDCWD, P("missing"), set, 0));
}

static void t_mkdir_rmdir_unlink(void)
{
	section("mkdir, rmdir, unlink");
	ERR("mkdir of an existing directory", EEXIST, mkdir(P("d"), 0755));
	ERR("mkdir of an existing file's name", EEXIST, mkdir(P("f"), 0755));
	ERR("mkdir in a missing directory", ENOENT, mkdir(P("nodir/x"), 0755));
	ERR("mkdir below a file", ENOTDIR, mkdir(P("f/x"), 0755));
	OK("mkdir d/sub 0777", mkdir(P("d/sub"), 0777));
	STAT("d/sub: mode 0755 (umask), nlink 2", "d/sub");
	STAT("d: nlink 3", "d");
	OK("mkdir d/sub2 01777 (sticky)", mkdir(P("d/sub2"), 01777));
	STAT("d/sub2: mode 01755", "d/sub2");
	OK("create d/sub/file", mkfile(P("d/sub/file"), "x", 1));
	ERR("rmdir of a non-empty directory", ENOTEMPTY, rmdir(P("d/sub")));
	ERR("rmdir of a file", ENOTDIR, rmdir(P("f")));
	ERR("rmdir of a missing directory", ENOENT, rmdir(P("d/missing")));
	ERR("rmdir of d/sub2/.", EINVAL, rmdir(P("d/sub2/.")));
	ERR("unlink of a directory", EISDIR, unlink(P("d/sub")));
	ERR("unlink of a missing file", ENOENT, unlink(P("missing")));
	ERR("unlink below a file", ENOTDIR, unlink(P("f/x")));
	OK("rmdir d/sub2", rmdir(P("d/sub2")));
	ERR("stat of the removed directory", ENOENT, stat(P("d/sub2"), &(struct stat){ 0 }));
	OK("unlink d/sub/file", unlink(P("d/sub/file")));
	ERR("stat of the unlinked file", ENOENT, stat(P("d/sub/file"), &(struct stat){ 0 }));
	OK("rmdir d/sub (now empty)", rmdir(P("d/sub")));
	STAT("d: nlink 2 again", "d");
	LIST("listing of d (empty)", "d");
}

static void t_rename(void)
{
	char buf[2][64];

	section("rename");
	OK("create r1", mkfile(P("r1"), "one", 3));
	OK("create r2", mkfile(P("r2"), "two!", 4));
	OK("rename r1 -> r3 (new name)", rename(P("r1"), P("r3")));
	ERR("old name is gone", ENOENT, access(P("r1"), F_OK));
	DATA("new name has the data", "r3");
	OK("rename r3 over r2 (existing file)", rename(P("r3"), P("r2")));
	ERR("source name is gone", ENOENT, access(P("r3"), F_OK));
	DATA("target has the source's data", "r2");
	STAT("target: nlink 1, size 3", "r2");
	OK("rename r2 onto itself", rename(P("r2"), P("r2")));
	OK("link r2 -> r2h", link(P("r2"), P("r2h")));
	OK("rename r2 over its own hard link r2h (no-op)", rename(P("r2"), P("r2h")));
	STAT("r2 still there, nlink 2", "r2");
	STAT("r2h still there", "r2h");
	OK("unlink r2h", unlink(P("r2h")));
	OK("mkdir rd1, rd1/a, rd1/a/b", mkdir(P("rd1"), 0755) | mkdir(P("rd1/a"), 0755) |
						mkdir(P("rd1/a/b"), 0755));
	OK("create rd1/a/b/file", mkfile(P("rd1/a/b/file"), "deep", 4));
	OK("mkdir rd2 (empty)", mkdir(P("rd2"), 0755));
	OK("mkdir rd3, rd3/x (non-empty)", mkdir(P("rd3"), 0755) | mkdir(P("rd3/x"), 0755));
	ERR("rename file over a directory", EISDIR, rename(P("r2"), P("rd2")));
	ERR("rename directory over a file", ENOTDIR, rename(P("rd2"), P("r2")));
	ERR("rename directory into its own subdirectory", EINVAL, rename(P("rd1"), P("rd1/a/b/c")));
	ERR("rename directory to itself below itself", EINVAL, rename(P("rd1/a"), P("rd1/a/b/a")));
	ERR("rename directory over a non-empty directory", ENOTEMPTY, rename(P("rd2"), P("rd3")));
	ERR("rename of a missing name", ENOENT, rename(P("missing"), P("x")));
	ERR("rename into a missing directory", ENOENT, rename(P("r2"), P("nodir/r2")));
	ERR("rename below a file", ENOTDIR, rename(P("r2"), P("f/r2")));
	OPEN("open rd1/a/b/file before renaming its ancestor", 0, open(P("rd1/a/b/file"), O_RDWR));
	OK("rename directory rd1 over the empty directory rd2", rename(P("rd1"), P("rd2")));
	ERR("rd1 is gone", ENOENT, access(P("rd1"), F_OK));
	STAT("rd2: the moved directory (nlink 3)", "rd2");
	DATA("path below the renamed directory", "rd2/a/b/file");
	RET("pread through the descriptor opened before the rename", 4,
	    pread(FD(0), buf[cur], 64, 0));
	RET("pwrite through it", 3, pwrite(FD(0), "DEE", 3, 0));
	OK("fsync it", fsync(FD(0)));
	OK("close it", close(FD(0)));
	DATA("the write went to the moved file", "rd2/a/b/file");
	OK("rename directory rd2/a to rd3/a (another parent)", rename(P("rd2/a"), P("rd3/a")));
	STAT("rd2 nlink 2 after losing a subdirectory", "rd2");
	STAT("rd3 nlink 4 after gaining one", "rd3");
	LIST("listing of rd3", "rd3");
	DATA("file below the moved directory", "rd3/a/b/file");
	ERR("renameat2(RENAME_NOREPLACE) over an existing name", EEXIST,
	    renameat2(AT_FDCWD, P("r2"), AT_FDCWD, P("f"), RENAME_NOREPLACE));
	OK("renameat2(RENAME_NOREPLACE) to a new name",
	   renameat2(AT_FDCWD, P("r2"), AT_FDCWD, P("r4"), RENAME_NOREPLACE));
	OK("create r5", mkfile(P("r5"), "five", 4));
	OK("renameat2(RENAME_EXCHANGE) of two files",
	   renameat2(AT_FDCWD, P("r4"), AT_FDCWD, P("r5"), RENAME_EXCHANGE));
	DATA("r4 has r5's data", "r4");
	DATA("r5 has r4's data", "r5");
	OK("renameat2(RENAME_EXCHANGE) of a file and a directory",
	   renameat2(AT_FDCWD, P("r4"), AT_FDCWD, P("rd2"), RENAME_EXCHANGE));
	STAT("r4 is now the directory", "r4");
	STAT("rd2 is now the file", "rd2");
	ERR("renameat2(RENAME_EXCHANGE) with a missing name", ENOENT,
	    renameat2(AT_FDCWD, P("r4"), AT_FDCWD, P("missing"), RENAME_EXCHANGE));
	DOC("renameat2(RENAME_WHITEOUT)", "RENAME_WHITEOUT is EINVAL", -1, EINVAL, 0, 0,
	    renameat2(AT_FDCWD, P("r5"), AT_FDCWD, P("r6"), RENAME_WHITEOUT));
	/* Where it worked, r6 exists and r5 is a whiteout: converge on that minus the whiteout. */
	for (int s = 0; s < 2; s++) {
		struct stat st = stat_of(s, "r5", 1);

		cur = s;
		if (S_ISCHR(st.st_mode))
			unlink(P("r5"));
		else if (S_ISREG(st.st_mode))
			rename(P("r5"), P("r6"));
		cur = 0;
	}

	/* Renaming over a file that is open here. */
	OK("create ro1, ro2", mkfile(P("ro1"), "new data", 8) | mkfile(P("ro2"), "old data", 8));
	OPEN("open ro2", 0, open(P("ro2"), O_RDWR));
	OK("rename ro1 over the open ro2", rename(P("ro1"), P("ro2")));
	{
		struct res r[2];

		memset(buf, 0, sizeof(buf));
		RUN(r, pread(FD(0), buf[cur], 64, 0));
		/* From the page cache the old data is harmless; the new file's never. */
		okline(((r[0].ret < 0 && r[0].err == ESTALE) ||
			(r[0].ret == 8 && !memcmp(buf[0], "old data", 8))) &&
		       r[1].ret == 8 && !memcmp(buf[1], "old data", 8),
		       "cached read through the replaced file's descriptor: ESTALE or the old data",
		       "disaggfs %ld/%s '%.8s', tmpfs %ld '%.8s'", r[0].ret, en(r[0].err),
		       buf[0], r[1].ret, buf[1]);
	}
	drop_caches();
	DOC("read through the replaced file's descriptor, page cache dropped",
	    "descriptors of a file replaced by rename fail with ESTALE", -1, ESTALE, 8, 0,
	    pread(FD(0), buf[cur], 64, 0));
	DOC("write through the replaced file's descriptor",
	    "descriptors of a file replaced by rename fail with ESTALE", -1, ESTALE, 3, 0,
	    pwrite(FD(0), "bad", 3, 0) < 0 ? -1 : fsync(FD(0)) < 0 ? -1 : 3);
	DO(close(FD(0)));
	DATA("ro2 holds ro1's data, untouched by the old descriptor", "ro2");
}

static void t_link_symlink(void)
{
	char tgt[4097];

	section("link, symlink, readlink");
	OK("link f -> fl", link(P("f"), P("fl")));
	STAT("f: nlink 2", "f");
	STAT("fl: nlink 2", "fl");
	BOTH_TRUE("f and fl are one inode",
		  stat_of(cur, "f", 0).st_ino == stat_of(cur, "fl", 0).st_ino);
	DATA("fl has f's data", "fl");
	ERR("link to a directory", EPERM, link(P("d"), P("dl")));
	ERR("link to an existing name", EEXIST, link(P("f"), P("excl")));
	ERR("link of a missing file", ENOENT, link(P("missing"), P("ml")));
	ERR("link into a missing directory", ENOENT, link(P("f"), P("nodir/fl")));
	OPEN("open fl for append", 0, open(P("fl"), O_WRONLY | O_APPEND));
	RET("append through fl", 6, write(FD(0), "linked", 6));
	OK("close", close(FD(0)));
	DATA("f sees the write through fl", "f");
	OK("unlink fl", unlink(P("fl")));
	STAT("f: nlink 1 again", "f");
	OK("linkat of a symlink (no follow)", linkat(AT_FDCWD, P("lnk"), AT_FDCWD, P("lnk2"), 0));
	LSTAT("lnk2 is a symlink with nlink 2", "lnk2");
	OK("unlink lnk2", unlink(P("lnk2")));

	OK("symlink sl -> target-file", symlink("target-file", P("sl")));
	READLINK("readlink sl", "sl");
	RET("readlink gives 11 bytes", 11, readlink(P("sl"), tgt, sizeof(tgt)));
	RET("readlink into a 4-byte buffer truncates", 4, readlink(P("sl"), tgt, 4));
	LSTAT("lstat sl: symlink, size 11", "sl");
	ERR("stat of the dangling symlink", ENOENT, stat(P("sl"), &(struct stat){ 0 }));
	OK("create target-file", mkfile(P("target-file"), "target", 6));
	STAT("stat follows sl", "sl");
	DATA("read through sl", "sl");
	ERR("open(O_NOFOLLOW) of a symlink", ELOOP, NORM(open(P("sl"), O_RDONLY | O_NOFOLLOW)));
	ERR("symlink over an existing name", EEXIST, symlink("x", P("sl")));
	ERR("readlink of a regular file", EINVAL, readlink(P("f"), tgt, sizeof(tgt)));
	ERR("readlink of a missing name", ENOENT, readlink(P("missing"), tgt, sizeof(tgt)));
	OK("symlink loop1 -> loop2, loop2 -> loop1",
	   symlink("loop2", P("loop1")) | symlink("loop1", P("loop2")));
	ERR("stat of a symlink loop", ELOOP, stat(P("loop1"), &(struct stat){ 0 }));
	OK("symlink sd -> d (directory)", symlink("d", P("sd")));
	OK("create a file through sd", mkfile(P("sd/via-link"), "via", 3));
	DATA("the file is in d", "d/via-link");
	OK("unlink through sd", unlink(P("sd/via-link")));
	OK("symlink abs -> /nonexistent/absolute/path",
	   symlink("/nonexistent/absolute/path", P("abs")));
	READLINK("readlink abs (absolute, not followed)", "abs");
	memset(tgt, 'x', 4095);
	tgt[4095] = 0;
	for (int i = 100; i < 4095; i += 100)
		tgt[i] = '/';
	OK("symlink with a 4095-byte target", symlink(tgt, P("long")));
	READLINK("readlink of the 4095-byte target", "long");
	LSTAT("lstat: size 4095", "long");
	tgt[4095] = 'x';
	tgt[4096] = 0;
	ERR("symlink with a 4096-byte target", ENAMETOOLONG, symlink(tgt, P("toolong")));
	OK("unlink symlinks loop1 loop2 sd", unlink(P("loop1")) | unlink(P("loop2")) |
						  unlink(P("sd")));
}

static void t_readdir(long nfiles)
{
	char name[PATH_MAX], name2[2 * PATH_MAX];
	char **v[2];
	long n[2], silly;
	long pos[2];
	int ok = 1;

	section("readdir");
	LIST("listing of the top directory (names and d_type)", ".");
	OK("mkdir small", mkdir(P("small"), 0755));
	for (int i = 0; i < 60; i++) {
		snprintf(name, sizeof(name), "small/e%02d", i);
		DO(i % 3 ? mkfile(P(name), "", 0) : mkdir(P(name), 0755));
	}
	LIST("listing of 60 entries (files and directories)", "small");
	/* telldir/seekdir: the rest read twice gives the same names. */
	for (cur = 0; cur < 2; cur++) {
		DIR *d = opendir(P("small"));
		struct dirent *de;
		char seen1[4096] = "", seen2[4096] = "";

		if (!d) {
			ok = 0;
			break;
		}
		for (int i = 0; i < 25 && readdir(d); i++)
			;
		pos[cur] = telldir(d);
		while ((de = readdir(d)))
			strcat(strcat(seen1, de->d_name), " ");
		seekdir(d, pos[cur]);
		while ((de = readdir(d)))
			strcat(strcat(seen2, de->d_name), " ");
		closedir(d);
		if (strcmp(seen1, seen2))
			ok = 0;
	}
	cur = 0;
	okline(ok, "telldir/seekdir: the rest of the directory read again is the same", "");

	OK("mkdir big", mkdir(P("big"), 0755));
	/*
	 * Creating is tested above; readdir is what is tested here. With -e,
	 * all but the first 200 entries are made on the node directly, which
	 * is much faster than one CREATE each under emulation.
	 */
	for (cur = 0; cur < 2; cur++)
		for (long i = 0; i < nfiles; i++) {
			int fd;

			snprintf(name, sizeof(name), "big/entry-with-a-longish-name-%07ld", i);
			if (cur == 0 && export_dir && i >= 200)
				snprintf(name2, sizeof(name2), "%s/big/entry-with-a-longish-name-%07ld",
					 export_dir, i);
			else
				snprintf(name2, sizeof(name2), "%s", P(name));
			fd = open(name2, O_WRONLY | O_CREAT | O_EXCL, 0644);
			if (fd < 0 || close(fd)) {
				okline(0, "create the large directory", "%s: %s on %s", name,
				       strerror(errno), side[cur]);
				cur = 0;
				return;
			}
		}
	cur = 0;
	snprintf(name, sizeof(name), "created %ld files in big", nfiles);
	okline(1, name, "");
	for (cur = 0; cur < 2; cur++)
		n[cur] = listdir(P("big"), &v[cur], 0, &silly);
	cur = 0;
	snprintf(name, sizeof(name), "readdir of big: %ld entries on both", nfiles);
	okline(n[0] == nfiles && n[1] == nfiles, name, "disaggfs %ld, tmpfs %ld", n[0], n[1]);
	if (n[0] >= 0 && n[1] >= 0) {
		char why[PATH_MAX];
		int bad = 0;

		bad = cmplists(v[0], n[0], v[1], n[1], why, sizeof(why));
		okline(!bad, "readdir of big: the same names, each once", "%s", why);
		for (long i = 1; i < n[0] && !bad; i++)
			if (!strcmp(v[0][i - 1], v[0][i]))
				bad = 1;
		okline(!bad, "readdir of big: no name twice on disaggfs", "");
	}
	freelist(v[0], n[0] < 0 ? 0 : n[0]);
	freelist(v[1], n[1] < 0 ? 0 : n[1]);
	if (!export_dir)
		STAT("stat of big", "big");
	for (cur = 0; cur < 2; cur++)
		for (long i = 0; i < nfiles; i++) {
			snprintf(name, sizeof(name), "big/entry-with-a-longish-name-%07ld", i);
			if (cur == 0 && export_dir && i >= 200)
				snprintf(name2, sizeof(name2), "%s/big/entry-with-a-longish-name-%07ld",
					 export_dir, i);
			else
				snprintf(name2, sizeof(name2), "%s", P(name));
			if (unlink(name2) && ok) {
				okline(0, "unlink the large directory's files", "%s on %s: %s", name,
				       side[cur], strerror(errno));
				ok = 0;
			}
		}
	cur = 0;
	OK("rmdir big after unlinking every file", rmdir(P("big")));
}

static void t_statfs(void)
{
	struct statfs s, s2;
	char why[256] = "";
	int fd;

	section("statfs");
	cur = 0;
	if (statfs(root[0], &s)) {
		okline(0, "statfs", "%s", strerror(errno));
		return;
	}
	okline(s.f_type == DISAGGFS_MAGIC, "statfs: f_type is disaggfs", "0x%lx",
	       (unsigned long)s.f_type);
	if (s.f_bsize <= 0 || s.f_blocks == 0)
		snprintf(why, sizeof(why), "f_bsize %ld f_blocks %lu", (long)s.f_bsize,
			 (unsigned long)s.f_blocks);
	else if (s.f_bfree > s.f_blocks || s.f_bavail > s.f_bfree)
		snprintf(why, sizeof(why), "blocks %lu free %lu avail %lu",
			 (unsigned long)s.f_blocks, (unsigned long)s.f_bfree,
			 (unsigned long)s.f_bavail);
	else if (s.f_files && s.f_ffree > s.f_files)
		snprintf(why, sizeof(why), "files %lu ffree %lu", (unsigned long)s.f_files,
			 (unsigned long)s.f_ffree);
	else if (s.f_namelen < 255)
		snprintf(why, sizeof(why), "namelen %ld", (long)s.f_namelen);
	okline(!why[0], "statfs: sizes sane (blocks >= free >= avail, files >= ffree, namelen >= 255)",
	       "%s", why);
	fd = open(root[0], O_RDONLY | O_DIRECTORY);
	okline(fd >= 0 && !fstatfs(fd, &s2) && s2.f_type == s.f_type && s2.f_bsize == s.f_bsize &&
	       s2.f_blocks == s.f_blocks, "fstatfs agrees with statfs", "");
	if (fd >= 0)
		close(fd);
	ERR("statfs of a missing path", ENOENT, statfs(P("missing"), &s2));
}

static void t_fsync(void)
{
	section("fsync, fdatasync");
	OPEN("open(O_RDWR)", 0, open(P("f"), O_RDWR));
	RET("pwrite", 5, pwrite(FD(0), "sync!", 5, 0));
	OK("fsync", fsync(FD(0)));
	RET("pwrite", 5, pwrite(FD(0), "data!", 5, 10));
	OK("fdatasync", fdatasync(FD(0)));
	RET("pwrite", 3, pwrite(FD(0), "sfr", 3, 20));
	OK("sync_file_range", sync_file_range(FD(0), 0, 0, SYNC_FILE_RANGE_WAIT_BEFORE |
							 SYNC_FILE_RANGE_WRITE |
							 SYNC_FILE_RANGE_WAIT_AFTER));
	OK("syncfs", syncfs(FD(0)));
	OK("close", close(FD(0)));
	OPEN("open(O_RDONLY)", 0, open(P("f"), O_RDONLY));
	OK("fsync of an O_RDONLY descriptor", fsync(FD(0)));
	OK("close", close(FD(0)));
	OPEN("open a directory", 0, open(P("d"), O_RDONLY | O_DIRECTORY));
	OK("fsync of a directory", fsync(FD(0)));
	OK("close", close(FD(0)));
	OPEN("open(O_WRONLY|O_SYNC)", 0, open(P("f"), O_WRONLY | O_SYNC));
	RET("O_SYNC write", 4, pwrite(FD(0), "osyn", 4, 30));
	OK("close", close(FD(0)));
	DATA("contents after the synced writes", "f");
}

static void t_mmap(void)
{
	const size_t size = (1 << 20) + 123;
	char *map[2] = { MAP_FAILED, MAP_FAILED }, *data = pattern(size, 4);
	struct res r[2];

	section("mmap");
	OPEN("open(O_RDWR|O_CREAT) map", 0, open(P("map"), O_RDWR | O_CREAT | O_TRUNC, 0644));
	OK("ftruncate to 1 MiB + 123", ftruncate(FD(0), size));
	RUN(r, (map[cur] = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, FD(0), 0)) ==
		       MAP_FAILED ? -1 : 0);
	judge("mmap(MAP_SHARED, PROT_WRITE)", r, 0, 0);
	if (map[0] == MAP_FAILED || map[1] == MAP_FAILED) {
		free(data);
		return;
	}
	DO(memcpy(map[cur], data, size));
	OK("msync(MS_SYNC) of the whole mapping", msync(map[cur], size, MS_SYNC));
	FDATA("read() sees the mapped writes", 0);
	RET("pwrite into the mapped range", 3, pwrite(FD(0), "XYZ", 3, 4096));
	BOTH_TRUE("the mapping sees the pwrite", !memcmp(map[cur] + 4096, "XYZ", 3));
	DO(map[cur][size - 1] = 'E');
	OK("msync(MS_ASYNC) after a write at the last byte", msync(map[cur], size, MS_ASYNC));
	OK("munmap", munmap(map[cur], size));
	OK("close", close(FD(0)));
	drop_caches();
	DATA("the mapped data after dropping the page cache", "map");

	/* A mapping outliving its descriptor, no msync: munmap writes it back. */
	OPEN("open(O_RDWR) map2", 0, open(P("map2"), O_RDWR | O_CREAT | O_TRUNC, 0644));
	OK("ftruncate to 64 KiB", ftruncate(FD(0), 65536));
	RUN(r, (map[cur] = mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_SHARED, FD(0), 0)) ==
		       MAP_FAILED ? -1 : 0);
	judge("mmap(MAP_SHARED) map2", r, 0, 0);
	OK("close before writing through the mapping", close(FD(0)));
	if (map[0] != MAP_FAILED && map[1] != MAP_FAILED) {
		DO(memcpy(map[cur] + 1000, data, 60000));
		OK("munmap without msync", munmap(map[cur], 65536));
	}
	drop_caches();
	DATA("map2 data after munmap and dropping the page cache", "map2");

	/* MAP_PRIVATE writes stay private. */
	OPEN("open(O_RDONLY) map", 0, open(P("map"), O_RDONLY));
	RUN(r, (map[cur] = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE, FD(0), 0)) ==
		       MAP_FAILED ? -1 : 0);
	judge("mmap(MAP_PRIVATE, PROT_WRITE) of a read-only descriptor", r, 0, 0);
	if (map[0] != MAP_FAILED && map[1] != MAP_FAILED) {
		DO(memset(map[cur], 'P', 8192));
		OK("munmap the private mapping", munmap(map[cur], 8192));
	}
	OK("close", close(FD(0)));
	DATA("private writes did not reach the file", "map");
	OPEN("open(O_RDONLY) map", 0, open(P("map"), O_RDONLY));
	ERR("mmap(MAP_SHARED, PROT_WRITE) of a read-only descriptor", EACCES,
	    mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, FD(0), 0) == MAP_FAILED ? -1 : 0);
	OK("close", close(FD(0)));
	free(data);
}

static void t_direct(void)
{
	const size_t len = 256 << 10;
	char *a = pattern(len, 5), *b = pattern(65536, 6), *rd[2];
	int direct[2];
	struct res r[2];

	section("O_DIRECT");
	for (int s = 0; s < 2; s++)
		if (posix_memalign((void **)&rd[s], 4096, len + 8192))
			abort();
	RUN(r, NORM(FD(0) = open(P("dio"), O_RDWR | O_CREAT | O_TRUNC | O_DIRECT, 0644)));
	direct[0] = direct[1] = 1;
	if (r[0].ret == 0 && r[1].ret < 0 && r[1].err == EINVAL) {
		/* tmpfs before 6.6 refuses O_DIRECT: the reference does buffered I/O. */
		section("tmpfs refuses O_DIRECT here: the reference side uses buffered I/O");
		ON(1, FD(0) = open(P("dio"), O_RDWR | O_CREAT | O_TRUNC, 0644));
		direct[1] = 0;
		r[1].ret = 0;
		r[1].err = 0;
	}
	judge("open(O_DIRECT|O_CREAT)", r, 0, 0);
	RET("O_DIRECT pwrite of 256 KiB at 0 (aligned)", (long)len, pwrite(FD(0), a, len, 0));
	RET("O_DIRECT pwrite of 64 KiB at 1 MiB (aligned, past EOF)", 65536,
	    pwrite(FD(0), b, 65536, 1 << 20));
	FSTAT("fstat: size 1 MiB + 64 KiB", 0);
	RET("O_DIRECT pread of 256 KiB at 0", (long)len, pread(FD(0), rd[cur], len, 0));
	BOTH_TRUE("O_DIRECT read back what was written", !memcmp(rd[cur], a, len));
	RET("O_DIRECT pread of the hole", 4096, pread(FD(0), rd[cur], 4096, 512 << 10));
	BOTH_TRUE("the hole reads as zeros", !memcmp(rd[cur], (char[4096]){ 0 }, 4096));
	RET("O_DIRECT pread across EOF gives the rest", 65536,
	    pread(FD(0), rd[cur], 131072, 1 << 20));
	RET("O_DIRECT unaligned pwrite (documented: no alignment required)", 3001,
	    pwrite(FD(0), b + 1, 3001, 1001));
	RET("O_DIRECT unaligned pread", 5003, pread(FD(0), rd[cur] + 3, 5003, 999));
	for (int s = 0; s < 2; s++)
		memmove(rd[s], rd[s] + 3, 5003);
	cmpbytes("unaligned O_DIRECT read matches", 5003, 5003, rd[0], rd[1]);
	OK("close", close(FD(0)));
	DATA("buffered read after O_DIRECT writes", "dio");

	/* Coherence between the page cache and O_DIRECT. */
	OPEN("open dio buffered", 1, open(P("dio"), O_RDWR));
	RET("buffered read fills the page cache", 4096, pread(FD(1), rd[cur], 4096, 0));
	RUN(r, NORM(FD(0) = open(P("dio"), O_RDWR | (direct[cur] ? O_DIRECT : 0))));
	judge("open dio O_DIRECT again", r, 0, 0);
	RET("O_DIRECT overwrite of the cached page", 4096, pwrite(FD(0), b, 4096, 0));
	RET("buffered read after it", 4096, pread(FD(1), rd[cur], 4096, 0));
	BOTH_TRUE("the buffered read sees the O_DIRECT write", !memcmp(rd[cur], b, 4096));
	RET("buffered write (dirty page)", 4096, pwrite(FD(1), a + 8192, 4096, 8192));
	RET("O_DIRECT read of the dirty page", 4096, pread(FD(0), rd[cur], 4096, 8192));
	BOTH_TRUE("O_DIRECT read sees the buffered write", !memcmp(rd[cur], a + 8192, 4096));
	DO(close(FD(0)));
	DO(close(FD(1)));
	drop_caches();
	DATA("dio after dropping the page cache", "dio");
	free(a);
	free(b);
	free(rd[0]);
	free(rd[1]);
}

static void t_xattr_ns(const char *ns)
{
	char name[64], val[2][65536], desc[160], *big = pattern(65536, 7);

	printf("# xattrs %s.* (at %.1f s)\n", ns, now() - t_start);
#define N(s) (snprintf(name, sizeof(name), "%s.%s", ns, s), name)
#define D(s) (snprintf(desc, sizeof(desc), "%s.*: %s", ns, s), desc)
	OK(D("setxattr(XATTR_CREATE)"), setxattr(P("x"), N("a"), "value1", 6, XATTR_CREATE));
	ERR(D("setxattr(XATTR_CREATE) of an existing name"), EEXIST,
	    setxattr(P("x"), N("a"), "v", 1, XATTR_CREATE));
	ERR(D("setxattr(XATTR_REPLACE) of a missing name"), ENODATA,
	    setxattr(P("x"), N("missing"), "v", 1, XATTR_REPLACE));
	RET(D("getxattr size query"), 6, getxattr(P("x"), N("a"), NULL, 0));
	RET(D("getxattr"), 6, getxattr(P("x"), N("a"), val[cur], sizeof(val[0])));
	BOTH_TRUE(D("getxattr value"), !memcmp(val[cur], "value1", 6));
	ERR(D("getxattr into a too small buffer"), ERANGE, getxattr(P("x"), N("a"), val[cur], 2));
	ERR(D("getxattr of a missing name"), ENODATA,
	    getxattr(P("x"), N("missing"), val[cur], sizeof(val[0])));
	OK(D("setxattr of an empty value"), setxattr(P("x"), N("empty"), "", 0, 0));
	RET(D("getxattr of the empty value"), 0, getxattr(P("x"), N("empty"), val[cur], 10));
	OK(D("setxattr of a 4000-byte binary value"), setxattr(P("x"), N("bin"), big, 4000, 0));
	OK(D("setxattr of a 65536-byte value (XATTR_SIZE_MAX)"),
	   setxattr(P("x"), N("max"), big, 65536, 0));
	ERR(D("setxattr of a 65537-byte value"), E2BIG, setxattr(P("x"), N("over"), big, 65537, 0));
	OK(D("setxattr(XATTR_REPLACE)"), setxattr(P("x"), N("a"), "v2", 2, XATTR_REPLACE));
	XATTRS(D("names and values"), "x");
	SAME(D("listxattr size query"), listxattr(P("x"), NULL, 0));
	ERR(D("listxattr into a too small buffer"), ERANGE, listxattr(P("x"), val[cur], 3));
	OK(D("removexattr"), removexattr(P("x"), N("empty")));
	ERR(D("removexattr of a missing name"), ENODATA, removexattr(P("x"), N("empty")));
	OK(D("removexattr of the 64 KiB value"), removexattr(P("x"), N("max")));
	OPEN("open x", 0, open(P("x"), O_RDWR));
	OK(D("fsetxattr"), fsetxattr(FD(0), N("f"), "fd", 2, 0));
	RET(D("fgetxattr"), 2, fgetxattr(FD(0), N("f"), val[cur], 10));
	DO(close(FD(0)));
	OK(D("setxattr on a directory"), setxattr(P("d"), N("dir"), "dirval", 6, 0));
	XATTRS(D("directory's names and values"), "d");
	if (!strcmp(ns, "user"))
		ERR(D("lsetxattr on a symlink"), EPERM, lsetxattr(P("lnk"), N("l"), "l", 1, 0));
	else
		OK(D("lsetxattr on a symlink"), lsetxattr(P("lnk"), N("l"), "l", 1, 0));
	XATTRS(D("symlink's names and values"), "lnk");
	XATTRS(D("names and values after the removals"), "x");
	ERR(D("setxattr on a missing file"), ENOENT, setxattr(P("missing"), N("a"), "v", 1, 0));
#undef N
#undef D
	free(big);
}

static void t_xattr(void)
{
	struct res r[2];

	section("xattrs");
	OK("create x", mkfile(P("x"), "xattrs", 6));
	t_xattr_ns("trusted");
	RUN(r, setxattr(P("x"), "user.probe", "p", 1, 0));
	if (r[1].ret < 0 && r[1].err == EOPNOTSUPP) {
		/* tmpfs has user.* only from 6.6, and the node's export is tmpfs. */
		judge("user.* refused by tmpfs here: disaggfs (tmpfs export) refuses too", r,
		      -1, EOPNOTSUPP);
	} else {
		judge("user.* supported", r, 0, 0);
		OK("remove user.probe", removexattr(P("x"), "user.probe"));
		t_xattr_ns("user");
	}
	DOC("setxattr security.*", "security.* is EOPNOTSUPP", -1, EOPNOTSUPP, ANY, ANY,
	    setxattr(P("x"), "security.dg", "s", 1, 0));
	ON(1, removexattr(P("x"), "security.dg"));
	DOC("setxattr system.posix_acl_access", "system.* is EOPNOTSUPP", -1, EOPNOTSUPP, ANY, ANY,
	    setxattr(P("x"), "system.posix_acl_access", "\2\0\0\0", 4, 0));
	ERR("setxattr of an unknown namespace", EOPNOTSUPP, setxattr(P("x"), "bogus.x", "v", 1, 0));
}

static void t_open_unlink(void)
{
	char buf[2][64], hidden[PATH_MAX] = "";
	char **v;
	long n, silly;
	struct stat st;

	section("open, unlink, then use the descriptor");
	OK("mkdir ou", mkdir(P("ou"), 0755));
	OK("create ou/file", mkfile(P("ou/file"), "still here", 10));
	OPEN("open ou/file", 0, open(P("ou/file"), O_RDWR));
	OK("unlink it while open", unlink(P("ou/file")));
	ERR("the name is gone", ENOENT, access(P("ou/file"), F_OK));
	ERR("open by the old name", ENOENT, NORM(open(P("ou/file"), O_RDONLY)));
	RET("read through the descriptor", 10, pread(FD(0), buf[cur], 64, 0));
	BOTH_TRUE("read the data", !memcmp(buf[cur], "still here", 10));
	RET("write through the descriptor", 4, pwrite(FD(0), "more", 4, 10));
	OK("fsync it", fsync(FD(0)));
	FDATA("contents through the descriptor", 0);
	DOC("fstat: st_nlink", "st_nlink of a silly-renamed file stays 1 while open", 1, 0, 0, 0,
	    fstat(FD(0), &st) ? -1 : (long)st.st_nlink);
	RET("fstat: st_size 14", 14, fstat(FD(0), &st) ? -1 : (long)st.st_size);
	/* The hidden name, disaggfs only. */
	cur = 0;
	n = listdir(P("ou"), &v, 1, &silly);
	okline(n == 0 && silly == 1, "doc: readdir shows exactly one hidden .disaggfs-* name",
	       "%ld visible, %ld hidden", n, silly);
	freelist(v, n < 0 ? 0 : n);
	{
		DIR *d = opendir(P("ou"));
		struct dirent *de;

		while (d && (de = readdir(d)))
			if (!strncmp(de->d_name, ".disaggfs-", 10))
				snprintf(hidden, sizeof(hidden), "ou/%s", de->d_name);
		if (d)
			closedir(d);
	}
	if (hidden[0]) {
		errno = 0;
		okline(unlink(P(hidden)) < 0 && errno == EBUSY,
		       "doc: unlink of the hidden name is EBUSY", "got %s", en(errno));
		errno = 0;
		okline(rename(P(hidden), P("ou/h2")) < 0 && errno == EBUSY,
		       "doc: rename of the hidden name is EBUSY", "got %s", en(errno));
	}
	cur = 0;
	{
		cur = 1;
		n = listdir(P("ou"), &v, 0, NULL);
		cur = 0;
		okline(n == 0, "tmpfs: the directory is empty", "%ld entries", n);
		freelist(v, n < 0 ? 0 : n);
	}
	DOC("rmdir of the directory", "rmdir is ENOTEMPTY while the hidden name exists",
	    -1, ENOTEMPTY, 0, 0, rmdir(P("ou")));
	OK("close the descriptor", close(FD(0)));
	cur = 0;
	n = listdir(P("ou"), &v, 1, &silly);
	okline(n == 0 && silly == 0, "doc: the hidden name is gone after close",
	       "%ld visible, %ld hidden", n, silly);
	freelist(v, n < 0 ? 0 : n);
	ON(0, rmdir(P("ou")));
	ERR("the directory is gone", ENOENT, access(P("ou"), F_OK));

	/* The same with a mapping holding the file. */
	OK("create mu", mkfile(P("mu"), "mapped data", 11));
	OPEN("open mu", 0, open(P("mu"), O_RDWR));
	{
		char *m[2];
		struct res r[2];

		RUN(r, (m[cur] = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, FD(0), 0)) ==
			       MAP_FAILED ? -1 : 0);
		judge("mmap mu", r, 0, 0);
		OK("close the descriptor, keep the mapping", close(FD(0)));
		OK("unlink mu while mapped", unlink(P("mu")));
		if (m[0] != MAP_FAILED && m[1] != MAP_FAILED) {
			BOTH_TRUE("the mapping still reads the data", !memcmp(m[cur], "mapped data", 11));
			DO(memcpy(m[cur], "MAPPED", 6));
			OK("msync", msync(m[cur], 4096, MS_SYNC));
			OK("munmap", munmap(m[cur], 4096));
		}
	}
	cur = 0;
	n = listdir(root[0], &v, 1, &silly);
	okline(silly == 0, "no hidden name left after the last mapping went", "%ld hidden", silly);
	freelist(v, n < 0 ? 0 : n);
}

static void t_unsupported(void)
{
	struct res r[2];

	section("documented as unsupported");
	OPEN("open f", 0, open(P("f"), O_RDWR));
	DOC("fallocate(FALLOC_FL_KEEP_SIZE)", "fallocate is EOPNOTSUPP", -1, EOPNOTSUPP, 0, 0,
	    fallocate(FD(0), FALLOC_FL_KEEP_SIZE, 0, 65536));
	DO(close(FD(0)));
	RUN(r, NORM(FD(0) = open(root[cur], O_TMPFILE | O_RDWR, 0600)));
	{
		char d[128];

		snprintf(d, sizeof(d), "open(O_TMPFILE) (doc: O_TMPFILE is EOPNOTSUPP)");
		okline(r[0].ret < 0 && r[0].err == EOPNOTSUPP && r[1].ret == 0, d,
		       "disaggfs %ld/%s, tmpfs %ld/%s", r[0].ret, en(r[0].err), r[1].ret,
		       en(r[1].err));
	}
	DO(FD(0) >= 0 ? close(FD(0)) : 0);
	DO(FD(0) = -1);
}

static void usage(void)
{
	fprintf(stderr, "usage: posixcmp [-n NFILES] [-e EXPORT] run|verify DGDIR TMPDIR\n");
	exit(2);
}

int main(int argc, char **argv)
{
	long nfiles = 10000;
	int opt;

	while ((opt = getopt(argc, argv, "n:e:")) != -1) {
		if (opt == 'n')
			nfiles = strtol(optarg, NULL, 0);
		else if (opt == 'e')
			export_dir = optarg;
		else
			usage();
	}
	if (argc - optind != 3)
		usage();
	root[0] = argv[optind + 1];
	root[1] = argv[optind + 2];
	memset(fds, -1, sizeof(fds));
	umask(022);
	t_start = now();
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (geteuid()) {
		fprintf(stderr, "posixcmp: must run as root\n");
		return 2;
	}
	if (!strcmp(argv[optind], "verify")) {
		sametree("the trees on disaggfs and tmpfs are the same");
	} else if (!strcmp(argv[optind], "run")) {
		for (cur = 0; cur < 2; cur++) {
			DIR *d = opendir(root[cur]);
			struct dirent *de;

			while (d && (de = readdir(d)))
				if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
					fprintf(stderr, "posixcmp: %s is not empty\n", root[cur]);
					return 2;
				}
			if (d)
				closedir(d);
		}
		cur = 0;
		t_create_open();
		t_read_write();
		t_truncate();
		t_chmod_chown();
		t_utimes();
		t_mkdir_rmdir_unlink();
		t_rename();
		t_link_symlink();
		t_fsync();
		t_mmap();
		t_direct();
		t_xattr();
		t_open_unlink();
		t_unsupported();
		t_statfs();
		t_readdir(nfiles);
		closeall();
		drop_caches();
		sametree("the trees on disaggfs and tmpfs are the same");
	} else {
		usage();
	}
	printf("1..%d\n# %d checks, %d failed, %.1f s\n", nchk, nchk, nfail, now() - t_start);
	return nfail ? 1 : 0;
}
