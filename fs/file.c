// SPDX-License-Identifier: GPL-2.0
/*
 * disaggfs: regular files. Page cache (read_folio, readahead, batched
 * writeback), buffered writes, mmap, O_DIRECT, fsync and close-to-open.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/slab.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/writeback.h>
#include <linux/uio.h>
#include <linux/sched/mm.h>
#include <linux/wait_bit.h>
#include <linux/workqueue.h>
#include "fs.h"

/* Page cache pages are reached through folio_address(). */
#ifdef CONFIG_HIGHMEM
#error "disaggfs needs a kernel without CONFIG_HIGHMEM"
#endif

static unsigned int dg_rpages(struct inode *inode)
{
	return max(1u, DG_SB(inode->i_sb)->opts.rsize >> PAGE_SHIFT);
}

static unsigned int dg_wpages(struct inode *inode)
{
	return max(1u, DG_SB(inode->i_sb)->opts.wsize >> PAGE_SHIFT);
}

/*
 * Readahead and writeback keep up to max_inflight READs or WRITEs of one
 * file in flight: each is a work item on dg_io_wq that makes the
 * synchronous call and then finishes its folios. @io_inflight of the
 * inode bounds them per file; @io_pending of the mount counts them for
 * umount.
 */
struct workqueue_struct *dg_io_wq;

/* Wait for a free slot of @inode; killable if @killable. */
static int dg_io_slot_get(struct inode *inode, bool killable)
{
	struct dg_inode *di = DG_I(inode);
	int max = DG_SB(inode->i_sb)->opts.max_inflight;

	if (killable)
		return wait_var_event_killable(&di->io_inflight,
				atomic_add_unless(&di->io_inflight, 1, max));
	wait_var_event(&di->io_inflight,
		       atomic_add_unless(&di->io_inflight, 1, max));
	return 0;
}

/*
 * Give the slot back. The caller still pins the inode (locked folios or
 * folios under writeback: eviction waits for both).
 */
static void dg_io_slot_put(struct inode *inode)
{
	struct dg_inode *di = DG_I(inode);

	atomic_dec(&di->io_inflight);
	/* Order the decrement before wake_up_var() looks for waiters. */
	smp_mb__after_atomic();
	wake_up_var(&di->io_inflight);
}

static void dg_io_pending_put(struct dg_sb_info *sbi)
{
	if (atomic_dec_and_test(&sbi->io_pending))
		wake_up_var(&sbi->io_pending);
}

/**
 * dg_io_drain - wait until a mount's readahead and writeback work is done
 * @sbi: the mount
 *
 * On a hard mount with the node away this waits for the node, as the
 * work does; umount -f makes the work give up.
 *
 * Context: process context, may sleep.
 */
void dg_io_drain(struct dg_sb_info *sbi)
{
	wait_var_event(&sbi->io_pending, !atomic_read(&sbi->io_pending));
}

/*
 * A READ of @nr contiguous locked folios brought @got bytes: the rest
 * reads as zeros (past the end of the file), and all are uptodate.
 * Context: any; does not sleep.
 */
static int dg_read_folios_end(struct folio **folios, unsigned int nr,
			      size_t got)
{
	unsigned int i;

	if (got > nr * PAGE_SIZE)
		return -EIO;
	for (i = 0; i < nr; i++) {
		size_t start = (size_t)i * PAGE_SIZE;

		if (got < start + PAGE_SIZE)
			folio_zero_segment(folios[i],
					   got > start ? got - start : 0,
					   PAGE_SIZE);
		folio_mark_uptodate(folios[i]);
	}
	return 0;
}

/*
 * Read @nr contiguous locked folios with one READ. The part past the end
 * of the file reads as zeros; on success all are uptodate. The caller
 * unlocks them.
 */
static int dg_read_folios_path(struct inode *inode, const struct dg_path *p,
			       struct folio **folios, unsigned int nr)
{
	struct kvec rsp[DG_FS_IO_PAGES];
	struct dg_fs_call call = {
		.op = DG_OP_FS_READ, .path = p, .rsp = rsp, .nr_rsp = nr,
	};
	unsigned int i;
	int err;

