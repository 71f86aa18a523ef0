// SPDX-License-Identifier: GPL-2.0
/*
 * disaggfs: inodes, attributes and their cache, getattr and setattr.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/slab.h>
#include <linux/pagemap.h>
#include <linux/jiffies.h>
#include <linux/cred.h>
#include <linux/kdev_t.h>
#include "fs.h"

/**
 * dg_attr_check - validate attributes from the node
 * @attr: as received
 *
 * Return: 0, or -EIO for a file type we do not know, a size beyond what
 * a loff_t holds or nanoseconds out of range.
 */
/**
 * dg_attr_mode - the mode a file of the node has here
 * @sb: the mount
 * @attr: checked attributes
 *
 * Unless the mount has trust_setid, a regular file shows without its
 * set-user-ID bit and without a set-group-ID bit that means
 * set-group-ID-on-execution (with group execute): neither 6.1 nor 6.12
 * has a superblock flag for nosuid (mnt_may_suid() looks at the
 * vfsmount's MNT_NOSUID only, which mount(8) takes for itself), so the
 * bits never reach the inode and exec cannot honour them.
 *
 * Return: type and permission bits.
 */
umode_t dg_attr_mode(struct super_block *sb, const struct dg_fs_attr *attr)
{
	umode_t mode = le32_to_cpu(attr->mode);

	if (DG_SB(sb)->opts.trust_setid || !S_ISREG(mode))
		return mode;
	mode &= ~S_ISUID;
	if (mode & S_IXGRP)
		mode &= ~S_ISGID;
	return mode;
}

int dg_attr_check(const struct dg_fs_attr *attr)
{
	umode_t mode = le32_to_cpu(attr->mode);

	switch (mode & S_IFMT) {
	case S_IFREG: case S_IFDIR: case S_IFLNK: case S_IFCHR:
	case S_IFBLK: case S_IFIFO: case S_IFSOCK:
		break;
	default:
		return -EIO;
	}
	if (le32_to_cpu(attr->mode) & ~(S_IFMT | 07777))
		return -EIO;
	if (le64_to_cpu(attr->size) > LLONG_MAX ||
	    le32_to_cpu(attr->atime_nsec) >= NSEC_PER_SEC ||
	    le32_to_cpu(attr->mtime_nsec) >= NSEC_PER_SEC ||
	    le32_to_cpu(attr->ctime_nsec) >= NSEC_PER_SEC)
		return -EIO;
	return 0;
}

static struct timespec64 dg_ts(__le64 sec, __le32 nsec)
{
	struct timespec64 ts = {
		.tv_sec = (s64)le64_to_cpu(sec),
		.tv_nsec = le32_to_cpu(nsec),
	};
	return ts;
}

static void dg_attr_timeo_bounds(struct inode *inode, unsigned long *min,
				 unsigned long *max)
{
	struct dg_fs_opts *o = &DG_SB(inode->i_sb)->opts;

	if (S_ISDIR(inode->i_mode)) {
		*min = o->acdirmin;
		*max = o->acdirmax;
	} else {
		*min = o->acregmin;
		*max = o->acregmax;
	}
}

static bool dg_has_dirty_data(struct inode *inode)
{
	struct address_space *m = inode->i_mapping;

	return S_ISREG(inode->i_mode) &&
	       (mapping_tagged(m, PAGECACHE_TAG_DIRTY) ||
		mapping_tagged(m, PAGECACHE_TAG_WRITEBACK));
}

