// SPDX-License-Identifier: GPL-2.0
/*
 * disagg_swap: remote-memory swap devices, /dev/dswapN.
 *
 * A device of disksize bytes is cut into slabs (slab_size, default 64 MiB).
 * A slab gets remote memory on its first write, on the memory node chosen
 * by power-of-two choices over free capacity (nodes.c). Pages move by
 * one-sided RDMA through disagg_net, straight from and into the caller's
 * page. Reads are synchronous and page-granular: the disk is marked
 * synchronous (->rw_page before 6.3), so the kernel swaps in by calling
 * us directly on a fault. Writes are asynchronous and batched: the bios
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
#include <disagg/compat.h>
#include "dswap.h"

#define DSWAP_DEFAULT_SLAB	(64ULL << 20)
#define DSWAP_MIN_SLAB		(1ULL << 20)
#define DSWAP_MAX_SLAB		(1ULL << 30)

static unsigned int num_devices = 1;
module_param(num_devices, uint, 0444);
MODULE_PARM_DESC(num_devices, "Number of /dev/dswapN devices (1-16)");

struct dswap_slab {
	struct dswap_node	*node;	/* NULL: no remote memory yet */
	struct dg_region	r;
};

/**
 * struct dswap_dev - one /dev/dswapN
 * @disk: its gendisk
 * @id: N
 * @init_lock: held for reading by I/O, for writing while the knobs below
 *	and the tables change (disksize, reset)
 * @disksize: bytes, 0 until set
 * @slab_size: bytes per slab, a power of two
 * @replicas: copies of each slab (1)
 * @nr_slabs: entries in @slabs
 * @slabs: remote memory of each slab; an entry's node is set once, under
 *	dswap_nodes_lock, and read locklessly with acquire semantics
 * @written: page bitmap: the page's data is on its slab's node
 * @lost: page bitmap: the page's last write failed, reads give -EIO
 * @inflight: asynchronous page writes not completed yet
 * @inflight_wq: woken when @inflight drops to 0
 * @stats: counters, see remote_stat_show()
 */
struct dswap_dev {
	struct gendisk		*disk;
	int			id;
	struct rw_semaphore	init_lock;
	u64			disksize;
	u64			slab_size;
	unsigned int		replicas;
	unsigned long		nr_slabs;
	struct dswap_slab	*slabs;
	unsigned long		*written;
	unsigned long		*lost;
	atomic_t		inflight;
	wait_queue_head_t	inflight_wq;
	struct {
		atomic64_t	reads;
		atomic64_t	writes;
		atomic64_t	zero_reads;
		atomic64_t	failed_reads;
		atomic64_t	failed_writes;
		atomic64_t	discards;
		atomic64_t	write_xfers;
	} stats;
};

static int dswap_major;
static struct dswap_dev *dswap_devs;
/* Writes of plugs flushed from inside schedule(). */
static struct workqueue_struct *dswap_wq;
/* Serialises dswap_node_resume() with unloading; dswap_devs_gone under it. */
static DEFINE_MUTEX(dswap_resume_lock);
static bool dswap_devs_gone;

/* Give @s remote memory if it has none; returns its node or an ERR_PTR. */
static struct dswap_node *dswap_slab_get(struct dswap_dev *d, unsigned long idx)
{
	struct dswap_slab *s = &d->slabs[idx];
	struct dswap_node *n;
	struct dg_region r;
	int tries, ret = -ENODEV;

	mutex_lock(&dswap_nodes_lock);
	n = s->node;
	if (n)
		goto out;
	/* A full node is skipped on the next draw. */
	for (tries = 0; tries < 4; tries++) {
		n = dswap_node_pick();
		if (!n) {
			ret = -ENODEV;
			break;
		}
		ret = dswap_node_alloc(n, d->slab_size,
				       ((u64)d->id << 48) | idx, &r);
		if (!ret)
			break;
		n = NULL;
	}
	if (!n) {
		pr_err_ratelimited("dswap%d: no memory node can take slab %lu: %d\n",
				   d->id, idx, ret);
		n = ERR_PTR(ret == -ENOSPC ? -ENOSPC : -EIO);
		goto out;
	}
	s->r = r;
	smp_store_release(&s->node, n);
out:
	mutex_unlock(&dswap_nodes_lock);
	return n;
}

