// SPDX-License-Identifier: GPL-2.0
/*
 * disagg_swap: remote-memory swap devices, /dev/dswapN.
 *
 * A device of disksize bytes is cut into slabs (slab_size, default 64 MiB).
 * A slab gets remote memory on its first write, on the memory node chosen
 * by power-of-two choices over free capacity (nodes.c). Pages move by
 * one-sided RDMA through disagg_net, straight from and into the caller's
 * page. Reads of a bio go out as one asynchronous transfer when they can
 * (whole pages of one slab), else synchronously page by page with
 * failover; swap-in goes through the swap cache and its readahead, unless
 * the synchronous knob makes the disk zram-like (->rw_page before 6.3),
 * when the kernel swaps in by calling us directly on a fault and we poll
 * for the completion. Writes are asynchronous and batched: the bios
 * of one plug (reclaim plugs around swap-out) are held until it is
 * flushed, and consecutive pages go out as one transfer of up to
 * DG_WRITE_BATCH_MAX pages. Pages never written read as zeros without a
 * network round trip; a page whose write failed reads as -EIO, never as
 * stale data. Discards give whole slabs back to their node.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/blkdev.h>
#include <linux/bio.h>
#include <linux/highmem.h>
#include <linux/pagemap.h>
#include <linux/vmalloc.h>
#include <linux/sysfs.h>
#include <linux/log2.h>
#include <linux/mempool.h>
#include <disagg/compat.h>
#include "dswap.h"

#define DSWAP_DEFAULT_SLAB	(64ULL << 20)
#define DSWAP_MIN_SLAB		(1ULL << 20)
#define DSWAP_MAX_SLAB		(1ULL << 30)
#define DSWAP_DEFAULT_FAILOVER_MS	1000
#define DSWAP_DEFAULT_REBUILD_MB	256

static unsigned int num_devices = 1;
module_param(num_devices, uint, 0444);
MODULE_PARM_DESC(num_devices, "Number of /dev/dswapN devices (1-16)");

static int dswap_major;
static struct dswap_dev *dswap_devs;
/* Writes of plugs flushed from inside schedule(), and the repair work. */
struct workqueue_struct *dswap_wq;
/*
 * What a bio in flight needs, reserved so that swap-out and swap-in make
 * progress when memory is short: per write bio, per write run, per read.
 */
#define DSWAP_POOL_MIN	16
static mempool_t *dswap_wbio_pool;
static mempool_t *dswap_wrun_pool;
static mempool_t *dswap_rbio_pool;
/*
 * Node events and evictions hold it for reading while they walk the
 * devices (those of different nodes run side by side, each making its
 * calls to its own node); unloading takes it for writing to set
 * dswap_devs_gone.
 */
static DECLARE_RWSEM(dswap_devs_sem);
static bool dswap_devs_gone;

static void dswap_write_page_sync(struct dswap_dev *d, struct page *page,
				  unsigned long pidx, int *err);

/*
 * Move one page between @page (@len bytes at @off) and the device at byte
 * @pos, synchronously. Whole pages go straight to the network; a partial
 * one is bounced (read-modify-write).
 */
static int dswap_page_io(struct dswap_dev *d, struct page *page,
			 unsigned int off, unsigned int len, u64 pos,
			 bool write)
{
	unsigned long pidx = pos >> PAGE_SHIFT;
	struct page *io = page;
	int ret = 0;

	if (off || len != PAGE_SIZE) {
		io = alloc_page(GFP_NOIO);
		if (!io)
			return -ENOMEM;
	}
	if (!write) {
		if (!dswap_prefetch_read(d, pidx, io))
			ret = dswap_read_page(d, pidx, io);
		dswap_prefetch_access(d, pidx);
		if (!ret && io != page)
			memcpy_page(page, off, io, 0, len);
		goto out;
	}
	if (io != page) {
		ret = dswap_read_page(d, pidx, io);
		if (ret)
			goto out;
		memcpy_page(io, 0, page, off, len);
	}
	dswap_write_page_sync(d, io, pidx, &ret);
out:
	if (io != page)
		__free_page(io);
	return ret;
}

/*
 * A write bio in flight: ended when its last page write completes. A
 * synchronous write has no bio but a completion.
 */
struct dswap_wbio {
	struct dswap_dev	*d;
	struct bio		*bio;
	struct completion	*done;
	atomic_t		pending;
	blk_status_t		status;
	unsigned long		start;	/* for the disk's I/O statistics */
};

static void dswap_wbio_put(struct dswap_wbio *w)
{
	struct dswap_dev *d = w->d;

	if (!atomic_dec_and_test(&w->pending))
		return;
	if (!w->bio) {
		complete(w->done);
		return;
	}
	if (w->status)
		w->bio->bi_status = w->status;
	bio_end_io_acct(w->bio, w->start);
	bio_endio(w->bio);
	mempool_free(w, dswap_wbio_pool);
	if (atomic_dec_and_test(&d->inflight))
		wake_up_all(&d->inflight_wq);
}

/**
 * dswap_wrun_end - every page of @run is written (@err 0) or failed
 * @run: the run, freed here
 * @err: 0 or the error of the last copy that failed
 *
 * Context: any.
 */
