// SPDX-License-Identifier: GPL-2.0
/*
 * disaggfs: names. Lookup, create, mkdir, mknod, symlink, link, unlink
 * (with silly rename), rmdir, rename, readdir, and dentry revalidation.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/slab.h>
#include <linux/namei.h>
#include <linux/cred.h>
#include <linux/kdev_t.h>
#include <linux/jiffies.h>
#include <linux/mm.h>
#include "fs.h"

/*
 * Directory positions. Entries sit at the node's cookies; '.' at 0, and
 * three positions at the top of the range no filesystem we know hands out
 * stand for "'..' next", "the node's first entry next" and "the node said
 * end of directory after the last entry emitted" (so the getdents() that
 * follows a complete listing asks the node nothing).
 */
#define DG_POS_DOTDOT	(LLONG_MAX - 1)
#define DG_POS_START	(LLONG_MAX - 2)
#define DG_POS_EOF	(LLONG_MAX - 3)

#define DG_SILLY_PREFIX	".disaggfs-"

static bool dg_is_silly(const struct dentry *dentry)
{
	return READ_ONCE(dentry->d_flags) & DCACHE_NFSFS_RENAMED;
}

/*
 * Give a new object's dentry its inode. An exclusive create's dentry was
 * left unhashed by dg_lookup(): hash it now.
 */
static void dg_d_add(struct dentry *dentry, struct inode *inode)
{
	if (d_unhashed(dentry))
		d_add(dentry, inode);
	else
		d_instantiate(dentry, inode);
}

/* The attributes that came back, into an inode for @dentry. */
static int dg_instantiate(struct dentry *dentry, const struct dg_fs_attr *attr)
{
	struct inode *inode;
	int err;

	err = dg_attr_check(attr);
	if (err)
		return err;
	inode = dg_iget(dentry->d_sb, attr);
	if (IS_ERR(inode))
		return PTR_ERR(inode);
	dg_d_add(dentry, inode);
	return 0;
}

/*
 * Create something named @dentry in @dir. A retried request that failed
 * with EEXIST probably met the object our first attempt made (the reply
 * was lost): like NFS, take it if it has the type we asked for.
 */
static int dg_make(struct inode *dir, struct dentry *dentry,
		   struct dg_fs_call *call, umode_t type)
{
	struct dg_fs_entry_reply e;
	struct dg_fs_attr attr;
	struct kvec rsp = { .iov_base = &e, .iov_len = sizeof(e) };
	struct dg_path p;
	int err;

	if (dentry->d_name.len > NAME_MAX)
		return -ENAMETOOLONG;
	dg_path_get(dentry, &p);
	call->path = &p;
	call->rsp = &rsp;
	call->nr_rsp = 1;
	err = dg_fs_call(DG_SB(dir->i_sb), call);
	if (err == -EEXIST && call->retried) {
		err = dg_getattr_path(dir->i_sb, &p, &e.attr);
		if (!err && (le32_to_cpu(e.attr.mode) & S_IFMT) != type)
			err = -EEXIST;
		call->rsp_len = sizeof(attr);
	}
	dg_path_put(&p);
	/* With DG_FEAT_FSATTR the directory's attributes came along. */
	if (!err && call->rsp_len == sizeof(e))
		dg_refresh_other(dir, &e.dir);
	else
		dg_invalidate_attr(dir);
	if (err)
		return err;
	if (call->rsp_len != sizeof(attr) && call->rsp_len != sizeof(e))
		return -EIO;
	attr = e.attr;
	if ((le32_to_cpu(attr.mode) & S_IFMT) != type)
		return -EIO;
	return dg_instantiate(dentry, &attr);
}

static int dg_create(DG_IDMAP *idmap, struct inode *dir, struct dentry *dentry,
		     umode_t mode, bool excl)
{
	struct dg_fs_call call = { .op = DG_OP_FS_CREATE };
	int err;

	call.req.mode = cpu_to_le32(mode);
	if (excl)
		call.req.flags = cpu_to_le32(DG_FS_CREATE_EXCL);
	err = dg_make(dir, dentry, &call, S_IFREG);
	/* The open that follows needs no GETATTR of its own. */
	if (!err)
		set_bit(DG_INO_CREATED, &DG_I(d_inode(dentry))->flags);
	return err;
}

