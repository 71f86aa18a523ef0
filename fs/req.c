// SPDX-License-Identifier: GPL-2.0
/*
 * disaggfs: building requests, paths, and the hard/soft retry loop.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/slab.h>
#include <linux/sched/signal.h>
#include <linux/sched/mm.h>
#include <linux/jiffies.h>
#include <linux/cred.h>
#include "fs.h"

/* Most request pieces: header struct, path, name2, data. */
#define DG_REQ_KVECS	(3 + DG_FS_IO_PAGES + 1)

static bool dg_conn_error(int err)
{
	return err == -ENOTCONN || err == -ETIMEDOUT;
}

/*
 * Wait for the connection to come back, at most until @deadline on a soft
 * mount. Waits in one-second steps so that umount -f and a fatal signal
 * end it.
 */
static int dg_wait_conn(struct dg_sb_info *sbi, unsigned long deadline,
			int gen)
{
	unsigned long step;
	int err;

	for (;;) {
		if (atomic_read(&sbi->abort_gen) != gen)
			return -EIO;
		if (fatal_signal_pending(current))
			return -EINTR;
		step = HZ;
		if (sbi->opts.soft) {
			if (time_after_eq(jiffies, deadline))
				return -EIO;
			step = min(step, deadline - jiffies);
		}
		err = dg_conn_wait_up(sbi->conn, step);
		if (!err)
			return 0;
		if (err == -EINTR)
			return err;
	}
}

/*
 * The wire form of @p in @buf (PATH_MAX bytes): relative to the mount
 * root, "." for the root itself. Caller holds rename_sem.
 */
static int dg_path_build(const struct dg_path *p, char *buf,
			 const char **name, u32 *len)
{
	struct dentry *d = p->dentry;
	char *s;

	if (!d || IS_ROOT(d)) {
		*name = ".";
		*len = 1;
		return 0;
	}
	if (p->io && d_unhashed(d) &&
	    !(READ_ONCE(d->d_flags) & DCACHE_NFSFS_RENAMED))
		return -ESTALE;
	s = dentry_path_raw(d, buf, PATH_MAX);
	if (IS_ERR(s))
		return PTR_ERR(s);
	while (*s == '/')
		s++;
	if (!*s) {
		*name = ".";
		*len = 1;
		return 0;
	}
	*name = s;
	*len = strlen(s);
	return *len > DG_FS_PATH_MAX ? -ENAMETOOLONG : 0;
}

/*
 * Who asks, as the node sees it: @cred's fsuid, fsgid and first
 * %DG_FS_NGROUPS supplementary groups, in the initial user namespace.
 */
static void dg_fill_cred(struct dg_fs_cred *c, const struct cred *cred)
{
	const struct group_info *gi = cred->group_info;
	unsigned int i, n = min_t(unsigned int, gi->ngroups, DG_FS_NGROUPS);

	memset(c, 0, sizeof(*c));
	c->uid = cpu_to_le32(from_kuid(&init_user_ns, cred->fsuid));
	c->gid = cpu_to_le32(from_kgid(&init_user_ns, cred->fsgid));
	c->ngroups = cpu_to_le32(n);
	for (i = 0; i < n; i++)
		c->groups[i] = cpu_to_le32(from_kgid(&init_user_ns,
						     gi->gid[i]));
}

/* Longest pause between resends to a busy node, in milliseconds. */
#define DG_BUSY_BACKOFF_MAX_MS	128

/*
 * The node answered EAGAIN: its request queue is full and it did not carry
 * out the request. Wait @*backoff_ms (doubled for the next time, up to
 * %DG_BUSY_BACKOFF_MAX_MS) before the caller sends it again; umount -f, a
 * fatal signal and a soft mount's deadline end the wait as they end
 * dg_wait_conn().
 */