	for (i = 0; i < nr; i++) {
		rsp[i].iov_base = folio_address(folios[i]);
		rsp[i].iov_len = PAGE_SIZE;
	}
	call.req.offset = cpu_to_le64(folio_pos(folios[0]));
	call.req.count = cpu_to_le32(nr * PAGE_SIZE);
	err = dg_fs_call(DG_SB(inode->i_sb), &call);
	if (err)
		return err;
	return dg_read_folios_end(folios, nr, call.rsp_len);
}

static int dg_read_folios(struct inode *inode, struct file *file,
			  struct folio **folios, unsigned int nr)
{
	struct dg_path p;
	int err;

	err = dg_inode_io_path(inode, file, &p);
	if (err)
		return err;
	err = dg_read_folios_path(inode, &p, folios, nr);
	dg_path_put(&p);
	return err;
}

static int dg_read_folio(struct file *file, struct folio *folio)
{
	int err = dg_read_folios(folio->mapping->host, file, &folio, 1);

	folio_unlock(folio);
	return err;
}

/**
 * struct dg_read_io - one READ of readahead: sent by dg_fs_call_async(),
 *	or (when that cannot, or failed) a work item on dg_io_wq making the
 *	call with dg_fs_call()'s waits and retries
 * @work: its work item: the synchronous READ, or the release after the
 *	asynchronous one
 * @async: the asynchronous READ
 * @rsp: where its reply goes, the folios' memory
 * @inode: the file, pinned by the locked folios
 * @path: its path (a dentry reference of our own)
 * @folios: contiguous locked folios, in file order
 * @nr: their number
 */
struct dg_read_io {
	struct work_struct	work;
	struct dg_fs_async	async;
	struct kvec		rsp[DG_FS_IO_PAGES];
	struct inode		*inode;
	struct dg_path		path;
	struct folio		*folios[DG_FS_IO_PAGES];
	unsigned int		nr;
};

/* What an asynchronous READ leaves to process context: the dentry. */
static void dg_read_release(struct work_struct *work)
{
	struct dg_read_io *io = container_of(work, struct dg_read_io, work);
	struct dg_sb_info *sbi = io->async.sbi;

	dg_path_put(&io->path);
	kfree(io);
	dg_io_pending_put(sbi);
}

static void dg_read_work(struct work_struct *work);

/* The asynchronous READ's reply; softirq or the receive thread. */
static void dg_read_async_done(struct dg_fs_async *a, int err)
{
	struct dg_read_io *io = container_of(a, struct dg_read_io, async);
	unsigned int i;

	if (!err)
		err = dg_read_folios_end(io->folios, io->nr, a->call.rsp_len);
	if (err) {
		/* Node away, busy, or a bad reply: the patient path says. */
		INIT_WORK(&io->work, dg_read_work);
		queue_work(dg_io_wq, &io->work);
		return;
	}
	dg_io_slot_put(io->inode);
	/* The inode may go once the last folio is unlocked. */
	for (i = 0; i < io->nr; i++)
		folio_unlock(io->folios[i]);
	INIT_WORK(&io->work, dg_read_release);
	queue_work(dg_io_wq, &io->work);
}

/* Send @io's READ without waiting; false when it must go the slow way. */
static bool dg_read_start_async(struct dg_sb_info *sbi, struct dg_read_io *io)
{
	struct dg_fs_call *call = &io->async.call;
	unsigned int i;

	memset(call, 0, sizeof(*call));
	for (i = 0; i < io->nr; i++) {
		io->rsp[i].iov_base = folio_address(io->folios[i]);
		io->rsp[i].iov_len = PAGE_SIZE;
	}
	call->op = DG_OP_FS_READ;
	call->path = &io->path;
	call->rsp = io->rsp;
	call->nr_rsp = io->nr;
	call->req.offset = cpu_to_le64(folio_pos(io->folios[0]));
	call->req.count = cpu_to_le32(io->nr * PAGE_SIZE);
	io->async.done = dg_read_async_done;
	return !dg_fs_call_async(sbi, &io->async);
}

static void dg_read_work(struct work_struct *work)
{
	struct dg_read_io *io = container_of(work, struct dg_read_io, work);
	struct dg_sb_info *sbi = DG_SB(io->inode->i_sb);
	unsigned int i, nofs;

	nofs = memalloc_nofs_save();
	/* On error the folios stay !uptodate; read_folio retries. */
	dg_read_folios_path(io->inode, &io->path, io->folios, io->nr);
	memalloc_nofs_restore(nofs);
	dg_io_slot_put(io->inode);
	/* The inode may go once the last folio is unlocked. */
	for (i = 0; i < io->nr; i++)
		folio_unlock(io->folios[i]);
	dg_path_put(&io->path);
	kfree(io);
	dg_io_pending_put(sbi);
}

