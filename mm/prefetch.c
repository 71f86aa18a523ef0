// SPDX-License-Identifier: GPL-2.0
/*
 * Prefetch for dswap devices.
 *
 * The kernel skips its own swap readahead for a synchronous swap device
 * (a fault of a page mapped once reads it alone, outside the swap cache),
 * and a module cannot put pages into the swap cache itself. So each device
 * keeps a small cache of its own: a pool of pages, made when disksize is
 * set, holding pages read ahead of the faults.
 *
 * Trend: every page read is one step in a ring of the last
 * DSWAP_PF_HISTORY page index deltas. A delta that holds the majority of
 * the newest half of the ring, or else of the whole ring (Boyer-Moore
 * vote, as Leap does), is the trend if the newest step follows it too
 * (Leap would read ahead on a jump away from the stream as well); with
 * one, the next pages along it
 * are read ahead with dg_pages_read_async(), runs of consecutive pages of
 * one slab in one transfer, from one copy of the slab on a node that
 * answers heartbeats. The window (pages kept ahead) doubles when pages
 * read ahead were used since the last prefetch and halves when more were
 * dropped unused than used.
 *
 * A read finds its page ready: copied, the entry freed ("used"); in
 * flight: it waits for it at most failover_ms, then reads normally. An
 * entry evicted, invalidated or failed before it was used is "wasted".
 *
 * Nothing stale is ever served: a write run's end (any write path) and a
 * discard forget the pages (an entry in flight is marked dead and dropped
 * at completion); any change of a slab's copies drops the whole cache; and
 * a page is served only while the device says its data is on the copies
 * (written, not lost). A prefetch that fails is dropped; the normal read,
 * with its failover, runs instead.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/blkdev.h>
#include <linux/device.h>
#include <linux/hash.h>
#include <linux/highmem.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/sysfs.h>
#include "dswap.h"

#define DSWAP_PF_DEFAULT_PAGES	256
#define DSWAP_PF_MAX_PAGES	4096
#define DSWAP_PF_MIN_WINDOW	2
#define DSWAP_PF_START_WINDOW	4
#define DSWAP_PF_MAX_WINDOW	64
/* A larger jump is no trend worth reading ahead. */
#define DSWAP_PF_MAX_STRIDE	16
/* Forget page by page up to this many pages, else walk the cache. */
#define DSWAP_PF_FORGET_LOOKUP	64

enum dswap_pf_state {
	DSWAP_PF_FREE,		/* on pf->free */
	DSWAP_PF_INFLIGHT,	/* hashed, on pf->fifo, being read */
	DSWAP_PF_READY,		/* hashed, on pf->fifo, holds the page */
	DSWAP_PF_DEAD,		/* on pf->fifo only: invalidated in flight */
	DSWAP_PF_TAKEN,		/* a reader copies it; on no list */
};

/**
 * struct dswap_pf_ent - one page of the prefetch cache
 * @hash: in pf->hash while in flight or ready
 * @list: on pf->free or pf->fifo
 * @pidx: the device page it holds (or is reading)
 * @page: ours, for the whole life of the pool
 * @state: &enum dswap_pf_state
 */
struct dswap_pf_ent {
	struct hlist_node	hash;
	struct list_head	list;
	unsigned long		pidx;
	struct page		*page;
	unsigned int		state;
};

/* One prefetch read: consecutive pages of one slab from one copy. */
struct dswap_pf_batch {
	struct dswap_dev	*d;
	struct dswap_node	*node;
	unsigned int		nr;
	struct dswap_pf_ent	*ent[DG_WRITE_BATCH_MAX];
	struct page		*pages[DG_WRITE_BATCH_MAX];
};

static struct hlist_head *dswap_pf_bucket(struct dswap_prefetch *pf,
					  unsigned long pidx)
{
	return &pf->hash[hash_long(pidx, pf->hash_bits)];
}

static struct dswap_pf_ent *dswap_pf_lookup(struct dswap_prefetch *pf,
					    unsigned long pidx)
{
	struct dswap_pf_ent *e;

	lockdep_assert_held(&pf->lock);
	if (!pf->ents)
		return NULL;
	hlist_for_each_entry(e, dswap_pf_bucket(pf, pidx), hash)
		if (e->pidx == pidx)
			return e;
	return NULL;
}

