// SPDX-License-Identifier: GPL-2.0
/*
 * The backing device of a dswap device: a local block device that gets
 * every page in the background (Infiniswap's disk backup), read when no
 * remote copy of a page is left.
 *
 * Two bitmaps per page: @dirty, the page was written remotely since it
 * last reached the backing device; @valid, the backing device holds the
 * page's current data. A page write clears @valid when it starts and sets
 * @dirty when it completes; the flusher clears @dirty, reads the page from
 * a remote copy, writes it here and sets @valid only if no write
 * completed meanwhile. The backing device is read only when @valid is set
 * and @dirty is not, so it never serves older data than the last write
 * acknowledged. Pages whose remote write failed everywhere are written
 * here directly before their bio ends, and so are pages written to a
 * single remote copy (write-through), so that losing that one node loses
 * nothing: only pages with two or more remote copies are copied here in
 * the background. That lag (pages dirty) is bounded: writers wait while
 * it exceeds DSWAP_BACKING_MAX_LAG. Writes here, and the flusher's
 * read-then-write of a page, hold @lock, so an older copy of a page can
 * never land after a newer one.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/blkdev.h>
#include <linux/bio.h>
#include <linux/vmalloc.h>
#include <linux/slab.h>
#include <disagg/compat.h>
#include "dswap.h"

/* Pages written remotely but not yet here (16 MiB with 4 KiB pages). */
#define DSWAP_BACKING_MAX_LAG	4096
/* A writer waits at most this long for the lag to shrink. */
#define DSWAP_BACKING_THROTTLE	HZ

struct dswap_backing {
	struct dg_bdev		b;
	unsigned long		pages;
	unsigned long		*valid;
	unsigned long		*dirty;
	atomic_long_t		lag;
	wait_queue_head_t	lag_wq;
	struct delayed_work	flush;
	struct page		*buf;
	struct dswap_dev	*d;
	struct mutex		lock;
};

static void dswap_backing_flush(struct work_struct *work);

/**
 * dswap_backing_open - open @d's backing device, if one was configured
 * @d: device, init_lock held for writing, tables allocated
 * @pages: the device's size in pages
 *
 * Return: 0; -ENOSPC when the backing device is smaller than @d; the
 * error of opening it.
 */
int dswap_backing_open(struct dswap_dev *d, unsigned long pages)
{
	struct dswap_backing *bk;
	int ret;

	if (!d->bk_path[0])
		return 0;
	bk = kzalloc(sizeof(*bk), GFP_KERNEL);
	if (!bk)
		return -ENOMEM;
	ret = dg_bdev_open(d->bk_path, d, &bk->b);
	if (ret) {
		pr_err("dswap%d: backing_dev %s: cannot open: %d\n", d->id,
		       d->bk_path, ret);
		kfree(bk);
		return ret;
	}
	if (bdev_nr_bytes(bk->b.bdev) < ((u64)pages << PAGE_SHIFT)) {
		pr_err("dswap%d: backing_dev %s: %llu bytes, smaller than the device\n",
		       d->id, d->bk_path, bdev_nr_bytes(bk->b.bdev));
		ret = -ENOSPC;
		goto err;
	}
	bk->pages = pages;
	bk->d = d;
	bk->valid = kvcalloc(BITS_TO_LONGS(pages), sizeof(long), GFP_KERNEL);
	bk->dirty = kvcalloc(BITS_TO_LONGS(pages), sizeof(long), GFP_KERNEL);
	bk->buf = alloc_page(GFP_KERNEL);
	ret = -ENOMEM;
	if (!bk->valid || !bk->dirty || !bk->buf)
		goto err;
	atomic_long_set(&bk->lag, 0);
	init_waitqueue_head(&bk->lag_wq);
	mutex_init(&bk->lock);
	INIT_DELAYED_WORK(&bk->flush, dswap_backing_flush);
	d->bk = bk;
	return 0;
err:
	if (bk->buf)
		__free_page(bk->buf);
	kvfree(bk->valid);
	kvfree(bk->dirty);
	dg_bdev_close(&bk->b, d);
	kfree(bk);
	return ret;
}

/**
 * dswap_backing_close - stop the flusher and close the backing device
 * @d: device, init_lock held for writing, no I/O in flight
 */
void dswap_backing_close(struct dswap_dev *d)
{
	struct dswap_backing *bk = d->bk;

	if (!bk)
		return;
	cancel_delayed_work_sync(&bk->flush);
	d->bk = NULL;
	dg_bdev_close(&bk->b, d);
	__free_page(bk->buf);
	kvfree(bk->valid);
	kvfree(bk->dirty);
	kfree(bk);
}