/*
 * Move one page between @page (@len bytes at @off) and the device at byte
 * @pos. Whole pages go straight to the network; a partial one is bounced.
 */
static int dswap_page_io(struct dswap_dev *d, struct page *page,
			 unsigned int off, unsigned int len, u64 pos,
			 bool write)
{
	unsigned long pidx = pos >> PAGE_SHIFT;
	unsigned long sidx = pos >> ilog2(d->slab_size);
	u64 soff = (pos & (d->slab_size - 1)) & PAGE_MASK;
	struct dswap_slab *s = &d->slabs[sidx];
	struct dswap_node *n = smp_load_acquire(&s->node);
	struct page *io = page;
	int ret = 0;

	if (off || len != PAGE_SIZE) {
		io = alloc_page(GFP_NOIO);
		if (!io)
			return -ENOMEM;
	}

	if (!write) {
		if (test_bit(pidx, d->lost)) {
			ret = -EIO;
		} else if (!n || !test_bit(pidx, d->written)) {
			atomic64_inc(&d->stats.zero_reads);
			clear_highpage(io);
		} else {
			ret = dg_page_read(n->conn, &s->r, soff, io);
			/* A node reconnecting gets one timeout to come back. */
			if (ret == -ENOTCONN &&
			    !dg_conn_wait_up(n->conn, msecs_to_jiffies(n->timeout_ms)))
				ret = dg_page_read(n->conn, &s->r, soff, io);
			if (ret)
				atomic64_inc(&n->errors);
			else
				atomic64_inc(&n->reads);
			/* Lost while we waited (the node restarted)? */
			if (!ret && test_bit(pidx, d->lost))
				ret = -EIO;
		}
		if (!ret && io != page)
			memcpy_page(page, off, io, 0, len);
		goto out;
	}

	if (io != page) {
		/* Read-modify-write of a partial page. */
		ret = dswap_page_io(d, io, 0, PAGE_SIZE, pos & PAGE_MASK, false);
		if (ret)
			goto out;
		memcpy_page(io, 0, page, off, len);
	}
	if (!n)
		n = dswap_slab_get(d, sidx);
	if (IS_ERR(n)) {
		ret = PTR_ERR(n);
	} else {
		ret = dg_page_write(n->conn, &s->r, soff, io);
		if (ret)
			atomic64_inc(&n->errors);
		else
			atomic64_inc(&n->writes);
	}
	if (ret) {
		set_bit(pidx, d->lost);
	} else {
		set_bit(pidx, d->written);
		clear_bit(pidx, d->lost);
	}
out:
	if (io != page)
		__free_page(io);
	return ret;
}

/* A write bio in flight: ended when its last page write completes. */
struct dswap_wbio {
	struct dswap_dev	*d;
	struct bio		*bio;
	atomic_t		pending;
	blk_status_t		status;
};

/*
 * A run of consecutive whole pages in one slab, perhaps from several bios,
 * written with one dg_pages_write_async(); each page holds a reference on
 * its bio.
 */
struct dswap_wrun {
	struct dswap_dev	*d;
	struct dswap_node	*node;
	unsigned long		pidx;		/* first page's index */
	unsigned int		nr;
	struct page		*pages[DG_WRITE_BATCH_MAX];
	struct dswap_wbio	*w[DG_WRITE_BATCH_MAX];
};

static void dswap_wbio_put(struct dswap_wbio *w)
{
	struct dswap_dev *d = w->d;

	if (!atomic_dec_and_test(&w->pending))
		return;
	if (w->status)
		w->bio->bi_status = w->status;
	bio_endio(w->bio);
	kfree(w);
	if (atomic_dec_and_test(&d->inflight))
		wake_up_all(&d->inflight_wq);
}