/* Give an entry back to the pool, uncounted. */
static void dswap_pf_release_locked(struct dswap_prefetch *pf,
				    struct dswap_pf_ent *e)
{
	lockdep_assert_held(&pf->lock);
	if (e->state != DSWAP_PF_DEAD)
		hlist_del(&e->hash);
	list_move(&e->list, &pf->free);
	pf->nr_cached--;
	e->state = DSWAP_PF_FREE;
}

/* Give a ready or dead entry back to the pool, unused: a page wasted. */
static void dswap_pf_drop_locked(struct dswap_dev *d, struct dswap_pf_ent *e)
{
	struct dswap_prefetch *pf = &d->pf;

	dswap_pf_release_locked(pf, e);
	pf->waste++;
	atomic64_inc(&d->stats.prefetch_wasted);
}

/* Forget @e: a ready page is dropped, one in flight dropped at completion. */
static void dswap_pf_kill_locked(struct dswap_dev *d, struct dswap_pf_ent *e)
{
	if (e->state == DSWAP_PF_READY) {
		dswap_pf_drop_locked(d, e);
	} else if (e->state == DSWAP_PF_INFLIGHT) {
		hlist_del(&e->hash);
		e->state = DSWAP_PF_DEAD;
	}
}

/**
 * dswap_prefetch_init - set up @d's prefetch state (no cache yet)
 * @d: device being created
 */
void dswap_prefetch_init(struct dswap_dev *d)
{
	struct dswap_prefetch *pf = &d->pf;

	spin_lock_init(&pf->lock);
	init_waitqueue_head(&pf->wq);
	INIT_LIST_HEAD(&pf->free);
	INIT_LIST_HEAD(&pf->fifo);
	pf->mode = DSWAP_PF_TREND;
	pf->pages = DSWAP_PF_DEFAULT_PAGES;
}

/**
 * dswap_prefetch_start - make the cache of @d (disksize was set)
 * @d: device, init_lock held for writing
 *
 * Without memory for it the device works without prefetch.
 *
 * Context: process context.
 */
void dswap_prefetch_start(struct dswap_dev *d)
{
	struct dswap_prefetch *pf = &d->pf;
	unsigned int nr = pf->pages, bits, i;
	struct dswap_pf_ent *ents;
	struct hlist_head *hash;

	lockdep_assert_held_write(&d->init_lock);
	if (!nr)
		return;
	bits = ilog2(roundup_pow_of_two(nr));
	ents = kvcalloc(nr, sizeof(*ents), GFP_KERNEL);
	hash = kvcalloc(1U << bits, sizeof(*hash), GFP_KERNEL);
	if (!ents || !hash)
		goto nomem;
	for (i = 0; i < nr; i++) {
		ents[i].page = alloc_page(GFP_KERNEL);
		if (!ents[i].page)
			goto nomem;
	}
	spin_lock_irq(&pf->lock);
	for (i = 0; i < nr; i++) {
		INIT_HLIST_NODE(&ents[i].hash);
		list_add_tail(&ents[i].list, &pf->free);
	}
	pf->hash = hash;
	pf->hash_bits = bits;
	pf->nr = nr;
	pf->nr_cached = 0;
	pf->hist_len = 0;
	pf->hist_pos = 0;
	pf->window = DSWAP_PF_START_WINDOW;
	pf->hits = 0;
	pf->waste = 0;
	WRITE_ONCE(pf->ents, ents);
	spin_unlock_irq(&pf->lock);
	return;
nomem:
	for (i = 0; ents && i < nr; i++)
		if (ents[i].page)
			__free_page(ents[i].page);
	kvfree(ents);
	kvfree(hash);
	pr_warn("dswap%d: no memory for %u prefetch pages: prefetch off\n",
		d->id, nr);
}

/**
 * dswap_prefetch_stop - free the cache of @d once no prefetch is in flight
 * @d: device, init_lock held for writing (no read can come)
 *
 * Context: process context; waits for the prefetch reads in flight, each
 * bounded by its connection's timeout.
 */
