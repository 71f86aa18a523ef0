// SPDX-License-Identifier: GPL-2.0
/*
 * disaggfs: in-kernel filesystem forwarding full-path requests to a storage
 * node (disagg-stord) over disagg_net.
 *
 * This file: the module, the filesystem type, mount options (new mount
 * API), the superblock and statfs.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/slab.h>
#include <linux/fs_context.h>
#include <linux/fs_parser.h>
#include <linux/seq_file.h>
#include <linux/statfs.h>
#include <linux/backing-dev.h>
#include <linux/inet.h>
#include <linux/random.h>
#include <linux/utsname.h>
#include <linux/cred.h>
#include <linux/workqueue.h>
#include <net/net_namespace.h>
#include "fs.h"

static struct kmem_cache *dg_inode_cachep;
static atomic_t dg_mount_seq = ATOMIC_INIT(0);

/* Attribute cache bounds are seconds on the command line, at most this. */
#define DG_AC_MAX_SEC	3600u

enum {
	Opt_transport, Opt_src, Opt_acregmin, Opt_acregmax, Opt_acdirmin,
	Opt_acdirmax, Opt_actimeo, Opt_noac, Opt_hard, Opt_soft, Opt_timeo,
	Opt_rsize, Opt_wsize, Opt_max_inflight, Opt_key, Opt_trust_setid,
	Opt_trust_dev, Opt_nordirplus,
};

static const struct constant_table dg_transports[] = {
	{ "tcp",	0 },
	{ "rdma",	1 },
	{}
};

static const struct fs_parameter_spec dg_fs_params[] = {
	fsparam_enum("transport",	Opt_transport, dg_transports),
	fsparam_string("src",		Opt_src),
	fsparam_u32("acregmin",		Opt_acregmin),
	fsparam_u32("acregmax",		Opt_acregmax),
	fsparam_u32("acdirmin",		Opt_acdirmin),
	fsparam_u32("acdirmax",		Opt_acdirmax),
	fsparam_u32("actimeo",		Opt_actimeo),
	fsparam_flag("noac",		Opt_noac),
	fsparam_flag("nordirplus",	Opt_nordirplus),
	fsparam_flag("hard",		Opt_hard),
	fsparam_flag("soft",		Opt_soft),
	fsparam_u32("timeo",		Opt_timeo),
	fsparam_u32("rsize",		Opt_rsize),
	fsparam_u32("wsize",		Opt_wsize),
	fsparam_u32("max_inflight",	Opt_max_inflight),
	fsparam_string("key",		Opt_key),
	fsparam_flag("trust_setid",	Opt_trust_setid),
	fsparam_flag("trust_dev",	Opt_trust_dev),
	{}
};

/* "ADDR" or "ADDR:PORT", with "[v6]" or "[v6]:PORT" for IPv6. */
static int dg_parse_addr(const char *s, bool want_port,
			 struct sockaddr_storage *ss)
{
	char host[INET6_ADDRSTRLEN + 1], port[8] = "";
	const char *end, *colon;
	size_t hlen;

	if (*s == '[') {
		end = strchr(s, ']');
		if (!end)
			return -EINVAL;
		hlen = end - s - 1;
		s++;
		colon = end[1] == ':' ? end + 1 : NULL;
		if (end[1] && !colon)
			return -EINVAL;
	} else {
		colon = strrchr(s, ':');
		hlen = colon ? colon - s : strlen(s);
		if (colon && strchr(s, ':') != colon)
			return -EINVAL;	/* bare IPv6 needs brackets */
	}
	if (!hlen || hlen >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, hlen);
	host[hlen] = 0;
	if (colon) {
		if (!want_port || strlen(colon + 1) >= sizeof(port) ||
		    !colon[1])
			return -EINVAL;
		strscpy(port, colon + 1, sizeof(port));
	} else if (want_port) {
		snprintf(port, sizeof(port), "%u", DG_STORD_PORT);
	} else {
		strscpy(port, "0", sizeof(port));
	}
	return inet_pton_with_scope(&init_net, AF_UNSPEC, host, port, ss);
}