static void __dg_refresh_inode(struct inode *inode,
			       const struct dg_fs_attr *attr, bool ours,
			       bool write)
{
	struct dg_inode *di = DG_I(inode);
	struct timespec64 mtime = dg_ts(attr->mtime_sec, attr->mtime_nsec);
	loff_t size = le64_to_cpu(attr->size);
	unsigned long min, max;
	bool changed;

	dg_attr_timeo_bounds(inode, &min, &max);
	spin_lock(&inode->i_lock);
	/*
	 * Replies to WRITEs in flight together come back in any order: one
	 * older than the attributes we have would roll them back.
	 */
	if (write && (size < di->cache_size ||
		      timespec64_compare(&mtime, &di->cache_mtime) < 0)) {
		spin_unlock(&inode->i_lock);
		return;
	}
	changed = !timespec64_equal(&mtime, &di->cache_mtime) ||
		  size != di->cache_size;
	if (changed && !ours && S_ISREG(inode->i_mode))
		set_bit(DG_INO_INVALID_DATA, &di->flags);
	di->cache_mtime = mtime;
	di->cache_size = size;
	if (changed || !di->attr_timeo)
		di->attr_timeo = min;
	else
		di->attr_timeo = min(di->attr_timeo * 2, max);
	di->attr_time = jiffies;
	clear_bit(DG_INO_STALE_ATTR, &di->flags);

	inode->i_mode = (inode->i_mode & S_IFMT) |
			(dg_attr_mode(inode->i_sb, attr) & 07777);
	i_uid_write(inode, le32_to_cpu(attr->uid));
	i_gid_write(inode, le32_to_cpu(attr->gid));
	set_nlink(inode, le32_to_cpu(attr->nlink));
	dg_inode_set_times(inode, dg_ts(attr->atime_sec, attr->atime_nsec),
			   mtime, dg_ts(attr->ctime_sec, attr->ctime_nsec));
	inode->i_blocks = le64_to_cpu(attr->blocks);
	if (!dg_has_dirty_data(inode) || size > i_size_read(inode))
		i_size_write(inode, size);
	spin_unlock(&inode->i_lock);
}

/**
 * dg_refresh_inode - take attributes from the node into an inode
 * @inode: the inode
 * @attr: checked attributes of the same file
 * @ours: they come from our own change (WRITE, SETATTR): the page cache
 *	stays valid; otherwise a changed mtime or size means another client
 *	wrote and the cache is marked for invalidation
 *
 * While dirty pages wait to be written or are being written, the local
 * size wins when larger.
 *
 * Context: any process context.
 */
void dg_refresh_inode(struct inode *inode, const struct dg_fs_attr *attr,
		      bool ours)
{
	__dg_refresh_inode(inode, attr, ours, false);
}

/**
 * dg_refresh_inode_write - take the attributes of a WRITE's reply
 * @inode: the inode
 * @attr: checked attributes of the same file
 *
 * As dg_refresh_inode() with @ours, except that a reply whose size or
 * mtime is older than the attributes we hold is ignored: several WRITEs
 * of one file are in flight at once and their replies may come back in
 * any order. If another client truncated the file meanwhile, the next
 * GETATTR sees it.
 *
 * Context: any process context.
 */
void dg_refresh_inode_write(struct inode *inode, const struct dg_fs_attr *attr)
{
	__dg_refresh_inode(inode, attr, true, true);
}

/**
 * dg_attr_expired - whether an inode's attributes must be asked for again
 * @inode: the inode
 *
 * Return: true with noac, after DG_INO_STALE_ATTR, or after the adaptive
 * timeout (acregmin..acregmax, acdirmin..acdirmax).
 */
bool dg_attr_expired(struct inode *inode)
{
	struct dg_inode *di = DG_I(inode);

	if (DG_SB(inode->i_sb)->opts.noac ||
	    test_bit(DG_INO_STALE_ATTR, &di->flags))
		return true;
	return time_after(jiffies, READ_ONCE(di->attr_time) +
				   READ_ONCE(di->attr_timeo));
}

/**
 * dg_attr_same - whether checked attributes describe this inode
 * @inode: the inode
 * @attr: attributes that passed dg_attr_check()
 *
 * Return: true when the node's (dev, ino) and the file type match.
 */
bool dg_attr_same(struct inode *inode, const struct dg_fs_attr *attr)
{
	struct dg_inode *di = DG_I(inode);

	return le64_to_cpu(attr->ino) == di->ino &&
	       le64_to_cpu(attr->dev) == di->dev &&
	       (le32_to_cpu(attr->mode) & S_IFMT) == (inode->i_mode & S_IFMT);
}

/**
 * dg_refresh_other - take attributes a reply carried for an inode besides
 *	the one asked about (a directory after a create, a renamed file)
 * @inode: the inode
 * @attr: the attributes as received (not yet checked)
 *
 * Attributes that do not pass dg_attr_check() or describe another file
 * (renamed over by another client meanwhile) make the next look ask the
 * node, as before entry replies.
 */
