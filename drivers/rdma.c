// SPDX-License-Identifier: GPL-2.0
/*
 * disagg_net RDMA backend: rdma_cm connections with RC queue pairs.
 *
 * A connection asks for nr_queues synchronous queue pairs and gets as many
 * asynchronous ones after them, each its own rdma_cm id, all announced to
 * the node in the connect request's private data so it can put them in one
 * protection domain. Queue 0 carries the handshake (SEND/RECV); once both
 * sides agreed on %DG_FEAT_MQ, every synchronous queue carries the
 * two-sided messages of dg_call(), each with receive and send buffers of
 * its own, on the queue the core picks (the caller's CPU's, as page I/O;
 * see dg_rdma_ring()). Without it, queue 0 carries them all. Pages move
 * by one-sided RDMA READ/WRITE straight from and into the caller's page,
 * on a queue chosen by the caller's CPU.
 * On a synchronous queue the caller polls the send completion queue
 * (IB_POLL_DIRECT) until its own work request completes or the timeout
 * passes: busy for a budget (dg_rdma_spin_ns()), then with short naps.
 * Asynchronous queues (page reads and writes nobody waits for) reap
 * completions in softirq context and call the caller back. Receives
 * complete in softirq context. Requests and send buffers are preallocated
 * per queue, and one protection domain serves every queue on a device.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/slab.h>
#include <linux/semaphore.h>
#include <linux/inet.h>
#include <linux/delay.h>
#include <linux/ktime.h>
#include <rdma/ib_verbs.h>
#include <rdma/rdma_cm.h>
#include "internal.h"

#define DG_RDMA_SQ_DEPTH	128	/* work requests in flight per queue */
#define DG_RDMA_DEPTH		16	/* calls in flight per connection */
#define DG_RDMA_RX_EXTRA	4	/* queue 0: the node's own requests */
#define DG_RDMA_NR_RX		(DG_RDMA_DEPTH + DG_RDMA_RX_EXTRA) /* most
					 * receive buffers of a queue */
#define DG_RDMA_NR_TX		8	/* most send buffers of a queue */
#define DG_RDMA_NR_RX_FIRST	4	/* queue 0 until the handshake is done */
#define DG_RDMA_NR_TX_FIRST	2
#define DG_RDMA_RD_ATOM		16	/* RDMA READs in flight per queue */
#define DG_RDMA_SPIN_MIN_NS	(10 * NSEC_PER_USEC) /* least busy-poll */

static unsigned int poll_us = 50;
module_param(poll_us, uint, 0644);
MODULE_PARM_DESC(poll_us,
		 "Longest busy-poll of a synchronous RDMA transfer before it naps, in us (0: nap at once; default 50)");

static_assert(PAGE_SIZE == DG_PAGE_SIZE);
/* The credits of all message queues (DG_MQ_WINDOW) cover our calls. */
static_assert(DG_RDMA_DEPTH <= DG_MQ_WINDOW);

enum { DG_REQ_PENDING, DG_REQ_DONE, DG_REQ_ABANDONED };

/**
 * struct dg_rdma_req - a work request on a send queue
 * @cqe: its completion
 * @q: the queue it belongs to
 * @done: asynchronous requests only: called once the whole transfer is done
 * @ctx: passed to @done
 * @lead: asynchronous requests only: the transfer's first request, which
 *	counts its requests and stays taken until the last completed
 * @left: (the lead) requests of the transfer not completed yet
 * @err: (the lead) the transfer's first error
 * @tx: the send buffer (index in &dg_rdma_queue.tx) a message is in, or -1
 * @dir: direction of the pages' mappings
 * @status: the work completion's status
 * @state: %DG_REQ_PENDING until completed; a waiter that gives up marks it
 *	%DG_REQ_ABANDONED, and the completion then gives it back
 * @nr_pages: pages mapped in @sge
 * @wr: the work request
 * @sge: &dg_rdma_queue.max_sge entries, in &dg_rdma_queue.sges
 *
 * Preallocated, &dg_rdma_queue.req_pool's slots: a request stays taken
 * from dg_rdma_req_get() until its completion, or until the queue is torn
 * down (whose drain completes everything posted).
 */
struct dg_rdma_req {
	struct ib_cqe		cqe;
	struct dg_rdma_queue	*q;
	dg_done_fn		done;
	void			*ctx;
	struct dg_rdma_req	*lead;
	atomic_t		left;
	int			err;
	int			tx;
	enum dma_data_direction	dir;
	enum ib_wc_status	status;
	atomic_t		state;
	unsigned int		nr_pages;
	struct ib_rdma_wr	wr;
	struct ib_sge		*sge;
};

/**
 * struct dg_rdma_dev - an RDMA device our queues use, with one protection
 *	domain for all of them
 * @node: in dg_rdma_devs
 * @ref: a reference per queue on it, and one of device removal
 * @ibdev: the device
 * @pd: its protection domain (only its local_dma_lkey is used); NULL once
 *	the device was removed
 * @removing: the device goes away, or went: no new queue may use it. A
 *	removed device's entry stays (rdma_cm may still route to it for a
 *	moment) until a device is added at the same address, or the module
 *	unloads.
 */
struct dg_rdma_dev {
	struct list_head	node;
	struct kref		ref;
	struct ib_device	*ibdev;
	struct ib_pd		*pd;
	bool			removing;
};

/* A send buffer, DMA-mapped once for the queue's life. */
struct dg_rdma_tx {
	void	*buf;
	u64	dma;
};

struct dg_rdma_rx {
	struct ib_cqe		cqe;
	struct dg_rdma_queue	*q;
	void			*buf;
	u64			dma;
};

/**
 * struct dg_rdma_queue - one RC queue pair to the node
 * @conn: owner
 * @qid: index in the connection
 * @async: send completions reaped in softirq context, for pages_async
 * @cm_id: its rdma_cm id
 * @dev: device the route resolved to
 * @rdev: our state of @dev, holding a reference
 * @pd: @rdev's protection domain (local_dma_lkey for our pages)
 * @send_cq: polled directly by waiters, under @poll_lock
 * @recv_cq: softirq
 * @qp: the queue pair
 * @poll_lock: serialises ib_process_cq_direct() on @send_cq
 * @req_pool: which of @reqs are taken (%DG_RDMA_SQ_DEPTH, so the send
 *	queue never overflows); a caller waits at most the timeout
 * @reqs: the requests
 * @sges: their scatter entries, @max_sge each
 * @tx_pool: which of @tx are taken (queues that carry messages only)
 * @tx: room for %DG_RDMA_NR_TX send buffers of @rx_size bytes, @nr_tx of
 *	them made; NULL on a queue without messages
 * @rx: room for the receive ring, %DG_RDMA_NR_RX buffers, @nr_rx of them
 *	made and posted (queues that carry messages only)
 * @nr_rx: receive buffers made (dg_rdma_ring(); queue 0 grows at join)
 * @nr_tx: send buffers made
 * @rx_size: bytes per receive and send buffer: the connection's largest
 *	message
 * @max_sge: pages one work request gathers (async queues: up to
 *	%DG_WRITE_BATCH_MAX, as the device allows)
 * @lat_ns: recent completion time of synchronous requests (a moving
 *	average, updated racily by the waiters; 0: none yet)
 * @live: connected and not in error; cleared on disconnect or timeout
 * @cm_done: completed when connecting ends, well or badly
 * @cm_error: result of connecting
 */