void dswap_wrun_end(struct dswap_wrun *run, int err)
{
	struct dswap_dev *d = run->d;
	unsigned int i;

	/* Before the bio ends: no page read ahead before is served after. */
	dswap_prefetch_forget(d, run->pidx, run->nr);
	for (i = 0; i < run->nr; i++) {
		unsigned long p = run->pidx + i;

		if (err) {
			set_bit(p, d->lost);
			clear_bit(p, d->written);
			atomic64_inc(&d->stats.failed_writes);
			run->w[i]->status = errno_to_blk_status(err);
		} else if (run->on_backing) {
			/* Only the backing device has it. */
			clear_bit(p, d->written);
			clear_bit(p, d->lost);
			atomic64_inc(&d->stats.writes);
		} else if (!run->marked) {
			set_bit(p, d->written);
			clear_bit(p, d->lost);
			atomic64_inc(&d->stats.writes);
		} else if (!test_bit(p, d->lost)) {
			atomic64_inc(&d->stats.writes);
		} else if (run->through) {
			/*
			 * Its only remote copy was lost after the write
			 * (the node restarted); the backing device has it.
			 */
			clear_bit(p, d->lost);
			atomic64_inc(&d->stats.writes);
		} else {
			/* Lost before the bio ends: the kernel keeps it. */
			atomic64_inc(&d->stats.failed_writes);
			run->w[i]->status = BLK_STS_IOERR;
		}
		dswap_wbio_put(run->w[i]);
	}
	if (!err && !run->on_backing && !run->through)
		dswap_backing_write_done(d, run->pidx, run->nr);
	mempool_free(run, dswap_wrun_pool);
}

/*
 * A run from the reserve. Its caller holds no run that is not started
 * yet, so waiting for one to come back always ends.
 */
static struct dswap_wrun *dswap_wrun_alloc(struct dswap_dev *d,
					   unsigned long pidx)
{
	struct dswap_wrun *run = mempool_alloc(dswap_wrun_pool, GFP_NOIO);

	if (run) {
		memset(run, 0, sizeof(*run));
		run->d = d;
		run->pidx = pidx;
	}
	return run;
}

/* Write one whole page to every copy and wait; *@err gets the result. */
static void dswap_write_page_sync(struct dswap_dev *d, struct page *page,
				  unsigned long pidx, int *err)
{
	DECLARE_COMPLETION_ONSTACK(done);
	struct dswap_wbio w = {
		.d = d, .done = &done, .pending = ATOMIC_INIT(2),
	};
	struct dswap_wrun *run = dswap_wrun_alloc(d, pidx);

	if (!run) {
		*err = -ENOMEM;
		return;
	}
	run->pages[0] = page;
	run->w[0] = &w;
	run->nr = 1;
	dswap_wrun_start(run);
	dswap_wbio_put(&w);
	wait_for_completion(&done);
	*err = blk_status_to_errno(w.status);
}

/*
 * Add the whole page at byte @pos of @w's bio to *@runp, starting the run
 * first if the page does not continue it. Returns -ENOMEM when no run can
 * be had (the page is then failed).
 */
static int dswap_wrun_add(struct dswap_wrun **runp, struct dswap_wbio *w,
			  struct page *page, u64 pos)
{
	struct dswap_dev *d = w->d;
	struct dswap_wrun *run = *runp;
	unsigned long pidx = pos >> PAGE_SHIFT;

	if (run && (run->nr == DG_WRITE_BATCH_MAX ||
		    run->pidx + run->nr != pidx ||
		    (pos & (d->slab_size - 1)) == 0)) {
		dswap_wrun_start(run);
		run = NULL;
	}
	if (!run) {
		run = dswap_wrun_alloc(d, pidx);
		*runp = run;
		if (!run) {
			set_bit(pidx, d->lost);
			clear_bit(pidx, d->written);
			atomic64_inc(&d->stats.failed_writes);
			w->status = BLK_STS_RESOURCE;
			return -ENOMEM;
		}
	}
	atomic_inc(&w->pending);
	run->pages[run->nr] = page;
	run->w[run->nr++] = w;
	return 0;
}

/*
 * Writes are asynchronous and batched: consecutive whole pages of the
 * bios in @list (of one plug, or a single bio) go out as runs of up to
 * DG_WRITE_BATCH_MAX pages, one transfer each, and every bio ends when
 * its last page completed. Partial pages (not seen from swap) go the
 * synchronous way, read-modify-write. Each bio was counted in
 * d->inflight by its submitter, which keeps the tables alive.
 */
static void dswap_write_bios(struct dswap_dev *d, struct bio_list *list)
{
	struct dswap_wrun *run = NULL;
	struct bvec_iter iter;
	struct bio_vec bv;
	struct bio *bio;
	int ret;

	/* The backing device's lag is bounded: wait for it first. */
	dswap_backing_throttle(d);
	while ((bio = bio_list_pop(list))) {
		struct dswap_wbio *w = mempool_alloc(dswap_wbio_pool,
						     GFP_NOWAIT);

		if (!w) {
			/*
			 * Before waiting for the reserve, start the run we
			 * hold: its bios are what will come back to it.
			 */
			if (run)
				dswap_wrun_start(run);
			run = NULL;
			w = mempool_alloc(dswap_wbio_pool, GFP_NOIO);
		}
		if (!w) {
			bio_io_error(bio);
			if (atomic_dec_and_test(&d->inflight))
				wake_up_all(&d->inflight_wq);
			continue;
		}
		w->d = d;
		w->bio = bio;
		w->start = bio_start_io_acct(bio);
		w->done = NULL;
		w->status = BLK_STS_OK;
		atomic_set(&w->pending, 1);
		bio_for_each_segment(bv, bio, iter) {
			u64 pos = (u64)iter.bi_sector << SECTOR_SHIFT;

			if (bv.bv_offset || bv.bv_len != PAGE_SIZE) {
				/* Counted by the run it becomes. */
				ret = dswap_page_io(d, bv.bv_page, bv.bv_offset,
						    bv.bv_len, pos, true);
				if (ret)
					w->status = errno_to_blk_status(ret);
				continue;
			}
			dswap_wrun_add(&run, w, bv.bv_page, pos);
		}
		dswap_wbio_put(w);
	}
	if (run)
		dswap_wrun_start(run);
}

/*
 * Write bios submitted under one plug (swap-out from reclaim plugs), held
 * until it is flushed so their pages can be batched.
 */
struct dswap_plug {
	struct blk_plug_cb	cb;
	struct dswap_dev	*d;
	struct bio_list		bios;
	struct work_struct	work;
};

static void dswap_plug_work(struct work_struct *work)
{
	struct dswap_plug *plug = container_of(work, struct dswap_plug, work);

	dswap_write_bios(plug->d, &plug->bios);
	kfree(plug);
}