/*
 * Cut the readahead into rsize READs and send them without waiting (on
 * dg_io_wq when that cannot be), at most max_inflight of this file at a
 * time; their completion unlocks the folios. The folios ->readahead
 * leaves in @rac, the VFS unlocks.
 */
static void dg_readahead(struct readahead_control *rac)
{
	struct inode *inode = rac->mapping->host;
	struct dg_sb_info *sbi = DG_SB(inode->i_sb);
	unsigned int max = dg_rpages(inode), nr, i;
	struct folio *folios[DG_FS_IO_PAGES];
	struct dg_read_io *io;
	struct dg_path p;

	/* Without a path read_folio will tell the error. */
	if (dg_inode_io_path(inode, rac->file, &p))
		return;
	while (readahead_count(rac)) {
		if (dg_io_slot_get(inode, true))
			break;
		io = kmalloc(sizeof(*io), GFP_KERNEL);
		nr = 0;
		while (nr < max && (folios[nr] = readahead_folio(rac)))
			nr++;
		if (!nr) {
			dg_io_slot_put(inode);
			kfree(io);
			break;
		}
		if (!io) {
			/* No memory for the work: read them here. */
			dg_read_folios_path(inode, &p, folios, nr);
			dg_io_slot_put(inode);
			for (i = 0; i < nr; i++)
				folio_unlock(folios[i]);
			continue;
		}
		INIT_WORK(&io->work, dg_read_work);
		io->inode = inode;
		dg_path_dup(&io->path, &p);
		memcpy(io->folios, folios, nr * sizeof(folios[0]));
		io->nr = nr;
		atomic_inc(&sbi->io_pending);
		if (!dg_read_start_async(sbi, io))
			queue_work(dg_io_wq, &io->work);
	}
	dg_path_put(&p);
}

/**
 * struct dg_wb_io - a batch of contiguous folios under writeback: one
 *	WRITE, sent by the writepages caller (without waiting when the batch
 *	is the first member of a &struct dg_wb_aio), or from dg_io_wq
 * @work: its work item: ends the asynchronous WRITE, or makes the WRITE
 *	synchronously (it could not be sent so, or failed)
 * @inode: the file, pinned by the folios under writeback
 * @path: its path (a dentry reference of our own), when not written by
 *	the writepages caller itself
 * @folios: the batch, in file order
 * @nr: folios in it
 * @pos: file offset of the first
 * @bytes: bytes to write (the last folio may be partial, at EOF)
 */
struct dg_wb_io {
	struct work_struct	work;
	struct inode		*inode;
	struct dg_path		path;
	struct folio		*folios[DG_FS_IO_PAGES];
	unsigned int		nr;
	loff_t			pos;
	size_t			bytes;
};

/**
 * struct dg_wb_aio - a batch that may be written without waiting
 * @io: the batch; first, so that kfree(@io) frees it all
 * @async: its asynchronous WRITE
 * @async_err: the WRITE's result
 * @reply: its reply
 * @rsp: where the reply goes
 * @data: the folios' data
 *
 * Allocated for every batch; a batch that could not be (&dg_wb.fallback,
 * on the stack) is written synchronously.
 */
struct dg_wb_aio {
	struct dg_wb_io		io;
	struct dg_fs_async	async;
	int			async_err;
	struct dg_fs_write_reply reply;
	struct kvec		rsp;
	struct kvec		data[DG_FS_IO_PAGES];
};
static_assert(offsetof(struct dg_wb_aio, io) == 0);

/**
 * struct dg_wb - the state of one writepages call
 * @wbc: its writeback control
 * @inode: the file
 * @path: its path, got at the first flush
 * @have_path: @path is valid
 * @path_err: the error getting it, when there was one
 * @io: the batch being gathered, or NULL
 * @fallback: the batch when none could be allocated, written synchronously
 * @max: most folios one WRITE carries
 * @err: first error of a batch finished here (those finished in the work
 *	are reported through the mapping only)
 */
struct dg_wb {
	struct writeback_control *wbc;
	struct inode		*inode;
	struct dg_path		path;
	bool			have_path;
	int			path_err;
	struct dg_wb_io		*io;
	struct dg_wb_io		fallback;
	unsigned int		max;
	int			err;
};