void dg_refresh_other(struct inode *inode, const struct dg_fs_attr *attr)
{
	if (dg_attr_check(attr) || !dg_attr_same(inode, attr)) {
		dg_invalidate_attr(inode);
		return;
	}
	dg_refresh_inode(inode, attr, false);
}

/**
 * dg_invalidate_attr - make the next look at the attributes ask the node
 * @inode: the inode
 */
void dg_invalidate_attr(struct inode *inode)
{
	set_bit(DG_INO_STALE_ATTR, &DG_I(inode)->flags);
}

/**
 * dg_revalidate_inode - fetch attributes if they expired
 * @dentry: a dentry of the inode
 * @force: fetch even if fresh (close-to-open)
 *
 * Return: 0, -ESTALE when the path now names another file, or an error.
 */
int dg_revalidate_inode(struct dentry *dentry, bool force)
{
	struct inode *inode = d_inode(dentry);
	struct dg_inode *di = DG_I(inode);
	struct dg_fs_attr attr;
	struct dg_path p;
	int err;

	if (!force && !dg_attr_expired(inode))
		return 0;
	err = dg_path_get_io(dentry, &p);
	if (err)
		return err;
	dg_advise_rdplus(dentry);
	err = dg_getattr_path(inode->i_sb, &p, &attr);
	dg_path_put(&p);
	if (err)
		return err;
	if (le64_to_cpu(attr.ino) != di->ino ||
	    le64_to_cpu(attr.dev) != di->dev ||
	    (le32_to_cpu(attr.mode) & S_IFMT) != (inode->i_mode & S_IFMT)) {
		dg_invalidate_attr(inode);
		return -ESTALE;
	}
	dg_refresh_inode(inode, &attr, false);
	return 0;
}

/**
 * dg_revalidate_mapping - drop the page cache if another client changed
 *	the file
 * @inode: a regular file
 *
 * Dirty pages are written back first, so our own changes are not lost.
 *
 * Context: process context, no page locks held.
 * Return: 0 or a negative errno.
 */
int dg_revalidate_mapping(struct inode *inode)
{
	struct dg_inode *di = DG_I(inode);
	int err;

	if (!test_bit(DG_INO_INVALID_DATA, &di->flags))
		return 0;
	err = filemap_write_and_wait(inode->i_mapping);
	if (err)
		return err;
	if (!test_and_clear_bit(DG_INO_INVALID_DATA, &di->flags))
		return 0;
	err = invalidate_inode_pages2(inode->i_mapping);
	if (err)
		set_bit(DG_INO_INVALID_DATA, &di->flags);
	return err;
}

static int dg_inode_test(struct inode *inode, void *data)
{
	const struct dg_fs_attr *attr = data;
	struct dg_inode *di = DG_I(inode);

	return di->ino == le64_to_cpu(attr->ino) &&
	       di->dev == le64_to_cpu(attr->dev) &&
	       (inode->i_mode & S_IFMT) == (le32_to_cpu(attr->mode) & S_IFMT);
}

static int dg_inode_set(struct inode *inode, void *data)
{
	const struct dg_fs_attr *attr = data;
	struct dg_inode *di = DG_I(inode);

	di->ino = le64_to_cpu(attr->ino);
	di->dev = le64_to_cpu(attr->dev);
	inode->i_ino = di->ino;
	inode->i_mode = le32_to_cpu(attr->mode) & S_IFMT;
	return 0;
}

static void dg_init_inode(struct inode *inode, const struct dg_fs_attr *attr)
{
	struct dg_inode *di = DG_I(inode);
	umode_t mode = inode->i_mode;

	/* The node keeps the times; the VFS must not set them locally. */
	inode->i_flags |= S_NOATIME | S_NOCMTIME;
	di->cache_mtime = dg_ts(attr->mtime_sec, attr->mtime_nsec);
	di->cache_size = le64_to_cpu(attr->size);
	if (S_ISREG(mode)) {
		inode->i_op = &dg_file_iops;
		inode->i_fop = &dg_file_fops;
		inode->i_mapping->a_ops = &dg_aops;
	} else if (S_ISDIR(mode)) {
		inode->i_op = &dg_dir_iops;
		inode->i_fop = &dg_dir_fops;
	} else if (S_ISLNK(mode)) {
		inode->i_op = &dg_symlink_iops;
	} else {
		inode->i_op = &dg_special_iops;
		init_special_inode(inode, mode,
				   new_decode_dev(le32_to_cpu(attr->rdev)));
	}
	dg_refresh_inode(inode, attr, true);
}