void dswap_prefetch_stop(struct dswap_dev *d)
{
	struct dswap_prefetch *pf = &d->pf;
	struct dswap_pf_ent *e, *tmp, *ents;
	struct hlist_head *hash;
	unsigned int i, nr;

	lockdep_assert_held_write(&d->init_lock);
	spin_lock_irq(&pf->lock);
	/* The completion wakes us under the lock: once we hold it, it is done. */
	wait_event_lock_irq(pf->wq, !pf->inflight, pf->lock);
	list_for_each_entry_safe(e, tmp, &pf->fifo, list)
		dswap_pf_drop_locked(d, e);
	ents = pf->ents;
	hash = pf->hash;
	nr = pf->nr;
	WRITE_ONCE(pf->ents, NULL);
	pf->hash = NULL;
	pf->nr = 0;
	INIT_LIST_HEAD(&pf->free);
	spin_unlock_irq(&pf->lock);
	for (i = 0; ents && i < nr; i++)
		__free_page(ents[i].page);
	kvfree(ents);
	kvfree(hash);
}

/* No prefetch of @pidx is in flight (a waiting reader's condition). */
static bool dswap_pf_settled(struct dswap_prefetch *pf, unsigned long pidx)
{
	struct dswap_pf_ent *e;
	unsigned long flags;
	bool settled;

	spin_lock_irqsave(&pf->lock, flags);
	e = dswap_pf_lookup(pf, pidx);
	settled = !e || e->state != DSWAP_PF_INFLIGHT;
	spin_unlock_irqrestore(&pf->lock, flags);
	return settled;
}

/**
 * dswap_prefetch_read - serve page @pidx from the prefetch cache
 * @d: device, init_lock held for reading
 * @pidx: page index
 * @page: destination
 *
 * A page in flight is waited for, at most failover_ms.
 *
 * Context: process context, may sleep.
 * Return: true when @page holds the page's data; false: read it normally.
 */
bool dswap_prefetch_read(struct dswap_dev *d, unsigned long pidx,
			 struct page *page)
{
	struct dswap_prefetch *pf = &d->pf;
	struct dswap_pf_ent *e;
	unsigned long flags;
	bool ok;

	if (!READ_ONCE(pf->nr_cached))
		return false;
	spin_lock_irqsave(&pf->lock, flags);
	e = dswap_pf_lookup(pf, pidx);
	if (e && e->state == DSWAP_PF_INFLIGHT) {
		spin_unlock_irqrestore(&pf->lock, flags);
		wait_event_timeout(pf->wq, dswap_pf_settled(pf, pidx),
				   msecs_to_jiffies(READ_ONCE(d->failover_ms)));
		spin_lock_irqsave(&pf->lock, flags);
		e = dswap_pf_lookup(pf, pidx);
	}
	if (!e || e->state != DSWAP_PF_READY) {
		spin_unlock_irqrestore(&pf->lock, flags);
		return false;
	}
	hlist_del(&e->hash);
	list_del(&e->list);
	pf->nr_cached--;
	e->state = DSWAP_PF_TAKEN;
	spin_unlock_irqrestore(&pf->lock, flags);

	/* Only while the copies hold the page's data (not lost, discarded). */
	ok = test_bit(pidx, d->written) && !test_bit(pidx, d->lost);
	if (ok)
		copy_highpage(page, e->page);

	spin_lock_irqsave(&pf->lock, flags);
	list_add(&e->list, &pf->free);
	e->state = DSWAP_PF_FREE;
	if (ok) {
		pf->hits++;
		atomic64_inc(&d->stats.prefetch_used);
	} else {
		pf->waste++;
		atomic64_inc(&d->stats.prefetch_wasted);
	}
	spin_unlock_irqrestore(&pf->lock, flags);
	return ok;
}

/**
 * dswap_prefetch_forget - pages [@pidx, @pidx + @nr) changed: drop them
 * @d: device
 * @pidx: first page
 * @nr: pages
 *
 * Called once the new data is where reads find it (a write run's end,
 * before its bio ends) or the pages were discarded: a prefetch of them
 * in flight may have read the old data, so it is dropped at completion.
 *
 * Context: any.
 */
void dswap_prefetch_forget(struct dswap_dev *d, unsigned long pidx,
			   unsigned long nr)
{
	struct dswap_prefetch *pf = &d->pf;
	struct dswap_pf_ent *e, *tmp;
	unsigned long flags, i;

	/*
	 * Pairs with the barrier in dswap_pf_issue(): a prefetch we do not
	 * see here was posted after the new data landed.
	 */
	smp_mb();
	if (!READ_ONCE(pf->nr_cached))
		return;
	spin_lock_irqsave(&pf->lock, flags);
	if (nr <= DSWAP_PF_FORGET_LOOKUP) {
		for (i = 0; i < nr; i++) {
			e = dswap_pf_lookup(pf, pidx + i);
			if (e)
				dswap_pf_kill_locked(d, e);
		}
	} else {
		list_for_each_entry_safe(e, tmp, &pf->fifo, list)
			if (e->pidx >= pidx && e->pidx - pidx < nr)
				dswap_pf_kill_locked(d, e);
	}
	spin_unlock_irqrestore(&pf->lock, flags);
}