static void dswap_unplug(struct blk_plug_cb *cb, bool from_schedule)
{
	struct dswap_plug *plug = container_of(cb, struct dswap_plug, cb);

	/* From inside schedule() we must not sleep: hand the bios on. */
	if (from_schedule) {
		INIT_WORK(&plug->work, dswap_plug_work);
		queue_work(dswap_wq, &plug->work);
		return;
	}
	dswap_write_bios(plug->d, &plug->bios);
	kfree(plug);
}

/*
 * Queue @bio on the current plug, or write it now if there is none or
 * somebody waits for it (REQ_SYNC: submit_bio_wait(), which is how 6.12
 * swaps out to a synchronous device, one page at a time).
 */
static void dswap_write_bio(struct dswap_dev *d, struct bio *bio)
{
	struct blk_plug_cb *cb = NULL;
	struct bio_list one;

	atomic_inc(&d->inflight);
	if (!(bio->bi_opf & REQ_SYNC))
		cb = blk_check_plugged(dswap_unplug, d,
				       sizeof(struct dswap_plug));
	if (cb) {
		struct dswap_plug *plug = container_of(cb, struct dswap_plug, cb);

		plug->d = d;
		bio_list_add(&plug->bios, bio);
		return;
	}
	bio_list_init(&one);
	bio_list_add(&one, bio);
	dswap_write_bios(d, &one);
}

/* The synchronous path: page by page, with failover and the backing device. */
static int dswap_read_bio(struct dswap_dev *d, struct bio *bio)
{
	struct bvec_iter iter;
	struct bio_vec bv;
	int ret = 0;

	bio_for_each_segment(bv, bio, iter) {
		u64 pos = (u64)iter.bi_sector << SECTOR_SHIFT;

		ret = dswap_page_io(d, bv.bv_page, bv.bv_offset, bv.bv_len,
				    pos, false);
		atomic64_inc(ret ? &d->stats.failed_reads : &d->stats.reads);
		if (ret)
			break;
	}
	return ret;
}

/*
 * A read bio in flight on the asynchronous path; counted in d->inflight,
 * which keeps the tables alive until it ends.
 */
struct dswap_rbio {
	struct dswap_dev	*d;
	struct bio		*bio;
	struct dswap_node	*node;
	unsigned long		pidx;
	unsigned int		nr;
	unsigned long		start;
	struct page		*pages[DG_WRITE_BATCH_MAX];
	struct work_struct	work;
};

static void dswap_rbio_end(struct dswap_rbio *rb, int ret)
{
	struct dswap_dev *d = rb->d;

	rb->bio->bi_status = errno_to_blk_status(ret);
	bio_end_io_acct(rb->bio, rb->start);
	bio_endio(rb->bio);
	mempool_free(rb, dswap_rbio_pool);
	if (atomic_dec_and_test(&d->inflight))
		wake_up_all(&d->inflight_wq);
}

/* The fast path failed: the synchronous one fails over, or tells -EIO. */
static void dswap_rbio_retry(struct work_struct *work)
{
	struct dswap_rbio *rb = container_of(work, struct dswap_rbio, work);

	dswap_rbio_end(rb, dswap_read_bio(rb->d, rb->bio));
}

static void dswap_rbio_done(void *ctx, int err)
{
	struct dswap_rbio *rb = ctx;
	struct dswap_dev *d = rb->d;
	unsigned int i;

	atomic64_inc(err ? &rb->node->errors : &rb->node->reads);
	dswap_node_put_active(rb->node);
	/* Lost while we read (the only node restarted): the slow path says so. */
	for (i = 0; i < rb->nr && !err; i++)
		if (test_bit(rb->pidx + i, d->lost))
			err = -EIO;
	if (err) {
		INIT_WORK(&rb->work, dswap_rbio_retry);
		queue_work(dswap_wq, &rb->work);
		return;
	}
	atomic64_add(rb->nr, &d->stats.reads);
	dswap_rbio_end(rb, 0);
}

/*
 * Reads nobody waits for one at a time (a queue of them from io_uring or
 * libaio, swap readahead) go out without blocking the submitter: whole
 * pages of one slab, up to DG_WRITE_BATCH_MAX, in one transfer, ending
 * the bio from the completion. A page fault's read is REQ_SYNC (6.12's
 * submit_bio_wait(); 6.1 calls ->rw_page) and keeps the synchronous path,
 * which polls for its completion and fails over after failover_ms. The
 * prefetch cache serves a one-page read it holds, and sees every read.
 * @start is the bio's accounting start. Returns false when @bio is for
 * the synchronous path.
 */
static bool dswap_read_bio_async(struct dswap_dev *d, struct bio *bio,
				 unsigned long start)
{
	u64 pos = (u64)bio->bi_iter.bi_sector << SECTOR_SHIFT;
	struct dswap_rbio *rb;
	struct bvec_iter iter;
	struct bio_vec bv;
	unsigned long pidx;
	unsigned int i, nr;

	if ((bio->bi_opf & REQ_SYNC) || !IS_ALIGNED(pos, PAGE_SIZE) ||
	    bio->bi_iter.bi_size > DG_WRITE_BATCH_MAX * PAGE_SIZE)
		return false;
	rb = mempool_alloc(dswap_rbio_pool, GFP_NOIO);
	if (!rb)
		return false;
	rb->d = d;
	rb->bio = bio;
	rb->pidx = pos >> PAGE_SHIFT;
	rb->nr = 0;
	bio_for_each_segment(bv, bio, iter) {
		if (bv.bv_offset || bv.bv_len != PAGE_SIZE)
			goto sync;
		rb->pages[rb->nr++] = bv.bv_page;
	}
	pidx = rb->pidx;
	nr = rb->nr;
	/* A one-page read the prefetch cache holds ends here. */
	if (nr == 1 && dswap_prefetch_read(d, pidx, rb->pages[0])) {
		mempool_free(rb, dswap_rbio_pool);
		dswap_prefetch_access(d, pidx);
		atomic64_inc(&d->stats.reads);
		bio_end_io_acct(bio, start);
		bio_endio(bio);
		return true;
	}
	atomic_inc(&d->inflight);
	rb->start = start;
	if (!dswap_read_pages_async(d, pidx, rb->pages, nr, &rb->node,
				    dswap_rbio_done, rb)) {
		/* @rb may be gone already: the copies say what was read. */
		for (i = 0; i < nr; i++)
			dswap_prefetch_access(d, pidx + i);
		return true;
	}
	if (atomic_dec_and_test(&d->inflight))
		wake_up_all(&d->inflight_wq);
sync:
	mempool_free(rb, dswap_rbio_pool);
	return false;
}