static int dg_mkdir(DG_IDMAP *idmap, struct inode *dir, struct dentry *dentry,
		    umode_t mode)
{
	struct dg_fs_call call = { .op = DG_OP_FS_MKDIR };

	mode |= S_IFDIR;
	call.req.mode = cpu_to_le32(mode);
	return dg_make(dir, dentry, &call, S_IFDIR);
}

static int dg_mknod(DG_IDMAP *idmap, struct inode *dir, struct dentry *dentry,
		    umode_t mode, dev_t rdev)
{
	struct dg_fs_call call = { .op = DG_OP_FS_MKNOD };

	call.req.mode = cpu_to_le32(mode);
	call.req.rdev = cpu_to_le32(new_encode_dev(rdev));
	return dg_make(dir, dentry, &call, mode & S_IFMT);
}

static int dg_symlink(DG_IDMAP *idmap, struct inode *dir,
		      struct dentry *dentry, const char *target)
{
	struct dg_fs_call call = { .op = DG_OP_FS_SYMLINK };
	size_t len = strlen(target);
	umode_t mode = S_IFLNK | 0777;

	if (!len)
		return -ENOENT;
	if (len > DG_FS_PATH_MAX)
		return -ENAMETOOLONG;
	call.req.mode = cpu_to_le32(mode);
	call.name2 = target;
	call.name2_len = len;
	return dg_make(dir, dentry, &call, S_IFLNK);
}

static int dg_link(struct dentry *old_dentry, struct inode *dir,
		   struct dentry *dentry)
{
	struct inode *inode = d_inode(old_dentry);
	struct dg_fs_entry_reply e;
	struct dg_fs_attr *attr = &e.attr;
	struct kvec rsp = { .iov_base = &e, .iov_len = sizeof(e) };
	struct dg_fs_call call = {
		.op = DG_OP_FS_LINK, .rsp = &rsp, .nr_rsp = 1,
	};
	struct dg_path oldp, newp;
	int err;

	if (dentry->d_name.len > NAME_MAX)
		return -ENAMETOOLONG;
	err = dg_path_get_io(old_dentry, &oldp);
	if (err)
		return err;
	dg_path_get(dentry, &newp);
	call.path = &oldp;
	call.path2 = &newp;
	err = dg_fs_call(DG_SB(dir->i_sb), &call);
	if (err == -EEXIST && call.retried) {
		/* Ours if the new name is the same file. */
		err = dg_getattr_path(dir->i_sb, &newp, attr);
		if (!err && le64_to_cpu(attr->ino) != DG_I(inode)->ino)
			err = -EEXIST;
		call.rsp_len = sizeof(*attr);
	}
	dg_path_put(&newp);
	if (!err && call.rsp_len == sizeof(e))
		dg_refresh_other(dir, &e.dir);
	else
		dg_invalidate_attr(dir);
	if (!err && call.rsp_len != sizeof(*attr) && call.rsp_len != sizeof(e))
		err = -EIO;
	if (!err)
		err = dg_attr_check(attr);
	if (!err && (le64_to_cpu(attr->ino) != DG_I(inode)->ino ||
		     le64_to_cpu(attr->dev) != DG_I(inode)->dev))
		err = -EIO;
	if (!err) {
		dg_refresh_inode(inode, attr, false);
		ihold(inode);
		dg_d_add(dentry, inode);
	}
	dg_path_put(&oldp);
	return err;
}

/*
 * UNLINK or RMDIR of @dentry in @dir. With DG_FEAT_RMATTR the reply is an
 * entry reply carrying the directory's attributes after the change, so
 * the next path walk through @dir asks the node nothing; an empty reply
 * (an older node) leaves them to be fetched again.
 */
static int dg_remove(struct inode *dir, struct dentry *dentry, u16 op)
{
	struct dg_fs_entry_reply e;
	struct kvec rsp = { .iov_base = &e, .iov_len = sizeof(e) };
	struct dg_fs_call call = {
		.op = op, .rsp = &rsp, .nr_rsp = 1,
	};
	struct dg_path p;
	int err;

	dg_path_get(dentry, &p);
	call.path = &p;
	err = dg_fs_call(DG_SB(dir->i_sb), &call);
	dg_path_put(&p);
	/* A lost reply: the first attempt removed it. */
	if (err == -ENOENT && call.retried) {
		err = 0;
		call.rsp_len = 0;
	}
	if (!err && call.rsp_len == sizeof(e))
		dg_refresh_other(dir, &e.dir);
	else
		dg_invalidate_attr(dir);
	if (!err && call.rsp_len && call.rsp_len != sizeof(e))
		err = -EIO;	/* removed, but the node speaks nonsense */
	return err;
}

