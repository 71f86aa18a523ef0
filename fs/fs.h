/* SPDX-License-Identifier: GPL-2.0 */
/*
 * disaggfs: internal declarations shared by the filesystem's files.
 *
 * Every request names its object by the full path from the mount root;
 * the storage daemon keeps no state for us. See Documentation/fs.md.
 */
#ifndef DISAGGFS_FS_H
#define DISAGGFS_FS_H

#include <linux/fs.h>
#include <linux/dcache.h>
#include <linux/uio.h>
#include <disagg/net.h>
#include <disagg/compat.h>

#define DISAGGFS_MAGIC		0x44474653	/* "DGFS" */
/* Pages one READ or WRITE carries at most. */
#define DG_FS_IO_PAGES		(DG_FS_IO_MAX / PAGE_SIZE)

/**
 * struct dg_fs_opts - mount options (see Documentation/fs.md)
 * @transport: "tcp" or "rdma"
 * @src: local address to connect from; family 0: any
 * @addr: the storage node's address and port
 * @acregmin: attribute cache timeouts of files and directories, in jiffies
 * @acregmax: see @acregmin
 * @acdirmin: see @acregmin
 * @acdirmax: see @acregmin
 * @noac: no attribute caching: every check asks the node
 * @nordirplus: readdir sends READDIR, never READDIRPLUS
 * @soft: give up with -EIO after @timeo instead of retrying for ever
 * @timeo: soft mounts: how long a request may wait for the node, jiffies
 * @rsize: bytes per READ, a page multiple up to %DG_FS_IO_MAX
 * @wsize: bytes per WRITE, likewise
 * @max_inflight: READs and WRITEs one file keeps in flight at most
 *	(readahead and writeback), %DG_FS_INFLIGHT_MIN..%DG_FS_INFLIGHT_MAX
 * @key: name of the key to authenticate with ("disagg:@key" in the
 *	mounting process's keyrings), or empty
 * @trust_setid: honour set-user-ID and set-group-ID bits of the node's
 *	files (else regular files show without them)
 * @trust_dev: device files of the node may be opened (else SB_I_NODEV)
 */
struct dg_fs_opts {
	char			transport[8];
	struct sockaddr_storage	src;
	struct sockaddr_storage	addr;
	unsigned long		acregmin;
	unsigned long		acregmax;
	unsigned long		acdirmin;
	unsigned long		acdirmax;
	bool			noac;
	bool			nordirplus;
	bool			soft;
	unsigned long		timeo;
	unsigned int		rsize;
	unsigned int		wsize;
	unsigned int		max_inflight;
	char			key[DG_NAME_MAX + 1];
	bool			trust_setid;
	bool			trust_dev;
};

/* The max_inflight mount option: default and range. */
#define DG_FS_INFLIGHT_DEFAULT	16
#define DG_FS_INFLIGHT_MIN	1
#define DG_FS_INFLIGHT_MAX	64

/**
 * struct dg_sb_info - one mount
 * @opts: its options
 * @conn: the connection to the storage node
 * @abort_gen: bumped by umount -f: requests waiting then give up
 * @silly_seq: numbers silly-renamed files
 * @io_pending: asynchronous READs and WRITEs (sent by dg_fs_call_async(),
 *	or work items on dg_io_wq) not yet finished; umount waits for none
 *	to be left
 * @io_async: requests of dg_fs_call_async() waiting for their reply
 * @rename_sem: held for reading by every request from building its paths
 *	to its reply (dg_fs_call_async(): to its sending, then counted in
 *	@io_async), for writing by our renames from building theirs to
 *	d_move() (dg_rename_lock(), which also waits for @io_async to be
 *	0): a path the node sees names what the dcache names
 * @id: mount number, for log messages
 * @flags: DG_SB_* bits
 */
struct dg_sb_info {
	struct dg_fs_opts	opts;
	struct dg_conn		*conn;
	atomic_t		abort_gen;
	atomic_t		silly_seq;
	atomic_t		io_pending;
	atomic_t		io_async;
	struct rw_semaphore	rename_sem;
	unsigned int		id;
	unsigned long		flags;
};

/* dg_sb_info.flags bits */
#define DG_SB_NO_RDPLUS		0	/* the node answered READDIRPLUS EOPNOTSUPP */

/* dg_inode.flags bits */
#define DG_INO_INVALID_DATA	0	/* the page cache may be stale */
#define DG_INO_STALE_ATTR	1	/* ask the node before trusting attrs */
#define DG_INO_CREATED		2	/* attrs come from CREATE in this open() */
#define DG_INO_ADVISE_RDPLUS	3	/* a directory whose entries were looked
					 * up at the node: list it with
					 * READDIRPLUS */

/**
 * struct dg_inode - our part of an inode
 * @dev: the node's device number of the file (with @ino its identity)
 * @ino: the node's inode number
 * @attr_time: jiffies when the attributes were last fetched
 * @attr_timeo: how long they stay fresh (grows while they don't change)
 * @cache_mtime: the node's mtime the page cache was filled against
 * @cache_size: the node's size at the same time
 * @flags: DG_INO_* bits
 * @open_count: open files (regular files), for silly rename
 * @io_inflight: READs and WRITEs of readahead and writeback in flight,
 *	at most the max_inflight mount option
 * @open_cred: credentials of the last open for writing (or of the first
 *	open, before any for writing): writeback and other I/O without a
 *	file act with them; a reference, under the inode's i_lock, put at
 *	eviction
 * @vfs_inode: the VFS inode
 */