static int dg_wait_busy(struct dg_sb_info *sbi, unsigned long deadline,
			int gen, unsigned int *backoff_ms)
{
	long t = msecs_to_jiffies(*backoff_ms);

	*backoff_ms = min(*backoff_ms * 2, DG_BUSY_BACKOFF_MAX_MS);
	if (atomic_read(&sbi->abort_gen) != gen)
		return -EIO;
	if (sbi->opts.soft) {
		if (time_after_eq(jiffies, deadline))
			return -EIO;
		t = min_t(long, t, deadline - jiffies);
	}
	if (schedule_timeout_killable(t) && fatal_signal_pending(current))
		return -EINTR;
	return 0;
}

/*
 * Send @call's @n pieces, retrying while the node is away or busy: only
 * an answer about the request itself ends the loop, so a full queue at
 * the node never fails a request (nor drops the pages of a writeback).
 */
static int dg_fs_send(struct dg_sb_info *sbi, struct dg_fs_call *call,
		      struct kvec *iov, unsigned int n)
{
	unsigned long deadline = jiffies + sbi->opts.timeo;
	int gen = atomic_read(&sbi->abort_gen);
	unsigned int backoff_ms = 1;
	int err;

	call->retried = false;
	for (;;) {
		call->rsp_len = 0;
		err = dg_callv(sbi->conn, call->op, iov, n, call->rsp,
			       call->nr_rsp, &call->rsp_len);
		if (err == -EAGAIN) {
			err = dg_wait_busy(sbi, deadline, gen, &backoff_ms);
			if (err)
				return err;
			continue;
		}
		if (!dg_conn_error(err))
			break;
		err = dg_wait_conn(sbi, deadline, gen);
		if (err)
			return err;
		call->retried = true;
	}
	switch (err) {
	case -EBADMSG:
	case -EMSGSIZE:
	case -EPROTO:
		pr_warn_ratelimited("mount %u: bad reply to opcode %#x (%d)\n",
				    sbi->id, call->op, err);
		err = -EIO;
	}
	return err;
}

/*
 * A request's wire pieces while it is built and sent: the path strings
 * live in @buf and @buf2, data beyond what one call gathers in @bounce;
 * @data_len is the data's length (the sum of the call's pieces).
 */
struct dg_fs_msg {
	struct kvec	iov[DG_REQ_KVECS];
	unsigned int	n;
	size_t		data_len;
	char		*buf;
	char		*buf2;
	char		*bounce;
};

static void dg_fs_msg_free(struct dg_fs_msg *m)
{
	kvfree(m->bounce);
	if (m->buf2)
		__putname(m->buf2);
	if (m->buf)
		__putname(m->buf);
}

/* Check @call and take the buffers its pieces need. */
static int dg_fs_msg_alloc(struct dg_fs_call *call, struct dg_fs_msg *m)
{
	size_t off = 0;
	unsigned int i;

	memset(m, 0, sizeof(*m));
	if (call->name2_len > DG_FS_PATH_MAX)
		return -ENAMETOOLONG;
	if (call->nr_data > DG_FS_IO_PAGES + 1)
		return -EFBIG;
	for (i = 0; i < call->nr_data; i++)
		m->data_len += call->data[i].iov_len;
	if (m->data_len > DG_FS_MSG_MAX)
		return -EFBIG;
	m->buf = __getname();
	if (!m->buf)
		return -ENOMEM;
	if (call->path2) {
		m->buf2 = __getname();
		if (!m->buf2)
			goto nomem;
	}
	/*
	 * Data pieces beyond what disagg_net gathers in one call go in one
	 * copy (a full WRITE, 16 pages, needs none).
	 */
	if (3 + call->nr_data > DG_CALL_MAX_VEC) {
		m->bounce = kvmalloc(m->data_len, GFP_KERNEL);
		if (!m->bounce)
			goto nomem;
		for (i = 0; i < call->nr_data; i++) {
			memcpy(m->bounce + off, call->data[i].iov_base,
			       call->data[i].iov_len);
			off += call->data[i].iov_len;
		}
	}
	return 0;
nomem:
	dg_fs_msg_free(m);
	return -ENOMEM;
}