struct dg_rdma_queue {
	struct dg_conn		*conn;
	unsigned int		qid;
	bool			async;
	struct rdma_cm_id	*cm_id;
	struct ib_device	*dev;
	struct dg_rdma_dev	*rdev;
	struct ib_pd		*pd;
	struct ib_cq		*send_cq;
	struct ib_cq		*recv_cq;
	struct ib_qp		*qp;
	spinlock_t		poll_lock;
	struct dg_pool		req_pool;
	struct dg_rdma_req	*reqs;
	struct ib_sge		*sges;
	struct dg_pool		tx_pool;
	struct dg_rdma_tx	*tx;
	struct dg_rdma_rx	*rx;
	unsigned int		nr_rx;
	unsigned int		nr_tx;
	u32			rx_size;
	u32			max_sge;
	u32			lat_ns;
	bool			live;
	struct completion	cm_done;
	int			cm_error;
};

/**
 * struct dg_rdma_conn - the backend's state of a connection
 * @nr: queues in @q
 * @nr_sync: synchronous queues, @q[0..nr_sync-1]; the rest are async
 * @q: the queues
 */
struct dg_rdma_conn {
	unsigned int		nr;
	unsigned int		nr_sync;
	struct dg_rdma_queue	q[];
};

static void dg_rdma_req_unmap(struct dg_rdma_queue *q, struct dg_rdma_req *req)
{
	while (req->nr_pages) {
		req->nr_pages--;
		ib_dma_unmap_page(q->dev, req->sge[req->nr_pages].addr,
				  PAGE_SIZE, req->dir);
	}
}

/* Give back a request, and its send buffer: completed, or never posted. */
static void dg_rdma_req_put(struct dg_rdma_queue *q, struct dg_rdma_req *req)
{
	dg_rdma_req_unmap(q, req);
	if (req->tx >= 0) {
		dg_pool_put(&q->tx_pool, req->tx);
		req->tx = -1;
	}
	dg_pool_put(&q->req_pool, req - q->reqs);
}

/* One request of an asynchronous transfer ended: the last one calls back. */
static void dg_rdma_lead_put(struct dg_rdma_queue *q, struct dg_rdma_req *lead,
			     int err)
{
	if (err)
		cmpxchg(&lead->err, 0, err);
	if (atomic_dec_and_test(&lead->left)) {
		lead->done(lead->ctx, lead->err);
		dg_rdma_req_put(q, lead);
	}
}

static void dg_rdma_req_done(struct ib_cq *cq, struct ib_wc *wc)
{
	struct dg_rdma_req *req = container_of(wc->wr_cqe, struct dg_rdma_req, cqe);
	struct dg_rdma_queue *q = req->q;

	dg_rdma_req_unmap(q, req);
	req->status = wc->status;
	if (req->done) {
		struct dg_rdma_req *lead = req->lead;
		int err = 0;

		if (wc->status != IB_WC_SUCCESS) {
			err = wc->status == IB_WC_WR_FLUSH_ERR ? -ENOTCONN : -EIO;
			if (err == -EIO)
				pr_err_ratelimited("%s: queue %u: transfer failed: %s\n",
						   dg_conn_name(q->conn), q->qid,
						   ib_wc_status_msg(wc->status));
			WRITE_ONCE(q->live, false);
			dg_conn_failed(q->conn, "a page transfer failed");
		}
		if (req != lead)
			dg_rdma_req_put(q, req);
		dg_rdma_lead_put(q, lead, err);
		return;
	}
	/* The waiter gives back a DONE request; an ABANDONED one is ours. */
	if (atomic_xchg(&req->state, DG_REQ_DONE) == DG_REQ_ABANDONED)
		dg_rdma_req_put(q, req);
}

static void dg_rdma_poll(struct dg_rdma_queue *q)
{
	if (spin_trylock(&q->poll_lock)) {
		ib_process_cq_direct(q->send_cq, 16);
		spin_unlock(&q->poll_lock);
	}
}

static void dg_rdma_queue_error(struct dg_rdma_queue *q)
{
	struct ib_qp_attr attr = { .qp_state = IB_QPS_ERR };

	if (!xchg(&q->live, false))
		return;
	/* Flushes every outstanding work request; no more DMA after this. */
	ib_modify_qp(q->qp, &attr, IB_QP_STATE);
	dg_conn_failed(q->conn, "a queue failed");
}

/*
 * How long a waiter on @q busy-polls before it naps: a few times the
 * queue's recent completion time (a completion that takes much longer is
 * not worth the CPU), at least DG_RDMA_SPIN_MIN_NS, at most poll_us. A
 * queue whose completions take longer than poll_us anyway (a software
 * device such as rxe, which needs the CPU a spinning waiter holds) naps at
 * once; naps measure no longer than a nap or two, so a queue that got
 * fast again spins again.
 */
static u64 dg_rdma_spin_ns(struct dg_rdma_queue *q)
{
	u64 cap = (u64)READ_ONCE(poll_us) * NSEC_PER_USEC;
	u64 lat = READ_ONCE(q->lat_ns);

	if (!lat)
		return cap;
	if (lat > cap)
		return 0;
	return min(cap, max_t(u64, 4 * lat, DG_RDMA_SPIN_MIN_NS));
}

static void dg_rdma_lat_update(struct dg_rdma_queue *q, ktime_t start)
{
	u64 ns = ktime_to_ns(ktime_sub(ktime_get(), start));
	u32 lat = READ_ONCE(q->lat_ns);

	ns = min_t(u64, ns, U32_MAX / 8);
	WRITE_ONCE(q->lat_ns, lat ? (7 * (u64)lat + ns) / 8 : ns);
}

