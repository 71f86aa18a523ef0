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

/*
 * Before 6.3 swap uses the synchronous path only for disks with ->rw_page
 * (zram's way); from 6.3 ->rw_page is gone and the queue's synchronous
 * flag or feature decides.
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 3, 0)
#define DG_HAVE_RW_PAGE	1
#endif

#endif /* DISAGG_COMPAT_H */
