// SPDX-License-Identifier: GPL-2.0
/*
 * The copies of each dswap slab: placing them, reading with failover,
 * writing to all of them at once, and the repair work that restores lost
 * copies (rebuild), moves copies off draining nodes and gives slabs back
 * to nodes that asked for them (MEM_EVICT).
 *
 * A slab has up to `replicas` valid copies, each on its own node. A write
 * run is posted to every copy together and completes when each answered;
 * a copy whose write failed is dropped at once (it is stale), before the
 * bio ends, so a read never meets it. If every copy failed, the pages are
 * lost (-EIO) unless the backing device takes them. A read tries the
 * copies on nodes that answer heartbeats, each but the last with a short
 * deadline (failover_ms), then the backing device, and waits for a node
 * that reconnects only when it holds the sole copy.
 *
 * Rebuild and moves fill a new copy while I/O goes on: the new copy
 * receives every write from the start (but serves no read), and pages are
 * copied DSWAP_MOVE_BATCH at a time from a valid copy behind a per-slab
 * barrier that holds new writes and waits for those in flight, so a copy
 * step can never put older data over a newer write. The copy becomes
 * valid when every batch is done and no write to it failed meanwhile.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/slab.h>
#include <linux/highmem.h>
#include <linux/log2.h>
#include <linux/delay.h>
#include <linux/jiffies.h>
#include <linux/sched/signal.h>
#include "dswap.h"

#define DSWAP_PICK_TRIES	4
#define DSWAP_REPAIR_RETRY	(2 * HZ)

void dswap_slab_init(struct dswap_slab *s)
{
	spin_lock_init(&s->lock);
	mutex_init(&s->mutex);
}

static unsigned long dswap_pages_per_slab(struct dswap_dev *d)
{
	return d->slab_size >> PAGE_SHIFT;
}

/* Our name for a new remote allocation: device, generation, slab. */
static u64 dswap_new_tag(struct dswap_dev *d, unsigned long idx)
{
	u32 gen = atomic_inc_return(&d->tag_gen);

	return ((u64)d->id << 56) | ((u64)(gen & 0xffffffff) << 24) | idx;
}

/**
 * dswap_degraded_slabs - slabs holding data with fewer copies than wanted
 * @d: device
 *
 * Context: any; a snapshot.
 */
unsigned long dswap_degraded_slabs(struct dswap_dev *d)
{
	unsigned long i, n = 0;

	for (i = 0; d->slabs && i < d->nr_slabs; i++) {
		struct dswap_slab *s = &d->slabs[i];

		if (READ_ONCE(s->used) && READ_ONCE(s->nr) < d->replicas)
			n++;
	}
	return n;
}

static void dswap_orphan_add(struct dswap_dev *d, struct dswap_node *n,
			     const struct dg_region *r)
{
	struct dswap_orphan *o = kmalloc(sizeof(*o), GFP_ATOMIC);
	unsigned long flags;

	if (!o) {
		/* The node frees it when our connection goes. */
		atomic_dec(&n->nr_slabs);
		return;
	}
	o->node = n;
	o->slab_id = r->slab_id;
	o->size = r->size;
	spin_lock_irqsave(&d->repair_lock, flags);
	list_add_tail(&o->list, &d->orphans);
	spin_unlock_irqrestore(&d->repair_lock, flags);
}

/**
 * dswap_drop_copy_locked - forget copy @i of @s; its memory is given back
 * @d: device
 * @s: slab, lock held
 * @i: index in @s->c
 *
 * The remote slab becomes an orphan that the repair work frees (it still
 * counts in the node's nr_slabs until then).
 *
 * Context: any; @s->lock held.
 */
void dswap_drop_copy_locked(struct dswap_dev *d, struct dswap_slab *s,
			    unsigned int i)
{
	struct dswap_copy c = s->c[i];

	lockdep_assert_held(&s->lock);
	memmove(&s->c[i], &s->c[i + 1], (s->nr - i - 1) * sizeof(s->c[0]));
	s->nr--;
	memset(&s->c[s->nr], 0, sizeof(s->c[0]));
	dswap_orphan_add(d, c.node, &c.r);
	/* No copy left: no page may point at the next one's fresh memory. */
	if (!s->nr)
		dswap_slab_lose(d, s - d->slabs);
	dswap_prefetch_flush(d);
}

/* End a fill that cannot finish; the new copy's memory is given back. */
static void dswap_fill_abort_locked(struct dswap_dev *d, struct dswap_slab *s)
{
	lockdep_assert_held(&s->lock);
	if (!s->filling)
		return;
	s->filling = false;
	s->fill_failed = true;
	dswap_orphan_add(d, s->fill.node, &s->fill.r);
	memset(&s->fill, 0, sizeof(s->fill));
}

/**
 * dswap_slab_lose - slab @idx has no copy of its pages any more
 * @d: device
 * @idx: slab
 *
 * Pages the backing device holds read from there; every other page
 * written there reads as an I/O error until written again.
 *
 * Context: any.
 * Return: the pages lost.
 */
unsigned long dswap_slab_lose(struct dswap_dev *d, unsigned long idx)
{
	unsigned long pps = dswap_pages_per_slab(d);
	unsigned long end = min((idx + 1) * pps, d->disksize >> PAGE_SHIFT);
	unsigned long p, lost = 0;

	for (p = idx * pps; p < end; p++) {
		if (!test_bit(p, d->written))
			continue;
		if (!dswap_backing_has(d, p)) {
			set_bit(p, d->lost);
			lost++;
		}
		clear_bit(p, d->written);
	}
	dswap_prefetch_flush(d);
	return lost;
}