/*
 * Post @wr for @req and poll until it completes: busy for
 * dg_rdma_spin_ns(), then with short naps so a software device (rxe) gets
 * the CPU it needs. On timeout the queue is put in the error state, which
 * flushes the request; if even the flush does not come, the request is
 * abandoned: it stays taken until it completes, or until the queue's
 * teardown flushes it.
 */
static int dg_rdma_post_wait(struct dg_rdma_queue *q, struct dg_rdma_req *req,
			     const struct ib_send_wr *wr, unsigned long timeout)
{
	struct dg_conn *c = q->conn;
	unsigned long deadline;
	ktime_t start, spin_until;
	bool timed_out = false;
	int ret;

	ret = ib_post_send(q->qp, wr, NULL);
	if (ret) {
		pr_err_ratelimited("%s: queue %u: post failed: %d\n",
				   dg_conn_name(c), q->qid, ret);
		dg_rdma_req_put(q, req);
		return -EIO;
	}

	deadline = jiffies + timeout;
	start = ktime_get();
	spin_until = ktime_add_ns(start, dg_rdma_spin_ns(q));
	while (atomic_read(&req->state) == DG_REQ_PENDING) {
		dg_rdma_poll(q);
		if (atomic_read(&req->state) != DG_REQ_PENDING)
			break;
		if (ktime_before(ktime_get(), spin_until))
			cpu_relax();
		else
			usleep_range(10, 20);
		if (time_after(jiffies, deadline)) {
			if (timed_out)
				break;
			pr_err_ratelimited("%s: queue %u: no completion in %u ms, resetting the queue\n",
					   dg_conn_name(c), q->qid,
					   jiffies_to_msecs(timeout));
			dg_rdma_queue_error(q);
			timed_out = true;
			deadline = jiffies + HZ;
		}
	}
	if (atomic_cmpxchg(&req->state, DG_REQ_PENDING, DG_REQ_ABANDONED) ==
	    DG_REQ_PENDING)
		return -ETIMEDOUT;

	if (timed_out) {
		ret = -ETIMEDOUT;
	} else if (req->status == IB_WC_SUCCESS) {
		dg_rdma_lat_update(q, start);
		ret = 0;
	}
	else if (req->status == IB_WC_WR_FLUSH_ERR) {
		ret = -ENOTCONN;
	} else {
		ret = -EIO;
	}
	if (ret && ret != -ENOTCONN)
		pr_err_ratelimited("%s: queue %u: work request failed: %s\n",
				   dg_conn_name(c), q->qid,
				   ib_wc_status_msg(req->status));
	if (req->status != IB_WC_SUCCESS)
		dg_rdma_queue_error(q);
	dg_rdma_req_put(q, req);
	return ret;
}

/* A request on @q, waiting at most @timeout jiffies for a free one. */
static struct dg_rdma_req *dg_rdma_req_get(struct dg_rdma_queue *q,
					   unsigned long timeout)
{
	struct dg_rdma_req *req;
	int i;

	if (!q->reqs || !READ_ONCE(q->live))
		return ERR_PTR(-ENOTCONN);
	i = dg_pool_get(&q->req_pool, timeout);
	if (i < 0)
		return ERR_PTR(i);
	req = &q->reqs[i];
	req->done = NULL;
	req->ctx = NULL;
	req->lead = NULL;
	req->err = 0;
	req->tx = -1;
	req->nr_pages = 0;
	req->status = IB_WC_SUCCESS;
	atomic_set(&req->state, DG_REQ_PENDING);
	memset(&req->wr, 0, sizeof(req->wr));
	req->wr.wr.wr_cqe = &req->cqe;
	req->wr.wr.send_flags = IB_SEND_SIGNALED;
	return req;
}

/*
 * A request moving @nr pages to or from @r at @offset (consecutive there),
 * each mapped in place, with its work request built in req->wr.
 */
static struct dg_rdma_req *dg_rdma_pages_req(struct dg_rdma_queue *q,
					     const struct dg_region *r,
					     u64 offset, struct page **pages,
					     unsigned int nr, bool write,
					     unsigned long timeout)
{
	struct dg_rdma_req *req;
	u64 dma;

	req = dg_rdma_req_get(q, timeout);
	if (IS_ERR(req))
		return req;
	req->dir = write ? DMA_TO_DEVICE : DMA_FROM_DEVICE;
	for (; req->nr_pages < nr; req->nr_pages++) {
		struct ib_sge *sge = &req->sge[req->nr_pages];

		dma = ib_dma_map_page(q->dev, pages[req->nr_pages], 0,
				      PAGE_SIZE, req->dir);
		if (ib_dma_mapping_error(q->dev, dma)) {
			dg_rdma_req_put(q, req);
			return ERR_PTR(-ENOMEM);
		}
		sge->addr = dma;
		sge->length = PAGE_SIZE;
		sge->lkey = q->pd->local_dma_lkey;
	}
	req->wr.wr.opcode = write ? IB_WR_RDMA_WRITE : IB_WR_RDMA_READ;
	req->wr.wr.sg_list = req->sge;
	req->wr.wr.num_sge = nr;
	req->wr.remote_addr = r->addr + offset;
	req->wr.rkey = r->rkey;
	return req;
}

static int dg_rdma_page_io(struct dg_conn *c, const struct dg_region *r,
			   u64 offset, struct page *page, bool write,
			   unsigned long timeout)
{
	struct dg_rdma_conn *rc = c->priv;
	struct dg_rdma_queue *q;
	struct dg_rdma_req *req;
	int ret;

	q = &rc->q[raw_smp_processor_id() % rc->nr_sync];
	req = dg_rdma_pages_req(q, r, offset, &page, 1, write, timeout);
	ret = IS_ERR(req) ? PTR_ERR(req) :
	      dg_rdma_post_wait(q, req, &req->wr.wr, timeout);
	return ret;
}

/*
 * Asynchronous transfers go on the asynchronous queues, as few work
 * requests as the device's scatter limit allows, posted with one call.
 * The first request (the lead) counts them; the last to complete calls
 * back.
 */