static int dg_parse_param(struct fs_context *fc, struct fs_parameter *param)
{
	struct dg_fs_opts *o = fc->fs_private;
	struct fs_parse_result r;
	unsigned long secs;
	int opt;

	opt = fs_parse(fc, dg_fs_params, param, &r);
	if (opt < 0)
		return opt;
	switch (opt) {
	case Opt_acregmin: case Opt_acregmax: case Opt_acdirmin:
	case Opt_acdirmax: case Opt_actimeo:
		secs = min(r.uint_32, DG_AC_MAX_SEC) * HZ;
		break;
	default:
		secs = 0;
	}
	switch (opt) {
	case Opt_transport:
		strscpy(o->transport, r.uint_32 ? "rdma" : "tcp",
			sizeof(o->transport));
		break;
	case Opt_key:
		if (!param->string[0] ||
		    strscpy(o->key, param->string, sizeof(o->key)) < 0)
			return invalfc(fc, "bad key name '%.32s'", param->string);
		break;
	case Opt_src:
		if (dg_parse_addr(param->string, false, &o->src))
			return invalfc(fc, "bad src address '%s'",
				       param->string);
		break;
	case Opt_acregmin:
		o->acregmin = secs;
		break;
	case Opt_acregmax:
		o->acregmax = secs;
		break;
	case Opt_acdirmin:
		o->acdirmin = secs;
		break;
	case Opt_acdirmax:
		o->acdirmax = secs;
		break;
	case Opt_actimeo:
		o->acregmin = o->acregmax = o->acdirmin = o->acdirmax = secs;
		break;
	case Opt_noac:
		o->noac = true;
		break;
	case Opt_nordirplus:
		o->nordirplus = true;
		break;
	case Opt_hard:
		o->soft = false;
		break;
	case Opt_soft:
		o->soft = true;
		break;
	case Opt_timeo:
		if (!r.uint_32 || r.uint_32 > 3600)
			return invalfc(fc, "timeo must be 1..3600 seconds");
		o->timeo = r.uint_32 * HZ;
		break;
	case Opt_rsize:
	case Opt_wsize:
		if (r.uint_32 < PAGE_SIZE)
			return invalfc(fc, "%s must be at least %lu",
				       param->key, PAGE_SIZE);
		if (opt == Opt_rsize)
			o->rsize = min(r.uint_32, DG_FS_IO_MAX) & PAGE_MASK;
		else
			o->wsize = min(r.uint_32, DG_FS_IO_MAX) & PAGE_MASK;
		break;
	case Opt_trust_setid:
		o->trust_setid = true;
		break;
	case Opt_trust_dev:
		o->trust_dev = true;
		break;
	case Opt_max_inflight:
		if (r.uint_32 < DG_FS_INFLIGHT_MIN ||
		    r.uint_32 > DG_FS_INFLIGHT_MAX)
			return invalfc(fc, "max_inflight must be %u..%u",
				       DG_FS_INFLIGHT_MIN, DG_FS_INFLIGHT_MAX);
		o->max_inflight = r.uint_32;
		break;
	}
	return 0;
}

static void dg_conn_event(struct dg_conn *c, void *ctx, enum dg_conn_event ev)
{
	struct dg_sb_info *sbi = ctx;
	switch (ev) {
	case DG_CONN_DOWN:
		pr_info("mount %u: lost the storage node; requests %s\n",
			sbi->id, sbi->opts.soft ? "fail after timeo" :
			"wait for it");
		break;
	case DG_CONN_UP:
		pr_info("mount %u: storage node back\n", sbi->id);
		break;
	case DG_CONN_RESTARTED:
		pr_info("mount %u: storage node restarted; requests go on\n",
			sbi->id);
		break;
	}
}

static struct inode *dg_alloc_inode(struct super_block *sb)
{
	struct dg_inode *di = alloc_inode_sb(sb, dg_inode_cachep, GFP_KERNEL);

	if (!di)
		return NULL;
	di->dev = 0;
	di->ino = 0;
	di->attr_time = jiffies;
	di->attr_timeo = 0;
	di->cache_size = 0;
	di->cache_mtime = (struct timespec64){};
	di->flags = 0;
	atomic_set(&di->open_count, 0);
	atomic_set(&di->io_inflight, 0);
	di->open_cred = NULL;
	return &di->vfs_inode;
}