/* Every page of @run is written (@err 0) or failed; any context. */
static void dswap_wrun_end(struct dswap_wrun *run, int err)
{
	struct dswap_dev *d = run->d;
	unsigned int i;

	for (i = 0; i < run->nr; i++) {
		if (err) {
			set_bit(run->pidx + i, d->lost);
			atomic64_inc(&d->stats.failed_writes);
			run->w[i]->status = BLK_STS_IOERR;
		} else {
			set_bit(run->pidx + i, d->written);
			clear_bit(run->pidx + i, d->lost);
			atomic64_inc(&d->stats.writes);
		}
		dswap_wbio_put(run->w[i]);
	}
	if (run->node) {
		if (err)
			atomic64_inc(&run->node->errors);
		else
			atomic64_add(run->nr, &run->node->writes);
	}
	kfree(run);
}

/* Completion of a run's write; softirq or the transport's receive thread. */
static void dswap_wrun_done(void *ctx, int err)
{
	dswap_wrun_end(ctx, err);
}

/* Start the write of @run; it ends, well or not, through dswap_wrun_end(). */
static void dswap_wrun_start(struct dswap_wrun *run)
{
	struct dswap_dev *d = run->d;
	u64 pos = (u64)run->pidx << PAGE_SHIFT;
	unsigned long sidx = pos >> ilog2(d->slab_size);
	struct dswap_slab *s = &d->slabs[sidx];
	struct dswap_node *n = smp_load_acquire(&s->node);
	int ret;

	if (!n)
		n = dswap_slab_get(d, sidx);
	if (IS_ERR(n))
		return dswap_wrun_end(run, PTR_ERR(n));
	run->node = n;
	atomic64_inc(&d->stats.write_xfers);
	ret = dg_pages_write_async(n->conn, &s->r, pos & (d->slab_size - 1),
				   run->pages, run->nr, dswap_wrun_done, run);
	if (ret)
		dswap_wrun_end(run, ret);
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
		run = kzalloc(sizeof(*run), GFP_NOIO);
		*runp = run;
		if (!run) {
			set_bit(pidx, d->lost);
			atomic64_inc(&d->stats.failed_writes);
			w->status = BLK_STS_RESOURCE;
			return -ENOMEM;
		}
		run->d = d;
		run->pidx = pidx;
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

	while ((bio = bio_list_pop(list))) {
		struct dswap_wbio *w = kmalloc(sizeof(*w), GFP_NOIO);

		if (!w) {
			bio_io_error(bio);
			if (atomic_dec_and_test(&d->inflight))
				wake_up_all(&d->inflight_wq);
			continue;
		}
		w->d = d;
		w->bio = bio;
		w->status = BLK_STS_OK;
		atomic_set(&w->pending, 1);
		bio_for_each_segment(bv, bio, iter) {
			u64 pos = (u64)iter.bi_sector << SECTOR_SHIFT;

			if (bv.bv_offset || bv.bv_len != PAGE_SIZE) {
				ret = dswap_page_io(d, bv.bv_page, bv.bv_offset,
						    bv.bv_len, pos, true);
				atomic64_inc(ret ? &d->stats.failed_writes :
					     &d->stats.writes);
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

/* Forget pages in [pos, pos + len); give back slabs wholly inside. */
static void dswap_discard(struct dswap_dev *d, u64 pos, u64 len)
{
	u64 end = min(pos + len, d->disksize);
	u64 p;

	pos = round_up(pos, PAGE_SIZE);
	for (p = pos; p + PAGE_SIZE <= end; p += PAGE_SIZE) {
		clear_bit(p >> PAGE_SHIFT, d->written);
		clear_bit(p >> PAGE_SHIFT, d->lost);
		atomic64_inc(&d->stats.discards);
	}
	for (p = round_up(pos, d->slab_size); p + d->slab_size <= end;
	     p += d->slab_size) {
		struct dswap_slab *s = &d->slabs[p >> ilog2(d->slab_size)];

		mutex_lock(&dswap_nodes_lock);
		if (s->node) {
			dswap_node_free(s->node, &s->r);
			WRITE_ONCE(s->node, NULL);
		}
		mutex_unlock(&dswap_nodes_lock);
	}
}

static void dswap_submit_bio(struct bio *bio)
{
	struct dswap_dev *d = bio->bi_bdev->bd_disk->private_data;
	int ret = 0;

	down_read(&d->init_lock);
	if (!d->disksize) {
		ret = -ENXIO;
		goto out;
	}
	switch (bio_op(bio)) {
	case REQ_OP_READ:
		ret = dswap_read_bio(d, bio);
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
#ifdef DG_HAVE_RW_PAGE
	.rw_page	= dswap_rw_page,
#endif
};

/* Give every slab back and free the tables. */
static void dswap_free_tables(struct dswap_dev *d)
{
	unsigned long i;

	lockdep_assert_held_write(&d->init_lock);
	wait_event(d->inflight_wq, !atomic_read(&d->inflight));
	mutex_lock(&dswap_nodes_lock);
	for (i = 0; d->slabs && i < d->nr_slabs; i++) {
		if (d->slabs[i].node)
			dswap_node_free(d->slabs[i].node, &d->slabs[i].r);
	}
	mutex_unlock(&dswap_nodes_lock);
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
	unsigned long pages;
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
	d->disksize = size;
	set_capacity_and_notify(d->disk, size >> SECTOR_SHIFT);
	pr_info("dswap%d: %llu MiB in %lu slabs of %llu MiB\n", d->id,
		size >> 20, d->nr_slabs, d->slab_size >> 20);
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
	if (ret || v != 1) {
		pr_err("dswap%d: replicas: '%.*s' not supported (this version keeps 1 copy)\n",
		       d->id, dswap_input_len(buf), buf);
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

/*
 * One line of counters, in this order (Documentation/ABI):
 * reads writes zero_reads failed_reads failed_writes discards
 * remote_slabs remote_pages write_transfers
 */
static ssize_t remote_stat_show(struct device *dev,
				struct device_attribute *attr, char *buf)
{
	struct dswap_dev *d = dev_to_dswap(dev);
	unsigned long slabs = 0, pages = 0, i;
	ssize_t ret;

	down_read(&d->init_lock);
	for (i = 0; i < d->nr_slabs; i++)
		if (READ_ONCE(d->slabs[i].node))
			slabs++;
	if (d->written)
		pages = bitmap_weight(d->written, d->disksize >> PAGE_SHIFT);
	ret = sysfs_emit(buf, "%8llu %8llu %8llu %8llu %8llu %8llu %8lu %8lu %8llu\n",
			 (u64)atomic64_read(&d->stats.reads),
			 (u64)atomic64_read(&d->stats.writes),
			 (u64)atomic64_read(&d->stats.zero_reads),
			 (u64)atomic64_read(&d->stats.failed_reads),
			 (u64)atomic64_read(&d->stats.failed_writes),
			 (u64)atomic64_read(&d->stats.discards), slabs, pages,
			 (u64)atomic64_read(&d->stats.write_xfers));
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
		.synchronous		= true,
	};
	struct gendisk *disk;
	int ret;

	d->id = id;
	d->slab_size = DSWAP_DEFAULT_SLAB;
	d->replicas = 1;
	init_rwsem(&d->init_lock);
	init_waitqueue_head(&d->inflight_wq);

	disk = dg_alloc_disk(&lim, NUMA_NO_NODE);
	if (IS_ERR(disk))
		return PTR_ERR(disk);
	disk->major = dswap_major;
	disk->first_minor = id;
	disk->minors = 1;
	disk->flags |= GENHD_FL_NO_PART;
	disk->fops = &dswap_fops;
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
	down_write(&d->init_lock);
	dswap_free_tables(d);
	up_write(&d->init_lock);
	put_disk(d->disk);
	d->disk = NULL;
}

/*
 * Slab @idx of @d lost its contents: every page written there reads as
 * an I/O error from now on (until written again). Returns the pages.
 */
static unsigned long dswap_slab_lose(struct dswap_dev *d, unsigned long idx)
{
	unsigned long pps = d->slab_size >> PAGE_SHIFT;
	unsigned long p, lost = 0;

	for (p = idx * pps; p < (idx + 1) * pps && p < d->disksize >> PAGE_SHIFT; p++) {
		if (test_bit(p, d->written)) {
			set_bit(p, d->lost);
			clear_bit(p, d->written);
			lost++;
		}
	}
	return lost;
}

/* dswap_node_resume() for one device. */
static void dswap_dev_resume(struct dswap_dev *d, struct dswap_node *n,
			     bool restarted)
{
	unsigned long idx, slabs = 0, gone = 0, pages = 0;
	struct dg_region r;
	bool resumed;
	int ret;

	down_read(&d->init_lock);
	mutex_lock(&dswap_nodes_lock);
	for (idx = 0; d->slabs && idx < d->nr_slabs; idx++) {
		struct dswap_slab *s = &d->slabs[idx];

		if (s->node != n)
			continue;
		slabs++;
		ret = dswap_node_realloc(n, d->slab_size,
					 ((u64)d->id << 48) | idx, &r, &resumed);
		if (!ret && resumed && !restarted) {
			s->r = r;
			continue;
		}
		/* Mark the pages before a reader can see the new slab. */
		pages += dswap_slab_lose(d, idx);
		gone++;
		if (!ret) {
			s->r = r;
			continue;
		}
		/* No memory there any more: the next write picks a node. */
		n->nr_slabs--;
		smp_store_release(&s->node, NULL);
	}
	mutex_unlock(&dswap_nodes_lock);
	up_read(&d->init_lock);
	if (gone)
		pr_err("dswap%d: node %s lost %lu of our %lu slabs there: %lu pages now read as I/O errors\n",
		       d->id, n->name, gone, slabs, pages);
	else if (slabs)
		pr_info("dswap%d: node %s kept all %lu of our slabs\n", d->id,
			n->name, slabs);
}

/**
 * dswap_node_resume - a node's connection came back
 * @n: the node
 * @restarted: it restarted, so it kept nothing of ours
 *
 * Asks again for every slab our devices held there (the keys changed
 * with the connection). A slab the node kept keeps its pages; a slab it
 * lost has every page written there read as -EIO, never as other data.
 *
 * Context: process context, from the connection's event (before page I/O
 * on it resumes).
 */
void dswap_node_resume(struct dswap_node *n, bool restarted)
{
	unsigned int i;

	mutex_lock(&dswap_resume_lock);
	for (i = 0; !dswap_devs_gone && i < num_devices; i++)
		dswap_dev_resume(&dswap_devs[i], n, restarted);
	mutex_unlock(&dswap_resume_lock);
}

static void dswap_destroy_all(void)
{
	unsigned int i;

	mutex_lock(&dswap_resume_lock);
	dswap_devs_gone = true;
	mutex_unlock(&dswap_resume_lock);

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
	ret = dswap_nodes_init();
	if (ret)
		goto err_wq;
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
err_wq:
	destroy_workqueue(dswap_wq);
	return ret;
}

static void __exit dswap_exit(void)
{
	dswap_destroy_all();
	dswap_nodes_exit();
	destroy_workqueue(dswap_wq);
	pr_info("unloaded\n");
}

module_init(dswap_init);
module_exit(dswap_exit);

MODULE_DESCRIPTION("disagg remote-memory swap device");
MODULE_AUTHOR("disagg developers");
MODULE_LICENSE("GPL");
MODULE_VERSION("0.1");