/*
 * Count a copy about to be placed on @n, unless @n is going away or
 * draining: a node picked just before "remove" takes nothing new once
 * the drain began, so its slab count only falls from then on.
 * Returns false (nothing counted) if the caller must give the copy back.
 */
static bool dswap_node_take_copy(struct dswap_node *n)
{
	/* Pairs with the barriers in remove_store() and dswap_reap_fn(). */
	atomic_inc(&n->nr_slabs);
	smp_mb__after_atomic();
	if (READ_ONCE(n->gone) ||
	    READ_ONCE(n->state) == DSWAP_NODE_DRAINING) {
		atomic_dec(&n->nr_slabs);
		return false;
	}
	return true;
}

/*
 * Install @c as a valid copy of @s unless its node takes no new copy.
 * Returns false if it was not installed (the caller gives it back).
 */
static bool dswap_copy_install(struct dswap_slab *s, const struct dswap_copy *c)
{
	if (!dswap_node_take_copy(c->node))
		return false;
	spin_lock_bh(&s->lock);
	s->c[s->nr++] = *c;
	WRITE_ONCE(s->used, true);
	spin_unlock_bh(&s->lock);
	return true;
}

/*
 * Get memory for a new copy of slab @idx on a node none of @exclude is.
 * On success @c is filled in and the node's active count is held.
 */
static int dswap_copy_alloc(struct dswap_dev *d, unsigned long idx,
			    struct dswap_node **exclude, unsigned int nr_exclude,
			    struct dswap_copy *c)
{
	struct dswap_node *ex[DSWAP_MAX_REPLICAS + 1 + DSWAP_PICK_TRIES];
	unsigned int nr_ex = nr_exclude, tries;
	bool resumed;
	int ret = -ENODEV;

	memcpy(ex, exclude, nr_exclude * sizeof(ex[0]));
	for (tries = 0; tries < DSWAP_PICK_TRIES; tries++) {
		struct dswap_node *n;

		ret = dswap_node_pick(ex, nr_ex, &n);
		if (ret)
			break;
		c->tag = dswap_new_tag(d, idx);
		c->evict = false;
		ret = dswap_node_alloc(n, d->slab_size, c->tag, &c->r, &resumed);
		if (!ret) {
			c->node = n;
			return 0;
		}
		dswap_node_put_active(n);
		/* A full or failing node is skipped on the next draw. */
		ex[nr_ex++] = n;
	}
	return ret;
}

/**
 * dswap_slab_populate - give slab @idx its first copies
 * @d: device
 * @idx: slab
 *
 * As many copies as replicas, on distinct nodes; fewer leaves the slab
 * degraded for the repair work to complete.
 *
 * Context: process context; takes the slab's mutex.
 * Return: 0 when the slab has at least one copy; -ENOSPC, -EIO.
 */
int dswap_slab_populate(struct dswap_dev *d, unsigned long idx)
{
	struct dswap_slab *s = &d->slabs[idx];
	struct dswap_node *have[DSWAP_MAX_REPLICAS];
	unsigned int got = 0;
	int ret = 0;

	mutex_lock(&s->mutex);
	if (READ_ONCE(s->nr))
		goto out;
	while (got < d->replicas) {
		struct dswap_copy c;

		ret = dswap_copy_alloc(d, idx, have, got, &c);
		if (ret)
			break;
		if (dswap_copy_install(s, &c))
			have[got++] = c.node;
		else
			dswap_node_free(c.node, c.r.slab_id, c.r.size);
		dswap_node_put_active(c.node);
	}
	if (!got) {
		pr_err_ratelimited("dswap%d: no memory node can take slab %lu: %d\n",
				   d->id, idx, ret);
		ret = ret == -ENOSPC ? -ENOSPC : -EIO;
		goto out;
	}
	ret = 0;
	if (got < d->replicas) {
		pr_warn_ratelimited("dswap%d: slab %lu has %u of %u copies (not enough nodes up)\n",
				    d->id, idx, got, d->replicas);
		dswap_repair_kick(d);
	}
out:
	mutex_unlock(&s->mutex);
	return ret;
}

/**
 * dswap_free_slab - give every copy of slab @idx back (a discard)
 * @d: device
 * @idx: slab
 *
 * Context: process context; takes the slab's mutex.
 */
void dswap_free_slab(struct dswap_dev *d, unsigned long idx)
{
	struct dswap_slab *s = &d->slabs[idx];
	struct dswap_copy c[DSWAP_MAX_REPLICAS + 1];
	unsigned int i, nr;

	mutex_lock(&s->mutex);
	spin_lock_bh(&s->lock);
	nr = s->nr;
	memcpy(c, s->c, sizeof(c));
	for (i = 0; i < nr; i++)
		dswap_node_get_active(c[i].node);
	memset(s->c, 0, sizeof(s->c));
	s->nr = 0;
	WRITE_ONCE(s->used, false);
	spin_unlock_bh(&s->lock);
	for (i = 0; i < nr; i++) {
		dswap_node_free(c[i].node, c[i].r.slab_id, c[i].r.size);
		atomic_dec(&c[i].node->nr_slabs);
		dswap_node_put_active(c[i].node);
	}
	mutex_unlock(&s->mutex);
}

/*
 * Read page @pidx from the valid copies of its slab into @page: copies on
 * nodes that answer first, each but the last with the failover deadline.
 * @fallback: the caller has the page elsewhere (the backing device), so
 * every copy gets the failover deadline, nodes that do not answer are
 * skipped and nothing waits for a reconnect. @may_wait: a slab's only
 * copy on a reconnecting node gets one timeout to come back.
 * Returns 0, or the last error when no copy could give it.
 */