static void dg_free_inode(struct inode *inode)
{
	kmem_cache_free(dg_inode_cachep, DG_I(inode));
}

static void dg_evict_inode(struct inode *inode)
{
	struct dg_inode *di = DG_I(inode);

	truncate_inode_pages_final(&inode->i_data);
	clear_inode(inode);
	if (di->open_cred)
		put_cred(di->open_cred);
	di->open_cred = NULL;
}

static int dg_statfs(struct dentry *dentry, struct kstatfs *buf)
{
	struct dg_fs_statfs st;
	struct kvec rsp = { .iov_base = &st, .iov_len = sizeof(st) };
	struct dg_fs_call call = {
		.op = DG_OP_FS_STATFS, .rsp = &rsp, .nr_rsp = 1,
	};
	struct dg_path p;
	int err;

	dg_path_get(dentry, &p);
	call.path = &p;
	err = dg_fs_call(DG_SB(dentry->d_sb), &call);
	dg_path_put(&p);
	if (err)
		return err;
	if (call.rsp_len != sizeof(st))
		return -EIO;
	buf->f_type = DISAGGFS_MAGIC;
	buf->f_bsize = le32_to_cpu(st.bsize);
	buf->f_frsize = le32_to_cpu(st.frsize);
	buf->f_blocks = le64_to_cpu(st.blocks);
	buf->f_bfree = le64_to_cpu(st.bfree);
	buf->f_bavail = le64_to_cpu(st.bavail);
	buf->f_files = le64_to_cpu(st.files);
	buf->f_ffree = le64_to_cpu(st.ffree);
	buf->f_namelen = min_t(u32, le32_to_cpu(st.namelen), NAME_MAX);
	return 0;
}

/* umount -f: requests waiting for the node give up with -EIO. */
static void dg_umount_begin(struct super_block *sb)
{
	atomic_inc(&DG_SB(sb)->abort_gen);
}

static int dg_show_options(struct seq_file *m, struct dentry *root)
{
	struct dg_fs_opts *o = &DG_SB(root->d_sb)->opts;

	seq_printf(m, ",transport=%s", o->transport);
	if (o->src.ss_family == AF_INET)
		seq_printf(m, ",src=%pI4", &((struct sockaddr_in *)&o->src)->sin_addr);
	else if (o->src.ss_family == AF_INET6)
		seq_printf(m, ",src=[%pI6c]",
			   &((struct sockaddr_in6 *)&o->src)->sin6_addr);
	if (o->nordirplus)
		seq_puts(m, ",nordirplus");
	if (o->noac)
		seq_puts(m, ",noac");
	else
		seq_printf(m, ",acregmin=%lu,acregmax=%lu,acdirmin=%lu,acdirmax=%lu",
			   o->acregmin / HZ, o->acregmax / HZ,
			   o->acdirmin / HZ, o->acdirmax / HZ);
	seq_printf(m, ",%s,timeo=%lu,rsize=%u,wsize=%u,max_inflight=%u",
		   o->soft ? "soft" : "hard", o->timeo / HZ, o->rsize,
		   o->wsize, o->max_inflight);
	if (o->key[0])
		seq_printf(m, ",key=%s", o->key);
	if (o->trust_setid)
		seq_puts(m, ",trust_setid");
	if (o->trust_dev)
		seq_puts(m, ",trust_dev");
	return 0;
}

static const struct super_operations dg_super_ops = {
	.alloc_inode	= dg_alloc_inode,
	.free_inode	= dg_free_inode,
	.evict_inode	= dg_evict_inode,
	.statfs		= dg_statfs,
	.umount_begin	= dg_umount_begin,
	.show_options	= dg_show_options,
};