struct dg_inode {
	u64			dev;
	u64			ino;
	unsigned long		attr_time;
	unsigned long		attr_timeo;
	struct timespec64	cache_mtime;
	loff_t			cache_size;
	unsigned long		flags;
	atomic_t		open_count;
	atomic_t		io_inflight;
	const struct cred	*open_cred;
	struct inode		vfs_inode;
};

static inline struct dg_inode *DG_I(struct inode *inode)
{
	return container_of(inode, struct dg_inode, vfs_inode);
}

static inline struct dg_sb_info *DG_SB(struct super_block *sb)
{
	return sb->s_fs_info;
}

/**
 * struct dg_path - an object named by its path from the mount root
 * @dentry: its dentry (a reference), or NULL for the root
 * @io: refuse the dentry with -ESTALE once it is unhashed (see
 *	dg_path_get_io())
 * @borrowed: @dentry is held by the caller, not by us (a dentry being
 *	killed, in ->d_iput); dg_path_put() leaves it alone
 * @cred: who asks (a reference dg_path_put() puts), or NULL for the
 *	current task: requests carry its fsuid, fsgid and groups. I/O paths
 *	(dg_inode_io_path()) have the open file's credentials, as NFS uses
 *	its open context's, so work items never act as the kworker's root
 *
 * The string itself is built by dg_fs_call(), under the mount's
 * @rename_sem, so that the node sees the name the dcache has while the
 * request is in flight.
 */
struct dg_path {
	struct dentry		*dentry;
	const struct cred	*cred;
	bool			io;
	bool			borrowed;
};

/**
 * struct dg_fs_call - one request and where its reply goes
 * @op: DG_OP_FS_* opcode
 * @req: the fixed part; path_len, name2_len and data_len are filled in
 * @path: the object's path
 * @path2: second path (LINK and RENAME targets) or NULL
 * @name2: second string (a symlink's target) or NULL; not with @path2
 * @name2_len: its length
 * @data: data pieces (write data, xattr value)
 * @nr_data: their number, at most %DG_FS_IO_PAGES + 1
 * @rsp: reply pieces
 * @nr_rsp: their number
 * @rsp_len: set to the reply's length
 * @retried: set when the request was sent more than once (the node may
 *	have carried out an earlier attempt)
 * @renaming: the caller holds @rename_sem for writing (our renames)
 */
struct dg_fs_call {
	u16			op;
	struct dg_fs_req	req;
	const struct dg_path	*path;
	const struct dg_path	*path2;
	const char		*name2;
	u32			name2_len;
	const struct kvec	*data;
	unsigned int		nr_data;
	const struct kvec	*rsp;
	unsigned int		nr_rsp;
	u32			rsp_len;
	bool			retried;
	bool			renaming;
};

/**
 * struct dg_fs_async - a request of dg_fs_call_async()
 * @call: the request
 * @sbi: the mount (set by dg_fs_call_async())
 * @done: called once with 0 or the error; must not sleep
 */
struct dg_fs_async {
	struct dg_fs_call	call;
	struct dg_sb_info	*sbi;
	void			(*done)(struct dg_fs_async *a, int err);
};

/* req.c */
int dg_fs_call(struct dg_sb_info *sbi, struct dg_fs_call *call);
int dg_fs_call_async(struct dg_sb_info *sbi, struct dg_fs_async *a);
void dg_rename_lock(struct dg_sb_info *sbi);
void dg_path_get(struct dentry *dentry, struct dg_path *p);
int dg_path_get_io(struct dentry *dentry, struct dg_path *p);
void dg_path_put(struct dg_path *p);
void dg_path_dup(struct dg_path *to, const struct dg_path *from);
int dg_getattr_path(struct super_block *sb, const struct dg_path *p,
		    struct dg_fs_attr *attr);
int dg_inode_io_path(struct inode *inode, struct file *file,
		     struct dg_path *p);

/* inode.c */
struct inode *dg_iget(struct super_block *sb, const struct dg_fs_attr *attr);
int dg_attr_check(const struct dg_fs_attr *attr);
bool dg_attr_same(struct inode *inode, const struct dg_fs_attr *attr);
void dg_refresh_other(struct inode *inode, const struct dg_fs_attr *attr);
void dg_refresh_inode(struct inode *inode, const struct dg_fs_attr *attr,
		      bool ours);
void dg_refresh_inode_write(struct inode *inode,
			    const struct dg_fs_attr *attr);
umode_t dg_attr_mode(struct super_block *sb, const struct dg_fs_attr *attr);
void dg_inode_set_cred(struct inode *inode, struct file *file);
bool dg_attr_expired(struct inode *inode);
void dg_invalidate_attr(struct inode *inode);
int dg_revalidate_inode(struct dentry *dentry, bool force);
int dg_revalidate_mapping(struct inode *inode);
int dg_getattr(DG_IDMAP *idmap, const struct path *path,
	       struct kstat *stat, u32 request_mask, unsigned int flags);
int dg_setattr(DG_IDMAP *idmap, struct dentry *dentry, struct iattr *attr);
extern const struct inode_operations dg_file_iops;
extern const struct inode_operations dg_symlink_iops;
extern const struct inode_operations dg_special_iops;

/* dir.c */
extern const struct inode_operations dg_dir_iops;
extern const struct file_operations dg_dir_fops;
extern const struct dentry_operations dg_dentry_ops;
void dg_advise_rdplus(struct dentry *dentry);

/* file.c */
extern struct workqueue_struct *dg_io_wq;
void dg_io_drain(struct dg_sb_info *sbi);
extern const struct file_operations dg_file_fops;
extern const struct address_space_operations dg_aops;

/* xattr.c */
extern const struct xattr_handler *dg_xattr_handlers[];
ssize_t dg_listxattr(struct dentry *dentry, char *list, size_t size);

#endif /* DISAGGFS_FS_H */