static int dswap_read_copies(struct dswap_dev *d, unsigned long pidx,
			     struct page *page, bool may_wait, bool fallback)
{
	unsigned long sidx = pidx >> (ilog2(d->slab_size) - PAGE_SHIFT);
	u64 soff = ((u64)pidx << PAGE_SHIFT) & (d->slab_size - 1);
	struct dswap_slab *s = &d->slabs[sidx];
	struct dswap_copy c[DSWAP_MAX_REPLICAS + 1];
	unsigned int i, nr, order[DSWAP_MAX_REPLICAS + 1], nr_order = 0;
	bool waited = false;
	int ret;

again:
	spin_lock_bh(&s->lock);
	nr = s->nr;
	memcpy(c, s->c, nr * sizeof(c[0]));
	for (i = 0; i < nr; i++)
		dswap_node_get_active(c[i].node);
	spin_unlock_bh(&s->lock);
	if (!nr)
		return -EIO;

	/* Nodes that answer first, starting at a page-dependent copy. */
	nr_order = 0;
	for (i = 0; i < nr; i++) {
		unsigned int j = (i + pidx) % nr;

		if (dswap_node_usable(c[j].node))
			order[nr_order++] = j;
	}
	for (i = 0; i < nr && !fallback; i++) {
		unsigned int j = (i + pidx) % nr;

		if (!dswap_node_usable(c[j].node))
			order[nr_order++] = j;
	}

	ret = -EIO;
	for (i = 0; i < nr_order; i++) {
		struct dswap_copy *cp = &c[order[i]];
		bool last = i + 1 == nr_order && !fallback;

		ret = dg_page_read_timeout(cp->node->conn, &cp->r, soff, page,
					   last ? 0 : READ_ONCE(d->failover_ms));
		if (!ret) {
			atomic64_inc(&cp->node->reads);
			break;
		}
		atomic64_inc(&cp->node->errors);
		if (!last)
			atomic64_inc(&d->stats.read_failovers);
	}
	if (ret == -ENOTCONN && nr == 1 && may_wait && !waited &&
	    !READ_ONCE(c[0].node->gone)) {
		/* The only copy's node reconnects: it gets one timeout. */
		struct dswap_node *n = c[0].node;

		waited = true;
		if (!dg_conn_wait_up(n->conn, msecs_to_jiffies(n->timeout_ms))) {
			dswap_node_put_active(n);
			/* Keys change with the connection: look again. */
			goto again;
		}
	}
	for (i = 0; i < nr; i++)
		dswap_node_put_active(c[i].node);
	return ret;
}

/**
 * dswap_read_page - read the whole page @pidx of @d into @page
 * @d: device
 * @pidx: page index
 * @page: destination
 *
 * Context: process context, may sleep.
 * Return: 0; -EIO when the page's data is gone (never other data).
 */
int dswap_read_page(struct dswap_dev *d, unsigned long pidx,
		    struct page *page)
{
	bool has;
	int ret;

	if (test_bit(pidx, d->lost))
		return -EIO;
	if (!test_bit(pidx, d->written)) {
		if (dswap_backing_has(d, pidx)) {
			atomic64_inc(&d->stats.backing_reads);
			return dswap_backing_read(d, pidx, page);
		}
		atomic64_inc(&d->stats.zero_reads);
		clear_highpage(page);
		return 0;
	}
	/* With the data on the backing device, never wait for a node. */
	has = dswap_backing_has(d, pidx);
	ret = dswap_read_copies(d, pidx, page, !has, has);
	if (ret && dswap_backing_has(d, pidx)) {
		atomic64_inc(&d->stats.backing_reads);
		ret = dswap_backing_read(d, pidx, page);
	}
	/* Lost while we read (the only node restarted)? */
	if (!ret && test_bit(pidx, d->lost))
		ret = -EIO;
	return ret;
}

/**
 * dswap_read_pages_async - start reading @nr written pages from one copy
 * @d: device
 * @pidx: first page's index
 * @pages: destinations
 * @nr: number of pages, 1 to %DG_WRITE_BATCH_MAX, all in one slab
 * @node: set to the node read from, whose active count the caller drops
 *	with dswap_node_put_active() once @done ran; NULL when not started
 * @done: called once, in any context, with 0 or an error
 * @ctx: passed to @done
 *
 * The fast path of reads nobody waits for one at a time: one copy on a
 * node that answers, no failover deadline (the connection's own timeout
 * bounds it). Pages that were never written, are lost, or may be only on
 * the backing device, and slabs without a copy on a node that answers,
 * are left to dswap_read_page(); so is a failure, which the caller then
 * retries that way. The caller checks the lost bits again at @done.
 *
 * Context: process context.
 * Return: 0 when started; -EAGAIN for the synchronous path, or the
 * transport's error (then @done does not run and *@node is NULL).
 */
int dswap_read_pages_async(struct dswap_dev *d, unsigned long pidx,
			   struct page **pages, unsigned int nr,
			   struct dswap_node **node, dg_done_fn done, void *ctx)
{
	unsigned int shift = ilog2(d->slab_size) - PAGE_SHIFT;
	unsigned long sidx = pidx >> shift;
	u64 soff = ((u64)pidx << PAGE_SHIFT) & (d->slab_size - 1);
	struct dswap_slab *s = &d->slabs[sidx];
	struct dswap_copy c;
	unsigned int i;
	bool found = false;
	int ret;

	if (!nr || nr > DG_WRITE_BATCH_MAX || (pidx + nr - 1) >> shift != sidx)
		return -EAGAIN;
	for (i = 0; i < nr; i++)
		if (!test_bit(pidx + i, d->written) ||
		    test_bit(pidx + i, d->lost) ||
		    dswap_backing_has(d, pidx + i))
			return -EAGAIN;