/*
 * Build @call's pieces in @m: the paths from the dcache, the credentials,
 * the lengths. Caller holds rename_sem (for reading, or for writing when
 * @call->renaming) and does no filesystem reclaim.
 */
static int dg_fs_msg_build(struct dg_fs_call *call, struct dg_fs_msg *m)
{
	const char *name, *name2 = call->name2;
	u32 len, len2 = call->name2_len;
	unsigned int i;
	int err;

	err = dg_path_build(call->path, m->buf, &name, &len);
	if (!err && call->path2)
		err = dg_path_build(call->path2, m->buf2, &name2, &len2);
	if (err)
		return err;
	if (sizeof(struct dg_hdr) + sizeof(call->req) + len + len2 +
	    m->data_len > DG_FS_MSG_MAX)
		return -EFBIG;

	dg_fill_cred(&call->req.cred, call->path->cred ?: current_cred());
	call->req.path_len = cpu_to_le32(len);
	call->req.name2_len = cpu_to_le32(len2);
	call->req.data_len = cpu_to_le32(m->data_len);
	m->n = 0;
	m->iov[m->n].iov_base = &call->req;
	m->iov[m->n++].iov_len = sizeof(call->req);
	m->iov[m->n].iov_base = (void *)name;
	m->iov[m->n++].iov_len = len;
	if (len2) {
		m->iov[m->n].iov_base = (void *)name2;
		m->iov[m->n++].iov_len = len2;
	}
	if (m->bounce) {
		m->iov[m->n].iov_base = m->bounce;
		m->iov[m->n++].iov_len = m->data_len;
	} else {
		for (i = 0; i < call->nr_data; i++)
			m->iov[m->n++] = call->data[i];
	}
	return 0;
}

/**
 * dg_fs_call - send one storage request, retrying while the node is away
 * @sbi: the mount
 * @call: the request; @call->rsp_len and @call->retried are set
 *
 * The paths are built from the dcache under @sbi->rename_sem, held for
 * reading until the reply is in (the caller holds it for writing when
 * @call->renaming), so no rename of ours runs between the two: the node
 * sees the names the dcache has. Allocations under the lock do no
 * filesystem reclaim, which could come back here.
 *
 * The request carries the credentials of @call->path (the current task's
 * when it has none): dg_fs_call() is the one place they are filled in.
 *
 * Hard mounts retry for ever when the connection is down, a reply does
 * not come or the node answers EAGAIN (busy: it did not carry the request
 * out), with a growing pause for the last; only a fatal signal or umount
 * -f ends it. Soft mounts give up with -EIO after the timeo mount option. The node is stateless, so a
 * resent request means the same; callers of non-idempotent operations look
 * at @call->retried to judge an EEXIST or ENOENT.
 *
 * Context: process context, may sleep.
 * Return: 0, the node's error negated, -EIO (soft timeout, bad reply or
 * umount -f), -EINTR (fatal signal), -ENAMETOOLONG, -EFBIG, -ESTALE (an
 * I/O path whose name is gone), -ENOMEM.
 */
int dg_fs_call(struct dg_sb_info *sbi, struct dg_fs_call *call)
{
	struct dg_fs_msg m;
	unsigned int nofs;
	int err;

	err = dg_fs_msg_alloc(call, &m);
	if (err)
		return err;
	if (!call->renaming && down_read_killable(&sbi->rename_sem)) {
		err = -EINTR;
		goto out;
	}
	nofs = memalloc_nofs_save();
	err = dg_fs_msg_build(call, &m);
	if (!err)
		err = dg_fs_send(sbi, call, m.iov, m.n);
	memalloc_nofs_restore(nofs);
	if (!call->renaming)
		up_read(&sbi->rename_sem);
out:
	dg_fs_msg_free(&m);
	return err;
}

static void dg_fs_async_done(void *ctx, int err)
{
	struct dg_fs_async *a = ctx;
	struct dg_sb_info *sbi = a->sbi;

	/* The node answered (or never will): a rename may go ahead. */
	if (atomic_dec_and_test(&sbi->io_async))
		wake_up_var(&sbi->io_async);
	a->done(a, err);
}