/* Forget pages in [pos, pos + len); give back slabs wholly inside. */
static void dswap_discard(struct dswap_dev *d, u64 pos, u64 len)
{
	u64 end = min(pos + len, d->disksize);
	u64 p;

	pos = round_up(pos, PAGE_SIZE);
	for (p = pos; p + PAGE_SIZE <= end; p += PAGE_SIZE) {
		clear_bit(p >> PAGE_SHIFT, d->written);
		clear_bit(p >> PAGE_SHIFT, d->lost);
		dswap_backing_forget(d, p >> PAGE_SHIFT);
		atomic64_inc(&d->stats.discards);
	}
	if (end > pos)
		dswap_prefetch_forget(d, pos >> PAGE_SHIFT,
				      (end - pos) >> PAGE_SHIFT);
	for (p = round_up(pos, d->slab_size); p + d->slab_size <= end;
	     p += d->slab_size)
		dswap_free_slab(d, p >> ilog2(d->slab_size));
}

static void dswap_submit_bio(struct bio *bio)
{
	struct dswap_dev *d = bio->bi_bdev->bd_disk->private_data;
	unsigned long start;
	int ret = 0;

	down_read(&d->init_lock);
	if (!d->disksize) {
		ret = -ENXIO;
		goto out;
	}
	switch (bio_op(bio)) {
	case REQ_OP_READ:
		start = bio_start_io_acct(bio);
		if (dswap_read_bio_async(d, bio, start)) {
			/* Ends the bio itself, when the reads complete. */
			up_read(&d->init_lock);
			return;
		}
		ret = dswap_read_bio(d, bio);
		bio_end_io_acct(bio, start);
		break;
	case REQ_OP_WRITE:
		/* Ends the bio itself, when the writes complete. */
		dswap_write_bio(d, bio);
		up_read(&d->init_lock);
		return;
	case REQ_OP_DISCARD:
	case REQ_OP_WRITE_ZEROES:
		dswap_discard(d, (u64)bio->bi_iter.bi_sector << SECTOR_SHIFT,
			      bio->bi_iter.bi_size);
		break;
	case REQ_OP_FLUSH:
		break;	/* writes complete only once they are remote */
	default:
		ret = -EOPNOTSUPP;
		break;
	}
out:
	up_read(&d->init_lock);
	bio->bi_status = errno_to_blk_status(ret);
	bio_endio(bio);
}

#ifdef DG_HAVE_RW_PAGE
/*
 * The synchronous swap-in path of kernels before 6.3. Writes are refused,
 * which sends swap-out through submit_bio, where they are asynchronous.
 */
static int dswap_rw_page(struct block_device *bdev, sector_t sector,
			 struct page *page, enum req_op op)
{
	struct dswap_dev *d = bdev->bd_disk->private_data;
	int ret;

	if (op_is_write(op) || PageTransHuge(page))
		return -EOPNOTSUPP;
	down_read(&d->init_lock);
	ret = d->disksize ? dswap_page_io(d, page, 0, PAGE_SIZE,
					  (u64)sector << SECTOR_SHIFT, false) :
			    -ENXIO;
	up_read(&d->init_lock);
	atomic64_inc(ret ? &d->stats.failed_reads : &d->stats.reads);
	/* On an error the caller retries through submit_bio. */
	if (!ret)
		page_endio(page, false, 0);
	return ret;
}
#endif

static const struct block_device_operations dswap_fops = {
	.owner		= THIS_MODULE,
	.submit_bio	= dswap_submit_bio,
};

#ifdef DG_HAVE_RW_PAGE
/* Before 6.3, ->rw_page is what makes swap-in synchronous. */
static const struct block_device_operations dswap_fops_sync = {
	.owner		= THIS_MODULE,
	.submit_bio	= dswap_submit_bio,
	.rw_page	= dswap_rw_page,
};
#endif

/*
 * Give every slab back and free the tables. The repair work was stopped
 * (dswap_repair_stop()) before init_lock was taken for writing.
 */
static void dswap_free_tables(struct dswap_dev *d)
{
	unsigned long i;

	lockdep_assert_held_write(&d->init_lock);
	wait_event(d->inflight_wq, !atomic_read(&d->inflight));
	dswap_prefetch_stop(d);
	/* The flusher reads the slabs: stop it first. */
	dswap_backing_close(d);
	for (i = 0; d->slabs && i < d->nr_slabs; i++)
		dswap_free_slab(d, i);
	kvfree(d->slabs);
	kvfree(d->written);
	kvfree(d->lost);
	d->slabs = NULL;
	d->written = d->lost = NULL;
	d->nr_slabs = 0;
	d->disksize = 0;
}

/* How much of a sysfs write to quote in a log line: one line, 32 bytes. */
static int dswap_input_len(const char *buf)
{
	return min_t(size_t, strcspn(buf, "\n"), 32);
}

static struct dswap_dev *dev_to_dswap(struct device *dev)
{
	return dev_to_disk(dev)->private_data;
}

static ssize_t disksize_show(struct device *dev, struct device_attribute *attr,
			     char *buf)
{
	struct dswap_dev *d = dev_to_dswap(dev);
	u64 v;

	down_read(&d->init_lock);
	v = d->disksize;
	up_read(&d->init_lock);
	return sysfs_emit(buf, "%llu\n", v);
}