/**
 * dswap_prefetch_flush - a slab's copies changed: drop the whole cache
 * @d: device
 *
 * Copies dropped (stale, lost, moved, node down), pages lost, a node's
 * memory replaced: rare events, so every page read ahead is dropped
 * rather than working out which ones came from where.
 *
 * Context: any; may be called under a slab's lock.
 */
void dswap_prefetch_flush(struct dswap_dev *d)
{
	struct dswap_prefetch *pf = &d->pf;
	struct dswap_pf_ent *e, *tmp;
	unsigned long flags;

	smp_mb();
	if (!READ_ONCE(pf->nr_cached))
		return;
	spin_lock_irqsave(&pf->lock, flags);
	list_for_each_entry_safe(e, tmp, &pf->fifo, list)
		dswap_pf_kill_locked(d, e);
	spin_unlock_irqrestore(&pf->lock, flags);
}

/* A prefetch read completed; softirq, or the poster when posting failed. */
static void dswap_pf_done(void *ctx, int err)
{
	struct dswap_pf_batch *b = ctx;
	struct dswap_dev *d = b->d;
	struct dswap_prefetch *pf = &d->pf;
	unsigned long flags;
	unsigned int i;

	if (b->node) {
		if (err)
			atomic64_inc(&b->node->errors);
		else
			atomic64_add(b->nr, &b->node->reads);
		dswap_node_put_active(b->node);
	}
	spin_lock_irqsave(&pf->lock, flags);
	for (i = 0; i < b->nr; i++) {
		struct dswap_pf_ent *e = b->ent[i];

		if (err || e->state == DSWAP_PF_DEAD)
			dswap_pf_drop_locked(d, e);
		else
			e->state = DSWAP_PF_READY;
	}
	pf->inflight--;
	/* Under the lock: dswap_prefetch_stop() frees nothing before. */
	wake_up_all(&pf->wq);
	spin_unlock_irqrestore(&pf->lock, flags);
	kfree(b);
}

/* A batch whose read was never posted: its entries go back, uncounted. */
static void dswap_pf_unpost(struct dswap_pf_batch *b)
{
	struct dswap_prefetch *pf = &b->d->pf;
	unsigned long flags;
	unsigned int i;

	spin_lock_irqsave(&pf->lock, flags);
	for (i = 0; i < b->nr; i++)
		dswap_pf_release_locked(pf, b->ent[i]);
	pf->inflight--;
	wake_up_all(&pf->wq);
	spin_unlock_irqrestore(&pf->lock, flags);
	kfree(b);
}

/*
 * Take an entry for @pidx: a free one, else the oldest ready one (its
 * page wasted). NULL when every entry is in flight or taken.
 */
static struct dswap_pf_ent *dswap_pf_get_locked(struct dswap_dev *d,
						unsigned long pidx)
{
	struct dswap_prefetch *pf = &d->pf;
	struct dswap_pf_ent *e;

	lockdep_assert_held(&pf->lock);
	if (list_empty(&pf->free)) {
		list_for_each_entry(e, &pf->fifo, list) {
			if (e->state == DSWAP_PF_READY) {
				dswap_pf_drop_locked(d, e);
				break;
			}
		}
	}
	e = list_first_entry_or_null(&pf->free, struct dswap_pf_ent, list);
	if (!e)
		return NULL;
	e->pidx = pidx;
	e->state = DSWAP_PF_INFLIGHT;
	hlist_add_head(&e->hash, dswap_pf_bucket(pf, pidx));
	list_move_tail(&e->list, &pf->fifo);
	pf->nr_cached++;
	return e;
}

/*
 * Read @nr consecutive pages from @pidx (one slab) ahead into the cache,
 * the way an asynchronous read bio is read: one copy on a node that
 * answers, never a page that may be only on the backing device. Pages
 * already cached or being read are left out by the caller.
 */