/*
 * Unlinking a file that is still open would leave its open files without
 * a path on the node, so like NFS we rename it to a hidden name in the
 * same directory instead and unlink that when the last user lets go of
 * the dentry (dg_d_iput()).
 */
static int dg_sillyrename(struct inode *dir, struct dentry *dentry)
{
	struct dg_sb_info *sbi = DG_SB(dir->i_sb);
	/* The reply's attributes (DG_FEAT_FSATTR) go unused: all is stale. */
	struct dg_fs_entry_reply e;
	struct kvec rsp = { .iov_base = &e, .iov_len = sizeof(e) };
	struct dg_fs_call call = {
		.op = DG_OP_FS_RENAME, .rsp = &rsp, .nr_rsp = 1,
	};
	struct dentry *sdentry;
	struct dg_path oldp, newp;
	char name[sizeof(DG_SILLY_PREFIX) + 24];
	int err, tries;

	if (dg_is_silly(dentry))
		return -EBUSY;
	for (tries = 0; tries < 16; tries++) {
		snprintf(name, sizeof(name), DG_SILLY_PREFIX "%016llx%08x",
			 DG_I(d_inode(dentry))->ino,
			 (u32)atomic_inc_return(&sbi->silly_seq));
		sdentry = lookup_one_len(name, dentry->d_parent, strlen(name));
		if (IS_ERR(sdentry))
			return PTR_ERR(sdentry);
		if (d_really_is_negative(sdentry))
			break;
		dput(sdentry);
		sdentry = NULL;
	}
	if (!sdentry)
		return -EBUSY;

	dg_path_get(dentry, &oldp);
	dg_path_get(sdentry, &newp);
	call.path = &oldp;
	call.path2 = &newp;
	call.req.flags = cpu_to_le32(DG_FS_RENAME_NOREPLACE);
	call.renaming = true;
	dg_rename_lock(sbi);
	err = dg_fs_call(sbi, &call);
	if (err == -ENOENT && call.retried)
		err = 0;
	if (!err) {
		/*
		 * The UNLINK at the last close acts for who unlinked, not
		 * for whoever closes last (d_fsdata, put by dg_d_iput()).
		 */
		spin_lock(&dentry->d_lock);
		dentry->d_fsdata = (void *)get_current_cred();
		dentry->d_flags |= DCACHE_NFSFS_RENAMED;
		spin_unlock(&dentry->d_lock);
		d_move(dentry, sdentry);
	}
	up_write(&sbi->rename_sem);
	dg_path_put(&newp);
	dg_path_put(&oldp);
	dg_invalidate_attr(dir);
	if (!err)
		dg_invalidate_attr(d_inode(dentry));
	dput(sdentry);
	return err;
}

static int dg_unlink(struct inode *dir, struct dentry *dentry)
{
	struct inode *inode = d_inode(dentry);
	int err;

	/* Open files hold a reference to their dentry besides ours. */
	if (S_ISREG(inode->i_mode) && atomic_read(&DG_I(inode)->open_count) &&
	    d_count(dentry) > 1)
		return dg_sillyrename(dir, dentry);
	err = dg_remove(dir, dentry, DG_OP_FS_UNLINK);
	if (!err) {
		if (inode->i_nlink)
			drop_nlink(inode);
		dg_invalidate_attr(inode);
	}
	return err;
}

static int dg_rmdir(struct inode *dir, struct dentry *dentry)
{
	int err;

	err = dg_remove(dir, dentry, DG_OP_FS_RMDIR);
	if (!err)
		clear_nlink(d_inode(dentry));
	return err;
}

/*
 * The dentries RENAME_EXCHANGE needs besides its two: negative ones to
 * move them through, since d_exchange() is not exported to modules.
 */
struct dg_xchg {
	struct dentry	*tmp;	/* a free name in a's directory */
	struct dentry	*a_slot;	/* a's name, for b */
	struct dentry	*b_slot;	/* b's name, for a */
};