static int dg_fill_super(struct super_block *sb, struct fs_context *fc)
{
	struct dg_fs_opts *o = fc->fs_private;
	struct dg_conn_params cp = {};
	struct dg_sb_info *sbi;
	struct dg_fs_attr attr;
	struct dg_path root = {};	/* no dentry yet: "." */
	struct inode *inode;
	int err;

	sbi = kzalloc(sizeof(*sbi), GFP_KERNEL);
	if (!sbi)
		return -ENOMEM;
	sbi->opts = *o;
	sbi->id = atomic_inc_return(&dg_mount_seq);
	atomic_set(&sbi->silly_seq, 0);
	init_rwsem(&sbi->rename_sem);
	atomic_set(&sbi->abort_gen, 0);
	atomic_set(&sbi->io_pending, 0);
	atomic_set(&sbi->io_async, 0);
	if (sbi->opts.noac)
		sbi->opts.acregmin = sbi->opts.acregmax =
			sbi->opts.acdirmin = sbi->opts.acdirmax = 0;
	sbi->opts.acregmax = max(sbi->opts.acregmax, sbi->opts.acregmin);
	sbi->opts.acdirmax = max(sbi->opts.acdirmax, sbi->opts.acdirmin);
	sb->s_fs_info = sbi;

	sb->s_magic = DISAGGFS_MAGIC;
	sb->s_op = &dg_super_ops;
	sb->s_d_op = &dg_dentry_ops;
	sb->s_xattr = dg_xattr_handlers;
	sb->s_time_gran = 1;
	sb->s_maxbytes = MAX_LFS_FILESIZE;
	sb->s_blocksize = PAGE_SIZE;
	sb->s_blocksize_bits = PAGE_SHIFT;
	/* The node's device files are not ours to open unless trusted. */
	if (!sbi->opts.trust_dev)
		sb->s_iflags |= SB_I_NODEV;

	err = super_setup_bdi(sb);
	if (err)
		return err;
	/*
	 * Readahead is cut into rsize READs, max_inflight of them in flight:
	 * a window of that size keeps them all busy.
	 */
	sb->s_bdi->ra_pages = (sbi->opts.rsize >> PAGE_SHIFT) *
			      sbi->opts.max_inflight;
	sb->s_bdi->io_pages = sb->s_bdi->ra_pages;

	cp.addr = o->addr;
	cp.src = o->src;
	cp.role = DG_ROLE_FS;
	cp.client_id = get_random_u64();
	cp.max_msg = DG_FS_MSG_MAX;
	cp.event = dg_conn_event;
	cp.ctx = sbi;
	strscpy(cp.key, o->key, sizeof(cp.key));
	snprintf(cp.name, sizeof(cp.name), "disaggfs@%s",
		 init_utsname()->nodename);
	sbi->conn = dg_conn_open(o->transport, &cp);
	if (IS_ERR(sbi->conn)) {
		err = PTR_ERR(sbi->conn);
		sbi->conn = NULL;
		errorfc(fc, "cannot connect to %s over %s: %d", fc->source,
			o->transport, err);
		return err;
	}

	err = dg_getattr_path(sb, &root, &attr);
	if (err) {
		errorfc(fc, "cannot stat the export's root: %d", err);
		return err;
	}
	if (!S_ISDIR(le32_to_cpu(attr.mode)))
		return invalfc(fc, "the export's root is not a directory");
	inode = dg_iget(sb, &attr);
	if (IS_ERR(inode))
		return PTR_ERR(inode);
	sb->s_root = d_make_root(inode);
	if (!sb->s_root)
		return -ENOMEM;
	pr_info("mount %u: %s over %s\n", sbi->id, fc->source, o->transport);
	return 0;
}

static int dg_get_tree(struct fs_context *fc)
{
	struct dg_fs_opts *o = fc->fs_private;

	if (!fc->source)
		return invalfc(fc, "no source (ADDR:PORT) given");
	if (dg_parse_addr(fc->source, true, &o->addr))
		return invalfc(fc, "bad source '%s' (want ADDR:PORT)",
			       fc->source);
	return get_tree_nodev(fc, dg_fill_super);
}

/* remount: only the timing options change. */
static int dg_reconfigure(struct fs_context *fc)
{
	struct dg_sb_info *sbi = DG_SB(fc->root->d_sb);
	struct dg_fs_opts *o = fc->fs_private;

	sync_filesystem(fc->root->d_sb);
	sbi->opts.noac = o->noac;
	sbi->opts.acregmin = o->noac ? 0 : o->acregmin;
	sbi->opts.acregmax = o->noac ? 0 : max(o->acregmax, o->acregmin);
	sbi->opts.acdirmin = o->noac ? 0 : o->acdirmin;
	sbi->opts.acdirmax = o->noac ? 0 : max(o->acdirmax, o->acdirmin);
	sbi->opts.soft = o->soft;
	sbi->opts.timeo = o->timeo;
	return 0;
}