static int dg_rdma_pages_async(struct dg_conn *c, const struct dg_region *r,
			       u64 offset, struct page **pages, unsigned int nr,
			       bool write, dg_done_fn done, void *ctx)
{
	struct dg_rdma_conn *rc = c->priv;
	struct dg_rdma_req *reqs[DG_WRITE_BATCH_MAX], *req;
	const struct ib_send_wr *bad = NULL;
	struct dg_rdma_queue *q;
	unsigned int i, n, per, nwr = 0, posted;
	int ret = 0;

	q = &rc->q[rc->nr_sync + raw_smp_processor_id() % (rc->nr - rc->nr_sync)];
	per = q->max_sge;
	for (i = 0; i < nr; i += n, nwr++) {
		n = min(per, nr - i);
		req = dg_rdma_pages_req(q, r, offset + (u64)i * PAGE_SIZE,
					pages + i, n, write, q->conn->timeout);
		if (IS_ERR(req)) {
			ret = PTR_ERR(req);
			while (nwr--)
				dg_rdma_req_put(q, reqs[nwr]);
			goto out;
		}
		req->done = done;
		req->ctx = ctx;
		req->lead = nwr ? reqs[0] : req;
		if (nwr)
			reqs[nwr - 1]->wr.wr.next = &req->wr.wr;
		reqs[nwr] = req;
	}
	atomic_set(&reqs[0]->left, nwr);

	if (!ib_post_send(q->qp, &reqs[0]->wr.wr, &bad))
		goto out;
	/* Requests from @bad on were not posted: they will not complete. */
	for (posted = 0; posted < nwr && &reqs[posted]->wr.wr != bad; posted++)
		;
	pr_err_ratelimited("%s: queue %u: post failed\n", dg_conn_name(c),
			   q->qid);
	if (!posted) {
		for (i = 0; i < nwr; i++)
			dg_rdma_req_put(q, reqs[i]);
		ret = -EIO;
		goto out;
	}
	/* Some (the lead first) are on their way: the transfer fails. */
	for (i = posted; i < nwr; i++) {
		dg_rdma_req_put(q, reqs[i]);
		dg_rdma_lead_put(q, reqs[0], -EIO);
	}
out:
	return ret;
}

static int __dg_rdma_send(struct dg_rdma_queue *q, const struct kvec *vec,
			  unsigned int nr, u32 len)
{
	struct dg_rdma_req *req;
	struct dg_rdma_tx *tx;
	unsigned int i;
	u8 *p;
	int t;

	req = dg_rdma_req_get(q, q->conn->timeout);
	if (IS_ERR(req))
		return PTR_ERR(req);
	if (!q->nr_tx || len > q->rx_size) {
		dg_rdma_req_put(q, req);
		return -EINVAL;
	}
	/* A buffer mapped once, taken until the send completes. */
	t = dg_pool_get(&q->tx_pool, q->conn->timeout);
	if (t < 0) {
		dg_rdma_req_put(q, req);
		return t;
	}
	req->tx = t;
	tx = &q->tx[t];
	for (i = 0, p = tx->buf; i < nr; p += vec[i].iov_len, i++)
		memcpy(p, vec[i].iov_base, vec[i].iov_len);
	ib_dma_sync_single_for_device(q->dev, tx->dma, len, DMA_TO_DEVICE);
	req->sge[0].addr = tx->dma;
	req->sge[0].length = len;
	req->sge[0].lkey = q->pd->local_dma_lkey;
	req->wr.wr.opcode = IB_WR_SEND;
	req->wr.wr.sg_list = req->sge;
	req->wr.wr.num_sge = 1;
	return dg_rdma_post_wait(q, req, &req->wr.wr, q->conn->timeout);
}

static int dg_rdma_send(struct dg_conn *c, unsigned int qid,
			const struct kvec *vec, unsigned int nr, u32 len)
{
	struct dg_rdma_conn *rc = c->priv;
	struct dg_rdma_queue *q = &rc->q[0];
	int ret;

	/* Only queues with send buffers carry messages (queue 0 always). */
	if (qid && qid < rc->nr_sync && READ_ONCE(rc->q[qid].nr_tx))
		q = &rc->q[qid];
	ret = __dg_rdma_send(q, vec, nr, len);
	/*
	 * A send that failed (retries exhausted: the peer is gone) put the
	 * queue in error and the connection down: to the caller the
	 * connection is lost and its request may not have arrived, so it may
	 * be sent again once the connection is back.
	 */
	return ret == -EIO ? -ENOTCONN : ret;
}

static int dg_rdma_post_recv(struct dg_rdma_rx *rx)
{
	struct dg_rdma_queue *q = rx->q;
	struct ib_recv_wr wr = {};
	struct ib_sge sge;

	sge.addr = rx->dma;
	sge.length = q->rx_size;
	sge.lkey = q->pd->local_dma_lkey;
	wr.wr_cqe = &rx->cqe;
	wr.sg_list = &sge;
	wr.num_sge = 1;
	return ib_post_recv(q->qp, &wr, NULL);
}

static void dg_rdma_recv_done(struct ib_cq *cq, struct ib_wc *wc)
{
	struct dg_rdma_rx *rx = container_of(wc->wr_cqe, struct dg_rdma_rx, cqe);
	struct dg_rdma_queue *q = rx->q;

	if (wc->status != IB_WC_SUCCESS) {
		if (wc->status != IB_WC_WR_FLUSH_ERR) {
			pr_err_ratelimited("%s: receive failed: %s\n",
					   dg_conn_name(q->conn),
					   ib_wc_status_msg(wc->status));
			dg_conn_failed(q->conn, "a receive failed");
		}
		return;
	}
	ib_dma_sync_single_for_cpu(q->dev, rx->dma, q->rx_size,
				   DMA_FROM_DEVICE);
	dg_conn_recv(q->conn, rx->buf, min(wc->byte_len, q->rx_size));
	ib_dma_sync_single_for_device(q->dev, rx->dma, q->rx_size,
				      DMA_FROM_DEVICE);
	if (READ_ONCE(q->live) && dg_rdma_post_recv(rx))
		pr_err_ratelimited("%s: cannot repost a receive buffer\n",
				   dg_conn_name(q->conn));
}

static void dg_rdma_free_rx(struct dg_rdma_queue *q)
{
	int i;

	if (!q->rx)
		return;
	for (i = 0; i < DG_RDMA_NR_RX; i++) {
		if (!q->rx[i].buf)
			continue;
		if (q->rx[i].dma)
			ib_dma_unmap_single(q->dev, q->rx[i].dma, q->rx_size,
					    DMA_FROM_DEVICE);
		kfree(q->rx[i].buf);
	}
	kfree(q->rx);
	q->rx = NULL;
	q->nr_rx = 0;
}

/*
 * Grow @q's message buffers to @nr_rx receive buffers (made, mapped once
 * and posted) and @nr_tx send buffers (made, mapped once, then free in
 * &dg_rdma_queue.tx_pool). On failure what was made stays, and is freed
 * with the queue.
 */