static void dg_xchg_put(struct dg_xchg *x)
{
	dput(x->tmp);
	dput(x->a_slot);
	dput(x->b_slot);
}

static int dg_xchg_get(struct dentry *a, struct dentry *b, struct dg_xchg *x)
{
	struct dg_sb_info *sbi = DG_SB(a->d_sb);
	char name[sizeof(DG_SILLY_PREFIX) + 16];
	struct dentry *d;
	int tries;

	*x = (struct dg_xchg){};
	for (tries = 0; tries < 16 && !x->tmp; tries++) {
		struct qstr q;

		snprintf(name, sizeof(name), DG_SILLY_PREFIX "x%08x",
			 (u32)atomic_inc_return(&sbi->silly_seq));
		q = (struct qstr)QSTR_INIT(name, strlen(name));
		d = d_hash_and_lookup(a->d_parent, &q);
		if (IS_ERR(d))
			return PTR_ERR(d);
		if (d) {
			dput(d);
			continue;
		}
		x->tmp = d_alloc_name(a->d_parent, name);
		if (!x->tmp)
			return -ENOMEM;
	}
	if (!x->tmp)
		return -EBUSY;
	x->a_slot = d_alloc(a->d_parent, &a->d_name);
	x->b_slot = d_alloc(b->d_parent, &b->d_name);
	if (!x->a_slot || !x->b_slot) {
		dg_xchg_put(x);
		return -ENOMEM;
	}
	return 0;
}

/*
 * d_exchange() by three d_move()s onto negative dentries, as the VFS moves
 * a renamed dentry onto its target. Both directories are locked by the
 * VFS and rename_sem is held for writing: nothing looks in between.
 */
static void dg_xchg_move(struct dentry *a, struct dentry *b, struct dg_xchg *x)
{
	d_add(x->tmp, NULL);
	d_move(a, x->tmp);
	d_add(x->a_slot, NULL);
	d_move(b, x->a_slot);
	d_add(x->b_slot, NULL);
	d_move(a, x->b_slot);
}

static int dg_rename(DG_IDMAP *idmap, struct inode *old_dir,
		     struct dentry *old_dentry, struct inode *new_dir,
		     struct dentry *new_dentry, unsigned int flags)
{
	struct dg_sb_info *sbi = DG_SB(old_dir->i_sb);
	struct inode *target = d_inode(new_dentry);
	struct dg_fs_entry_reply e;
	struct kvec rsp = { .iov_base = &e, .iov_len = sizeof(e) };
	struct dg_fs_call call = {
		.op = DG_OP_FS_RENAME, .rsp = &rsp, .nr_rsp = 1,
	};
	struct dg_path oldp, newp;
	struct dg_xchg xchg;
	bool got_attrs;
	u32 wflags = 0;
	int err;

	if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE))
		return -EINVAL;
	/* A silly-renamed file keeps its hidden name until it is closed. */
	if (dg_is_silly(old_dentry) || dg_is_silly(new_dentry))
		return -EBUSY;
	if (new_dentry->d_name.len > NAME_MAX)
		return -ENAMETOOLONG;
	if (flags & RENAME_NOREPLACE)
		wflags |= DG_FS_RENAME_NOREPLACE;
	if (flags & RENAME_EXCHANGE)
		wflags |= DG_FS_RENAME_EXCHANGE;
	if (flags & RENAME_EXCHANGE) {
		err = dg_xchg_get(old_dentry, new_dentry, &xchg);
		if (err)
			return err;
	}
	dg_path_get(old_dentry, &oldp);
	dg_path_get(new_dentry, &newp);
	call.path = &oldp;
	call.path2 = &newp;
	call.req.flags = cpu_to_le32(wflags);
	call.renaming = true;
	/*
	 * Requests in flight name things by their paths: let them finish
	 * before the node renames, and build no new path until the dcache
	 * agrees with the node (the filesystem type has
	 * FS_RENAME_DOES_D_MOVE).
	 */
	dg_rename_lock(sbi);
	err = dg_fs_call(sbi, &call);
	/* DG_FEAT_FSATTR: the moved file's and both directories' attributes. */
	got_attrs = !err && call.rsp_len == sizeof(e);
	/* A lost reply: the first attempt moved it already. */
	if (err == -ENOENT && call.retried)
		err = 0;
	if (!err) {
		if (flags & RENAME_EXCHANGE)
			dg_xchg_move(old_dentry, new_dentry, &xchg);
		else
			d_move(old_dentry, new_dentry);
	}
	up_write(&sbi->rename_sem);
	if (flags & RENAME_EXCHANGE)
		dg_xchg_put(&xchg);
	dg_path_put(&newp);
	dg_path_put(&oldp);
	if (got_attrs) {
		dg_refresh_other(new_dir, &e.dir);
		if (old_dir != new_dir)
			dg_refresh_other(old_dir, &e.old_dir);
		dg_refresh_other(d_inode(old_dentry), &e.attr);
	} else {
		dg_invalidate_attr(old_dir);
		dg_invalidate_attr(new_dir);
		dg_invalidate_attr(d_inode(old_dentry));
	}
	if (err || !target)
		return err;
	dg_invalidate_attr(target);
	if (!(flags & RENAME_EXCHANGE)) {
		if (S_ISDIR(target->i_mode))
			clear_nlink(target);
		else if (target->i_nlink)
			drop_nlink(target);
	}
	return 0;
}