/*
 * Send WRITEs for @data (@nr pieces, @bytes in all) at @pos. Every WRITE
 * asks for %DG_FS_WRITE_SYNC: the node replies once the data is stable
 * (fdatasync), so a reply that ends writeback means the data survives a
 * crash of the storage host, and fsync() and close(), which wait for the
 * writeback, return 0 only for data that is stable (see "Durability" in
 * Documentation/fs.md for why not NFS's unstable writes and COMMIT).
 */
static int dg_write_data(struct inode *inode, const struct dg_path *p,
			 loff_t pos, struct kvec *data, unsigned int nr,
			 size_t bytes)
{
	struct dg_fs_write_reply reply;
	struct kvec rsp = { .iov_base = &reply, .iov_len = sizeof(reply) };
	struct dg_fs_call call = {
		.op = DG_OP_FS_WRITE, .path = p, .rsp = &rsp, .nr_rsp = 1,
	};
	struct dg_inode *di = DG_I(inode);
	u32 count;
	int err;

	call.req.flags = cpu_to_le32(DG_FS_WRITE_SYNC);
	while (bytes) {
		call.req.offset = cpu_to_le64(pos);
		call.data = data;
		call.nr_data = nr;
		err = dg_fs_call(DG_SB(inode->i_sb), &call);
		if (err)
			return err;
		if (call.rsp_len != sizeof(reply) ||
		    dg_attr_check(&reply.attr))
			return -EIO;
		count = le32_to_cpu(reply.count);
		if (!count || count > bytes)
			return -EIO;
		if (le64_to_cpu(reply.attr.ino) == di->ino &&
		    le64_to_cpu(reply.attr.dev) == di->dev)
			dg_refresh_inode_write(inode, &reply.attr);
		pos += count;
		bytes -= count;
		/* A short write: go on with what is left. */
		while (count && nr) {
			size_t n = min_t(size_t, count, data->iov_len);

			data->iov_base += n;
			data->iov_len -= n;
			count -= n;
			if (!data->iov_len) {
				data++;
				nr--;
			}
		}
	}
	return 0;
}

/* @data: the batch's bytes, folio by folio. */
static void dg_wb_io_data(struct dg_wb_io *io, struct kvec *data)
{
	size_t left = io->bytes;
	unsigned int i;

	for (i = 0; i < io->nr; i++) {
		data[i].iov_base = folio_address(io->folios[i]);
		data[i].iov_len = min_t(size_t, left, PAGE_SIZE);
		left -= data[i].iov_len;
	}
}

/* WRITE the batch; -ESTALE with no name left is no error. */
static int dg_wb_io_write(struct dg_wb_io *io, const struct dg_path *p)
{
	struct kvec data[DG_FS_IO_PAGES];
	int err;

	dg_wb_io_data(io, data);
	err = dg_write_data(io->inode, p, io->pos, data, io->nr, io->bytes);
	/* Unlinked with no name left: its data has nowhere to go. */
	if (err == -ESTALE && !io->inode->i_nlink)
		err = 0;
	return err;
}

/*
 * End the batch's writeback, recording @err in the mapping first so that
 * fsync and close, which wait for the writeback, see it. With @slot, give
 * back the inode's slot while the folios still pin it. Nothing of the
 * inode may be touched after.
 */
static void dg_wb_io_end(struct dg_wb_io *io, int err, bool slot)
{
	struct inode *inode = io->inode;
	unsigned int i;

	if (err) {
		pr_warn_ratelimited("mount %u: writeback of inode %llu failed (%d)\n",
				    DG_SB(inode->i_sb)->id, DG_I(inode)->ino,
				    err);
		mapping_set_error(inode->i_mapping, err);
	}
	if (slot)
		dg_io_slot_put(inode);
	for (i = 0; i < io->nr; i++)
		folio_end_writeback(io->folios[i]);
}

/*
 * End the writeback of a batch whose data never reached the node for a
 * reason that is not the data's (the synchronous fallback only: its
 * caller hears the error from writepages), leaving the folios dirty.
 */
static void dg_wb_io_redirty(struct dg_wb_io *io,
			     struct writeback_control *wbc)
{
	unsigned int i;