static int dswap_backing_rw_now(struct dswap_backing *bk, unsigned long pidx,
				struct page **pages, unsigned int nr,
				bool write)
{
	struct bio *bio;
	unsigned int i;
	int ret;

	bio = bio_alloc(bk->b.bdev, nr, write ? REQ_OP_WRITE : REQ_OP_READ,
			GFP_NOIO);
	bio->bi_iter.bi_sector = (sector_t)pidx << (PAGE_SHIFT - SECTOR_SHIFT);
	for (i = 0; i < nr; i++)
		__bio_add_page(bio, pages[i], PAGE_SIZE, 0);
	ret = submit_bio_wait(bio);
	bio_put(bio);
	return ret;
}

/* A transfer handed to the workqueue; see dswap_backing_rw(). */
struct dswap_backing_io {
	struct work_struct	work;
	struct completion	done;
	struct dswap_backing	*bk;
	unsigned long		pidx;
	struct page		**pages;
	unsigned int		nr;
	bool			write;
	int			ret;
};

static void dswap_backing_io_fn(struct work_struct *work)
{
	struct dswap_backing_io *io = container_of(work,
						   struct dswap_backing_io,
						   work);

	io->ret = dswap_backing_rw_now(io->bk, io->pidx, io->pages, io->nr,
				       io->write);
	complete(&io->done);
}

/*
 * Move @nr pages between @pages and the backing device at page @pidx,
 * synchronously. Inside our own ->submit_bio a bio we submit is only
 * queued (current->bio_list) until we return, so waiting for it there
 * would never end: such transfers run on the workqueue.
 */
static int dswap_backing_rw(struct dswap_backing *bk, unsigned long pidx,
			    struct page **pages, unsigned int nr, bool write)
{
	struct dswap_backing_io io = {
		.bk = bk, .pidx = pidx, .pages = pages, .nr = nr,
		.write = write,
	};

	if (!current->bio_list)
		return dswap_backing_rw_now(bk, pidx, pages, nr, write);
	INIT_WORK_ONSTACK(&io.work, dswap_backing_io_fn);
	init_completion(&io.done);
	queue_work(dswap_wq, &io.work);
	wait_for_completion(&io.done);
	destroy_work_on_stack(&io.work);
	return io.ret;
}

/**
 * dswap_backing_has - whether the backing device holds page @pidx's data
 * @d: device
 * @pidx: page
 *
 * Context: any.
 */
bool dswap_backing_has(struct dswap_dev *d, unsigned long pidx)
{
	struct dswap_backing *bk = d->bk;

	return bk && test_bit(pidx, bk->valid) && !test_bit(pidx, bk->dirty);
}

/**
 * dswap_backing_read - read page @pidx from the backing device
 * @d: device with a backing device
 * @pidx: page, for which dswap_backing_has() held
 * @page: destination
 *
 * Context: process context, may sleep.
 * Return: 0 or -EIO.
 */
int dswap_backing_read(struct dswap_dev *d, unsigned long pidx,
		       struct page *page)
{
	int ret = dswap_backing_rw(d->bk, pidx, &page, 1, false);

	if (ret)
		pr_err_ratelimited("dswap%d: backing_dev read of page %lu: %d\n",
				   d->id, pidx, ret);
	/* Written meanwhile (not for swap, which holds the page)? */
	if (!ret && !dswap_backing_has(d, pidx))
		ret = -EIO;
	return ret ? -EIO : 0;
}

/**
 * dswap_backing_write_pages - write pages no remote copy took
 * @d: device with a backing device
 * @pidx: first page
 * @pages: the data
 * @nr: how many
 *
 * Context: process context, may sleep.
 * Return: 0 or -EIO.
 */
int dswap_backing_write_pages(struct dswap_dev *d, unsigned long pidx,
			      struct page **pages, unsigned int nr)
{
	struct dswap_backing *bk = d->bk;
	unsigned int i;
	int ret;

	mutex_lock(&bk->lock);
	for (i = 0; i < nr; i++)
		clear_bit(pidx + i, bk->valid);
	ret = dswap_backing_rw(bk, pidx, pages, nr, true);
	if (ret) {
		mutex_unlock(&bk->lock);
		pr_err_ratelimited("dswap%d: backing_dev write of %u pages at %lu: %d\n",
				   d->id, nr, pidx, ret);
		return -EIO;
	}
	for (i = 0; i < nr; i++) {
		if (test_and_clear_bit(pidx + i, bk->dirty))
			atomic_long_dec(&bk->lag);
		set_bit(pidx + i, bk->valid);
	}
	mutex_unlock(&bk->lock);
	wake_up_all(&bk->lag_wq);
	return 0;
}