/**
 * dg_fs_call_async - send one storage request once, without waiting
 * @sbi: the mount
 * @a: the request (@a->call, without @path2; its data is copied out
 *	before this returns) and its completion @a->done; must stay until
 *	@a->done ran
 *
 * The fast path of readahead and writeback: the request is built and sent as
 * dg_fs_call() would, and the reply (into @a->call.rsp, its length in
 * @a->call.rsp_len) ends it through @a->done, in the context of
 * &dg_done_fn (it must not sleep). There are no retries: a connection
 * that is down or a busy node fails the request, and the caller sends
 * it again with dg_fs_call(), which waits as the mount says. Instead of
 * holding rename_sem until the reply, the request counts itself in
 * @sbi->io_async, for which dg_rename_lock() waits.
 *
 * Context: process context, may sleep.
 * Return: 0 when sent (then @a->done runs exactly once with 0 or the
 * error); otherwise an error, and @a->done does not run.
 */
int dg_fs_call_async(struct dg_sb_info *sbi, struct dg_fs_async *a)
{
	struct dg_fs_call *call = &a->call;
	struct dg_fs_msg m;
	unsigned int nofs;
	int err;

	if (call->path2 || call->renaming)
		return -EINVAL;
	a->sbi = sbi;
	call->retried = false;
	call->rsp_len = 0;
	err = dg_fs_msg_alloc(call, &m);
	if (err)
		return err;
	if (down_read_killable(&sbi->rename_sem)) {
		err = -EINTR;
		goto out;
	}
	nofs = memalloc_nofs_save();
	err = dg_fs_msg_build(call, &m);
	if (!err) {
		atomic_inc(&sbi->io_async);
		/* The request is copied out before this returns. */
		err = dg_callv_async(sbi->conn, call->op, m.iov, m.n,
				     call->rsp, call->nr_rsp, &call->rsp_len,
				     dg_fs_async_done, a);
		if (err && atomic_dec_and_test(&sbi->io_async))
			wake_up_var(&sbi->io_async);
	}
	memalloc_nofs_restore(nofs);
	up_read(&sbi->rename_sem);
out:
	dg_fs_msg_free(&m);
	return err;
}

/**
 * dg_rename_lock - take rename_sem for writing, for one of our renames
 * @sbi: the mount
 *
 * Then waits for the requests of dg_fs_call_async() still in flight: they
 * named things by the paths a rename changes. No new one starts until
 * up_write(&@sbi->rename_sem).
 *
 * Context: process context, may sleep (until those requests end: their
 * reply, or their connection failing).
 */
void dg_rename_lock(struct dg_sb_info *sbi)
{
	down_write(&sbi->rename_sem);
	wait_var_event(&sbi->io_async, !atomic_read(&sbi->io_async));
}

/**
 * dg_path_get - name a dentry in requests
 * @dentry: the dentry
 * @p: filled in; release with dg_path_put()
 *
 * Only takes a reference: dg_fs_call() builds the path when it sends, with
 * dentry_path_raw() (which walks the parents under rename_lock) under the
 * mount's rename_sem, so neither a concurrent rename nor one of ours while
 * the request is in flight can tear it.
 */
void dg_path_get(struct dentry *dentry, struct dg_path *p)
{
	p->dentry = dget(dentry);
	p->cred = NULL;
	p->io = false;
	p->borrowed = false;
}

/**
 * dg_path_get_io - name an open file's dentry, for data and attributes
 * @dentry: the dentry
 * @p: as dg_path_get()
 *
 * An unhashed dentry (its name was unlinked or renamed over without a
 * silly rename) no longer names the file on the node: its old path might
 * now be another file's, so this refuses it, now and when the request is
 * sent.
 *
 * Return: 0 or -ESTALE.
 */