static int dg_rdma_grow_ring(struct dg_rdma_queue *q, unsigned int nr_rx,
			     unsigned int nr_tx)
{
	int ret;

	nr_rx = min_t(unsigned int, nr_rx, DG_RDMA_NR_RX);
	nr_tx = min_t(unsigned int, nr_tx, DG_RDMA_NR_TX);
	while (q->nr_rx < nr_rx) {
		struct dg_rdma_rx *rx = &q->rx[q->nr_rx];

		rx->q = q;
		rx->cqe.done = dg_rdma_recv_done;
		rx->buf = kmalloc(q->rx_size, GFP_KERNEL);
		if (!rx->buf)
			return -ENOMEM;
		rx->dma = ib_dma_map_single(q->dev, rx->buf, q->rx_size,
					    DMA_FROM_DEVICE);
		if (ib_dma_mapping_error(q->dev, rx->dma)) {
			rx->dma = 0;
			return -ENOMEM;
		}
		ret = dg_rdma_post_recv(rx);
		if (ret)
			return ret;
		q->nr_rx++;
	}
	while (q->nr_tx < nr_tx) {
		struct dg_rdma_tx *tx = &q->tx[q->nr_tx];

		tx->buf = kmalloc(q->rx_size, GFP_KERNEL);
		if (!tx->buf)
			return -ENOMEM;
		tx->dma = ib_dma_map_single(q->dev, tx->buf, q->rx_size,
					    DMA_TO_DEVICE);
		if (ib_dma_mapping_error(q->dev, tx->dma)) {
			tx->dma = 0;
			return -ENOMEM;
		}
		dg_pool_put(&q->tx_pool, q->nr_tx);
		WRITE_ONCE(q->nr_tx, q->nr_tx + 1);
	}
	return 0;
}

/*
 * The message buffers of synchronous queue @qid. Before the handshake
 * (queue 0 only) a few; then, without %DG_FEAT_MQ, queue 0 gets them all:
 * %DG_RDMA_NR_RX receive buffers (a reply for each call, and room for the
 * node's own requests) and %DG_RDMA_NR_TX send buffers. With it, each
 * message queue gets a receive buffer per credit (dg_mq_credits()) and
 * one more (a reply may come before the buffer of the last one is posted
 * again), queue 0 room for the node's requests too, and the send buffers
 * are shared out (at least 2 each): up to 4 queues about as many buffers
 * in all as queue 0 alone had, for 8 1.5 times as many
 * (Documentation/transport.md).
 */
static void dg_rdma_ring(struct dg_conn *c, unsigned int qid, bool first,
			 unsigned int *nr_rx, unsigned int *nr_tx)
{
	struct dg_rdma_conn *rc = c->priv;

	if (first) {
		*nr_rx = DG_RDMA_NR_RX_FIRST;
		*nr_tx = DG_RDMA_NR_TX_FIRST;
	} else if (!(c->features & DG_FEAT_MQ)) {
		*nr_rx = qid ? 0 : DG_RDMA_NR_RX;
		*nr_tx = qid ? 0 : DG_RDMA_NR_TX;
	} else {
		*nr_rx = dg_mq_credits(rc->nr) + (qid ? 1 : DG_RDMA_RX_EXTRA);
		*nr_tx = clamp_t(unsigned int,
				 DIV_ROUND_UP(DG_RDMA_NR_TX, rc->nr_sync), 2,
				 DG_RDMA_NR_TX);
	}
}

/*
 * One protection domain per device, shared by every queue on it (as
 * nvme-rdma's nvme_rdma_device): the list of devices in use, each with a
 * reference per queue, released when the last queue on it goes. Never
 * held across a call into rdma_cm (a CM handler takes it).
 */
static LIST_HEAD(dg_rdma_devs);
static DEFINE_MUTEX(dg_rdma_dev_lock);

static void dg_rdma_dev_release(struct kref *ref)
{
	struct dg_rdma_dev *d = container_of(ref, struct dg_rdma_dev, ref);

	list_del(&d->node);
	mutex_unlock(&dg_rdma_dev_lock);
	if (d->pd)
		ib_dealloc_pd(d->pd);
	kfree(d);
}

static void dg_rdma_dev_put(struct dg_rdma_dev *d)
{
	kref_put_mutex(&d->ref, dg_rdma_dev_release, &dg_rdma_dev_lock);
}

/* A reference to our state of @ibdev, made on first use. */
static struct dg_rdma_dev *dg_rdma_dev_get(struct ib_device *ibdev)
{
	struct dg_rdma_dev *d;
	int ret;

	mutex_lock(&dg_rdma_dev_lock);
	list_for_each_entry(d, &dg_rdma_devs, node) {
		if (d->ibdev != ibdev)
			continue;
		if (d->removing) {
			d = ERR_PTR(-ENODEV);
			goto out;
		}
		kref_get(&d->ref);
		goto out;
	}
	d = kzalloc(sizeof(*d), GFP_KERNEL);
	if (!d) {
		d = ERR_PTR(-ENOMEM);
		goto out;
	}
	d->pd = ib_alloc_pd(ibdev, 0);
	if (IS_ERR(d->pd)) {
		ret = PTR_ERR(d->pd);
		kfree(d);
		d = ERR_PTR(ret);
		goto out;
	}
	d->ibdev = ibdev;
	kref_init(&d->ref);
	list_add(&d->node, &dg_rdma_devs);
out:
	mutex_unlock(&dg_rdma_dev_lock);
	return d;
}

/* Requests and send buffers; their completions are stopped (CQ freed). */
static void dg_rdma_free_reqs(struct dg_rdma_queue *q)
{
	int i;

	if (q->tx) {
		for (i = 0; i < DG_RDMA_NR_TX; i++) {
			if (!q->tx[i].buf)
				continue;
			if (q->tx[i].dma)
				ib_dma_unmap_single(q->dev, q->tx[i].dma,
						    q->rx_size, DMA_TO_DEVICE);
			kfree(q->tx[i].buf);
		}
		kfree(q->tx);
		q->tx = NULL;
	}
	q->nr_tx = 0;
	dg_pool_destroy(&q->tx_pool);
	kfree(q->reqs);
	q->reqs = NULL;
	kfree(q->sges);
	q->sges = NULL;
	dg_pool_destroy(&q->req_pool);
}

/*
 * Preallocate @q's requests (the send queue's depth) and, on a queue that
 * carries messages, room for its message buffers.
 */