	spin_lock_bh(&s->lock);
	for (i = 0; i < s->nr && !found; i++) {
		const struct dswap_copy *cp = &s->c[(i + pidx) % s->nr];

		if (dswap_node_usable(cp->node)) {
			c = *cp;
			dswap_node_get_active(c.node);
			found = true;
		}
	}
	spin_unlock_bh(&s->lock);
	if (!found)
		return -EAGAIN;

	/* Before posting: @done may run before the call returns. */
	*node = c.node;
	ret = dg_pages_read_async(c.node->conn, &c.r, soff, pages, nr, done,
				  ctx);
	if (ret) {
		*node = NULL;
		dswap_node_put_active(c.node);
	}
	return ret;
}

static void dswap_wrun_backing_fn(struct work_struct *work)
{
	struct dswap_wrun *run = container_of(work, struct dswap_wrun, work);
	int ret;

	ret = dswap_backing_write_pages(run->d, run->pidx, run->pages, run->nr);
	run->on_backing = !ret;
	dswap_wrun_end(run, ret);
}

/* A run written to one remote copy, now to the backing device too. */
static void dswap_wrun_through_fn(struct work_struct *work)
{
	struct dswap_wrun *run = container_of(work, struct dswap_wrun, work);

	/* If that fails, the flusher tries again later (the lag shows it). */
	run->through = !dswap_backing_write_pages(run->d, run->pidx,
						  run->pages, run->nr);
	dswap_wrun_end(run, 0);
}

/* Every copy of @run answered: settle the slab, then end the run. */
static void dswap_wrun_finish(struct dswap_wrun *run)
{
	struct dswap_dev *d = run->d;
	unsigned long sidx = run->pidx >> (ilog2(d->slab_size) - PAGE_SHIFT);
	struct dswap_slab *s = &d->slabs[sidx];
	unsigned int i, j, nr_ok = 0, dropped = 0;
	int err = -EIO;

	for (i = 0; i < run->nr_copies; i++)
		if (!run->copy_err[i] && !(i + 1 == run->nr_copies &&
					   run->has_fill))
			nr_ok++;
	spin_lock_bh(&s->lock);
	for (i = 0; i < run->nr_copies; i++) {
		struct dswap_copy *c = &run->copies[i];

		if (!run->copy_err[i])
			continue;
		err = run->copy_err[i];
		/*
		 * That copy is stale now, if another one has the pages: drop
		 * it before the bio ends. If none has them, every copy stays
		 * and only these pages are marked (lost, or on the backing
		 * device): the rest of the slab may still be good there.
		 */
		for (j = 0; nr_ok && j < s->nr; j++) {
			if (s->c[j].node == c->node &&
			    s->c[j].r.slab_id == c->r.slab_id) {
				dswap_drop_copy_locked(d, s, j);
				dropped++;
				break;
			}
		}
		if (s->filling && s->fill.node == c->node &&
		    s->fill.r.slab_id == c->r.slab_id) {
			dswap_fill_abort_locked(d, s);
			dropped++;
		}
	}
	/*
	 * Mark the pages written under the slab's lock, so that a node
	 * restart that loses the copy (dswap_slab_lose()) either sees them
	 * or comes after this run, and no page points at a fresh slab.
	 */
	for (i = 0; nr_ok && i < run->nr; i++) {
		set_bit(run->pidx + i, d->written);
		clear_bit(run->pidx + i, d->lost);
	}
	run->marked = nr_ok;
	if (!--s->writers && s->barrier)
		wake_up_all(&d->slab_wq);
	spin_unlock_bh(&s->lock);

	for (i = 0; i < run->nr_copies; i++) {
		struct dswap_node *n = run->copies[i].node;

		if (run->copy_err[i])
			atomic64_inc(&n->errors);
		else
			atomic64_add(run->nr, &n->writes);
		dswap_node_put_active(n);
	}
	if (dropped)
		dswap_repair_kick(d);
	if (nr_ok == 1 && d->bk) {
		/*
		 * One remote copy: the backing device gets the pages before
		 * the bio ends, so losing that node loses nothing.
		 */
		INIT_WORK(&run->work, dswap_wrun_through_fn);
		queue_work(dswap_wq, &run->work);
		return;
	}
	if (nr_ok)
		return dswap_wrun_end(run, 0);
	if (d->bk) {
		/* No remote copy took it: the backing device must. */
		INIT_WORK(&run->work, dswap_wrun_backing_fn);
		queue_work(dswap_wq, &run->work);
		return;
	}
	dswap_wrun_end(run, err);
}

/* One copy's write answered; softirq or the transport's thread. */
static void dswap_wcopy_done(void *ctx, int err)
{
	struct dswap_wcopy *wc = ctx;
	struct dswap_wrun *run = wc->run;

	run->copy_err[wc - run->wc] = err;
	if (atomic_dec_and_test(&run->pending))
		dswap_wrun_finish(run);
}

/**
 * dswap_wrun_start - write @run to every copy of its slab at once
 * @run: the run; it ends, well or not, through dswap_wrun_end()
 *
 * Context: process context, may sleep (a first allocation, a barrier).
 */