	for (i = 0; i < io->nr; i++) {
		folio_redirty_for_writepage(wbc, io->folios[i]);
		folio_end_writeback(io->folios[i]);
	}
}

static void dg_wb_work(struct work_struct *work)
{
	struct dg_wb_io *io = container_of(work, struct dg_wb_io, work);
	struct dg_sb_info *sbi = DG_SB(io->inode->i_sb);
	unsigned int nofs;
	int err;

	nofs = memalloc_nofs_save();
	err = dg_wb_io_write(io, &io->path);
	memalloc_nofs_restore(nofs);
	dg_wb_io_end(io, err, true);
	dg_path_put(&io->path);
	kfree(io);
	dg_io_pending_put(sbi);
}

/*
 * The asynchronous WRITE's reply, in process context: a whole WRITE ends
 * the batch; anything else (an error, the node away or busy, a short
 * WRITE) has the batch written again synchronously, waiting and retrying
 * as the mount says (WRITE is idempotent).
 */
static void dg_wb_async_work(struct work_struct *work)
{
	struct dg_wb_io *io = container_of(work, struct dg_wb_io, work);
	struct dg_wb_aio *aio = container_of(io, struct dg_wb_aio, io);
	struct dg_sb_info *sbi = aio->async.sbi;
	struct dg_inode *di = DG_I(io->inode);
	const struct dg_fs_attr *attr = &aio->reply.attr;

	if (aio->async_err || aio->async.call.rsp_len != sizeof(aio->reply) ||
	    dg_attr_check(attr) || le32_to_cpu(aio->reply.count) != io->bytes) {
		dg_wb_work(work);
		return;
	}
	if (le64_to_cpu(attr->ino) == di->ino &&
	    le64_to_cpu(attr->dev) == di->dev)
		dg_refresh_inode_write(io->inode, attr);
	dg_wb_io_end(io, 0, true);
	dg_path_put(&io->path);
	kfree(io);
	dg_io_pending_put(sbi);
}

/* Softirq or the receive thread: the rest needs the inode's i_lock. */
static void dg_wb_async_done(struct dg_fs_async *a, int err)
{
	struct dg_wb_aio *aio = container_of(a, struct dg_wb_aio, async);

	aio->async_err = err;
	INIT_WORK(&aio->io.work, dg_wb_async_work);
	queue_work(dg_io_wq, &aio->io.work);
}

/* Send @aio's WRITE without waiting; false when it must go the slow way. */
static bool dg_wb_start_async(struct dg_sb_info *sbi, struct dg_wb_aio *aio)
{
	struct dg_fs_call *call = &aio->async.call;
	struct dg_wb_io *io = &aio->io;

	memset(call, 0, sizeof(*call));
	dg_wb_io_data(io, aio->data);
	aio->rsp.iov_base = &aio->reply;
	aio->rsp.iov_len = sizeof(aio->reply);
	call->op = DG_OP_FS_WRITE;
	call->path = &io->path;
	call->req.flags = cpu_to_le32(DG_FS_WRITE_SYNC);
	call->req.offset = cpu_to_le64(io->pos);
	call->data = aio->data;
	call->nr_data = io->nr;
	call->rsp = &aio->rsp;
	call->nr_rsp = 1;
	aio->async.done = dg_wb_async_done;
	return !dg_fs_call_async(sbi, &aio->async);
}

/* Send the batch gathered, asynchronously when it could be allocated. */
static void dg_wb_flush(struct dg_wb *wb)
{
	struct dg_wb_io *io = wb->io;
	int err = 0;

	if (!io)
		return;
	wb->io = NULL;
	if (!wb->have_path && !wb->path_err) {
		err = dg_inode_io_path(wb->inode, NULL, &wb->path);
		wb->have_path = !err;
		wb->path_err = err;
	}
	if (!wb->have_path) {
		/* Unlinked with no name left: its data has nowhere to go. */
		err = wb->path_err;
		if (err == -ESTALE && !wb->inode->i_nlink)
			err = 0;
	} else if (io != &wb->fallback) {
		struct dg_sb_info *sbi = DG_SB(wb->inode->i_sb);

		dg_io_slot_get(wb->inode, false);
		INIT_WORK(&io->work, dg_wb_work);
		dg_path_dup(&io->path, &wb->path);
		atomic_inc(&sbi->io_pending);
		if (!dg_wb_start_async(sbi, container_of(io, struct dg_wb_aio,
							 io)))
			queue_work(dg_io_wq, &io->work);
		return;
	} else {
		err = dg_wb_io_write(io, &wb->path);
		if (err == -EINTR) {
			/*
			 * The caller of writepages got a fatal signal while
			 * the node was away: its data did not arrive and is
			 * not lost, so it stays dirty; writepages returns
			 * the -EINTR.
			 */
			dg_wb_io_redirty(io, wb->wbc);
			if (!wb->err)
				wb->err = err;
			return;
		}
	}
	if (err && !wb->err)
		wb->err = err;
	dg_wb_io_end(io, err, false);
	if (io != &wb->fallback)
		kfree(io);
}