static ssize_t disksize_store(struct device *dev, struct device_attribute *attr,
			      const char *buf, size_t len)
{
	struct dswap_dev *d = dev_to_dswap(dev);
	unsigned long pages, i;
	u64 size;
	char *end;
	int ret = 0;

	size = memparse(buf, &end);
	if (end == buf || (*end && *end != '\n') || !size ||
	    size > (1ULL << 40)) {
		pr_err("dswap%d: disksize: bad size '%.*s' (1 byte to 1T)\n",
		       d->id, dswap_input_len(buf), buf);
		return -EINVAL;
	}
	size = round_up(size, PAGE_SIZE);
	pages = size >> PAGE_SHIFT;

	down_write(&d->init_lock);
	if (d->disksize) {
		pr_err("dswap%d: disksize: already set; reset first\n", d->id);
		ret = -EBUSY;
		goto out;
	}
	d->nr_slabs = DIV_ROUND_UP_ULL(size, d->slab_size);
	d->slabs = kvcalloc(d->nr_slabs, sizeof(*d->slabs), GFP_KERNEL);
	d->written = kvcalloc(BITS_TO_LONGS(pages), sizeof(long), GFP_KERNEL);
	d->lost = kvcalloc(BITS_TO_LONGS(pages), sizeof(long), GFP_KERNEL);
	if (!d->slabs || !d->written || !d->lost) {
		d->disksize = size;	/* for dswap_free_tables() */
		dswap_free_tables(d);
		ret = -ENOMEM;
		goto out;
	}
	for (i = 0; i < d->nr_slabs; i++)
		dswap_slab_init(&d->slabs[i]);
	d->disksize = size;
	ret = dswap_backing_open(d, pages);
	if (ret) {
		dswap_free_tables(d);
		goto out;
	}
	dswap_prefetch_start(d);
	WRITE_ONCE(d->stopping, false);
	set_capacity_and_notify(d->disk, size >> SECTOR_SHIFT);
	pr_info("dswap%d: %llu MiB in %lu slabs of %llu MiB, %u cop%s each%s%s\n",
		d->id, size >> 20, d->nr_slabs, d->slab_size >> 20, d->replicas,
		d->replicas == 1 ? "y" : "ies", d->bk ? ", backed by " : "",
		d->bk ? d->bk_path : "");
out:
	up_write(&d->init_lock);
	return ret ?: len;
}
static DEVICE_ATTR_RW(disksize);

static ssize_t slab_size_show(struct device *dev, struct device_attribute *attr,
			      char *buf)
{
	return sysfs_emit(buf, "%llu\n", READ_ONCE(dev_to_dswap(dev)->slab_size));
}

static ssize_t slab_size_store(struct device *dev, struct device_attribute *attr,
			       const char *buf, size_t len)
{
	struct dswap_dev *d = dev_to_dswap(dev);
	u64 size;
	char *end;
	int ret = 0;

	size = memparse(buf, &end);
	if (end == buf || (*end && *end != '\n') || !is_power_of_2(size) ||
	    size < DSWAP_MIN_SLAB || size > DSWAP_MAX_SLAB) {
		pr_err("dswap%d: slab_size: '%.*s' is not a power of two from 1M to 1G\n",
		       d->id, dswap_input_len(buf), buf);
		return -EINVAL;
	}
	down_write(&d->init_lock);
	if (d->disksize) {
		pr_err("dswap%d: slab_size: device in use; reset first\n", d->id);
		ret = -EBUSY;
	} else {
		WRITE_ONCE(d->slab_size, size);
	}
	up_write(&d->init_lock);
	return ret ?: len;
}
static DEVICE_ATTR_RW(slab_size);

static ssize_t replicas_show(struct device *dev, struct device_attribute *attr,
			     char *buf)
{
	return sysfs_emit(buf, "%u\n", READ_ONCE(dev_to_dswap(dev)->replicas));
}

static ssize_t replicas_store(struct device *dev, struct device_attribute *attr,
			      const char *buf, size_t len)
{
	struct dswap_dev *d = dev_to_dswap(dev);
	unsigned int v;
	int ret;

	ret = kstrtouint(buf, 10, &v);
	if (ret || v < 1 || v > DSWAP_MAX_REPLICAS) {
		pr_err("dswap%d: replicas: '%.*s' is not 1 to %d\n",
		       d->id, dswap_input_len(buf), buf, DSWAP_MAX_REPLICAS);
		return -EINVAL;
	}
	down_write(&d->init_lock);
	if (d->disksize) {
		pr_err("dswap%d: replicas: device in use; reset first\n", d->id);
		ret = -EBUSY;
	} else {
		WRITE_ONCE(d->replicas, v);
	}
	up_write(&d->init_lock);
	return ret ?: len;
}
static DEVICE_ATTR_RW(replicas);

static const struct block_device_operations dswap_fops;
#ifdef DG_HAVE_RW_PAGE
static const struct block_device_operations dswap_fops_sync;
#endif

static ssize_t synchronous_show(struct device *dev,
				struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%d\n", READ_ONCE(dev_to_dswap(dev)->synchronous));
}

/*
 * 1: swap-in calls us directly and skips the swap cache (zram's way): a
 * fault is one synchronous read, but a page swapped in loses its slot and
 * is written again on its next swap-out, and nothing is read ahead.
 * 0: swap-in goes through the swap cache, with the kernel's readahead
 * and asynchronous reads; a clean page keeps its slot. swapon reads the
 * setting, so it may change only while disksize is unset.
 */