void dswap_wrun_start(struct dswap_wrun *run)
{
	struct dswap_dev *d = run->d;
	u64 pos = (u64)run->pidx << PAGE_SHIFT;
	unsigned long sidx = pos >> ilog2(d->slab_size);
	struct dswap_slab *s = &d->slabs[sidx];
	unsigned int i, tries = 0;
	int ret;

	for (;;) {
		wait_event(d->slab_wq, !READ_ONCE(s->barrier));
		spin_lock_bh(&s->lock);
		if (s->barrier) {
			spin_unlock_bh(&s->lock);
			continue;
		}
		if (s->nr)
			break;
		spin_unlock_bh(&s->lock);
		ret = tries++ < 2 ? dswap_slab_populate(d, sidx) : -EIO;
		if (ret) {
			if (d->bk) {
				INIT_WORK(&run->work, dswap_wrun_backing_fn);
				dswap_wrun_backing_fn(&run->work);
				return;
			}
			return dswap_wrun_end(run, ret);
		}
	}
	s->writers++;
	run->nr_copies = s->nr;
	memcpy(run->copies, s->c, s->nr * sizeof(s->c[0]));
	run->has_fill = s->filling;
	if (s->filling)
		run->copies[run->nr_copies++] = s->fill;
	for (i = 0; i < run->nr_copies; i++)
		dswap_node_get_active(run->copies[i].node);
	spin_unlock_bh(&s->lock);

	dswap_backing_write_start(d, run->pidx, run->nr);
	atomic64_inc(&d->stats.write_xfers);
	atomic_set(&run->pending, run->nr_copies + 1);
	for (i = 0; i < run->nr_copies; i++) {
		struct dswap_copy *c = &run->copies[i];

		run->wc[i].run = run;
		ret = dg_pages_write_async(c->node->conn, &c->r,
					   pos & (d->slab_size - 1), run->pages,
					   run->nr, dswap_wcopy_done, &run->wc[i]);
		if (ret)
			dswap_wcopy_done(&run->wc[i], ret);
	}
	/* The bias: finish only once every copy was posted. */
	if (atomic_dec_and_test(&run->pending))
		dswap_wrun_finish(run);
}

/* Wait for @s's writes in flight and hold new ones (a fill step). */
static void dswap_barrier_raise(struct dswap_dev *d, struct dswap_slab *s)
{
	spin_lock_bh(&s->lock);
	s->barrier = true;
	spin_unlock_bh(&s->lock);
	wait_event(d->slab_wq, !READ_ONCE(s->writers));
}

static void dswap_barrier_drop(struct dswap_dev *d, struct dswap_slab *s)
{
	spin_lock_bh(&s->lock);
	s->barrier = false;
	spin_unlock_bh(&s->lock);
	wake_up_all(&d->slab_wq);
}

struct dswap_sync_write {
	struct completion	done;
	int			err;
};

static void dswap_sync_write_done(void *ctx, int err)
{
	struct dswap_sync_write *w = ctx;

	w->err = err;
	complete(&w->done);
}

/* Keep a move at @rate_mb MiB/s: sleep if @bytes came too fast. */
static void dswap_throttle(struct dswap_dev *d, unsigned long start,
			   u64 bytes)
{
	unsigned int rate = READ_ONCE(d->rebuild_rate_mb);
	unsigned long due;

	if (!rate)
		return;
	due = start + div64_u64(bytes * HZ, (u64)rate << 20);
	if (time_before(jiffies, due))
		schedule_timeout_interruptible(due - jiffies);
}

/*
 * Fill a new copy of slab @idx from its valid copies, then make it valid.
 * @buf holds DSWAP_MOVE_BATCH pages. Slab mutex held.
 */
static int dswap_slab_fill(struct dswap_dev *d, unsigned long idx,
			   struct page **buf)
{
	struct dswap_slab *s = &d->slabs[idx];
	unsigned long pps = dswap_pages_per_slab(d);
	unsigned long first = idx * pps, start = jiffies;
	struct dswap_node *have[DSWAP_MAX_REPLICAS + 1];
	struct dswap_copy nc;
	unsigned int i, nr;
	unsigned long p;
	u64 bytes = 0;
	bool ok;
	int ret;

	spin_lock_bh(&s->lock);
	nr = s->nr;
	for (i = 0; i < nr; i++)
		have[i] = s->c[i].node;
	spin_unlock_bh(&s->lock);
	if (!nr)
		return -ENODATA;

	ret = dswap_copy_alloc(d, idx, have, nr, &nc);
	if (ret)
		return ret;
	if (!dswap_node_take_copy(nc.node)) {
		dswap_node_free(nc.node, nc.r.slab_id, nc.r.size);
		dswap_node_put_active(nc.node);
		return -EAGAIN;
	}
	spin_lock_bh(&s->lock);
	s->fill = nc;
	s->filling = true;
	s->fill_failed = false;
	spin_unlock_bh(&s->lock);

	for (p = 0; p < pps && !ret; p += DSWAP_MOVE_BATCH) {
		unsigned long pidx = first + p;
		unsigned int n = min_t(unsigned long, DSWAP_MOVE_BATCH, pps - p);
		struct dswap_sync_write w;

		if (pidx >= d->disksize >> PAGE_SHIFT)
			break;
		n = min_t(unsigned long, n, (d->disksize >> PAGE_SHIFT) - pidx);
		if (find_next_bit(d->written, pidx + n, pidx) >= pidx + n)
			continue;
		if (READ_ONCE(d->stopping)) {
			ret = -EINTR;
			break;
		}
		dswap_barrier_raise(d, s);
		for (i = 0; i < n && !ret; i++) {
			if (test_bit(pidx + i, d->written))
				ret = dswap_read_copies(d, pidx + i, buf[i],
							false, false);
			else
				clear_highpage(buf[i]);
		}
		if (!ret) {
			init_completion(&w.done);
			ret = dg_pages_write_async(nc.node->conn, &nc.r,
						   p << PAGE_SHIFT, buf, n,
						   dswap_sync_write_done, &w);
			if (!ret) {
				wait_for_completion(&w.done);
				ret = w.err;
			}
		}
		spin_lock_bh(&s->lock);
		if (!s->filling || s->fill_failed)
			ret = ret ?: -EIO;
		spin_unlock_bh(&s->lock);
		dswap_barrier_drop(d, s);
		bytes += (u64)n << PAGE_SHIFT;
		dswap_throttle(d, start, bytes);
		cond_resched();
	}