static int dg_rdma_alloc_reqs(struct dg_rdma_queue *q, bool msgs)
{
	int i;

	q->reqs = kcalloc(DG_RDMA_SQ_DEPTH, sizeof(*q->reqs), GFP_KERNEL);
	q->sges = kcalloc(DG_RDMA_SQ_DEPTH * q->max_sge, sizeof(*q->sges),
			  GFP_KERNEL);
	if (!q->reqs || !q->sges ||
	    dg_pool_init(&q->req_pool, DG_RDMA_SQ_DEPTH, GFP_KERNEL))
		return -ENOMEM;
	for (i = 0; i < DG_RDMA_SQ_DEPTH; i++) {
		q->reqs[i].q = q;
		q->reqs[i].cqe.done = dg_rdma_req_done;
		q->reqs[i].sge = &q->sges[i * q->max_sge];
		q->reqs[i].tx = -1;
	}
	if (!msgs)
		return 0;
	/* Room for the most buffers; dg_rdma_grow_ring() makes them. */
	q->rx_size = q->conn->max_msg;
	q->tx = kcalloc(DG_RDMA_NR_TX, sizeof(*q->tx), GFP_KERNEL);
	q->rx = kcalloc(DG_RDMA_NR_RX, sizeof(*q->rx), GFP_KERNEL);
	if (!q->tx || !q->rx ||
	    dg_pool_init_taken(&q->tx_pool, DG_RDMA_NR_TX, GFP_KERNEL))
		return -ENOMEM;
	return 0;
}

/*
 * Free the verbs resources of @q; the cm id must be gone or idle. The
 * receive buffers go last: a QP that was never drained (a rejected or
 * timed-out connect) may still have flushed receives in its CQ, and the
 * CQ's softirq poller would hand them to dg_rdma_recv_done(). ib_free_cq()
 * stops that poller and waits for it; the completions it leaves are
 * dropped.
 */
static void dg_rdma_free_ib(struct dg_rdma_queue *q)
{
	if (q->qp) {
		ib_destroy_qp(q->qp);
		q->qp = NULL;
	}
	if (q->recv_cq) {
		ib_free_cq(q->recv_cq);
		q->recv_cq = NULL;
	}
	if (q->send_cq) {
		ib_free_cq(q->send_cq);
		q->send_cq = NULL;
	}
	dg_rdma_free_rx(q);
	dg_rdma_free_reqs(q);
	if (q->rdev) {
		dg_rdma_dev_put(q->rdev);
		q->rdev = NULL;
		q->pd = NULL;
	}
}

static void dg_rdma_qp_event(struct ib_event *ev, void *ctx)
{
	struct dg_rdma_queue *q = ctx;

	pr_warn_ratelimited("%s: queue %u: %s\n", dg_conn_name(q->conn),
			    q->qid, ib_event_msg(ev->event));
}

/* Route resolved: build the queue's verbs resources and connect. */
static int dg_rdma_route_resolved(struct dg_rdma_queue *q)
{
	struct dg_conn *c = q->conn;
	struct rdma_cm_id *id = q->cm_id;
	struct ib_device *dev = id->device;
	struct ib_qp_init_attr init = {};
	struct rdma_conn_param param = {};
	struct dg_cm_private priv = {};
	int vec = q->qid % dev->num_comp_vectors;
	/* Queue 0, and with DG_FEAT_MQ (known by now) every synchronous one. */
	bool msgs = q->qid == 0 || (!q->async && (c->features & DG_FEAT_MQ));
	int nr_rx = msgs ? DG_RDMA_NR_RX : 1;
	unsigned int ring_rx, ring_tx;
	int ret;

	q->dev = dev;
	q->rdev = dg_rdma_dev_get(dev);
	if (IS_ERR(q->rdev)) {
		ret = PTR_ERR(q->rdev);
		q->rdev = NULL;
		return ret;
	}
	q->pd = q->rdev->pd;
	q->send_cq = ib_alloc_cq(dev, q, DG_RDMA_SQ_DEPTH + 1, vec,
				 q->async ? IB_POLL_SOFTIRQ : IB_POLL_DIRECT);
	if (IS_ERR(q->send_cq)) {
		ret = PTR_ERR(q->send_cq);
		q->send_cq = NULL;
		return ret;
	}
	q->recv_cq = ib_alloc_cq(dev, q, nr_rx + 1, vec, IB_POLL_SOFTIRQ);
	if (IS_ERR(q->recv_cq)) {
		ret = PTR_ERR(q->recv_cq);
		q->recv_cq = NULL;
		return ret;
	}

	init.event_handler = dg_rdma_qp_event;
	init.qp_context = q;
	init.send_cq = q->send_cq;
	init.recv_cq = q->recv_cq;
	init.cap.max_send_wr = DG_RDMA_SQ_DEPTH;
	init.cap.max_recv_wr = nr_rx;
	q->max_sge = q->async ? min_t(u32, DG_WRITE_BATCH_MAX,
				      dev->attrs.max_send_sge) : 1;
	init.cap.max_send_sge = q->max_sge;
	init.cap.max_recv_sge = 1;
	init.sq_sig_type = IB_SIGNAL_REQ_WR;
	init.qp_type = IB_QPT_RC;
	ret = rdma_create_qp(id, q->pd, &init);
	if (ret)
		return ret;
	q->qp = id->qp;

	ret = dg_rdma_alloc_reqs(q, msgs);
	if (ret)
		return ret;
	if (msgs) {
		dg_rdma_ring(c, q->qid, q->qid == 0, &ring_rx, &ring_tx);
		ret = dg_rdma_grow_ring(q, ring_rx, ring_tx);
		if (ret)
			return ret;
	}

	priv.magic = cpu_to_le32(DG_PROTO_MAGIC);
	priv.major = DG_PROTO_MAJOR;
	priv.minor = DG_PROTO_MINOR;
	priv.qid = cpu_to_le16(q->qid);
	priv.nr_queues = cpu_to_le16(((struct dg_rdma_conn *)c->priv)->nr);
	priv.client_id = cpu_to_le64(c->p.client_id);
	if (q->qid)
		memcpy(priv.token, c->token, DG_TOKEN_LEN);
	param.private_data = &priv;
	param.private_data_len = sizeof(priv);
	param.responder_resources = 0;
	param.initiator_depth = min_t(int, DG_RDMA_RD_ATOM,
				      dev->attrs.max_qp_init_rd_atom);
	param.retry_count = 7;
	param.rnr_retry_count = 7;
	return rdma_connect_locked(id, &param);
}

static void dg_rdma_cm_finish(struct dg_rdma_queue *q, int error)
{
	q->cm_error = error;
	complete(&q->cm_done);
}