static void dswap_pf_issue(struct dswap_dev *d, unsigned long pidx,
			   unsigned int nr)
{
	struct dswap_prefetch *pf = &d->pf;
	struct dswap_pf_batch *b;
	unsigned long flags;
	unsigned int i, nr_posted;
	int ret;

	b = kzalloc(sizeof(*b), GFP_NOWAIT | __GFP_NOWARN);
	if (!b)
		return;
	b->d = d;
	spin_lock_irqsave(&pf->lock, flags);
	for (i = 0; i < nr; i++) {
		struct dswap_pf_ent *e = NULL;

		/* Another reader may have read it ahead meanwhile. */
		if (!dswap_pf_lookup(pf, pidx + i))
			e = dswap_pf_get_locked(d, pidx + i);
		if (!e)
			break;
		b->ent[i] = e;
		b->pages[i] = e->page;
	}
	b->nr = i;
	if (b->nr)
		pf->inflight++;
	spin_unlock_irqrestore(&pf->lock, flags);
	if (!b->nr) {
		kfree(b);
		return;
	}
	/*
	 * The entries are visible before the copy is chosen and the read
	 * posted: a write that ends or a copy change from now on finds
	 * them. Pairs with dswap_prefetch_forget() and _flush().
	 */
	smp_mb();

	/* @b may be gone as soon as the read is posted. */
	nr_posted = b->nr;
	ret = dswap_read_pages_async(d, pidx, b->pages, nr_posted, &b->node,
				     dswap_pf_done, b);
	/* Not posted (@b->node is NULL): nothing was read ahead. */
	if (ret)
		dswap_pf_unpost(b);
	else
		atomic64_add(nr_posted, &d->stats.prefetched);
}

/*
 * The trend of the deltas in @pf's ring: the majority delta of the newest
 * @n (Boyer-Moore vote, then a count), or 0.
 */
static long dswap_pf_majority(struct dswap_prefetch *pf, unsigned int n)
{
	unsigned int i, count = 0;
	long cand = 0;

	for (i = 0; i < n; i++) {
		long v = pf->hist[(pf->hist_pos + DSWAP_PF_HISTORY - 1 - i) %
				  DSWAP_PF_HISTORY];

		if (!count)
			cand = v;
		count += v == cand ? 1 : -1;
	}
	for (i = 0, count = 0; i < n; i++)
		count += pf->hist[(pf->hist_pos + DSWAP_PF_HISTORY - 1 - i) %
				  DSWAP_PF_HISTORY] == cand;
	return count * 2 > n ? cand : 0;
}

static int dswap_pf_cmp(const void *a, const void *b)
{
	unsigned long x = *(const unsigned long *)a;
	unsigned long y = *(const unsigned long *)b;

	return x < y ? -1 : x > y;
}

/**
 * dswap_prefetch_access - the device read page @pidx: follow the trend
 * @d: device, init_lock held for reading
 * @pidx: page index
 *
 * Records the step and, along a trend, reads ahead the pages of the
 * window that are written, not lost and not cached yet, once at least
 * half the window (or the very next page) is missing.
 *
 * Context: process context, may sleep (posting a read).
 */