static ssize_t synchronous_store(struct device *dev,
				 struct device_attribute *attr,
				 const char *buf, size_t len)
{
	struct dswap_dev *d = dev_to_dswap(dev);
	bool v;
	int ret;

	ret = kstrtobool(buf, &v);
	if (ret) {
		pr_err("dswap%d: synchronous: '%.*s' is not 0 or 1\n",
		       d->id, dswap_input_len(buf), buf);
		return -EINVAL;
	}
	down_write(&d->init_lock);
	if (d->disksize) {
		pr_err("dswap%d: synchronous: device in use; reset first\n",
		       d->id);
		ret = -EBUSY;
		goto out;
	}
	ret = dg_disk_set_synchronous(d->disk, v);
	if (ret)
		goto out;
#ifdef DG_HAVE_RW_PAGE
	d->disk->fops = v ? &dswap_fops_sync : &dswap_fops;
#endif
	WRITE_ONCE(d->synchronous, v);
out:
	up_write(&d->init_lock);
	return ret ?: len;
}
static DEVICE_ATTR_RW(synchronous);

/* "unset" without disksize; "degraded" while a slab lacks copies. */
static ssize_t state_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	struct dswap_dev *d = dev_to_dswap(dev);
	const char *state = "unset";

	down_read(&d->init_lock);
	if (d->disksize)
		state = dswap_degraded_slabs(d) ? "degraded" : "ok";
	up_read(&d->init_lock);
	return sysfs_emit(buf, "%s\n", state);
}
static DEVICE_ATTR_RO(state);

static ssize_t degraded_slabs_show(struct device *dev,
				   struct device_attribute *attr, char *buf)
{
	struct dswap_dev *d = dev_to_dswap(dev);
	unsigned long n;

	down_read(&d->init_lock);
	n = dswap_degraded_slabs(d);
	up_read(&d->init_lock);
	return sysfs_emit(buf, "%lu\n", n);
}
static DEVICE_ATTR_RO(degraded_slabs);

/* A knob that may change at any time: @v within [@min, @max]. */
static ssize_t dswap_store_uint(struct device *dev, const char *name,
				const char *buf, size_t len, unsigned int *v,
				unsigned int min, unsigned int max)
{
	struct dswap_dev *d = dev_to_dswap(dev);
	unsigned int x;

	if (kstrtouint(buf, 10, &x) || x < min || x > max) {
		pr_err("dswap%d: %s: '%.*s' is not %u to %u\n", d->id, name,
		       dswap_input_len(buf), buf, min, max);
		return -EINVAL;
	}
	WRITE_ONCE(*v, x);
	return len;
}

static ssize_t rebuild_rate_mb_show(struct device *dev,
				    struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n",
			  READ_ONCE(dev_to_dswap(dev)->rebuild_rate_mb));
}

static ssize_t rebuild_rate_mb_store(struct device *dev,
				     struct device_attribute *attr,
				     const char *buf, size_t len)
{
	return dswap_store_uint(dev, "rebuild_rate_mb", buf, len,
				&dev_to_dswap(dev)->rebuild_rate_mb, 0, 100000);
}
static DEVICE_ATTR_RW(rebuild_rate_mb);

static ssize_t failover_ms_show(struct device *dev,
				struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n",
			  READ_ONCE(dev_to_dswap(dev)->failover_ms));
}

static ssize_t failover_ms_store(struct device *dev,
				 struct device_attribute *attr,
				 const char *buf, size_t len)
{
	return dswap_store_uint(dev, "failover_ms", buf, len,
				&dev_to_dswap(dev)->failover_ms, 10, 600000);
}
static DEVICE_ATTR_RW(failover_ms);

static ssize_t backing_dev_show(struct device *dev,
				struct device_attribute *attr, char *buf)
{
	struct dswap_dev *d = dev_to_dswap(dev);
	ssize_t ret;

	down_read(&d->init_lock);
	ret = sysfs_emit(buf, "%s\n", d->bk_path[0] ? d->bk_path : "none");
	up_read(&d->init_lock);
	return ret;
}

static ssize_t backing_dev_store(struct device *dev,
				 struct device_attribute *attr,
				 const char *buf, size_t len)
{
	struct dswap_dev *d = dev_to_dswap(dev);
	char path[sizeof(d->bk_path)];
	size_t n = strcspn(buf, "\n");
	int ret = 0;

	if (!n || n >= sizeof(path) ||
	    (strncmp(buf, "none", n) && buf[0] != '/')) {
		pr_err("dswap%d: backing_dev: '%.*s' is not an absolute path or 'none'\n",
		       d->id, dswap_input_len(buf), buf);
		return -EINVAL;
	}
	memcpy(path, buf, n);
	path[n] = '\0';
	down_write(&d->init_lock);
	if (d->disksize) {
		pr_err("dswap%d: backing_dev: device in use; reset first\n",
		       d->id);
		ret = -EBUSY;
	} else if (!strcmp(path, "none")) {
		d->bk_path[0] = '\0';
	} else {
		strscpy(d->bk_path, path, sizeof(d->bk_path));
	}
	up_write(&d->init_lock);
	return ret ?: len;
}
static DEVICE_ATTR_RW(backing_dev);

/*
 * One line of counters, in this order (Documentation/ABI):
 * reads writes zero_reads failed_reads failed_writes discards
 * remote_slabs remote_pages write_transfers degraded_slabs rebuilt_slabs
 * read_failovers backing_lag_pages backing_reads prefetched prefetch_used
 * prefetch_wasted
 */
static ssize_t remote_stat_show(struct device *dev,
				struct device_attribute *attr, char *buf)
{
	struct dswap_dev *d = dev_to_dswap(dev);
	unsigned long slabs = 0, pages = 0, i;
	ssize_t ret;