static struct dentry *dg_lookup(struct inode *dir, struct dentry *dentry,
				unsigned int flags)
{
	struct inode *inode = NULL;
	struct dg_fs_attr attr;
	struct dg_path p;
	int err;

	if (dentry->d_name.len > NAME_MAX)
		return ERR_PTR(-ENAMETOOLONG);
	/*
	 * An exclusive create (O_EXCL, mkdir, mknod, symlink, link) asks the
	 * node anyway and gets EEXIST: like NFS, skip the GETATTR and leave
	 * the dentry unhashed, so a wrong guess is not cached.
	 */
	if ((flags & (LOOKUP_CREATE | LOOKUP_EXCL)) ==
	    (LOOKUP_CREATE | LOOKUP_EXCL))
		return NULL;
	dg_path_get(dentry, &p);
	if (!test_bit(DG_INO_ADVISE_RDPLUS, &DG_I(dir)->flags))
		set_bit(DG_INO_ADVISE_RDPLUS, &DG_I(dir)->flags);
	err = dg_getattr_path(dir->i_sb, &p, &attr);
	dg_path_put(&p);
	dentry->d_time = jiffies;
	if (err == -ENOENT)
		return d_splice_alias(NULL, dentry);
	if (err)
		return ERR_PTR(err);
	inode = dg_iget(dir->i_sb, &attr);
	if (IS_ERR(inode))
		return ERR_CAST(inode);
	return d_splice_alias(inode, dentry);
}

/**
 * dg_advise_rdplus - note that a file's attributes were asked of the node
 * @dentry: the file
 *
 * Called before a GETATTR of @dentry (or a LOOKUP of its name): its
 * directory is being walked file by file, so its next listing asks for
 * the attributes with the names (READDIRPLUS), as NFS's
 * nfs_advise_use_readdirplus() does. A hint: a rename racing with it
 * only advises the wrong directory.
 */
void dg_advise_rdplus(struct dentry *dentry)
{
	struct inode *dir;

	rcu_read_lock();
	dir = d_inode_rcu(READ_ONCE(dentry->d_parent));
	if (dir && dentry != dentry->d_parent && S_ISDIR(dir->i_mode) &&
	    !test_bit(DG_INO_ADVISE_RDPLUS, &DG_I(dir)->flags))
		set_bit(DG_INO_ADVISE_RDPLUS, &DG_I(dir)->flags);
	rcu_read_unlock();
}

/*
 * Whether the next reply of a listing of @file should carry attributes.
 *
 * READDIRPLUS costs the node an lstat per entry and a reply four times
 * the size, and pays only when the entries are then stat'ed (`ls -l`) or
 * opened. As NFS: the first reply of a listing carries them; the rest do
 * when the directory was advised (dg_advise_rdplus()) since the listing
 * before (then the whole listing does: `ls -l` stats after reading all
 * names) or while this one runs. The open file remembers the choice of
 * its listing in ->private_data (getdents holds f_pos_lock).
 */