int dg_path_get_io(struct dentry *dentry, struct dg_path *p)
{
	if (!IS_ROOT(dentry) && d_unhashed(dentry) &&
	    !(READ_ONCE(dentry->d_flags) & DCACHE_NFSFS_RENAMED))
		return -ESTALE;
	dg_path_get(dentry, p);
	p->io = true;
	return 0;
}

/**
 * dg_path_put - release a path from dg_path_get()
 * @p: the path
 *
 * Context: not under rename_sem: the last reference to a silly-renamed
 * dentry sends an UNLINK.
 */
void dg_path_put(struct dg_path *p)
{
	if (!p->borrowed)
		dput(p->dentry);
	p->dentry = NULL;
	if (p->cred)
		put_cred(p->cred);
	p->cred = NULL;
}

/**
 * dg_path_dup - a second reference to the same path and credentials
 * @to: filled in; release with dg_path_put()
 * @from: a path from dg_path_get() or dg_inode_io_path()
 */
void dg_path_dup(struct dg_path *to, const struct dg_path *from)
{
	to->dentry = dget(from->dentry);
	to->cred = from->cred ? get_cred(from->cred) : NULL;
	to->io = from->io;
	to->borrowed = false;
}

/* The credentials for I/O on @inode without a file (see dg_inode). */
static const struct cred *dg_inode_cred(struct inode *inode)
{
	const struct cred *cred;

	spin_lock(&inode->i_lock);
	cred = DG_I(inode)->open_cred;
	if (cred)
		get_cred(cred);
	spin_unlock(&inode->i_lock);
	return cred ?: get_current_cred();
}

/**
 * dg_inode_set_cred - remember who opened a file, for I/O without a file
 * @inode: the file
 * @file: its new open file
 *
 * The last open for writing wins; an open for reading only counts while
 * there is none.
 */
void dg_inode_set_cred(struct inode *inode, struct file *file)
{
	struct dg_inode *di = DG_I(inode);
	const struct cred *old = NULL;

	spin_lock(&inode->i_lock);
	if (!di->open_cred || (file->f_mode & FMODE_WRITE)) {
		old = di->open_cred;
		di->open_cred = get_cred(file->f_cred);
	}
	spin_unlock(&inode->i_lock);
	if (old)
		put_cred(old);
}

/**
 * dg_inode_io_path - a path for I/O on an inode
 * @inode: the inode
 * @file: an open file of it, or NULL
 * @p: as dg_path_get()
 *
 * Writeback and readahead may come without a file: then any hashed alias
 * of the inode names it. The path carries the credentials of @file, or
 * without one those the inode keeps from its opens (dg_inode_set_cred()):
 * data moves with the rights of who opened the file, whoever sends it.
 *
 * Return: as dg_path_get_io().
 */
int dg_inode_io_path(struct inode *inode, struct file *file, struct dg_path *p)
{
	struct dentry *d;
	int err;

	if (file) {
		err = dg_path_get_io(file_dentry(file), p);
		if (!err)
			p->cred = get_cred(file->f_cred);
		return err;
	}
	d = d_find_alias(inode);
	if (!d)
		return -ESTALE;
	err = dg_path_get_io(d, p);
	dput(d);
	if (!err)
		p->cred = dg_inode_cred(inode);
	return err;
}

/**
 * dg_getattr_path - GETATTR of a path
 * @sb: the filesystem
 * @p: the path
 * @attr: the reply, checked with dg_attr_check()
 *
 * Return: 0 or a negative errno.
 */
int dg_getattr_path(struct super_block *sb, const struct dg_path *p,
		    struct dg_fs_attr *attr)
{
	struct kvec rsp = { .iov_base = attr, .iov_len = sizeof(*attr) };
	struct dg_fs_call call = {
		.op = DG_OP_FS_GETATTR, .path = p, .rsp = &rsp, .nr_rsp = 1,
	};
	int err;

	err = dg_fs_call(DG_SB(sb), &call);
	if (err)
		return err;
	if (call.rsp_len != sizeof(*attr))
		return -EIO;
	return dg_attr_check(attr);
}