	down_read(&d->init_lock);
	for (i = 0; i < d->nr_slabs; i++)
		if (READ_ONCE(d->slabs[i].nr))
			slabs++;
	if (d->written)
		pages = bitmap_weight(d->written, d->disksize >> PAGE_SHIFT);
	ret = sysfs_emit(buf, "%8llu %8llu %8llu %8llu %8llu %8llu %8lu %8lu %8llu %8lu %8llu %8llu %8lu %8llu %8llu %8llu %8llu\n",
			 (u64)atomic64_read(&d->stats.reads),
			 (u64)atomic64_read(&d->stats.writes),
			 (u64)atomic64_read(&d->stats.zero_reads),
			 (u64)atomic64_read(&d->stats.failed_reads),
			 (u64)atomic64_read(&d->stats.failed_writes),
			 (u64)atomic64_read(&d->stats.discards), slabs, pages,
			 (u64)atomic64_read(&d->stats.write_xfers),
			 dswap_degraded_slabs(d),
			 (u64)atomic64_read(&d->stats.rebuilt_slabs),
			 (u64)atomic64_read(&d->stats.read_failovers),
			 dswap_backing_lag(d),
			 (u64)atomic64_read(&d->stats.backing_reads),
			 (u64)atomic64_read(&d->stats.prefetched),
			 (u64)atomic64_read(&d->stats.prefetch_used),
			 (u64)atomic64_read(&d->stats.prefetch_wasted));
	up_read(&d->init_lock);
	return ret;
}
/* The block layer owns /sys/block/dswapN/stat; ours is remote_stat. */
static DEVICE_ATTR_RO(remote_stat);

static ssize_t reset_store(struct device *dev, struct device_attribute *attr,
			   const char *buf, size_t len)
{
	struct dswap_dev *d = dev_to_dswap(dev);
	struct gendisk *disk = d->disk;
	bool yes;
	int ret;

	ret = kstrtobool(buf, &yes);
	if (ret || !yes) {
		pr_err("dswap%d: reset: write 1 to reset\n", d->id);
		return -EINVAL;
	}
	mutex_lock(&disk->open_mutex);
	if (disk_openers(disk)) {
		mutex_unlock(&disk->open_mutex);
		pr_err("dswap%d: reset: device is open (swapoff first)\n", d->id);
		return -EBUSY;
	}
	dswap_repair_stop(d);
	down_write(&d->init_lock);
	set_capacity_and_notify(disk, 0);
	dswap_free_tables(d);
	memset(&d->stats, 0, sizeof(d->stats));
	up_write(&d->init_lock);
	mutex_unlock(&disk->open_mutex);
	pr_info("dswap%d: reset\n", d->id);
	return len;
}
static DEVICE_ATTR_WO(reset);

static struct attribute *dswap_disk_attrs[] = {
	&dev_attr_disksize.attr,
	&dev_attr_slab_size.attr,
	&dev_attr_replicas.attr,
	&dev_attr_synchronous.attr,
	&dev_attr_state.attr,
	&dev_attr_degraded_slabs.attr,
	&dev_attr_rebuild_rate_mb.attr,
	&dev_attr_failover_ms.attr,
	&dev_attr_backing_dev.attr,
	&dev_attr_prefetch.attr,
	&dev_attr_prefetch_pages.attr,
	&dev_attr_remote_stat.attr,
	&dev_attr_reset.attr,
	NULL,
};

static const struct attribute_group dswap_disk_group = {
	.attrs = dswap_disk_attrs,
};

static const struct attribute_group *dswap_disk_groups[] = {
	&dswap_disk_group,
	NULL,
};

static int dswap_dev_create(struct dswap_dev *d, int id)
{
	const struct dg_disk_limits lim = {
		.block_size		= PAGE_SIZE,
		.max_sectors		= 256,		/* 128 KiB per bio */
		.max_discard_sectors	= UINT_MAX >> SECTOR_SHIFT,
		/* Through the swap cache: see synchronous_store(). */
		.synchronous		= false,
	};
	struct gendisk *disk;
	int ret;

	d->id = id;
	d->slab_size = DSWAP_DEFAULT_SLAB;
	d->replicas = 1;
	d->synchronous = lim.synchronous;
	d->failover_ms = DSWAP_DEFAULT_FAILOVER_MS;
	d->rebuild_rate_mb = DSWAP_DEFAULT_REBUILD_MB;
	init_rwsem(&d->init_lock);
	init_waitqueue_head(&d->inflight_wq);
	init_waitqueue_head(&d->slab_wq);
	INIT_DELAYED_WORK(&d->repair, dswap_repair_work);
	spin_lock_init(&d->repair_lock);
	INIT_LIST_HEAD(&d->orphans);
	dswap_prefetch_init(d);

	disk = dg_alloc_disk(&lim, NUMA_NO_NODE);
	if (IS_ERR(disk))
		return PTR_ERR(disk);
	disk->major = dswap_major;
	disk->first_minor = id;
	disk->minors = 1;
	disk->flags |= GENHD_FL_NO_PART;
#ifdef DG_HAVE_RW_PAGE
	disk->fops = lim.synchronous ? &dswap_fops_sync : &dswap_fops;
#else
	disk->fops = &dswap_fops;
#endif
	disk->private_data = d;
	snprintf(disk->disk_name, sizeof(disk->disk_name), "dswap%d", id);
	set_capacity(disk, 0);
	d->disk = disk;

	ret = device_add_disk(NULL, disk, dswap_disk_groups);
	if (ret) {
		put_disk(disk);
		d->disk = NULL;
	}
	return ret;
}

static void dswap_dev_destroy(struct dswap_dev *d)
{
	if (!d->disk)
		return;
	del_gendisk(d->disk);
	dswap_repair_stop(d);
	down_write(&d->init_lock);
	dswap_free_tables(d);
	up_write(&d->init_lock);
	put_disk(d->disk);
	d->disk = NULL;
}

/*
 * Run @fn on every device that has tables, with its init_lock held for
 * reading; node events and evictions come here.
 */
static int dswap_for_each_dev(int (*fn)(struct dswap_dev *d, void *arg),
			      void *arg)
{
	unsigned int i;
	int ret = -ENOENT;

	down_read(&dswap_devs_sem);
	for (i = 0; !dswap_devs_gone && i < num_devices; i++) {
		struct dswap_dev *d = &dswap_devs[i];

		down_read(&d->init_lock);
		if (d->disksize && !fn(d, arg))
			ret = 0;
		up_read(&d->init_lock);
	}
	up_read(&dswap_devs_sem);
	return ret;
}