static bool dg_want_rdplus(struct file *file, u64 cookie)
{
	struct inode *dir = file_inode(file);
	struct dg_sb_info *sbi = DG_SB(dir->i_sb);
	unsigned long *flags = &DG_I(dir)->flags;

	if (sbi->opts.nordirplus || sbi->opts.noac ||
	    test_bit(DG_SB_NO_RDPLUS, &sbi->flags))
		return false;
	if (!cookie) {
		file->private_data = test_and_clear_bit(DG_INO_ADVISE_RDPLUS,
							flags) ?
				     (void *)1UL : NULL;
		return true;
	}
	return file->private_data ||
	       test_and_clear_bit(DG_INO_ADVISE_RDPLUS, flags);
}

/*
 * An entry of a READDIR or READDIRPLUS reply: a name of @nlen bytes (@room
 * bytes left in the reply for it) that is one component, and a cookie
 * that is a position of the node's. -EIO for anything else.
 */
static int dg_dirent_check(const char *name, u32 nlen, u32 room, u64 cookie)
{
	if (!nlen || nlen > NAME_MAX || nlen > room)
		return -EIO;
	if (memchr(name, '/', nlen) || memchr(name, 0, nlen) ||
	    (nlen == 1 && name[0] == '.') ||
	    (nlen == 2 && name[0] == '.' && name[1] == '.'))
		return -EIO;
	if (!cookie || cookie > LLONG_MAX || cookie == DG_POS_DOTDOT ||
	    cookie == DG_POS_START || cookie == DG_POS_EOF)
		return -EIO;
	return 0;
}

/* One READDIR reply into @ctx; *@cookie is where to go on. */
static int dg_emit_entries(struct dir_context *ctx, const char *buf, u32 len,
			   u64 *cookie, bool *eof)
{
	const struct dg_fs_readdir_reply *h = (const void *)buf;
	u32 off = sizeof(*h), nr, i;

	if (len < sizeof(*h))
		return -EIO;
	nr = le32_to_cpu(h->nr);
	*eof = le32_to_cpu(h->eof) != 0;
	if (!nr && !*eof)
		return -EIO;	/* no progress */
	for (i = 0; i < nr; i++) {
		const struct dg_fs_dirent *de = (const void *)(buf + off);
		const char *name = (const char *)(de + 1);
		u32 nlen, reclen;
		u64 c;
		u8 type;

		if (len - off < sizeof(*de))
			return -EIO;
		nlen = le16_to_cpu(de->name_len);
		reclen = round_up(sizeof(*de) + nlen, 8);
		c = le64_to_cpu(de->cookie);
		if (dg_dirent_check(name, nlen, len - off - sizeof(*de), c))
			return -EIO;
		type = de->type;
		if (type > DT_WHT)
			type = DT_UNKNOWN;
		if (!dir_emit(ctx, name, nlen, le64_to_cpu(de->ino), type))
			return 1;
		ctx->pos = c;
		*cookie = c;
		off += min_t(u32, reclen, len - off);
	}
	return 0;
}

/*
 * Prime the dcache with one READDIRPLUS entry, as NFS's readdirplus does:
 * a name not in the dcache gets a dentry and inode from the attributes,
 * a cached one naming the same file has its attributes refreshed, so the
 * stat(2) of `ls -l` that follows asks the node nothing. A cached dentry
 * that is negative or names another file is invalidated and replaced, as
 * FUSE does (once per entry; never a silly-renamed one). The directory's
 * i_rwsem is held shared (iterate_shared): no create, unlink or rename of
 * ours runs in it meanwhile.
 */
static void dg_prime_dentry(struct dentry *parent, const char *name, u32 nlen,
			    const struct dg_fs_attr *attr)
{
	DECLARE_WAIT_QUEUE_HEAD_ONSTACK(wq);
	struct qstr q = QSTR_INIT(name, nlen);
	struct dentry *dentry, *res;
	struct inode *inode;
	bool retried = false;

	if (!attr->mode || dg_attr_check(attr))
		return;	/* gone before the node's lstat, or unusable */
	q.hash = full_name_hash(parent, name, nlen);
	dentry = d_lookup(parent, &q);
	for (;;) {
		if (!dentry)
			dentry = d_alloc_parallel(parent, &q, &wq);
		if (IS_ERR(dentry))
			return;
		if (d_in_lookup(dentry))
			break;
		inode = d_inode(dentry);
		if (inode && dg_attr_same(inode, attr)) {
			dg_refresh_inode(inode, attr, false);
		} else if (!retried && !dg_is_silly(dentry)) {
			/* Negative, or another file now: look again. */
			retried = true;
			d_invalidate(dentry);
			dput(dentry);
			dentry = NULL;
			continue;
		}
		dput(dentry);
		return;
	}
	inode = dg_iget(parent->d_sb, attr);
	if (IS_ERR(inode)) {
		d_lookup_done(dentry);
		dput(dentry);
		return;
	}
	dentry->d_time = jiffies;
	res = d_splice_alias(inode, dentry);
	d_lookup_done(dentry);
	if (!IS_ERR_OR_NULL(res))
		dput(res);
	dput(dentry);
}