static int dg_rdma_cm_handler(struct rdma_cm_id *id, struct rdma_cm_event *ev)
{
	struct dg_rdma_queue *q = id->context;
	const char *name = dg_conn_name(q->conn);
	int ret;

	switch (ev->event) {
	case RDMA_CM_EVENT_ADDR_RESOLVED:
		ret = rdma_resolve_route(id, q->conn->p.timeout_ms);
		if (ret)
			dg_rdma_cm_finish(q, ret);
		break;
	case RDMA_CM_EVENT_ROUTE_RESOLVED:
		ret = dg_rdma_route_resolved(q);
		if (ret)
			dg_rdma_cm_finish(q, ret);
		break;
	case RDMA_CM_EVENT_ESTABLISHED:
		WRITE_ONCE(q->live, true);
		dg_rdma_cm_finish(q, 0);
		break;
	case RDMA_CM_EVENT_REJECTED:
		dg_conn_err(q->conn, "queue %u: connection rejected: %s\n",
			    q->qid, rdma_reject_msg(id, ev->status));
		dg_rdma_cm_finish(q, -ECONNREFUSED);
		break;
	case RDMA_CM_EVENT_ADDR_ERROR:
	case RDMA_CM_EVENT_ROUTE_ERROR:
	case RDMA_CM_EVENT_UNREACHABLE:
	case RDMA_CM_EVENT_CONNECT_ERROR:
		dg_conn_err(q->conn, "queue %u: %s (%d)\n", q->qid,
			    rdma_event_msg(ev->event), ev->status);
		dg_rdma_cm_finish(q, -EHOSTUNREACH);
		break;
	case RDMA_CM_EVENT_DISCONNECTED:
	case RDMA_CM_EVENT_ADDR_CHANGE:
	case RDMA_CM_EVENT_TIMEWAIT_EXIT:
		if (xchg(&q->live, false)) {
			pr_warn("%s: queue %u: %s\n", name, q->qid,
				rdma_event_msg(ev->event));
			dg_conn_failed(q->conn, rdma_event_msg(ev->event));
		}
		break;
	case RDMA_CM_EVENT_DEVICE_REMOVAL:
		/* Handled by dg_rdma_remove_one(), which tears us down. */
		WRITE_ONCE(q->live, false);
		break;
	default:
		pr_debug("%s: queue %u: unexpected %s\n", name, q->qid,
			 rdma_event_msg(ev->event));
		break;
	}
	return 0;
}

/*
 * The connections with queues, for device removal. dg_rdma_lock also
 * keeps their queues' verbs objects from being freed while it looks at
 * them.
 */
static LIST_HEAD(dg_rdma_conns);
static DEFINE_MUTEX(dg_rdma_lock);

struct dg_rdma_entry {
	struct list_head	node;
	struct dg_conn		*conn;
};

static int dg_rdma_queue_connect(struct dg_rdma_queue *q)
{
	struct dg_conn *c = q->conn;
	struct sockaddr *src = NULL;
	int ret;

	init_completion(&q->cm_done);
	spin_lock_init(&q->poll_lock);
	q->cm_id = rdma_create_id(&init_net, dg_rdma_cm_handler, q,
				  RDMA_PS_TCP, IB_QPT_RC);
	if (IS_ERR(q->cm_id)) {
		ret = PTR_ERR(q->cm_id);
		q->cm_id = NULL;
		return ret;
	}
	if (c->p.src.ss_family)
		src = (struct sockaddr *)&c->p.src;
	ret = rdma_resolve_addr(q->cm_id, src, (struct sockaddr *)&c->p.addr,
				c->p.timeout_ms);
	if (!ret) {
		/* Address, route and connect each have the timeout. */
		if (!wait_for_completion_timeout(&q->cm_done, 3 * c->timeout))
			ret = -ETIMEDOUT;
		else
			ret = q->cm_error;
	}
	if (ret) {
		mutex_lock(&dg_rdma_lock);
		/* Waits for a running handler; none runs after it. */
		rdma_destroy_id(q->cm_id);
		q->cm_id = NULL;
		dg_rdma_free_ib(q);
		WRITE_ONCE(q->live, false);
		mutex_unlock(&dg_rdma_lock);
	}
	return ret;
}

static void dg_rdma_queue_close(struct dg_rdma_queue *q)
{
	if (!q->cm_id)
		return;
	WRITE_ONCE(q->live, false);
	rdma_disconnect(q->cm_id);
	if (q->qp)
		ib_drain_qp(q->qp);	/* completes (frees) abandoned requests */
	if (q->qp) {
		rdma_destroy_qp(q->cm_id);
		q->qp = NULL;
	}
	rdma_destroy_id(q->cm_id);
	q->cm_id = NULL;
	dg_rdma_free_ib(q);
}

/* Make every transfer in flight fail now: recovery is about to close. */
static void dg_rdma_abort(struct dg_conn *c)
{
	struct dg_rdma_conn *rc = c->priv;
	unsigned int i;

	for (i = 0; i < rc->nr; i++)
		if (rc->q[i].qp)
			dg_rdma_queue_error(&rc->q[i]);
}

static void dg_rdma_close(struct dg_conn *c)
{
	struct dg_rdma_conn *rc = c->priv;
	struct dg_rdma_entry *e, *tmp;
	unsigned int i;

	mutex_lock(&dg_rdma_lock);
	list_for_each_entry_safe(e, tmp, &dg_rdma_conns, node) {
		if (e->conn == c) {
			list_del(&e->node);
			kfree(e);
		}
	}
	for (i = 0; i < rc->nr; i++)
		dg_rdma_queue_close(&rc->q[i]);
	mutex_unlock(&dg_rdma_lock);
	kfree(rc);
	c->priv = NULL;
}

/* Connect queues @from..@to - 1; on failure the caller closes. */
static int dg_rdma_connect_queues(struct dg_conn *c, unsigned int from,
				  unsigned int to)
{
	struct dg_rdma_conn *rc = c->priv;
	unsigned int i;
	int ret;

	for (i = from; i < to; i++) {
		rc->q[i].conn = c;
		rc->q[i].qid = i;
		rc->q[i].async = i >= rc->nr_sync;
		ret = dg_rdma_queue_connect(&rc->q[i]);
		if (ret) {
			dg_conn_err(c, "queue %u: cannot connect to %pISpc: %d\n",
				    i, &c->p.addr, ret);
			return ret;
		}
	}
	return 0;
}

