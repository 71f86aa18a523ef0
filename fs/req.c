// SPDX-License-Identifier: GPL-2.0
/*
 * disaggfs: building requests, paths, and the hard/soft retry loop.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/slab.h>
#include <linux/sched/signal.h>
#include <linux/jiffies.h>
#include "fs.h"

/* Most request pieces: header struct, path, name2, data. */
#define DG_REQ_KVECS	(3 + DG_FS_IO_PAGES + 1)
/*
 * disagg_net sends at most this many request pieces in one call (its
 * DG_CALL_MAX_VEC); with more, the data pieces are copied into one.
 */
#define DG_NET_MAX_VEC	8

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

/**
 * dg_fs_call - send one storage request, retrying while the node is away
 * @sbi: the mount
 * @call: the request; @call->rsp_len and @call->retried are set
 *
 * Hard mounts retry for ever when the connection is down or a reply does
 * not come (only a fatal signal or umount -f ends it); soft mounts give up
 * with -EIO after the timeo mount option. The node is stateless, so a
 * resent request means the same; callers of non-idempotent operations look
 * at @call->retried to judge an EEXIST or ENOENT.
 *
 * Context: process context, may sleep.
 * Return: 0, the node's error negated, -EIO (soft timeout, bad reply or
 * umount -f), -EINTR (fatal signal), -ENAMETOOLONG, -EFBIG.
 */
int dg_fs_call(struct dg_sb_info *sbi, struct dg_fs_call *call)
{
	struct kvec iov[DG_REQ_KVECS];
	unsigned long deadline = jiffies + sbi->opts.timeo;
	int gen = atomic_read(&sbi->abort_gen);
	char *bounce = NULL;
	unsigned int n = 0, i;
	size_t data_len = 0;
	int err;

	if (call->path->len < 1 || call->path->len > DG_FS_PATH_MAX ||
	    call->name2_len > DG_FS_PATH_MAX)
		return -ENAMETOOLONG;
	if (call->nr_data > DG_FS_IO_PAGES + 1)
		return -EFBIG;
	for (i = 0; i < call->nr_data; i++)
		data_len += call->data[i].iov_len;
	if (sizeof(struct dg_hdr) + sizeof(call->req) + call->path->len +
	    call->name2_len + data_len > DG_FS_MSG_MAX)
		return -EFBIG;

	call->req.path_len = cpu_to_le32(call->path->len);
	call->req.name2_len = cpu_to_le32(call->name2_len);
	call->req.data_len = cpu_to_le32(data_len);
	iov[n].iov_base = &call->req;
	iov[n++].iov_len = sizeof(call->req);
	iov[n].iov_base = (void *)call->path->name;
	iov[n++].iov_len = call->path->len;
	if (call->name2_len) {
		iov[n].iov_base = (void *)call->name2;
		iov[n++].iov_len = call->name2_len;
	}
	if (n + call->nr_data <= DG_NET_MAX_VEC) {
		for (i = 0; i < call->nr_data; i++)
			iov[n++] = call->data[i];
	} else {
		size_t off = 0;

		bounce = kvmalloc(data_len, GFP_KERNEL);
		if (!bounce)
			return -ENOMEM;
		for (i = 0; i < call->nr_data; i++) {
			memcpy(bounce + off, call->data[i].iov_base,
			       call->data[i].iov_len);
			off += call->data[i].iov_len;
		}
		iov[n].iov_base = bounce;
		iov[n++].iov_len = data_len;
	}

	call->retried = false;
	for (;;) {
		call->rsp_len = 0;
		err = dg_callv(sbi->conn, call->op, iov, n, call->rsp,
			       call->nr_rsp, &call->rsp_len);
		if (!dg_conn_error(err))
			break;
		err = dg_wait_conn(sbi, deadline, gen);
		if (err)
			goto out;
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
out:
	kvfree(bounce);
	return err;
}

/**
 * dg_path_get - the path of a dentry from the mount root
 * @dentry: the dentry
 * @p: filled in; release with dg_path_put()
 *
 * dentry_path_raw() walks the parents under rename_lock (retrying if a
 * rename ran meanwhile), so a concurrent rename cannot tear the path.
 *
 * Context: process context, may sleep.
 * Return: 0, -ENOMEM, -ENAMETOOLONG.
 */
int dg_path_get(struct dentry *dentry, struct dg_path *p)
{
	char *s;

	p->buf = __getname();
	if (!p->buf)
		return -ENOMEM;
	s = dentry_path_raw(dentry, p->buf, PATH_MAX);
	if (IS_ERR(s)) {
		__putname(p->buf);
		p->buf = NULL;
		return PTR_ERR(s);
	}
	while (*s == '/')
		s++;
	if (!*s) {
		p->name = ".";
		p->len = 1;
	} else {
		p->name = s;
		p->len = strlen(s);
	}
	return 0;
}

/**
 * dg_path_get_io - the path of an open file's dentry, for data and attributes
 * @dentry: the dentry
 * @p: as dg_path_get()
 *
 * An unhashed dentry (its name was unlinked or renamed over without a
 * silly rename) no longer names the file on the node: its old path might
 * now be another file's, so this refuses it.
 *
 * Return: as dg_path_get(), or -ESTALE.
 */
int dg_path_get_io(struct dentry *dentry, struct dg_path *p)
{
	if (!IS_ROOT(dentry) && d_unhashed(dentry) &&
	    !(READ_ONCE(dentry->d_flags) & DCACHE_NFSFS_RENAMED))
		return -ESTALE;
	return dg_path_get(dentry, p);
}

/**
 * dg_path_put - release a path from dg_path_get()
 * @p: the path
 */
void dg_path_put(struct dg_path *p)
{
	if (p->buf)
		__putname(p->buf);
	p->buf = NULL;
}

/**
 * dg_inode_io_path - a path for I/O on an inode
 * @inode: the inode
 * @file: an open file of it, or NULL
 * @p: as dg_path_get()
 *
 * Writeback and readahead may come without a file: then any hashed alias
 * of the inode names it.
 *
 * Return: as dg_path_get_io().
 */
int dg_inode_io_path(struct inode *inode, struct file *file, struct dg_path *p)
{
	struct dentry *d;
	int err;

	if (file)
		return dg_path_get_io(file_dentry(file), p);
	d = d_find_alias(inode);
	if (!d)
		return -ESTALE;
	err = dg_path_get_io(d, p);
	dput(d);
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