/* One READDIRPLUS reply into @ctx and the dcache; as dg_emit_entries(). */
static int dg_emit_plus(struct file *file, struct dir_context *ctx,
			const char *buf, u32 len, u64 *cookie, bool *eof)
{
	const struct dg_fs_readdir_reply *h = (const void *)buf;
	struct dentry *parent = file_dentry(file);
	bool prime = !DG_SB(parent->d_sb)->opts.noac;
	u32 off = sizeof(*h), nr, i;

	if (len < sizeof(*h))
		return -EIO;
	nr = le32_to_cpu(h->nr);
	*eof = le32_to_cpu(h->eof) != 0;
	if (!nr && !*eof)
		return -EIO;	/* no progress */
	for (i = 0; i < nr; i++) {
		const struct dg_fs_direntplus *de = (const void *)(buf + off);
		const char *name = (const char *)(de + 1);
		u32 nlen, reclen;
		u64 c;
		u8 type;

		if (len - off < sizeof(*de))
			return -EIO;
		nlen = le16_to_cpu(de->name_len);
		reclen = round_up(sizeof(*de) + nlen, 8);
		c = le64_to_cpu(de->cookie);
		if (dg_dirent_check(name, nlen, len - off - sizeof(*de), c))
			return -EIO;
		type = de->type;
		if (type > DT_WHT)
			type = DT_UNKNOWN;
		if (prime)
			dg_prime_dentry(parent, name, nlen, &de->attr);
		if (!dir_emit(ctx, name, nlen, le64_to_cpu(de->attr.ino), type))
			return 1;
		ctx->pos = c;
		*cookie = c;
		off += min_t(u32, reclen, len - off);
	}
	return 0;
}