/**
 * dg_iget - the inode of a file the node described
 * @sb: the filesystem
 * @attr: its attributes, checked with dg_attr_check()
 *
 * Inodes are keyed by the node's (dev, ino) and file type; an inode
 * already cached has its attributes refreshed.
 *
 * Return: a referenced inode or an ERR_PTR().
 */
struct inode *dg_iget(struct super_block *sb, const struct dg_fs_attr *attr)
{
	u64 ino = le64_to_cpu(attr->ino), dev = le64_to_cpu(attr->dev);
	unsigned long hash = (unsigned long)(ino ^ (dev << 17) ^ (dev >> 47));
	struct inode *inode;

	inode = iget5_locked(sb, hash, dg_inode_test, dg_inode_set,
			     (void *)attr);
	if (!inode)
		return ERR_PTR(-ENOMEM);
	if (inode->i_state & I_NEW) {
		dg_init_inode(inode, attr);
		unlock_new_inode(inode);
	} else {
		dg_refresh_inode(inode, attr, false);
	}
	return inode;
}

/**
 * dg_getattr - stat
 * @idmap: the mount's idmap
 * @path: what to describe
 * @stat: filled in
 * @request_mask: STATX_* wanted
 * @flags: AT_STATX_* sync flags
 *
 * Dirty pages are written back first so that size and times are the
 * node's; attributes are fetched when their cache timed out.
 *
 * Return: 0 or a negative errno.
 */
int dg_getattr(DG_IDMAP *idmap, const struct path *path,
	       struct kstat *stat, u32 request_mask, unsigned int flags)
{
	struct dentry *dentry = path->dentry;
	struct inode *inode = d_inode(dentry);
	unsigned int sync = flags & AT_STATX_SYNC_TYPE;
	int err;

	if (sync != AT_STATX_DONT_SYNC) {
		if (S_ISREG(inode->i_mode) && dg_has_dirty_data(inode)) {
			err = filemap_write_and_wait(inode->i_mapping);
			if (err)
				return err;
		}
		err = dg_revalidate_inode(dentry,
					  sync == AT_STATX_FORCE_SYNC);
		if (err)
			return err;
	}
	dg_fillattr(idmap, request_mask, inode, stat);
	stat->blksize = DG_FS_IO_MAX;
	return 0;
}

/**
 * dg_setattr - chmod, chown, utimes, truncate
 * @idmap: the mount's idmap
 * @dentry: the file
 * @ia: what to change
 *
 * Permission checks are ours (setattr_prepare()); the node applies the
 * change and returns the new attributes. A truncate writes dirty pages
 * back first and then cuts the page cache.
 *
 * Return: 0 or a negative errno.
 */