	spin_lock_bh(&s->lock);
	ok = !ret && s->filling && !s->fill_failed &&
	     s->nr < ARRAY_SIZE(s->c);
	if (ok) {
		s->c[s->nr++] = s->fill;
		s->filling = false;
		memset(&s->fill, 0, sizeof(s->fill));
	} else {
		dswap_fill_abort_locked(d, s);
	}
	spin_unlock_bh(&s->lock);
	if (ok)
		atomic64_add(nc.r.size >> PAGE_SHIFT, &nc.node->writes);
	dswap_node_put_active(nc.node);
	return ok ? 0 : (ret ?: -EIO);
}

/*
 * Move slab @idx's pages to the backing device and drop its only copy
 * @old: no node can take it and its node wants it back. Slab mutex held.
 */
static int dswap_slab_to_backing(struct dswap_dev *d, unsigned long idx,
				 const struct dswap_copy *old,
				 struct page **buf)
{
	struct dswap_slab *s = &d->slabs[idx];
	unsigned long pps = dswap_pages_per_slab(d);
	unsigned long p, first = idx * pps;
	unsigned long end = min(first + pps, d->disksize >> PAGE_SHIFT);
	unsigned int i;
	int ret = 0;

	if (!d->bk)
		return -ENODEV;
	dswap_barrier_raise(d, s);
	for (p = first; p < end && !ret; p++) {
		if (!test_bit(p, d->written) || dswap_backing_has(d, p))
			continue;
		ret = dswap_read_copies(d, p, buf[0], false, false) ?:
		      dswap_backing_write_pages(d, p, buf, 1);
	}
	spin_lock_bh(&s->lock);
	for (i = 0; !ret && i < s->nr; i++) {
		if (s->c[i].node != old->node ||
		    s->c[i].r.slab_id != old->r.slab_id)
			continue;
		if (s->nr > 1)
			break;	/* a copy came back meanwhile: move it normally */
		for (p = first; p < end; p++)
			clear_bit(p, d->written);
		dswap_drop_copy_locked(d, s, i);
		WRITE_ONCE(s->used, false);
		break;
	}
	spin_unlock_bh(&s->lock);
	dswap_barrier_drop(d, s);
	return ret;
}

/* Which copy of @s must move away (draining node, eviction), or -1. */
static int dswap_copy_to_move_locked(struct dswap_slab *s)
{
	unsigned int i;

	for (i = 0; i < s->nr; i++)
		if (s->c[i].evict ||
		    READ_ONCE(s->c[i].node->state) == DSWAP_NODE_DRAINING)
			return i;
	return -1;
}

/*
 * Give slab @idx its missing copies and move a copy off a draining node
 * or one its node asked back. Returns true when nothing is left to do.
 */
static bool dswap_slab_repair(struct dswap_dev *d, unsigned long idx,
			      struct page **buf)
{
	struct dswap_slab *s = &d->slabs[idx];
	bool done = false;
	int ret, mv;

	mutex_lock(&s->mutex);
	for (;;) {
		struct dswap_copy old;

		spin_lock_bh(&s->lock);
		mv = dswap_copy_to_move_locked(s);
		if (mv >= 0)
			old = s->c[mv];
		if (!s->used || !s->nr ||
		    (s->nr >= d->replicas && mv < 0)) {
			/* Without a copy nothing can be rebuilt. */
			done = !s->used || s->nr >= d->replicas;
			spin_unlock_bh(&s->lock);
			break;
		}
		spin_unlock_bh(&s->lock);

		/* A move adds the new copy first, then drops the old one. */
		if (mv < 0 || s->nr <= d->replicas) {
			ret = dswap_slab_fill(d, idx, buf);
			/* No node can take it: the backing device can. */
			if ((ret == -ENODEV || ret == -ENOSPC) && mv >= 0 &&
			    s->nr == 1 && !dswap_slab_to_backing(d, idx, &old,
								 buf)) {
				pr_info("dswap%d: slab %lu moved to %s\n",
					d->id, idx, d->bk_path);
				continue;
			}
			if (ret) {
				pr_warn_ratelimited("dswap%d: slab %lu: cannot make a new copy: %d\n",
						    d->id, idx, ret);
				break;
			}
			if (mv < 0)
				atomic64_inc(&d->stats.rebuilt_slabs);
		}
		if (mv < 0)
			continue;
		spin_lock_bh(&s->lock);
		for (mv = 0; mv < s->nr; mv++) {
			if (s->c[mv].node == old.node &&
			    s->c[mv].r.slab_id == old.r.slab_id) {
				dswap_drop_copy_locked(d, s, mv);
				break;
			}
		}
		spin_unlock_bh(&s->lock);
	}
	mutex_unlock(&s->mutex);
	return done;
}

/*
 * Give orphaned remote slabs back to nodes that answer; forget those of
 * draining nodes that do not.
 */