/**
 * dswap_backing_write_start - pages are about to be written remotely
 * @d: device
 * @pidx: first page
 * @nr: how many
 *
 * Context: any.
 */
void dswap_backing_write_start(struct dswap_dev *d, unsigned long pidx,
			       unsigned int nr)
{
	unsigned int i;

	if (!d->bk)
		return;
	for (i = 0; i < nr; i++)
		clear_bit(pidx + i, d->bk->valid);
}

/**
 * dswap_backing_write_done - pages were written remotely: copy them here
 * @d: device
 * @pidx: first page
 * @nr: how many
 *
 * Context: any (softirq included).
 */
void dswap_backing_write_done(struct dswap_dev *d, unsigned long pidx,
			      unsigned int nr)
{
	struct dswap_backing *bk = d->bk;
	unsigned int i;

	if (!bk)
		return;
	for (i = 0; i < nr; i++)
		if (!test_and_set_bit(pidx + i, bk->dirty))
			atomic_long_inc(&bk->lag);
	mod_delayed_work(dswap_wq, &bk->flush, 0);
}

/**
 * dswap_backing_forget - page @pidx was discarded
 * @d: device
 * @pidx: page
 *
 * Context: any.
 */
void dswap_backing_forget(struct dswap_dev *d, unsigned long pidx)
{
	struct dswap_backing *bk = d->bk;

	if (!bk)
		return;
	clear_bit(pidx, bk->valid);
	if (test_and_clear_bit(pidx, bk->dirty))
		atomic_long_dec(&bk->lag);
}

/**
 * dswap_backing_lag - pages written remotely but not yet on the backing device
 * @d: device
 *
 * Context: any.
 */
unsigned long dswap_backing_lag(struct dswap_dev *d)
{
	return d->bk ? atomic_long_read(&d->bk->lag) : 0;
}

/**
 * dswap_backing_throttle - wait while the backing device lags too far
 * @d: device
 *
 * Bounded: a writer waits at most DSWAP_BACKING_THROTTLE (the flusher
 * cannot catch up while no remote copy answers).
 *
 * Context: process context, may sleep.
 */
void dswap_backing_throttle(struct dswap_dev *d)
{
	struct dswap_backing *bk = d->bk;

	if (!bk || atomic_long_read(&bk->lag) <= DSWAP_BACKING_MAX_LAG)
		return;
	wait_event_timeout(bk->lag_wq, atomic_long_read(&bk->lag) <=
			   DSWAP_BACKING_MAX_LAG / 2, DSWAP_BACKING_THROTTLE);
}

/* Copy dirty pages from their remote copies to the backing device. */
static void dswap_backing_flush(struct work_struct *work)
{
	struct dswap_backing *bk = container_of(to_delayed_work(work),
						struct dswap_backing, flush);
	struct dswap_dev *d = bk->d;
	unsigned long p = 0;
	int ret;

	while ((p = find_next_bit(bk->dirty, bk->pages, p)) < bk->pages) {
		if (!test_and_clear_bit(p, bk->dirty)) {
			p++;
			continue;
		}
		atomic_long_dec(&bk->lag);
		ret = -EIO;
		mutex_lock(&bk->lock);
		if (test_bit(p, d->written) && !test_bit(p, d->lost))
			ret = dswap_read_page(d, p, bk->buf);
		if (!ret)
			ret = dswap_backing_rw(bk, p, &bk->buf, 1, true);
		/* A write that completed meanwhile made it dirty again. */
		if (!ret && !test_bit(p, bk->dirty))
			set_bit(p, bk->valid);
		mutex_unlock(&bk->lock);
		if (ret) {
			/* Try again later, unless the page is gone anyway. */
			if (test_bit(p, d->written) &&
			    !test_and_set_bit(p, bk->dirty))
				atomic_long_inc(&bk->lag);
			wake_up_all(&bk->lag_wq);
			queue_delayed_work(dswap_wq, &bk->flush, HZ);
			return;
		}
		if (!(p & 63))
			wake_up_all(&bk->lag_wq);
		p++;
		cond_resched();
	}
	wake_up_all(&bk->lag_wq);
}