void dswap_prefetch_access(struct dswap_dev *d, unsigned long pidx)
{
	struct dswap_prefetch *pf = &d->pf;
	unsigned long want[DSWAP_PF_MAX_WINDOW], npages = d->disksize >> PAGE_SHIFT;
	unsigned int i, n = 0, w, max;
	unsigned long flags, prev;
	long trend = 0;
	bool next_missing = false;

	if (READ_ONCE(pf->mode) == DSWAP_PF_OFF || !READ_ONCE(pf->ents))
		return;
	spin_lock_irqsave(&pf->lock, flags);
	if (!pf->ents)
		goto unlock;
	prev = pf->last;
	pf->hist[pf->hist_pos] = (long)(pidx - prev);
	pf->hist_pos = (pf->hist_pos + 1) % DSWAP_PF_HISTORY;
	if (pf->hist_len < DSWAP_PF_HISTORY)
		pf->hist_len++;
	pf->last = pidx;
	/* A fresh trend shows in the newest half first. */
	if (pf->hist_len >= DSWAP_PF_HISTORY / 2)
		trend = dswap_pf_majority(pf, DSWAP_PF_HISTORY / 2);
	if (!trend && pf->hist_len == DSWAP_PF_HISTORY)
		trend = dswap_pf_majority(pf, DSWAP_PF_HISTORY);
	/*
	 * The newest step must follow it too: a jump away from a stream
	 * (another stream, random reads) reads nothing ahead while the old
	 * steps still hold the majority.
	 */
	if (!trend || trend != (long)(pidx - prev) ||
	    abs(trend) > DSWAP_PF_MAX_STRIDE)
		goto unlock;

	w = pf->window;
	for (i = 1; i <= w; i++) {
		long q = (long)pidx + trend * (long)i;

		if (q < 0 || q >= npages)
			break;
		if (dswap_pf_lookup(pf, q))
			continue;
		if (i == 1)
			next_missing = true;
		if (!test_bit(q, d->written) || test_bit(q, d->lost))
			continue;
		want[n++] = q;
	}
	if (!n || (!next_missing && n < w / 2))
		goto unlock;
	/* Adapt the window to what the last prefetches gave. */
	max = min_t(unsigned int, DSWAP_PF_MAX_WINDOW, pf->nr / 2);
	if (pf->waste > pf->hits)
		pf->window = max_t(unsigned int, w / 2, DSWAP_PF_MIN_WINDOW);
	else if (pf->hits)
		pf->window = min_t(unsigned int, w * 2, max);
	pf->hits = 0;
	pf->waste = 0;
	spin_unlock_irqrestore(&pf->lock, flags);

	if (trend < 0)
		sort(want, n, sizeof(want[0]), dswap_pf_cmp, NULL);
	/* Runs of consecutive pages of one slab, one transfer each. */
	for (i = 0; i < n;) {
		unsigned long sbits = ilog2(d->slab_size) - PAGE_SHIFT;
		unsigned int j = i + 1;

		while (j < n && j - i < DG_WRITE_BATCH_MAX &&
		       want[j] == want[j - 1] + 1 &&
		       want[j] >> sbits == want[i] >> sbits)
			j++;
		dswap_pf_issue(d, want[i], j - i);
		i = j;
	}
	return;
unlock:
	spin_unlock_irqrestore(&pf->lock, flags);
}

static ssize_t prefetch_show(struct device *dev, struct device_attribute *attr,
			     char *buf)
{
	struct dswap_dev *d = dev_to_disk(dev)->private_data;

	return sysfs_emit(buf, "%s\n", READ_ONCE(d->pf.mode) == DSWAP_PF_OFF ?
			  "off" : "trend");
}

static ssize_t prefetch_store(struct device *dev, struct device_attribute *attr,
			      const char *buf, size_t len)
{
	struct dswap_dev *d = dev_to_disk(dev)->private_data;

	if (sysfs_streq(buf, "off")) {
		WRITE_ONCE(d->pf.mode, DSWAP_PF_OFF);
		dswap_prefetch_flush(d);
	} else if (sysfs_streq(buf, "trend")) {
		WRITE_ONCE(d->pf.mode, DSWAP_PF_TREND);
	} else {
		pr_err("dswap%d: prefetch: '%.*s' is not off or trend\n", d->id,
		       (int)min_t(size_t, strcspn(buf, "\n"), 32), buf);
		return -EINVAL;
	}
	return len;
}
DEVICE_ATTR_RW(prefetch);

static ssize_t prefetch_pages_show(struct device *dev,
				   struct device_attribute *attr, char *buf)
{
	struct dswap_dev *d = dev_to_disk(dev)->private_data;

	return sysfs_emit(buf, "%u\n", READ_ONCE(d->pf.pages));
}

static ssize_t prefetch_pages_store(struct device *dev,
				    struct device_attribute *attr,
				    const char *buf, size_t len)
{
	struct dswap_dev *d = dev_to_disk(dev)->private_data;
	unsigned int v;
	int ret;

	ret = kstrtouint(buf, 10, &v);
	if (ret || v > DSWAP_PF_MAX_PAGES) {
		pr_err("dswap%d: prefetch_pages: '%.*s' is not 0 to %d\n", d->id,
		       (int)min_t(size_t, strcspn(buf, "\n"), 32), buf,
		       DSWAP_PF_MAX_PAGES);
		return -EINVAL;
	}
	down_write(&d->init_lock);
	if (d->disksize) {
		pr_err("dswap%d: prefetch_pages: device in use; reset first\n",
		       d->id);
		ret = -EBUSY;
	} else {
		WRITE_ONCE(d->pf.pages, v);
	}
	up_write(&d->init_lock);
	return ret ?: len;
}
DEVICE_ATTR_RW(prefetch_pages);
