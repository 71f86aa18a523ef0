/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel API differences between the kernels disagg supports (Debian 12's
 * 6.1 and bookworm-backports' 6.12), hidden behind small helpers so the
 * modules themselves have no version checks.
 */
#ifndef DISAGG_COMPAT_H
#define DISAGG_COMPAT_H

#include <linux/version.h>
#include <linux/blkdev.h>
#include <linux/err.h>

/**
 * struct dg_disk_limits - the queue limits and features our disks set
 * @block_size: logical and physical block size in bytes
 * @max_sectors: largest request, in 512-byte sectors (0: kernel default)
 * @max_discard_sectors: largest discard, in sectors (0: no discard)
 * @synchronous: I/O completes in the submitter's context, so swap takes
 *	the synchronous swap-in path (like zram). Before 6.3 the kernel
 *	decides this from the presence of ->rw_page in the disk's
 *	block_device_operations instead, so the flag has no effect there.
 */
struct dg_disk_limits {
	unsigned int	block_size;
	unsigned int	max_sectors;
	unsigned int	max_discard_sectors;
	bool		synchronous;
};

/**
 * dg_alloc_disk - allocate a bio-based gendisk with the given limits
 * @l: limits and features
 * @node: NUMA node for the allocation
 *
 * 6.9 moved queue limits into blk_alloc_disk() and 6.11 turned queue flags
 * into limit features; this takes one description for both.
 *
 * Context: process context, may sleep.
 * Return: the disk, or an ERR_PTR().
 */
static inline struct gendisk *dg_alloc_disk(const struct dg_disk_limits *l,
					    int node)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 11, 0)
	struct queue_limits lim = {
		.logical_block_size	= l->block_size,
		.physical_block_size	= l->block_size,
		.io_min			= l->block_size,
		.io_opt			= l->block_size,
		.max_hw_sectors		= l->max_sectors,
		.max_hw_discard_sectors	= l->max_discard_sectors,
		.discard_granularity	= l->max_discard_sectors ? l->block_size : 0,
	};

	if (l->synchronous)
		lim.features |= BLK_FEAT_SYNCHRONOUS;
	return blk_alloc_disk(&lim, node);
#else
	struct gendisk *disk = blk_alloc_disk(node);
	struct request_queue *q;

	if (!disk)
		return ERR_PTR(-ENOMEM);
	q = disk->queue;
	blk_queue_logical_block_size(q, l->block_size);
	blk_queue_physical_block_size(q, l->block_size);
	blk_queue_io_min(q, l->block_size);
	blk_queue_io_opt(q, l->block_size);
	if (l->max_sectors)
		blk_queue_max_hw_sectors(q, l->max_sectors);
	if (l->max_discard_sectors) {
		blk_queue_max_discard_sectors(q, l->max_discard_sectors);
		q->limits.discard_granularity = l->block_size;
	}
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
	if (l->synchronous)
		blk_queue_flag_set(QUEUE_FLAG_SYNCHRONOUS, q);
#endif
	return disk;
#endif
}

/**
 * dg_disk_set_synchronous - turn the synchronous feature on or off
 * @disk: a disk nobody has open (swapon reads the feature once)
 * @on: the new setting
 *
 * From 6.3 the queue's flag (6.11: a limit feature) decides; before, the
 * caller switches between block_device_operations with and without
 * ->rw_page itself (see %DG_HAVE_RW_PAGE).
 *
 * Context: process context, may sleep.
 * Return: 0 or a negative errno.
 */
static inline int dg_disk_set_synchronous(struct gendisk *disk, bool on)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 11, 0)
	struct queue_limits lim = queue_limits_start_update(disk->queue);

	if (on)
		lim.features |= BLK_FEAT_SYNCHRONOUS;
	else
		lim.features &= ~BLK_FEAT_SYNCHRONOUS;
	return queue_limits_commit_update(disk->queue, &lim);
#elif LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
	if (on)
		blk_queue_flag_set(QUEUE_FLAG_SYNCHRONOUS, disk->queue);
	else
		blk_queue_flag_clear(QUEUE_FLAG_SYNCHRONOUS, disk->queue);
	return 0;
#else
	return 0;
#endif
}

/*
 * Before 6.3 swap uses the synchronous path only for disks with ->rw_page
 * (zram's way); from 6.3 ->rw_page is gone and the queue's synchronous
 * flag or feature decides.
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 3, 0)
#define DG_HAVE_RW_PAGE	1
#endif

/*
 * Network differences.
 */
#include <net/sock.h>

/**
 * dg_sock_no_task_frag - never build a send of @sk in current->task_frag
 * @sk: a kernel socket that may be used under memory reclaim
 *
 * 6.2 added sk_use_task_frag for this (nvme-tcp clears it); before, the
 * task's fragment is used only for allocations that may reclaim directly
 * and do not dip into the reserves, so a socket that is not a swap
 * socket (those have SOCK_MEMALLOC) allocates without direct reclaim.
 */
static inline void dg_sock_no_task_frag(struct sock *sk)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
	sk->sk_use_task_frag = false;
#else
	if (!sock_flag(sk, SOCK_MEMALLOC))
		sk->sk_allocation = GFP_NOWAIT | __GFP_NOWARN;