static int dg_writepage_cb(DG_WRITEPAGE_ARG *arg, struct writeback_control *wbc,
			   void *data)
{
	struct folio *folio = dg_wp_folio(arg);
	struct dg_wb *wb = data;
	struct dg_wb_io *io = wb->io;
	loff_t isize = i_size_read(wb->inode);
	loff_t pos = folio_pos(folio);
	size_t len;

	if (pos >= isize) {
		/* Truncated meanwhile: nothing to write. */
		folio_unlock(folio);
		return 0;
	}
	len = min_t(loff_t, PAGE_SIZE, isize - pos);
	if (io && (io->pos + io->bytes != pos || io->nr == wb->max ||
		   (io->bytes & ~PAGE_MASK))) {
		dg_wb_flush(wb);
		io = NULL;
	}
	if (!io) {
		struct dg_wb_aio *aio = kmalloc(sizeof(*aio), GFP_NOFS);

		io = aio ? &aio->io : &wb->fallback;
		io->inode = wb->inode;
		io->nr = 0;
		io->pos = pos;
		io->bytes = 0;
		wb->io = io;
	}
	folio_start_writeback(folio);
	folio_unlock(folio);
	io->folios[io->nr++] = folio;
	io->bytes += len;
	return 0;
}

/*
 * Batches of contiguous dirty folios go out as WRITEs, up to max_inflight
 * of the file at a time; each ends its folios' writeback when its reply
 * is in and records an error in the mapping, where fsync and close find
 * it after waiting for the writeback.
 */
static int dg_writepages(struct address_space *mapping,
			 struct writeback_control *wbc)
{
	struct dg_wb wb = {
		.wbc = wbc,
		.inode = mapping->host,
		.max = dg_wpages(mapping->host),
	};
	int err;

	err = write_cache_pages(mapping, wbc, dg_writepage_cb, &wb);
	dg_wb_flush(&wb);
	if (wb.have_path)
		dg_path_put(&wb.path);
	return err ?: wb.err;
}

/*
 * invalidate_inode_pages2() (dropping the cache when another client changed
 * the file) meets a folio dirtied since the writeback before it: write it
 * now, as NFS does, instead of failing the open or read with -EBUSY.
 */
static int dg_launder_folio(struct folio *folio)
{
	struct inode *inode = folio->mapping->host;
	loff_t isize = i_size_read(inode);
	loff_t pos = folio_pos(folio);
	struct dg_path p;
	struct kvec data;
	int err;

	if (!folio_clear_dirty_for_io(folio))
		return 0;
	if (pos >= isize)
		return 0;
	err = dg_inode_io_path(inode, NULL, &p);
	if (err == -ESTALE && !inode->i_nlink)
		return 0;	/* no name left: its data has nowhere to go */
	if (err)
		goto redirty;
	data.iov_base = folio_address(folio);
	data.iov_len = min_t(loff_t, PAGE_SIZE, isize - pos);
	folio_start_writeback(folio);
	err = dg_write_data(inode, &p, pos, &data, 1, data.iov_len);
	folio_end_writeback(folio);
	dg_path_put(&p);
	if (!err || (err == -ESTALE && !inode->i_nlink))
		return 0;
redirty:
	folio_mark_dirty(folio);
	return err;
}