static void dswap_free_orphans(struct dswap_dev *d)
{
	struct dswap_orphan *o;
	LIST_HEAD(later);

	for (;;) {
		spin_lock_bh(&d->repair_lock);
		o = list_first_entry_or_null(&d->orphans, struct dswap_orphan,
					     list);
		if (o) {
			list_del(&o->list);
			dswap_node_get_active(o->node);
		}
		spin_unlock_bh(&d->repair_lock);
		if (!o)
			break;
		if (!dswap_node_usable(o->node)) {
			/*
			 * A draining node is closed once it holds nothing,
			 * and the node frees what we owe it when our
			 * connection goes (memd's grace): a dead one need
			 * not come back for it first.
			 */
			if (READ_ONCE(o->node->state) == DSWAP_NODE_DRAINING) {
				atomic_dec(&o->node->nr_slabs);
				dswap_node_put_active(o->node);
				kfree(o);
				continue;
			}
			dswap_node_put_active(o->node);
			list_add_tail(&o->list, &later);
			continue;
		}
		dswap_node_free(o->node, o->slab_id, o->size);
		atomic_dec(&o->node->nr_slabs);
		dswap_node_put_active(o->node);
		kfree(o);
	}
	spin_lock_bh(&d->repair_lock);
	list_splice_tail(&later, &d->orphans);
	spin_unlock_bh(&d->repair_lock);
}

static bool dswap_slab_needs_repair(struct dswap_dev *d, struct dswap_slab *s)
{
	bool need;

	if (!READ_ONCE(s->used))
		return false;
	spin_lock_bh(&s->lock);
	need = (s->nr && s->nr < d->replicas) ||
	       dswap_copy_to_move_locked(s) >= 0;
	spin_unlock_bh(&s->lock);
	return need;
}

/**
 * dswap_repair_work - rebuild, drain, evict and free orphans for a device
 * @work: &dswap_dev.repair
 *
 * Runs again later while something is left that it could not do now
 * (no node to take a copy).
 */
void dswap_repair_work(struct work_struct *work)
{
	struct dswap_dev *d = container_of(to_delayed_work(work),
					   struct dswap_dev, repair);
	struct page *buf[DSWAP_MOVE_BATCH] = {};
	bool again = false;
	unsigned long i;

	down_read(&d->init_lock);
	if (!d->disksize || READ_ONCE(d->stopping))
		goto out;
	for (i = 0; i < DSWAP_MOVE_BATCH; i++) {
		buf[i] = alloc_page(GFP_KERNEL);
		if (!buf[i]) {
			again = true;
			goto out;
		}
	}
	dswap_free_orphans(d);
	for (i = 0; i < d->nr_slabs && !READ_ONCE(d->stopping); i++) {
		struct dswap_slab *s = &d->slabs[i];

		if (!dswap_slab_needs_repair(d, s))
			continue;
		if (!dswap_slab_repair(d, i, buf) ||
		    dswap_slab_needs_repair(d, s))
			again = true;
		cond_resched();
	}
	dswap_free_orphans(d);
	spin_lock_bh(&d->repair_lock);
	if (!list_empty(&d->orphans))
		again = true;
	spin_unlock_bh(&d->repair_lock);
out:
	for (i = 0; i < DSWAP_MOVE_BATCH; i++)
		if (buf[i])
			__free_page(buf[i]);
	if (again && !READ_ONCE(d->stopping))
		queue_delayed_work(dswap_wq, &d->repair, DSWAP_REPAIR_RETRY);
	up_read(&d->init_lock);
	dswap_nodes_reap();
}

/**
 * dswap_repair_kick - have the repair work look at @d soon
 * @d: device
 *
 * Context: any.
 */
void dswap_repair_kick(struct dswap_dev *d)
{
	if (!READ_ONCE(d->stopping))
		mod_delayed_work(dswap_wq, &d->repair, 0);
}

/**
 * dswap_repair_stop - stop the repair work for good (reset, unload)
 * @d: device; init_lock not held
 *
 * Orphans left are given back with the connection.
 */
void dswap_repair_stop(struct dswap_dev *d)
{
	struct dswap_orphan *o, *tmp;
	LIST_HEAD(gone);

	WRITE_ONCE(d->stopping, true);
	cancel_delayed_work_sync(&d->repair);
	spin_lock_bh(&d->repair_lock);
	list_splice_init(&d->orphans, &gone);
	spin_unlock_bh(&d->repair_lock);
	list_for_each_entry_safe(o, tmp, &gone, list) {
		dswap_node_get_active(o->node);
		if (dswap_node_usable(o->node))
			dswap_node_free(o->node, o->slab_id, o->size);
		atomic_dec(&o->node->nr_slabs);
		dswap_node_put_active(o->node);
		kfree(o);
	}
}

/* Forget the MEM_FREEs we owe @n: it is gone, or kept nothing. */
static void dswap_orphans_forget(struct dswap_dev *d, struct dswap_node *n)
{
	struct dswap_orphan *o, *tmp;

	spin_lock_bh(&d->repair_lock);
	list_for_each_entry_safe(o, tmp, &d->orphans, list) {
		if (o->node != n)
			continue;
		list_del(&o->list);
		atomic_dec(&n->nr_slabs);
		kfree(o);
	}
	spin_unlock_bh(&d->repair_lock);
}

/**
 * dswap_dev_node_down - node @n stopped answering, or was removed by force
 * @d: device, init_lock held for reading
 * @n: node
 * @force: removed: drop even a slab's only copy, and forget what @n owes
 *
 * A copy with another copy beside it is dropped now (writes would make
 * it stale anyway) and rebuilt elsewhere; a slab's only copy is kept, in
 * case the node comes back with it, unless @force.
 */