struct dswap_node_ev {
	struct dswap_node	*n;
	bool			flag;
	u64			slab_id;
};

static int dswap_down_fn(struct dswap_dev *d, void *arg)
{
	struct dswap_node_ev *ev = arg;

	dswap_dev_node_down(d, ev->n, ev->flag);
	return 0;
}

/**
 * dswap_node_down - a node stopped answering, or is removed by force
 * @n: the node
 * @force: it is removed: drop even the only copy of a slab there
 *
 * Context: process context.
 */
void dswap_node_down(struct dswap_node *n, bool force)
{
	struct dswap_node_ev ev = { .n = n, .flag = force };

	dswap_for_each_dev(dswap_down_fn, &ev);
}

static int dswap_resume_fn(struct dswap_dev *d, void *arg)
{
	struct dswap_node_ev *ev = arg;

	dswap_dev_node_resume(d, ev->n, ev->flag);
	return 0;
}

/**
 * dswap_node_resume - a node's connection came back
 * @n: the node
 * @restarted: it restarted, so it kept nothing of ours
 *
 * Asks again for every slab copy our devices held there (the keys changed
 * with the connection). A copy the node kept keeps its pages; a copy it
 * lost is dropped if another exists, otherwise every page written there
 * reads from the backing device or as -EIO, never as other data.
 *
 * Context: process context, from the connection's event (before page I/O
 * on it resumes).
 */
void dswap_node_resume(struct dswap_node *n, bool restarted)
{
	struct dswap_node_ev ev = { .n = n, .flag = restarted };

	dswap_for_each_dev(dswap_resume_fn, &ev);
}

static int dswap_evict_fn(struct dswap_dev *d, void *arg)
{
	struct dswap_node_ev *ev = arg;

	return dswap_dev_evict(d, ev->n, ev->slab_id);
}

/**
 * dswap_node_evict - a node asks for one of its slabs back (MEM_EVICT)
 * @n: the node
 * @slab_id: its handle for the slab
 *
 * Context: process context (disagg_net's request work).
 * Return: 0 when one of our devices holds it and will give it back once
 * its pages are elsewhere; -ENOENT otherwise.
 */
int dswap_node_evict(struct dswap_node *n, u64 slab_id)
{
	struct dswap_node_ev ev = { .n = n, .slab_id = slab_id };
	int ret = dswap_for_each_dev(dswap_evict_fn, &ev);

	if (ret)
		pr_warn_ratelimited("memory node %s asked for slab %llu, which is not ours\n",
				    n->name, slab_id);
	return ret;
}

static int dswap_kick_fn(struct dswap_dev *d, void *arg)
{
	dswap_repair_kick(d);
	return 0;
}

/**
 * dswap_kick_all - have every device's repair work look again
 *
 * A node came, or started draining.
 *
 * Context: process context.
 */
void dswap_kick_all(void)
{
	dswap_for_each_dev(dswap_kick_fn, NULL);
}

static void dswap_destroy_all(void)
{
	unsigned int i;

	down_write(&dswap_devs_sem);
	dswap_devs_gone = true;
	up_write(&dswap_devs_sem);

	for (i = 0; i < num_devices; i++)
		dswap_dev_destroy(&dswap_devs[i]);
	kfree(dswap_devs);
	unregister_blkdev(dswap_major, "dswap");
}

static int __init dswap_init(void)
{
	unsigned int i;
	int ret;

	if (!dg_sysfs_root())
		return -ENODEV;
	if (!num_devices || num_devices > 16) {
		pr_err("num_devices=%u: must be 1 to 16\n", num_devices);
		return -EINVAL;
	}
	dswap_wq = alloc_workqueue("dswap", WQ_MEM_RECLAIM, 0);
	if (!dswap_wq)
		return -ENOMEM;
	ret = -ENOMEM;
	dswap_wbio_pool = mempool_create_kmalloc_pool(DSWAP_POOL_MIN,
						      sizeof(struct dswap_wbio));
	dswap_wrun_pool = mempool_create_kmalloc_pool(DSWAP_POOL_MIN,
						      sizeof(struct dswap_wrun));
	dswap_rbio_pool = mempool_create_kmalloc_pool(DSWAP_POOL_MIN,
						      sizeof(struct dswap_rbio));
	if (!dswap_wbio_pool || !dswap_wrun_pool || !dswap_rbio_pool)
		goto err_pools;
	ret = dswap_nodes_init();
	if (ret)
		goto err_pools;
	dswap_major = register_blkdev(0, "dswap");
	if (dswap_major < 0) {
		ret = dswap_major;
		goto err_nodes;
	}
	dswap_devs = kcalloc(num_devices, sizeof(*dswap_devs), GFP_KERNEL);
	if (!dswap_devs) {
		ret = -ENOMEM;
		unregister_blkdev(dswap_major, "dswap");
		goto err_nodes;
	}
	for (i = 0; i < num_devices; i++) {
		ret = dswap_dev_create(&dswap_devs[i], i);
		if (ret) {
			dswap_destroy_all();
			goto err_nodes;
		}
	}
	pr_info("loaded, %u device(s)\n", num_devices);
	return 0;

err_nodes:
	dswap_nodes_exit();
err_pools:
	mempool_destroy(dswap_rbio_pool);
	mempool_destroy(dswap_wrun_pool);
	mempool_destroy(dswap_wbio_pool);
	destroy_workqueue(dswap_wq);
	return ret;
}

static void __exit dswap_exit(void)
{
	dswap_destroy_all();
	dswap_nodes_exit();
	destroy_workqueue(dswap_wq);
	mempool_destroy(dswap_rbio_pool);
	mempool_destroy(dswap_wrun_pool);
	mempool_destroy(dswap_wbio_pool);
	pr_info("unloaded\n");
}

module_init(dswap_init);
module_exit(dswap_exit);

MODULE_DESCRIPTION("disagg remote-memory swap device");
MODULE_AUTHOR("disagg developers");
MODULE_LICENSE("GPL");
MODULE_VERSION("0.1");