static int dg_write_begin(struct file *file, struct address_space *mapping,
			  loff_t pos, unsigned int len, dg_wb_page_t *pagep,
			  void **fsdata)
{
	struct inode *inode = mapping->host;
	struct folio *folio;
	struct page *page;
	int err;

	page = grab_cache_page_write_begin(mapping, pos >> PAGE_SHIFT);
	if (!page)
		return -ENOMEM;
	folio = page_folio(page);
	if (!folio_test_uptodate(folio) && len != PAGE_SIZE) {
		if (folio_pos(folio) >= i_size_read(inode)) {
			/* Wholly past the end: zeros, no need to ask. */
			folio_zero_segment(folio, 0, PAGE_SIZE);
			folio_mark_uptodate(folio);
		} else {
			err = dg_read_folios(inode, file, &folio, 1);
			if (err) {
				folio_unlock(folio);
				folio_put(folio);
				return err;
			}
		}
	}
	*pagep = dg_wb_page(folio);
	return 0;
}

static int dg_write_end(struct file *file, struct address_space *mapping,
			loff_t pos, unsigned int len, unsigned int copied,
			dg_wb_page_t page, void *fsdata)
{
	struct folio *folio = dg_wb_folio(page);
	struct inode *inode = mapping->host;

	if (!folio_test_uptodate(folio)) {
		/* Only whole-page writes skip the read; a short copy retries. */
		if (copied < len) {
			copied = 0;
			goto out;
		}
		folio_mark_uptodate(folio);
	}
	if (copied) {
		folio_mark_dirty(folio);
		spin_lock(&inode->i_lock);
		if (pos + copied > i_size_read(inode))
			i_size_write(inode, pos + copied);
		spin_unlock(&inode->i_lock);
	}
out:
	folio_unlock(folio);
	folio_put(folio);
	return copied;
}

/*
 * O_DIRECT: the generic read and write paths have written back and
 * dropped the cached range; the user's data goes to and from the node
 * through a bounce buffer, rsize/wsize at a time.
 */