static int dg_readdir(struct file *file, struct dir_context *ctx)
{
	struct inode *dir = file_inode(file);
	struct dg_sb_info *sbi = DG_SB(dir->i_sb);
	struct dg_fs_call call = { .op = DG_OP_FS_READDIR };
	struct dg_path p;
	struct kvec rsp;
	bool eof = false;
	u64 cookie;
	char *buf;
	int err;

	if (ctx->pos == 0) {
		if (!dir_emit_dot(file, ctx))
			return 0;
		ctx->pos = DG_POS_DOTDOT;
	}
	if (ctx->pos == DG_POS_DOTDOT) {
		if (!dir_emit_dotdot(file, ctx))
			return 0;
		ctx->pos = DG_POS_START;
	}
	if (ctx->pos == DG_POS_EOF)
		return 0;
	cookie = ctx->pos == DG_POS_START ? 0 : ctx->pos;

	buf = kvmalloc(DG_FS_IO_MAX, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	err = dg_path_get_io(file_dentry(file), &p);
	if (err)
		goto out;
	rsp.iov_base = buf;
	rsp.iov_len = DG_FS_IO_MAX;
	call.path = &p;
	call.rsp = &rsp;
	call.nr_rsp = 1;
	while (!eof) {
		call.op = dg_want_rdplus(file, cookie) ?
			  DG_OP_FS_READDIRPLUS : DG_OP_FS_READDIR;
		call.req.offset = cpu_to_le64(cookie);
		call.req.count = cpu_to_le32(DG_FS_IO_MAX);
		err = dg_fs_call(sbi, &call);
		/* A node without DG_FEAT_FSATTR: plain READDIR from now on. */
		if (err == -EOPNOTSUPP && call.op == DG_OP_FS_READDIRPLUS) {
			set_bit(DG_SB_NO_RDPLUS, &sbi->flags);
			continue;
		}
		if (err)
			break;
		if (call.op == DG_OP_FS_READDIRPLUS)
			err = dg_emit_plus(file, ctx, buf, call.rsp_len,
					   &cookie, &eof);
		else
			err = dg_emit_entries(ctx, buf, call.rsp_len, &cookie,
					      &eof);
		if (err) {
			if (err < 0)
				pr_warn_ratelimited("mount %u: bad READDIR reply\n",
						    DG_SB(dir->i_sb)->id);
			err = err < 0 ? err : 0;
			eof = false;	/* @ctx is full: not all emitted */
			break;
		}
	}
	/* All emitted up to the node's end of directory. */
	if (!err && eof)
		ctx->pos = DG_POS_EOF;
	dg_path_put(&p);
out:
	kvfree(buf);
	return err;
}

const struct file_operations dg_dir_fops = {
	.llseek		= default_llseek,
	.read		= generic_read_dir,
	.iterate_shared	= dg_readdir,
	.fsync		= noop_fsync,
};

const struct inode_operations dg_dir_iops = {
	.lookup		= dg_lookup,
	.create		= dg_create,
	.link		= dg_link,
	.unlink		= dg_unlink,
	.symlink	= dg_symlink,
	.mkdir		= dg_mkdir,
	.rmdir		= dg_rmdir,
	.mknod		= dg_mknod,
	.rename		= dg_rename,
	.getattr	= dg_getattr,
	.setattr	= dg_setattr,
	.listxattr	= dg_listxattr,
};

/*
 * A positive dentry stays valid while its inode's attributes are fresh;
 * then the node is asked whether the path still names the same file. A
 * negative one stays valid for acdirmin.
 */
static int dg_d_revalidate(struct dentry *dentry, unsigned int flags)
{
	struct dg_fs_opts *o = &DG_SB(dentry->d_sb)->opts;
	struct inode *inode = d_inode_rcu(dentry);
	int err;

	if (!inode) {
		if (o->noac || (flags & LOOKUP_RENAME_TARGET))
			return 0;
		return time_before(jiffies, dentry->d_time + o->acdirmin);
	}
	if (!(flags & LOOKUP_REVAL) && !dg_attr_expired(inode))
		return 1;
	if (flags & LOOKUP_RCU)
		return -ECHILD;
	err = dg_revalidate_inode(dentry, flags & LOOKUP_REVAL);
	switch (err) {
	case 0:
		return 1;
	case -ENOENT:
	case -ESTALE:
	case -ENOTDIR:
		return 0;
	default:
		return err;
	}
}

static int dg_d_delete(const struct dentry *dentry)
{
	/* Let a silly-renamed file go as soon as nobody uses it. */
	return dg_is_silly(dentry);
}

static void dg_d_iput(struct dentry *dentry, struct inode *inode)
{
	/* DG_FEAT_RMATTR's reply goes unused: the directory is not ours. */
	struct dg_fs_entry_reply e;
	struct kvec rsp = { .iov_base = &e, .iov_len = sizeof(e) };
	struct dg_fs_call call = {
		.op = DG_OP_FS_UNLINK, .rsp = &rsp, .nr_rsp = 1,
	};
	/* A dentry being killed takes no new references: borrow it. */
	struct dg_path p = { .dentry = dentry, .borrowed = true };
	int err;

	if (dg_is_silly(dentry)) {
		p.cred = dentry->d_fsdata;
		call.path = &p;
		err = dg_fs_call(DG_SB(dentry->d_sb), &call);
		if (err && err != -ENOENT)
			pr_warn_ratelimited("mount %u: cannot remove silly-renamed file (%d)\n",
					    DG_SB(dentry->d_sb)->id, err);
		spin_lock(&dentry->d_lock);
		dentry->d_flags &= ~DCACHE_NFSFS_RENAMED;
		dentry->d_fsdata = NULL;
		spin_unlock(&dentry->d_lock);
		if (p.cred)
			put_cred(p.cred);
		/* Nothing names the file any more: let its pages go. */
		if (inode->i_nlink > 1)
			drop_nlink(inode);
		else
			clear_nlink(inode);
		dg_invalidate_attr(inode);
	}
	iput(inode);
}

const struct dentry_operations dg_dentry_ops = {
	.d_revalidate	= dg_d_revalidate,
	.d_delete	= dg_d_delete,
	.d_iput		= dg_d_iput,
};