int dg_setattr(DG_IDMAP *idmap, struct dentry *dentry, struct iattr *ia)
{
	struct inode *inode = d_inode(dentry);
	struct dg_fs_attr attr;
	struct kvec rsp = { .iov_base = &attr, .iov_len = sizeof(attr) };
	struct dg_fs_call call = {
		.op = DG_OP_FS_SETATTR, .rsp = &rsp, .nr_rsp = 1,
	};
	struct dg_fs_req *r = &call.req;
	struct dg_path p;
	u32 valid = 0;
	int err;

	err = setattr_prepare(idmap, dentry, ia);
	if (err)
		return err;
	if (ia->ia_valid & ATTR_MODE) {
		valid |= DG_FS_SET_MODE;
		r->mode = cpu_to_le32(ia->ia_mode & 07777);
	}
	if (ia->ia_valid & ATTR_UID) {
		valid |= DG_FS_SET_UID;
		r->uid = cpu_to_le32(from_kuid(&init_user_ns,
					       from_vfsuid(idmap, i_user_ns(inode),
							   ia->ia_vfsuid)));
	}
	if (ia->ia_valid & ATTR_GID) {
		valid |= DG_FS_SET_GID;
		r->gid = cpu_to_le32(from_kgid(&init_user_ns,
					       from_vfsgid(idmap, i_user_ns(inode),
							   ia->ia_vfsgid)));
	}
	if (ia->ia_valid & ATTR_ATIME) {
		if (ia->ia_valid & ATTR_ATIME_SET) {
			valid |= DG_FS_SET_ATIME;
			r->atime_sec = cpu_to_le64(ia->ia_atime.tv_sec);
			r->atime_nsec = cpu_to_le32(ia->ia_atime.tv_nsec);
		} else {
			valid |= DG_FS_SET_ATIME_NOW;
		}
	}
	if (ia->ia_valid & ATTR_MTIME) {
		if (ia->ia_valid & ATTR_MTIME_SET) {
			valid |= DG_FS_SET_MTIME;
			r->mtime_sec = cpu_to_le64(ia->ia_mtime.tv_sec);
			r->mtime_nsec = cpu_to_le32(ia->ia_mtime.tv_nsec);
		} else {
			valid |= DG_FS_SET_MTIME_NOW;
		}
	}
	if (ia->ia_valid & ATTR_SIZE) {
		if (!S_ISREG(inode->i_mode))
			return S_ISDIR(inode->i_mode) ? -EISDIR : -EINVAL;
		valid |= DG_FS_SET_SIZE;
		r->offset = cpu_to_le64(ia->ia_size);
		err = filemap_write_and_wait(inode->i_mapping);
		if (err)
			return err;
	}
	if (!valid)
		return 0;
	r->valid = cpu_to_le32(valid);

	err = dg_path_get_io(dentry, &p);
	if (err)
		return err;
	call.path = &p;
	err = dg_fs_call(DG_SB(inode->i_sb), &call);
	dg_path_put(&p);
	if (!err && call.rsp_len != sizeof(attr))
		err = -EIO;
	if (!err)
		err = dg_attr_check(&attr);
	if (err) {
		dg_invalidate_attr(inode);
		return err;
	}
	if (ia->ia_valid & ATTR_SIZE)
		truncate_setsize(inode, ia->ia_size);
	dg_refresh_inode(inode, &attr, true);
	return 0;
}

static const char *dg_get_link(struct dentry *dentry, struct inode *inode,
			       struct delayed_call *done)
{
	struct kvec rsp;
	struct dg_fs_call call = {
		.op = DG_OP_FS_READLINK, .rsp = &rsp, .nr_rsp = 1,
	};
	struct dg_path p;
	char *buf;
	int err;

	if (!dentry)
		return ERR_PTR(-ECHILD);
	buf = kmalloc(PATH_MAX, GFP_KERNEL);
	if (!buf)
		return ERR_PTR(-ENOMEM);
	dg_path_get(dentry, &p);
	rsp.iov_base = buf;
	rsp.iov_len = PATH_MAX - 1;
	call.path = &p;
	err = dg_fs_call(DG_SB(inode->i_sb), &call);
	dg_path_put(&p);
	if (err)
		goto fail;
	if (!call.rsp_len || call.rsp_len > PATH_MAX - 1 ||
	    memchr(buf, 0, call.rsp_len)) {
		err = -EIO;
		goto fail;
	}
	buf[call.rsp_len] = 0;
	set_delayed_call(done, kfree_link, buf);
	return buf;
fail:
	kfree(buf);
	return ERR_PTR(err);
}

const struct inode_operations dg_file_iops = {
	.getattr	= dg_getattr,
	.setattr	= dg_setattr,
	.listxattr	= dg_listxattr,
};

const struct inode_operations dg_symlink_iops = {
	.get_link	= dg_get_link,
	.getattr	= dg_getattr,
	.setattr	= dg_setattr,
	.listxattr	= dg_listxattr,
};

const struct inode_operations dg_special_iops = {
	.getattr	= dg_getattr,
	.setattr	= dg_setattr,
	.listxattr	= dg_listxattr,
};