static ssize_t dg_direct_IO(struct kiocb *iocb, struct iov_iter *iter)
{
	struct file *file = iocb->ki_filp;
	struct inode *inode = file_inode(file);
	struct dg_sb_info *sbi = DG_SB(inode->i_sb);
	bool write = iov_iter_rw(iter) == WRITE;
	size_t max = write ? sbi->opts.wsize : sbi->opts.rsize;
	loff_t pos = iocb->ki_pos;
	ssize_t done = 0;
	struct dg_path p;
	void *buf;
	int err;

	buf = kvmalloc(max, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	err = dg_inode_io_path(inode, file, &p);
	if (err)
		goto out_buf;
	while (iov_iter_count(iter)) {
		size_t n = min(iov_iter_count(iter), max);

		if (write) {
			struct kvec data;

			n = copy_from_iter(buf, n, iter);
			if (!n) {
				err = -EFAULT;
				break;
			}
			data.iov_base = buf;
			data.iov_len = n;
			err = dg_write_data(inode, &p, pos, &data, 1, n);
			if (err) {
				iov_iter_revert(iter, n);
				break;
			}
		} else {
			struct kvec rsp = { .iov_base = buf, .iov_len = n };
			struct dg_fs_call call = {
				.op = DG_OP_FS_READ, .path = &p,
				.rsp = &rsp, .nr_rsp = 1,
			};
			size_t got;

			call.req.offset = cpu_to_le64(pos);
			call.req.count = cpu_to_le32(n);
			err = dg_fs_call(sbi, &call);
			if (err)
				break;
			got = min_t(size_t, call.rsp_len, n);
			if (copy_to_iter(buf, got, iter) != got) {
				err = -EFAULT;
				break;
			}
			pos += got;
			done += got;
			if (got < n)
				break;	/* end of file */
			continue;
		}
		pos += n;
		done += n;
	}
	dg_path_put(&p);
out_buf:
	kvfree(buf);
	return done ?: err;
}

static int dg_file_open(struct inode *inode, struct file *file)
{
	int err;

	/*
	 * Close-to-open: see what other clients did before we opened, unless
	 * this open() has just created the file.
	 */
	if (test_and_clear_bit(DG_INO_CREATED, &DG_I(inode)->flags))
		err = 0;
	else
		err = dg_revalidate_inode(file_dentry(file), true);
	if (err == -ESTALE)
		dg_invalidate_attr(inode);
	if (err)
		return err;
	err = dg_revalidate_mapping(inode);
	if (err)
		return err;
	dg_inode_set_cred(inode, file);
	atomic_inc(&DG_I(inode)->open_count);
	file->f_mode |= FMODE_CAN_ODIRECT;
	return 0;
}

static int dg_file_release(struct inode *inode, struct file *file)
{
	/* The last mapping may have gone after close(): write it back. */
	if (mapping_tagged(inode->i_mapping, PAGECACHE_TAG_DIRTY))
		filemap_write_and_wait(inode->i_mapping);
	atomic_dec(&DG_I(inode)->open_count);
	return 0;
}

/*
 * close(): write back what is dirty (close-to-open) and wait for it; the
 * WRITEs are stable (dg_write_data()), so a 0 means the data survives a
 * crash of the storage host. Report a writeback error of the file that
 * this open file has not seen yet (since its open or its last fsync),
 * however it was written back, without consuming it: another descriptor
 * of the same open file (dup) still hears it from fsync, as with NFS.
 */
static int dg_file_flush(struct file *file, fl_owner_t id)
{
	struct address_space *mapping = file->f_mapping;
	int err, err2;

	if (!(file->f_mode & FMODE_WRITE))
		return 0;
	err = filemap_fdatawrite(mapping);
	filemap_fdatawait_keep_errors(mapping);
	err2 = filemap_check_wb_err(mapping, READ_ONCE(file->f_wb_err));
	return err2 ?: err;
}

static int dg_file_fsync(struct file *file, loff_t start, loff_t end,
			 int datasync)
{
	struct dg_fs_call call = { .op = DG_OP_FS_FSYNC };
	struct dg_path p;
	int err;

	err = file_write_and_wait_range(file, start, end);
	if (err)
		return err;
	err = dg_inode_io_path(file_inode(file), file, &p);
	if (err)
		return err;
	call.path = &p;
	if (datasync)
		call.req.flags = cpu_to_le32(DG_FS_FSYNC_DATA);
	err = dg_fs_call(DG_SB(file_inode(file)->i_sb), &call);
	dg_path_put(&p);
	return err;
}

static ssize_t dg_file_read_iter(struct kiocb *iocb, struct iov_iter *to)
{
	struct file *file = iocb->ki_filp;
	struct inode *inode = file_inode(file);
	int err;

	if (!(iocb->ki_flags & IOCB_DIRECT)) {
		/* See appends by others once the attributes time out. */
		if (dg_attr_expired(inode))
			dg_revalidate_inode(file_dentry(file), false);
		err = dg_revalidate_mapping(inode);
		if (err)
			return err;
	}
	return generic_file_read_iter(iocb, to);
}

static ssize_t dg_file_write_iter(struct kiocb *iocb, struct iov_iter *from)
{
	struct file *file = iocb->ki_filp;
	int err;

	if (iocb->ki_flags & IOCB_APPEND) {
		/* Append at the node's end of file. */
		err = dg_revalidate_inode(file_dentry(file), true);
		if (err)
			return err;
	}
	return generic_file_write_iter(iocb, from);
}

static int dg_file_mmap(struct file *file, struct vm_area_struct *vma)
{
	int err = dg_revalidate_mapping(file_inode(file));

	if (err)
		return err;
	/* generic_file_vm_ops: filemap_fault and filemap_page_mkwrite. */
	return generic_file_mmap(file, vma);
}

static loff_t dg_file_llseek(struct file *file, loff_t offset, int whence)
{
	int err;

	if (whence == SEEK_END || whence == SEEK_DATA || whence == SEEK_HOLE) {
		err = dg_revalidate_inode(file_dentry(file), false);
		if (err)
			return err;
	}
	return generic_file_llseek(file, offset, whence);
}

const struct file_operations dg_file_fops = {
	.llseek		= dg_file_llseek,
	.read_iter	= dg_file_read_iter,
	.write_iter	= dg_file_write_iter,
	.mmap		= dg_file_mmap,
	.open		= dg_file_open,
	.flush		= dg_file_flush,
	.release	= dg_file_release,
	.fsync		= dg_file_fsync,
	.splice_read	= dg_file_splice_read,
	.splice_write	= iter_file_splice_write,
};

const struct address_space_operations dg_aops = {
	.read_folio	= dg_read_folio,
	.readahead	= dg_readahead,
	.writepages	= dg_writepages,
	.dirty_folio	= filemap_dirty_folio,
	.launder_folio	= dg_launder_folio,
	.write_begin	= dg_write_begin,
	.write_end	= dg_write_end,
	.direct_IO	= dg_direct_IO,
	.migrate_folio	= filemap_migrate_folio,
};