void dswap_dev_node_down(struct dswap_dev *d, struct dswap_node *n, bool force)
{
	unsigned long idx, lost = 0, dropped = 0;
	unsigned int i;

	for (idx = 0; d->slabs && idx < d->nr_slabs; idx++) {
		struct dswap_slab *s = &d->slabs[idx];

		spin_lock_bh(&s->lock);
		if (s->filling && s->fill.node == n) {
			dswap_fill_abort_locked(d, s);
			dropped++;
		}
		for (i = 0; i < s->nr; i++) {
			if (s->c[i].node != n || (!force && s->nr == 1))
				continue;
			if (s->nr == 1)
				lost += dswap_slab_lose(d, idx);
			dswap_drop_copy_locked(d, s, i);
			dropped++;
			break;
		}
		spin_unlock_bh(&s->lock);
	}
	/* Nothing can be given back to a node that is gone. */
	if (force)
		dswap_orphans_forget(d, n);
	if (dropped)
		pr_warn("dswap%d: node %s %s: dropped %lu copies there%s\n",
			d->id, n->name, force ? "removed" : "down", dropped,
			lost ? ", some pages had no other copy" : "");
	if (lost)
		pr_err("dswap%d: %lu pages had their only copy on node %s: they read as I/O errors\n",
		       d->id, lost, n->name);
	if (dropped)
		dswap_repair_kick(d);
}

/**
 * dswap_dev_node_resume - node @n is back; refresh our copies there
 * @d: device, init_lock held for reading
 * @n: node
 * @restarted: it restarted, so it kept nothing of ours
 */
void dswap_dev_node_resume(struct dswap_dev *d, struct dswap_node *n,
			   bool restarted)
{
	unsigned long idx, slabs = 0, gone = 0, pages = 0;

	/* A restarted node kept nothing we owe it a MEM_FREE for. */
	if (restarted)
		dswap_orphans_forget(d, n);
	for (idx = 0; d->slabs && idx < d->nr_slabs; idx++) {
		struct dswap_slab *s = &d->slabs[idx];
		struct dg_region r;
		bool resumed = false;
		unsigned int i;
		u64 tag = 0;
		int ret;

		spin_lock_bh(&s->lock);
		if (s->filling && s->fill.node == n)
			dswap_fill_abort_locked(d, s);
		for (i = 0; i < s->nr; i++) {
			if (s->c[i].node != n)
				continue;
			if (restarted && s->nr > 1) {
				/* Gone with the node; no MEM_FREE owed. */
				s->c[i].node = NULL;
				memmove(&s->c[i], &s->c[i + 1],
					(s->nr - i - 1) * sizeof(s->c[0]));
				s->nr--;
				atomic_dec(&n->nr_slabs);
				gone++;
				break;
			}
			tag = s->c[i].tag;
			break;
		}
		spin_unlock_bh(&s->lock);
		if (!tag)
			continue;
		slabs++;
		ret = dswap_node_alloc(n, d->slab_size, tag, &r, &resumed);

		spin_lock_bh(&s->lock);
		for (i = 0; i < s->nr; i++)
			if (s->c[i].node == n && s->c[i].tag == tag)
				break;
		if (i == s->nr) {
			/* Dropped meanwhile: give the new memory back. */
			if (!ret && !(resumed && !restarted)) {
				atomic_inc(&n->nr_slabs);
				dswap_orphan_add(d, n, &r);
			}
		} else if (!ret && resumed && !restarted) {
			s->c[i].r = r;
		} else if (s->nr > 1) {
			/* Another copy has the data: give this one up. */
			if (!ret) {
				s->c[i].r = r;
				dswap_drop_copy_locked(d, s, i);
			} else {
				memmove(&s->c[i], &s->c[i + 1],
					(s->nr - i - 1) * sizeof(s->c[0]));
				s->nr--;
				atomic_dec(&n->nr_slabs);
			}
			gone++;
		} else {
			/* Mark the pages before a reader can see the new slab. */
			pages += dswap_slab_lose(d, idx);
			gone++;
			if (!ret) {
				s->c[i].r = r;
			} else {
				/* No memory there: the next write picks a node. */
				s->nr = 0;
				memset(&s->c[0], 0, sizeof(s->c[0]));
				atomic_dec(&n->nr_slabs);
			}
		}
		spin_unlock_bh(&s->lock);
	}
	if (gone)
		pr_err("dswap%d: node %s lost %lu of our copies there: %lu pages had no other copy\n",
		       d->id, n->name, gone, pages);
	else if (slabs)
		pr_info("dswap%d: node %s kept all %lu of our slabs\n", d->id,
			n->name, slabs);
	/* Keys changed: nothing read ahead with the old ones is kept. */
	dswap_prefetch_flush(d);
	dswap_repair_kick(d);
}

/**
 * dswap_dev_evict - node @n asks for its slab @slab_id back
 * @d: device, init_lock held for reading
 * @n: node
 * @slab_id: the node's handle
 *
 * Return: 0 when the slab is ours (the repair work moves it, then frees
 * it); -ENOENT when it is not one of @d's.
 */
int dswap_dev_evict(struct dswap_dev *d, struct dswap_node *n, u64 slab_id)
{
	struct dswap_orphan *o;
	unsigned long idx;
	unsigned int i;
	int ret = -ENOENT;

	for (idx = 0; d->slabs && idx < d->nr_slabs && ret; idx++) {
		struct dswap_slab *s = &d->slabs[idx];

		spin_lock_bh(&s->lock);
		for (i = 0; i < s->nr; i++) {
			if (s->c[i].node == n && s->c[i].r.slab_id == slab_id) {
				s->c[i].evict = true;
				ret = 0;
			}
		}
		if (s->filling && s->fill.node == n &&
		    s->fill.r.slab_id == slab_id) {
			dswap_fill_abort_locked(d, s);
			ret = 0;
		}
		spin_unlock_bh(&s->lock);
	}
	spin_lock_bh(&d->repair_lock);
	list_for_each_entry(o, &d->orphans, list)
		if (o->node == n && o->slab_id == slab_id)
			ret = 0;
	spin_unlock_bh(&d->repair_lock);
	if (!ret)
		dswap_repair_kick(d);
	return ret;
}