/* Queue 0 only: the handshake runs on it before the others may join. */
static int dg_rdma_open(struct dg_conn *c)
{
	struct dg_rdma_entry *e;
	struct dg_rdma_conn *rc;
	int ret;

	rc = kzalloc(struct_size(rc, q, 2 * c->p.nr_queues), GFP_KERNEL);
	e = kzalloc(sizeof(*e), GFP_KERNEL);
	if (!rc || !e) {
		kfree(rc);
		kfree(e);
		return -ENOMEM;
	}
	rc->nr_sync = c->p.nr_queues;
	rc->nr = 2 * c->p.nr_queues;
	c->priv = rc;
	e->conn = c;
	mutex_lock(&dg_rdma_lock);
	list_add(&e->node, &dg_rdma_conns);
	mutex_unlock(&dg_rdma_lock);
	ret = dg_rdma_connect_queues(c, 0, 1);
	if (ret)
		dg_rdma_close(c);
	return ret;
}

/*
 * After the handshake: queue 0's full ring, then the other queues, each
 * presenting the session's join token; with %DG_FEAT_MQ the synchronous
 * ones get message buffers too, and calls may use them from then on.
 */
static int dg_rdma_join(struct dg_conn *c)
{
	struct dg_rdma_conn *rc = c->priv;
	unsigned int nr_rx, nr_tx;
	int ret;

	dg_rdma_ring(c, 0, false, &nr_rx, &nr_tx);
	ret = dg_rdma_grow_ring(&rc->q[0], nr_rx, nr_tx);
	if (ret)
		return ret;
	ret = dg_rdma_connect_queues(c, 1, rc->nr);
	if (ret)
		return ret;
	if (c->features & DG_FEAT_MQ)
		dg_conn_msg_queues(c, rc->nr_sync, dg_mq_credits(rc->nr));
	return 0;
}

const struct dg_transport dg_rdma_transport = {
	.name		= "rdma",
	.caps		= DG_CAP_ONE_SIDED | DG_CAP_POLLED | DG_CAP_QUEUES,
	.depth		= DG_RDMA_DEPTH,
	.open		= dg_rdma_open,
	.join		= dg_rdma_join,
	.abort		= dg_rdma_abort,
	.close		= dg_rdma_close,
	.send		= dg_rdma_send,
	.page_io	= dg_rdma_page_io,
	.pages_async	= dg_rdma_pages_async,
};

/*
 * Our entry of @ibdev, marked removing, with a reference for the caller;
 * made (without a protection domain) if no queue uses the device.
 */
static struct dg_rdma_dev *dg_rdma_dev_removing(struct ib_device *ibdev)
{
	struct dg_rdma_dev *d;

	mutex_lock(&dg_rdma_dev_lock);
	list_for_each_entry(d, &dg_rdma_devs, node) {
		if (d->ibdev == ibdev) {
			kref_get(&d->ref);
			goto out;
		}
	}
	d = kzalloc(sizeof(*d), GFP_KERNEL);
	if (d) {
		d->ibdev = ibdev;
		kref_init(&d->ref);
		list_add(&d->node, &dg_rdma_devs);
	}
out:
	if (d)
		d->removing = true;
	mutex_unlock(&dg_rdma_dev_lock);
	return d;
}

/*
 * An RDMA device is going away, and waits for us: no new queue may use it,
 * and every queue on it is put in the error state, which fails its
 * connection. Recovery then closes the queues (under &dg_conn.io_sem, the
 * one lock of a connection's backend) and tries to reconnect (over another
 * device, if the route leads to one); once the last queue went, the
 * protection domain is freed. Until then the queues are failed again now
 * and then: a connection that was still connecting when it was first told
 * may be up now.
 */
static void dg_rdma_remove_one(struct ib_device *ibdev, void *client_data)
{
	struct dg_rdma_entry *e;
	struct dg_rdma_dev *d;
	unsigned int i, waited = 0;
	bool busy;

	d = dg_rdma_dev_removing(ibdev);
	if (!d) {
		/* No memory for the mark: queues may come back; close them. */
		pr_err("device %s removed: no memory to track it\n",
		       dev_name(&ibdev->dev));
	}
	for (;;) {
		busy = false;
		mutex_lock(&dg_rdma_lock);
		list_for_each_entry(e, &dg_rdma_conns, node) {
			struct dg_rdma_conn *rc = e->conn->priv;
			bool hit = false;

			for (i = 0; i < rc->nr; i++) {
				struct dg_rdma_queue *q = &rc->q[i];

				if (q->dev != ibdev || !q->qp)
					continue;
				dg_rdma_queue_error(q);
				hit = true;
			}
			if (hit)
				dg_conn_failed(e->conn, "RDMA device removed");
			busy |= hit;
		}
		mutex_unlock(&dg_rdma_lock);
		mutex_lock(&dg_rdma_dev_lock);
		if (d && kref_read(&d->ref) > 1)
			busy = true;
		if (!busy && d && d->pd) {
			ib_dealloc_pd(d->pd);
			d->pd = NULL;
		}
		mutex_unlock(&dg_rdma_dev_lock);
		if (!busy)
			break;
		if (!waited)
			pr_warn("device %s removed: closing the queues on it\n",
				dev_name(&ibdev->dev));
		else if (!(waited % 100))
			pr_warn("device %s: still in use after %u s\n",
				dev_name(&ibdev->dev), waited / 10);
		waited++;
		msleep(100);
	}
	/* Our reference stays: the entry marks the device as gone. */
}

/* A device at the address of a removed one is another: forget the mark. */
static int dg_rdma_add_one(struct ib_device *ibdev)
{
	struct dg_rdma_dev *d, *tmp;

	mutex_lock(&dg_rdma_dev_lock);
	list_for_each_entry_safe(d, tmp, &dg_rdma_devs, node) {
		if (d->ibdev == ibdev && d->removing && kref_read(&d->ref) == 1) {
			list_del(&d->node);
			kfree(d);
		}
	}
	mutex_unlock(&dg_rdma_dev_lock);
	return 0;
}

static struct ib_client dg_rdma_client = {
	.name	= "disagg_net",
	.add	= dg_rdma_add_one,
	.remove	= dg_rdma_remove_one,
};

int dg_rdma_init(void)
{
	return ib_register_client(&dg_rdma_client);
}

void dg_rdma_exit(void)
{
	struct dg_rdma_dev *d, *tmp;

	ib_unregister_client(&dg_rdma_client);
	/* Every connection is closed: only removed devices' marks are left. */
	list_for_each_entry_safe(d, tmp, &dg_rdma_devs, node) {
		WARN_ON(d->pd);
		list_del(&d->node);
		kfree(d);
	}
}