static void dg_free_fc(struct fs_context *fc)
{
	kfree(fc->fs_private);
}

static const struct fs_context_operations dg_context_ops = {
	.free		= dg_free_fc,
	.parse_param	= dg_parse_param,
	.get_tree	= dg_get_tree,
	.reconfigure	= dg_reconfigure,
};

static int dg_init_fs_context(struct fs_context *fc)
{
	struct dg_fs_opts *o = kzalloc(sizeof(*o), GFP_KERNEL);

	if (!o)
		return -ENOMEM;
	strscpy(o->transport, "tcp", sizeof(o->transport));
	o->acregmin = 3 * HZ;
	o->acregmax = 60 * HZ;
	o->acdirmin = 30 * HZ;
	o->acdirmax = 60 * HZ;
	o->timeo = 60 * HZ;
	o->rsize = DG_FS_IO_MAX;
	o->wsize = DG_FS_IO_MAX;
	o->max_inflight = DG_FS_INFLIGHT_DEFAULT;
	fc->fs_private = o;
	fc->ops = &dg_context_ops;
	return 0;
}

static void dg_kill_sb(struct super_block *sb)
{
	struct dg_sb_info *sbi = DG_SB(sb);

	/*
	 * Readahead and writeback work may still hold dentries (the files
	 * are closed, the work goes on): let it finish first. Then write
	 * back and evict everything while the connection is up.
	 */
	if (sbi)
		dg_io_drain(sbi);
	kill_anon_super(sb);
	if (sbi) {
		dg_io_drain(sbi);
		if (sbi->conn)
			dg_conn_close(sbi->conn);
		kfree(sbi);
	}
}

static struct file_system_type dg_fs_type = {
	.owner			= THIS_MODULE,
	.name			= "disaggfs",
	.init_fs_context	= dg_init_fs_context,
	.parameters		= dg_fs_params,
	.kill_sb		= dg_kill_sb,
	/* dg_rename() moves the dentries under the mount's rename_sem. */
	.fs_flags		= FS_RENAME_DOES_D_MOVE,
};
MODULE_ALIAS_FS("disaggfs");

static void dg_inode_init_once(void *p)
{
	struct dg_inode *di = p;

	inode_init_once(&di->vfs_inode);
}

static int __init dg_fs_init(void)
{
	int err;

	if (!dg_sysfs_root())
		return -ENODEV;
	dg_inode_cachep = kmem_cache_create("disaggfs_inode",
					    sizeof(struct dg_inode), 0,
					    SLAB_RECLAIM_ACCOUNT | SLAB_ACCOUNT,
					    dg_inode_init_once);
	if (!dg_inode_cachep)
		return -ENOMEM;
	/* Writeback depends on it: WQ_MEM_RECLAIM. */
	dg_io_wq = alloc_workqueue("disaggfs_io", WQ_UNBOUND | WQ_MEM_RECLAIM,
				   0);
	if (!dg_io_wq) {
		err = -ENOMEM;
		goto out_cache;
	}
	err = register_filesystem(&dg_fs_type);
	if (err)
		goto out_wq;
	pr_info("loaded\n");
	return 0;

out_wq:
	destroy_workqueue(dg_io_wq);
out_cache:
	kmem_cache_destroy(dg_inode_cachep);
	return err;
}

static void __exit dg_fs_exit(void)
{
	unregister_filesystem(&dg_fs_type);
	/* Every mount waited for its work; this waits for the last returns. */
	destroy_workqueue(dg_io_wq);
	/* Inodes are freed after an RCU grace period (->free_inode). */
	rcu_barrier();
	kmem_cache_destroy(dg_inode_cachep);
	pr_info("unloaded\n");
}

module_init(dg_fs_init);
module_exit(dg_fs_exit);

MODULE_DESCRIPTION("disagg full-path filesystem");
MODULE_AUTHOR("disagg developers");
MODULE_LICENSE("GPL");
MODULE_VERSION("0.2");