#endif
}

/*
 * Filesystem (disaggfs) differences.
 */
#include <linux/fs.h>
#include <linux/pagemap.h>
#include <linux/writeback.h>
#include <linux/stat.h>

/*
 * 6.3 replaced the struct user_namespace of idmapped mounts in VFS
 * callbacks by struct mnt_idmap. DG_IDMAP names whichever the running
 * kernel passes; disaggfs only hands it on.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
#define DG_IDMAP	struct mnt_idmap
#else
#define DG_IDMAP	struct user_namespace
#endif

/**
 * dg_fillattr - generic_fillattr() for both kernels
 * @idmap: the mount's idmap (or user namespace before 6.3)
 * @request_mask: STATX_* bits asked for (passed on from 6.6)
 * @inode: the inode
 * @stat: filled in
 */
static inline void dg_fillattr(DG_IDMAP *idmap, u32 request_mask,
			       struct inode *inode, struct kstat *stat)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 6, 0)
	generic_fillattr(idmap, request_mask, inode, stat);
#else
	generic_fillattr(idmap, inode, stat);
#endif
}

/*
 * 6.6 hid the inode timestamps behind accessors (and 6.7 removed the
 * fields); Debian's 6.1 has only the ctime ones.
 */
static inline void dg_inode_set_times(struct inode *inode,
				      struct timespec64 atime,
				      struct timespec64 mtime,
				      struct timespec64 ctime)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 7, 0)
	inode_set_atime_to_ts(inode, atime);
	inode_set_mtime_to_ts(inode, mtime);
#else
	inode->i_atime = atime;
	inode->i_mtime = mtime;
#endif
	inode_set_ctime_to_ts(inode, ctime);
}

/*
 * 6.12 passes a folio instead of a page between ->write_begin and
 * ->write_end. dg_wb_page_t is what the running kernel passes.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 12, 0)
typedef struct folio *dg_wb_page_t;
static inline struct folio *dg_wb_folio(dg_wb_page_t p)
{
	return p;
}

static inline dg_wb_page_t dg_wb_page(struct folio *folio)
{
	return folio;
}
#else
typedef struct page *dg_wb_page_t;
static inline struct folio *dg_wb_folio(dg_wb_page_t p)
{
	return page_folio(p);
}

static inline dg_wb_page_t dg_wb_page(struct folio *folio)
{
	return &folio->page;
}
#endif

/*
 * write_cache_pages() hands its callback a page before 6.3 (and up to
 * 6.2), a folio from 6.3 on. DG_WRITEPAGE_ARG is the callback's first
 * parameter type; dg_wp_folio() turns it into a folio.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
#define DG_WRITEPAGE_ARG	struct folio
static inline struct folio *dg_wp_folio(struct folio *f)
{
	return f;
}
#else
#define DG_WRITEPAGE_ARG	struct page
static inline struct folio *dg_wp_folio(struct page *p)
{
	return page_folio(p);
}
#endif

/* 6.5 replaced generic_file_splice_read() by filemap_splice_read(). */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0)
#define dg_file_splice_read	filemap_splice_read
#else
#define dg_file_splice_read	generic_file_splice_read
#endif

/**
 * struct dg_bdev - a block device opened for exclusive read and write
 * @bdev: the device
 * @file: its open file (6.9 and later open block devices as files)
 */
struct dg_bdev {
	struct block_device	*bdev;
	struct file		*file;
};

/**
 * dg_bdev_open - open the block device at @path exclusively, read-write
 * @path: its path
 * @holder: the exclusive holder
 * @b: filled in
 *
 * Context: process context, may sleep.
 * Return: 0 or a negative errno.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 9, 0)
static inline int dg_bdev_open(const char *path, void *holder,
			       struct dg_bdev *b)
{
	struct file *f = bdev_file_open_by_path(path, BLK_OPEN_READ |
						BLK_OPEN_WRITE, holder, NULL);

	if (IS_ERR(f))
		return PTR_ERR(f);
	b->file = f;
	b->bdev = file_bdev(f);
	return 0;
}

static inline void dg_bdev_close(struct dg_bdev *b, void *holder)
{
	fput(b->file);
	b->file = NULL;
	b->bdev = NULL;
}
#elif LINUX_VERSION_CODE < KERNEL_VERSION(6, 5, 0)
static inline int dg_bdev_open(const char *path, void *holder,
			       struct dg_bdev *b)
{
	struct block_device *bdev;

	bdev = blkdev_get_by_path(path, FMODE_READ | FMODE_WRITE | FMODE_EXCL,
				  holder);
	if (IS_ERR(bdev))
		return PTR_ERR(bdev);
	b->bdev = bdev;
	b->file = NULL;
	return 0;
}

static inline void dg_bdev_close(struct dg_bdev *b, void *holder)
{
	blkdev_put(b->bdev, FMODE_READ | FMODE_WRITE | FMODE_EXCL);
	b->bdev = NULL;
}
#else
#error "dg_bdev_open: kernels 6.5 to 6.8 are not supported"
#endif

#endif /* DISAGG_COMPAT_H */
