// SPDX-License-Identifier: GPL-2.0
/*
 * disagg_net connections: opening one with its handshake, two-sided calls
 * matched to their replies by request id (many in flight at once),
 * heartbeats, and reconnecting a connection that failed. The transport
 * backends move the bytes.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/mm.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/string.h>
#include "internal.h"

#ifdef CONFIG_HIGHMEM
#error "pages moved as calls go to the backend by page_address()"
#endif

static unsigned int heartbeat_ms = 5000;
module_param(heartbeat_ms, uint, 0644);
MODULE_PARM_DESC(heartbeat_ms,
		 "Interval of heartbeats to every node, in ms (0: none; default 5000)");

static unsigned int reconnect_max_ms = 5000;
module_param(reconnect_max_ms, uint, 0644);
MODULE_PARM_DESC(reconnect_max_ms,
		 "Longest wait between two reconnect attempts, in ms (default 5000)");

static const struct dg_transport *dg_transports[] = {
	&dg_rdma_transport,
	&dg_tcp_transport,
};

const char *dg_conn_name(const struct dg_conn *c)
{
	return c->p.name;
}

static size_t dg_kvec_len(const struct kvec *v, unsigned int nr)
{
	size_t len = 0;

	while (nr--)
		len += v++->iov_len;
	return len;
}

static void dg_kvec_fill(const struct kvec *v, unsigned int nr,
			 const u8 *src, size_t len)
{
	for (; nr && len; v++, nr--) {
		size_t n = min(len, v->iov_len);

		memcpy(v->iov_base, src, n);
		src += n;
		len -= n;
	}
}

/* A free entry of the call table, waiting at most @timeout jiffies. */
static struct dg_call_req *dg_call_get(struct dg_conn *c, unsigned long timeout)
{
	struct dg_call_req *r;
	int tag;

	tag = dg_pool_get(&c->call_pool, timeout);
	if (tag < 0)
		return NULL;
	r = &c->calls[tag];
	r->gen++;
	r->id = (u64)r->gen << DG_CALL_TAG_BITS | tag;
	r->pending = false;
	r->page = false;
	r->rsp = NULL;
	r->nr_rsp = 0;
	r->rsp_len = 0;
	r->rsp_min = 0;
	r->status = -ETIMEDOUT;
	r->async_done = NULL;
	r->ctx = NULL;
	r->rsp_len_out = NULL;
	reinit_completion(&r->done);
	return r;
}

static void dg_call_put(struct dg_conn *c, struct dg_call_req *r)
{
	dg_pool_put(&c->call_pool, r - c->calls);
}

/*
 * Take @r off the calls waiting for a reply, giving back its queue's
 * credit; false if somebody else did already. Called under c->lock.
 */
static bool dg_req_unlink(struct dg_conn *c, struct dg_call_req *r)
{
	if (!r->pending)
		return false;
	r->pending = false;
	if (!WARN_ON_ONCE(!c->mq_busy[r->qid]))
		c->mq_busy[r->qid]--;
	return true;
}

/*
 * The queue for a request, taking one of its credits (under c->lock): the
 * current CPU's, as page I/O chooses, or the next one with a credit left.
 * The credits of all queues cover the backend's depth, and a caller holds
 * one of the depth's call entries: one is always free.
 */
static unsigned int dg_conn_pick_queue(struct dg_conn *c)
{
	unsigned int n = c->mq_nr, start, i, q;

	start = n > 1 ? raw_smp_processor_id() % n : 0;
	for (i = 0, q = start; i < n; i++, q = (q + 1) % n)
		if (c->mq_busy[q] < c->mq_credits)
			break;
	if (i == n)
		q = start;	/* over credit: the peer's RNR retries cope */
	c->mq_busy[q]++;
	return q;
}

/**
 * dg_conn_msg_queues - set the queues calls may use
 * @c: connection
 * @nr: queues 0..@nr - 1, at most %DG_MAX_QUEUES (1: queue 0 only)
 * @credits: requests unanswered per queue, at most; @nr * @credits must
 *	cover the backend's depth
 *
 * Called by a backend's @join once its queues can carry messages (and by
 * the core with 1 before every connect). Calls in flight keep their queue.
 */
void dg_conn_msg_queues(struct dg_conn *c, unsigned int nr,
			unsigned int credits)
{
	nr = clamp(nr, 1U, (unsigned int)DG_MAX_QUEUES);
	if (WARN_ON(nr * credits < c->t->depth))
		credits = DIV_ROUND_UP(c->t->depth, nr);
	spin_lock_bh(&c->lock);
	c->mq_nr = nr;
	c->mq_credits = credits;
	spin_unlock_bh(&c->lock);
}

/*
 * @r stopped waiting with its status set: wake its waiter (under c->lock,
 * so a waiter that gave up cannot return before) or, for an asynchronous
 * call, hand it to dg_req_done_async() once unlocked.
 */
static void dg_req_finish_locked(struct dg_call_req *r)
{
	if (!r->async_done)
		complete(&r->done);
}

/* Remote errors of a page transfer are I/O errors to the caller. */
static int dg_page_err(int ret)
{
	if (ret == -ENOTCONN || ret == -ETIMEDOUT || ret == -ENOMEM)
		return ret;
	return ret ? -EIO : 0;
}

/* An asynchronous call ended: give its entry back, then call back. */
static void dg_req_done_async(struct dg_conn *c, struct dg_call_req *r)
{
	dg_done_fn done = r->async_done;
	void *ctx = r->ctx;
	int status = r->page ? dg_page_err(r->status) : r->status;

	if (!status && r->rsp_len_out)
		*r->rsp_len_out = r->rsp_len;
	dg_call_put(c, r);
	done(ctx, status);
}

/* Fail every call waiting for a reply with @err. */
static void dg_conn_fail_all(struct dg_conn *c, int err)
{
	DECLARE_BITMAP(async, DG_CALL_TAGS);
	unsigned int i;

	bitmap_zero(async, DG_CALL_TAGS);
	spin_lock_bh(&c->lock);
	for (i = 0; i < c->t->depth; i++) {
		struct dg_call_req *r = &c->calls[i];

		if (!dg_req_unlink(c, r))
			continue;
		r->status = err;
		if (r->async_done)
			__set_bit(i, async);
		else
			dg_req_finish_locked(r);
	}
	spin_unlock_bh(&c->lock);
	for_each_set_bit(i, async, DG_CALL_TAGS)
		dg_req_done_async(c, &c->calls[i]);
}

/**
 * struct dg_node_req - a request of the node, waiting for &dg_conn.req_work
 * @node: in &dg_conn.req_list
 * @id: its request id
 * @epoch: &dg_conn.epoch when it came
 * @opcode: its opcode
 * @status: 0: hand it to &dg_conn_params.request; else answer this
 *	(positive errno) at once
 * @len: payload bytes in @payload
 * @payload: a copy of the payload (for @status 0 only)
 */
struct dg_node_req {
	struct list_head	node;
	u64			id;
	unsigned int		epoch;
	u16			opcode;
	u16			status;
	u32			len;
	u8			payload[];
};

/*
 * Queue the node's request @op for the request work, to be handed to the
 * user or answered with an error. Receive context (softirq for RDMA):
 * nothing here may sleep. Bounded: the node cannot make us hold more than
 * 2 * %DG_REQUEST_QUEUE requests; past that they are dropped.
 */
static void dg_node_req_queue(struct dg_conn *c, u16 op, u64 id,
			      const u8 *payload, u32 plen)
{
	struct dg_node_req *q;
	u16 status = 0;
	bool call;

	if (op != DG_OP_MEM_EVICT || !c->p.request)
		status = EOPNOTSUPP;
	else if (plen > DG_REQUEST_MAX)
		status = EMSGSIZE;
	call = !status;
	q = kmalloc(struct_size(q, payload, call ? plen : 0), GFP_ATOMIC);
	if (!q) {
		pr_warn_ratelimited("%s: no memory for the node's request 0x%x; dropped\n",
				    dg_conn_name(c), op);
		return;
	}
	q->id = id;
	q->opcode = op;
	q->len = call ? plen : 0;
	if (call)
		memcpy(q->payload, payload, plen);

	spin_lock_bh(&c->lock);
	if (c->state == DG_STATE_CLOSING) {
		spin_unlock_bh(&c->lock);
		kfree(q);
		return;
	}
	if (call && c->req_nr >= DG_REQUEST_QUEUE) {
		call = false;
		status = EBUSY;
	}
	if (call) {
		c->req_nr++;
	} else {
		if (c->req_nr_reply >= DG_REQUEST_QUEUE)
			goto drop;
		c->req_nr_reply++;
	}
	q->status = status;
	q->epoch = c->epoch;
	list_add_tail(&q->node, &c->req_list);
	queue_work(dg_wq, &c->req_work);
	spin_unlock_bh(&c->lock);
	if (status)
		pr_warn_ratelimited("%s: the node's request 0x%x (%u bytes) is answered with error %u\n",
				    dg_conn_name(c), op, plen, status);
	return;
drop:
	spin_unlock_bh(&c->lock);
	kfree(q);
	pr_warn_ratelimited("%s: too many requests from the node; 0x%x dropped\n",
			    dg_conn_name(c), op);
}

/* Free the requests nobody will answer now. */
static void dg_node_req_flush(struct dg_conn *c)
{
	struct dg_node_req *q, *tmp;
	LIST_HEAD(list);

	spin_lock_bh(&c->lock);
	list_splice_init(&c->req_list, &list);
	c->req_nr = 0;
	c->req_nr_reply = 0;
	spin_unlock_bh(&c->lock);
	list_for_each_entry_safe(q, tmp, &list, node)
		kfree(q);
}

/* Calls may run while connecting, resuming and up. */
static bool dg_state_calls_ok(int state)
{
	return state == DG_STATE_CONNECTING || state == DG_STATE_UP ||
	       state == DG_STATE_RESUMING;
}

/*
 * Answer the node's request @q with @status (a positive errno or 0) on
 * the backend instance it came on; false if that one is gone.
 */
static bool dg_node_req_reply(struct dg_conn *c, struct dg_node_req *q,
			      u32 status)
{
	struct dg_hdr h;
	struct kvec v = { .iov_base = &h, .iov_len = sizeof(h) };
	int ret = -ENOTCONN;

	dg_hdr_init(&h, q->opcode | DG_OP_REPLY, 0, status, q->id);
	/* Recovery holds it for writing while it replaces the backend. */
	if (!down_read_trylock(&c->io_sem))
		return false;
	if (c->priv && READ_ONCE(c->epoch) == q->epoch &&
	    dg_state_calls_ok(READ_ONCE(c->state)))
		ret = c->t->send(c, 0, &v, 1, sizeof(h));	/* where it came */
	up_read(&c->io_sem);
	if (ret)
		pr_warn_ratelimited("%s: cannot answer the node's request 0x%x (%d)\n",
				    dg_conn_name(c), q->opcode, ret);
	return !ret;
}

/*
 * Hand the node's requests to the user, one at a time, and answer each
 * with what it returned. Requests whose backend instance is gone are
 * dropped: their answer could only go to the wrong one.
 */
static void dg_conn_req_work(struct work_struct *work)
{
	struct dg_conn *c = container_of(work, struct dg_conn, req_work);
	struct dg_node_req *q;
	u32 status;
	int ret;

	for (;;) {
		spin_lock_bh(&c->lock);
		q = list_first_entry_or_null(&c->req_list, struct dg_node_req,
					     node);
		if (!q || c->state == DG_STATE_CLOSING) {
			spin_unlock_bh(&c->lock);
			return;
		}
		list_del(&q->node);
		if (q->status)
			c->req_nr_reply--;
		else
			c->req_nr--;
		spin_unlock_bh(&c->lock);

		status = q->status;
		if (READ_ONCE(c->epoch) != q->epoch) {
			pr_debug("%s: the node's request 0x%x came on a connection that failed; dropped\n",
				 dg_conn_name(c), q->opcode);
		} else {
			if (!status) {
				ret = c->p.request(c, c->p.ctx, q->opcode,
						   q->payload, q->len);
				status = ret < 0 ? -ret : ret ? EIO : 0;
				if (status >= 512)
					status = EIO;
			}
			dg_node_req_reply(c, q, status);
		}
		kfree(q);
		cond_resched();
	}
}

/*
 * Hand a received message to the call waiting for it. Runs in the
 * backend's receive context (softirq for RDMA). Nothing in @msg is trusted.
 */
void dg_conn_recv(struct dg_conn *c, const void *msg, u32 len)
{
	const struct dg_hdr *h = msg;
	struct dg_call_req *r;
	bool async;
	u32 plen, status, tag;
	u64 id;
	u16 op;
	int ret;

	if (len < sizeof(*h)) {
		pr_warn_ratelimited("%s: dropped a %u-byte message\n",
				    dg_conn_name(c), len);
		return;
	}
	ret = dg_hdr_check(h, len - sizeof(*h));
	if (ret) {
		pr_warn_ratelimited("%s: dropped a malformed message (%d)\n",
				    dg_conn_name(c), ret);
		return;
	}
	op = le16_to_cpu(h->opcode);
	plen = le32_to_cpu(h->length);
	id = le64_to_cpu(h->req_id);
	if (!(op & DG_OP_REPLY)) {
		if (op == DG_OP_HEARTBEAT) {
			/* Replying may sleep: not here. */
			spin_lock_bh(&c->lock);
			c->probe_req_id = id;
			if (c->state != DG_STATE_CLOSING)
				queue_work(dg_wq, &c->probe_work);
			spin_unlock_bh(&c->lock);
			return;
		}
		if (op == DG_OP_BYE) {
			/* No reply; the node closes, and we notice. */
			pr_debug("%s: the node said goodbye\n", dg_conn_name(c));
			return;
		}
		dg_node_req_queue(c, op, id, (const u8 *)(h + 1), plen);
		return;
	}

	/* The tag names the call; the generation must match too. */
	tag = id & (DG_CALL_TAGS - 1);
	spin_lock_bh(&c->lock);
	r = tag < c->t->depth ? &c->calls[tag] : NULL;
	if (!r || !r->pending || r->id != id) {
		spin_unlock_bh(&c->lock);
		pr_warn_ratelimited("%s: dropped a reply nobody waits for\n",
				    dg_conn_name(c));
		return;
	}
	dg_req_unlink(c, r);
	status = le32_to_cpu(h->status);
	/*
	 * 512 and up are the kernel's own codes (ERESTARTSYS...), which
	 * must never reach user space, or no errno at all.
	 */
	if (op != (r->opcode | DG_OP_REPLY) || status >= 512 ||
	    (status && plen)) {
		r->status = -EBADMSG;
	} else if (status) {
		r->status = -(int)status;
	} else if (plen > dg_kvec_len(r->rsp, r->nr_rsp) ||
		   plen < r->rsp_min) {
		r->status = -EBADMSG;
	} else {
		/* The caller's buffers live while the call is pending. */
		dg_kvec_fill(r->rsp, r->nr_rsp, (const u8 *)(h + 1), plen);
		r->rsp_len = plen;
		r->status = 0;
	}
	async = r->async_done;
	dg_req_finish_locked(r);
	spin_unlock_bh(&c->lock);
	/* A synchronous @r may be given back and reused now. */
	if (async)
		dg_req_done_async(c, r);
}

/*
 * Send @r's request and leave it waiting for its reply. On success the
 * reply (or a failure) finishes @r; on error @r never went out, or was
 * already finished: then 0 is returned and its status tells. A page
 * transfer (@r->page) needs the connection up, other calls work while it
 * connects or resumes too.
 */
static int dg_call_send(struct dg_conn *c, struct dg_call_req *r, u16 opcode,
			const struct kvec *req, unsigned int nr_req,
			unsigned long timeout)
{
	struct kvec vec[DG_CALL_MAX_VEC + 1];
	struct dg_hdr h;
	size_t len;
	bool mine;
	int ret;

	if (nr_req > DG_CALL_MAX_VEC)
		return -EMSGSIZE;
	len = dg_kvec_len(req, nr_req);
	if (len > c->max_msg - sizeof(h))
		return -EMSGSIZE;

	/* Fails only while recovery rebuilds the backend. */
	if (!down_read_trylock(&c->io_sem))
		return -ENOTCONN;
	spin_lock_bh(&c->lock);
	if (!(r->page ? c->state == DG_STATE_UP : dg_state_calls_ok(c->state)) ||
	    !c->priv) {
		spin_unlock_bh(&c->lock);
		up_read(&c->io_sem);
		return -ENOTCONN;
	}
	r->opcode = opcode;
	r->deadline = jiffies + timeout;
	r->pending = true;
	r->qid = dg_conn_pick_queue(c);
	spin_unlock_bh(&c->lock);

	dg_hdr_init(&h, opcode, len, 0, r->id);
	vec[0].iov_base = &h;
	vec[0].iov_len = sizeof(h);
	memcpy(&vec[1], req, nr_req * sizeof(*req));
	ret = c->t->send(c, r->qid, vec, nr_req + 1, sizeof(h) + len);
	up_read(&c->io_sem);
	if (!ret)
		return 0;

	spin_lock_bh(&c->lock);
	mine = dg_req_unlink(c, r);
	spin_unlock_bh(&c->lock);
	/* Not ours: the reply beat the send's completion, or a failure. */
	return mine ? ret : 0;
}

/*
 * Send @r and wait at most @timeout jiffies for its reply; then give @r
 * back. A reply that comes later is dropped: nothing is written into
 * @r->rsp once this returned.
 */
static int dg_call_wait(struct dg_conn *c, struct dg_call_req *r, u16 opcode,
			const struct kvec *req, unsigned int nr_req,
			u32 *rsp_len, unsigned long timeout)
{
	int ret;

	ret = dg_call_send(c, r, opcode, req, nr_req, timeout);
	if (ret)
		goto out;
	if (!wait_for_completion_timeout(&r->done, timeout)) {
		spin_lock_bh(&c->lock);
		if (dg_req_unlink(c, r))
			r->status = -ETIMEDOUT;
		spin_unlock_bh(&c->lock);
		if (r->status == -ETIMEDOUT)
			pr_warn_ratelimited("%s: call 0x%x timed out\n",
					    dg_conn_name(c), opcode);
	}
	ret = r->status;
	if (!ret && rsp_len)
		*rsp_len = r->rsp_len;
out:
	dg_call_put(c, r);
	return ret;
}

/*
 * Send @r without waiting: @done(@ctx, status) runs once, when the reply
 * or a failure finishes it. On error @r is given back and @done never
 * runs.
 */
static int dg_call_post(struct dg_conn *c, struct dg_call_req *r, u16 opcode,
			const struct kvec *req, unsigned int nr_req,
			dg_done_fn done, void *ctx, unsigned long timeout)
{
	int ret;

	r->async_done = done;
	r->ctx = ctx;
	ret = dg_call_send(c, r, opcode, req, nr_req, timeout);
	if (ret)
		dg_call_put(c, r);
	return ret;
}

/*
 * An entry of the call table for a call (not a page transfer), waiting at
 * most @timeout jiffies for one; an ERR_PTR when the connection takes no
 * calls or none came free.
 */
static struct dg_call_req *dg_call_begin(struct dg_conn *c,
					 unsigned long timeout)
{
	struct dg_call_req *r;

	if (!dg_state_calls_ok(READ_ONCE(c->state)))
		return ERR_PTR(-ENOTCONN);
	r = dg_call_get(c, timeout);
	return r ?: ERR_PTR(-ETIMEDOUT);
}

/*
 * dg_callv() waiting at most @timeout jiffies (for an entry of the call
 * table, then for the reply).
 */
static int dg_callv_timeout(struct dg_conn *c, u16 opcode,
			    const struct kvec *req, unsigned int nr_req,
			    const struct kvec *rsp, unsigned int nr_rsp,
			    u32 *rsp_len, unsigned long timeout)
{
	struct dg_call_req *r;

	r = dg_call_begin(c, timeout);
	if (IS_ERR(r))
		return PTR_ERR(r);
	r->rsp = rsp;
	r->nr_rsp = nr_rsp;
	return dg_call_wait(c, r, opcode, req, nr_req, rsp_len, timeout);
}

int dg_callv(struct dg_conn *c, u16 opcode, const struct kvec *req,
	     unsigned int nr_req, const struct kvec *rsp, unsigned int nr_rsp,
	     u32 *rsp_len)
{
	return dg_callv_timeout(c, opcode, req, nr_req, rsp, nr_rsp, rsp_len,
				c->timeout);
}
EXPORT_SYMBOL_GPL(dg_callv);

int dg_callv_async(struct dg_conn *c, u16 opcode, const struct kvec *req,
		   unsigned int nr_req, const struct kvec *rsp,
		   unsigned int nr_rsp, u32 *rsp_len, dg_done_fn done,
		   void *ctx)
{
	struct dg_call_req *r;

	if (!done || nr_rsp > ARRAY_SIZE(r->vec))
		return -EINVAL;
	r = dg_call_begin(c, c->timeout);
	if (IS_ERR(r))
		return PTR_ERR(r);
	/* The caller's pieces may live on its stack: keep a copy. */
	memcpy(r->vec, rsp, nr_rsp * sizeof(*rsp));
	r->rsp = r->vec;
	r->nr_rsp = nr_rsp;
	r->rsp_len_out = rsp_len;
	return dg_call_post(c, r, opcode, req, nr_req, done, ctx, c->timeout);
}
EXPORT_SYMBOL_GPL(dg_callv_async);

int dg_call(struct dg_conn *c, u16 opcode, const void *req, u32 req_len,
	    void *rsp, u32 rsp_size, u32 *rsp_len)
{
	struct kvec q = { .iov_base = (void *)req, .iov_len = req_len };
	struct kvec a = { .iov_base = rsp, .iov_len = rsp_size };

	return dg_callv(c, opcode, &q, req_len ? 1 : 0, &a, rsp_size ? 1 : 0,
			rsp_len);
}
EXPORT_SYMBOL_GPL(dg_call);

/*
 * The handshake: HELLO, then AUTH when we hold a key. A node that wants a
 * key we do not have answers EACCES; one that does not offer
 * authentication while we hold a key is refused with -EACCES too (a
 * stranger at the node's address must not pass for it by not asking).
 */
static int dg_conn_hello(struct dg_conn *c)
{
	struct dg_hello_reply rep;
	struct dg_hello *hello;
	size_t nlen = strnlen(c->p.name, DG_NAME_MAX);
	u32 offer = c->t->caps & DG_CAP_ONE_SIDED ? DG_FEAT_RDMA : 0;
	u8 cnonce[DG_NONCE_LEN];
	u32 len;
	u16 major, minor;
	u32 feat;
	int ret;

	if (c->key)
		offer |= DG_FEAT_AUTH;
	if (c->t->caps & DG_CAP_QUEUES)
		offer |= DG_FEAT_MQ;
	/* Entry replies and READDIRPLUS; disaggfs takes either form. */
	if (c->p.role == DG_ROLE_FS)
		offer |= DG_FEAT_FSATTR | DG_FEAT_RMATTR;
	hello = kzalloc(sizeof(*hello), GFP_NOIO);
	if (!hello)
		return -ENOMEM;
	hello->major = cpu_to_le16(DG_PROTO_MAJOR);
	hello->minor = cpu_to_le16(DG_PROTO_MINOR);
	hello->role = cpu_to_le32(c->p.role);
	hello->features = cpu_to_le32(offer);
	hello->client_id = cpu_to_le64(c->p.client_id);
	get_random_bytes(cnonce, sizeof(cnonce));
	memcpy(hello->nonce, cnonce, sizeof(cnonce));
	hello->name_len = cpu_to_le16(nlen);
	memcpy(hello->name, c->p.name, nlen);

	ret = dg_call(c, DG_OP_HELLO, hello, sizeof(*hello), &rep, sizeof(rep),
		      &len);
	kfree(hello);
	if (ret == -EACCES && !c->key)
		dg_conn_err(c, "the node requires a key (key=NAME)\n");
	if (ret)
		return ret;
	if (len != sizeof(rep))
		return -EBADMSG;
	major = le16_to_cpu(rep.major);
	minor = le16_to_cpu(rep.minor);
	feat = le32_to_cpu(rep.features);
	if (major != DG_PROTO_MAJOR)
		return -EPROTONOSUPPORT;
	if (minor > DG_PROTO_MINOR || (feat & ~offer))
		return -EBADMSG;
	if (c->key && !(feat & DG_FEAT_AUTH)) {
		dg_conn_err(c, "the node does not authenticate, but key=%s was given: refused\n",
			    c->p.key);
		return -EACCES;
	}
	c->minor = minor;
	c->features = feat;
	c->server_id = le64_to_cpu(rep.server_id);
	if (!c->key) {
		memcpy(c->token, rep.token, DG_TOKEN_LEN);
		return 0;
	}
	return dg_auth_exchange(c, cnonce, rep.nonce, c->token);
}

/* Connect the backend's other queues with the session's token. */
static int dg_conn_join(struct dg_conn *c, bool locked)
{
	int ret;

	if (!c->t->join)
		return 0;
	if (locked)
		down_write(&c->io_sem);
	ret = c->priv ? c->t->join(c) : -ENOTCONN;
	if (locked)
		up_write(&c->io_sem);
	return ret;
}

static void dg_conn_hb_arm(struct dg_conn *c)
{
	unsigned int ms = READ_ONCE(heartbeat_ms);

	/* Checked every second while heartbeats are off. */
	queue_delayed_work(dg_wq, &c->hb_work, msecs_to_jiffies(ms ?: 1000));
}

/**
 * dg_conn_failed - a backend lost the connection, or it stopped answering
 * @c: connection
 * @why: for the log
 *
 * Fails what is in flight (from the recovery work) and reconnects in the
 * background. Does nothing unless the connection is up or resuming.
 *
 * Context: any but hard irq.
 */
void dg_conn_failed(struct dg_conn *c, const char *why)
{
	bool queued = false;

	spin_lock_bh(&c->lock);
	if (c->state == DG_STATE_UP || c->state == DG_STATE_RESUMING) {
		c->state = DG_STATE_DOWN;
		queued = true;
		queue_work(dg_wq, &c->recover_work);
	}
	spin_unlock_bh(&c->lock);
	if (queued) {
		pr_warn("%s: connection lost (%s), reconnecting\n",
			dg_conn_name(c), why);
		wake_up_all(&c->state_wq);
	}
}

/* Whether a call in flight has waited past its deadline. */
static bool dg_conn_overdue(struct dg_conn *c)
{
	unsigned long now = jiffies;
	bool late = false;
	unsigned int i;

	spin_lock_bh(&c->lock);
	for (i = 0; i < c->t->depth && !late; i++)
		late = c->calls[i].pending &&
		       time_after(now, c->calls[i].deadline + c->timeout);
	spin_unlock_bh(&c->lock);
	return late;
}

static void dg_conn_hb_work(struct work_struct *work)
{
	struct dg_conn *c = container_of(to_delayed_work(work), struct dg_conn,
					 hb_work);
	int ret;

	if (READ_ONCE(c->state) == DG_STATE_CLOSING)
		return;
	if (READ_ONCE(c->state) != DG_STATE_UP || !READ_ONCE(heartbeat_ms))
		goto out;
	/* Asynchronous calls have no timer of their own. */
	if (dg_conn_overdue(c)) {
		dg_conn_failed(c, "a request got no reply in time");
		goto out;
	}
	ret = dg_call(c, DG_OP_HEARTBEAT, NULL, 0, NULL, 0, NULL);
	if (!ret) {
		WRITE_ONCE(c->hb_missed, 0);
		goto out;
	}
	if (c->hb_missed < UINT_MAX)
		WRITE_ONCE(c->hb_missed, c->hb_missed + 1);
	if (c->hb_missed >= 2)
		dg_conn_failed(c, "no answer to two heartbeats");
	else
		pr_warn("%s: node did not answer a heartbeat (%d)\n",
			dg_conn_name(c), ret);
out:
	dg_conn_hb_arm(c);
}

static void dg_conn_probe_work(struct work_struct *work)
{
	struct dg_conn *c = container_of(work, struct dg_conn, probe_work);
	struct dg_hdr h;
	struct kvec v = { .iov_base = &h, .iov_len = sizeof(h) };
	int ret = -ENOTCONN;
	u64 id;

	spin_lock_bh(&c->lock);
	id = c->probe_req_id;
	spin_unlock_bh(&c->lock);
	dg_hdr_init(&h, DG_OP_HEARTBEAT | DG_OP_REPLY, 0, 0, id);
	if (down_read_trylock(&c->io_sem)) {
		if (c->priv && dg_state_calls_ok(READ_ONCE(c->state)))
			ret = c->t->send(c, 0, &v, 1, sizeof(h));
		up_read(&c->io_sem);
	}
	if (ret)
		pr_warn_ratelimited("%s: cannot answer the node's heartbeat\n",
				    dg_conn_name(c));
}

static void dg_conn_event(struct dg_conn *c, enum dg_conn_event ev)
{
	if (c->p.event)
		c->p.event(c, c->p.ctx, ev);
}

/* Sleep @ms unless the connection is being closed; false if it is. */
static bool dg_conn_backoff(struct dg_conn *c, unsigned int ms)
{
	wait_event_timeout(c->state_wq,
			   READ_ONCE(c->state) == DG_STATE_CLOSING,
			   msecs_to_jiffies(ms));
	return READ_ONCE(c->state) != DG_STATE_CLOSING;
}

/* Set @c's state from @from to @to; false if it was not @from. */
static bool dg_conn_move(struct dg_conn *c, int from, int to)
{
	bool ok;

	spin_lock_bh(&c->lock);
	ok = c->state == from;
	if (ok)
		c->state = to;
	spin_unlock_bh(&c->lock);
	if (ok)
		wake_up_all(&c->state_wq);
	return ok;
}

/*
 * Reconnect a failed connection: stop what is in flight, tell the user,
 * then tear the backend down and build it again, with backoff, until it
 * works or the connection is closed. The user hears how it went (with
 * calls working but page I/O still refused) before page I/O resumes.
 */
static void dg_conn_recover_work(struct work_struct *work)
{
	struct dg_conn *c = container_of(work, struct dg_conn, recover_work);
	unsigned int delay = 0, tries = 0;
	u64 old_id = c->server_id;
	int ret;

	if (READ_ONCE(c->state) != DG_STATE_DOWN)
		return;
	down_read(&c->io_sem);
	if (c->priv)
		c->t->abort(c);
	up_read(&c->io_sem);
	dg_conn_fail_all(c, -ENOTCONN);
	dg_conn_event(c, DG_CONN_DOWN);

	for (;;) {
		down_write(&c->io_sem);
		if (c->priv)
			c->t->close(c);
		/* Answers to what came on the old backend are void. */
		spin_lock_bh(&c->lock);
		c->epoch++;
		spin_unlock_bh(&c->lock);
		dg_conn_fail_all(c, -ENOTCONN);
		/* HELLO and AUTH on queue 0; the backend's join says more. */
		dg_conn_msg_queues(c, 1, c->t->depth);
		ret = -ESHUTDOWN;
		if (READ_ONCE(c->state) == DG_STATE_DOWN)
			ret = c->t->open(c);
		up_write(&c->io_sem);
		tries++;
		if (!ret) {
			if (!dg_conn_move(c, DG_STATE_DOWN, DG_STATE_RESUMING))
				return;	/* closing */
			ret = dg_conn_hello(c) ?: dg_conn_join(c, true);
			if (!ret)
				break;
			if (!dg_conn_move(c, DG_STATE_RESUMING, DG_STATE_DOWN) &&
			    READ_ONCE(c->state) == DG_STATE_CLOSING)
				return;
		}
		if (READ_ONCE(c->state) == DG_STATE_CLOSING)
			return;
		delay = clamp(delay * 2, 100U, max(READ_ONCE(reconnect_max_ms), 100U));
		if (tries == 1 || !(tries % 10))
			pr_info("%s: reconnect attempt %u failed (%d), next in %u ms\n",
				dg_conn_name(c), tries, ret, delay);
		if (!dg_conn_backoff(c, delay))
			return;
	}

	c->reconnects++;
	WRITE_ONCE(c->hb_missed, 0);
	pr_info("%s: reconnected after %u attempts%s\n", dg_conn_name(c), tries,
		c->server_id != old_id ? "; the node restarted" : "");
	dg_conn_event(c, c->server_id != old_id ? DG_CONN_RESTARTED : DG_CONN_UP);
	/* Unless it failed again meanwhile: then this work runs again. */
	dg_conn_move(c, DG_STATE_RESUMING, DG_STATE_UP);
}

struct dg_conn *dg_conn_open(const char *transport,
			     const struct dg_conn_params *p)
{
	const struct dg_transport *t = NULL;
	struct dg_conn *c;
	int i, ret;

	for (i = 0; i < ARRAY_SIZE(dg_transports); i++)
		if (!strcmp(transport, dg_transports[i]->name))
			t = dg_transports[i];
	if (!t)
		return ERR_PTR(-EPROTONOSUPPORT);
	if (p->max_msg && (p->max_msg < DG_CALL_MAX ||
			   p->max_msg > sizeof(struct dg_hdr) + DG_MAX_PAYLOAD))
		return ERR_PTR(-EINVAL);

	c = kzalloc(sizeof(*c), GFP_KERNEL);
	if (!c)
		return ERR_PTR(-ENOMEM);
	c->p = *p;
	c->p.name[DG_NAME_MAX] = '\0';
	if (!c->p.timeout_ms)
		c->p.timeout_ms = DG_DEFAULT_TIMEOUT_MS;
	if (!c->p.nr_queues)
		c->p.nr_queues = min_t(unsigned int, num_online_cpus(),
				       DG_MAX_QUEUES);
	c->p.nr_queues = min_t(unsigned int, c->p.nr_queues, DG_MAX_QUEUES);
	c->max_msg = max(c->p.max_msg ?: DG_CALL_MAX, t->min_msg);
	c->timeout = msecs_to_jiffies(c->p.timeout_ms);
	c->t = t;
	if (WARN_ON(!t->depth || t->depth > DG_CALL_TAGS)) {
		kfree(c);
		return ERR_PTR(-EINVAL);
	}
	c->calls = kcalloc(t->depth, sizeof(*c->calls), GFP_KERNEL);
	if (!c->calls || dg_pool_init(&c->call_pool, t->depth, GFP_KERNEL)) {
		ret = -ENOMEM;
		goto err_calls;
	}
	for (i = 0; i < t->depth; i++)
		init_completion(&c->calls[i].done);
	if (c->p.key[0]) {
		c->p.key[DG_NAME_MAX] = '\0';
		ret = dg_auth_init(c);
		if (ret)
			goto err_calls;
	}
	c->state = DG_STATE_CONNECTING;
	init_rwsem(&c->io_sem);
	spin_lock_init(&c->lock);
	c->mq_nr = 1;
	c->mq_credits = t->depth;
	init_waitqueue_head(&c->state_wq);
	INIT_WORK(&c->recover_work, dg_conn_recover_work);
	INIT_DELAYED_WORK(&c->hb_work, dg_conn_hb_work);
	INIT_WORK(&c->probe_work, dg_conn_probe_work);
	INIT_WORK(&c->req_work, dg_conn_req_work);
	INIT_LIST_HEAD(&c->req_list);

	ret = t->open(c);
	if (ret)
		goto err_free;
	ret = dg_conn_hello(c);
	if (ret) {
		/* Refusals for want of a key were logged, with the reason. */
		if (ret != -EACCES && ret != -EKEYREJECTED)
			pr_err("%s: handshake failed: %d\n", dg_conn_name(c), ret);
		goto err_close;
	}
	ret = dg_conn_join(c, false);
	if (ret)
		goto err_close;
	if (!dg_conn_move(c, DG_STATE_CONNECTING, DG_STATE_UP)) {
		ret = -ENOTCONN;
		goto err_close;
	}
	pr_info("%s: connected over %s, %u queues, messages on %u, protocol %u.%u, %s\n",
		dg_conn_name(c), t->name,
		t->caps & DG_CAP_QUEUES ? c->p.nr_queues : 1, c->mq_nr,
		DG_PROTO_MAJOR, c->minor,
		c->key ? "authenticated" : "no authentication");
	dg_conn_hb_arm(c);
	return c;

err_close:
	spin_lock_bh(&c->lock);
	c->state = DG_STATE_CLOSING;
	spin_unlock_bh(&c->lock);
	cancel_work_sync(&c->probe_work);
	cancel_work_sync(&c->req_work);
	t->close(c);
	dg_conn_fail_all(c, -ENOTCONN);
	dg_node_req_flush(c);
err_free:
	dg_auth_release(c);
err_calls:
	dg_pool_destroy(&c->call_pool);
	kfree(c->calls);
	kfree(c);
	return ERR_PTR(ret);
}
EXPORT_SYMBOL_GPL(dg_conn_open);

void dg_conn_close(struct dg_conn *c)
{
	struct dg_hdr bye;
	struct kvec v = { .iov_base = &bye, .iov_len = sizeof(bye) };
	bool was_up;

	spin_lock_bh(&c->lock);
	was_up = c->state == DG_STATE_UP;
	c->state = DG_STATE_CLOSING;
	spin_unlock_bh(&c->lock);
	wake_up_all(&c->state_wq);
	/* Recovery sees CLOSING at its next step and stops. */
	cancel_work_sync(&c->recover_work);
	/* The heartbeat work re-arms itself; the _sync variant stops that. */
	cancel_delayed_work_sync(&c->hb_work);
	cancel_work_sync(&c->probe_work);
	/*
	 * Waits for a request being handed to the user; the rest is freed
	 * unanswered below (nothing queues more once we are closing).
	 */
	cancel_work_sync(&c->req_work);
	if (c->priv) {
		if (was_up) {
			dg_hdr_init(&bye, DG_OP_BYE, 0, 0, 0);
			c->t->send(c, 0, &v, 1, sizeof(bye));
		}
		c->t->close(c);
	}
	dg_conn_fail_all(c, -ENOTCONN);
	dg_node_req_flush(c);
	pr_info("%s: closed\n", dg_conn_name(c));
	dg_auth_release(c);
	dg_pool_destroy(&c->call_pool);
	kfree(c->calls);
	kfree(c);
}
EXPORT_SYMBOL_GPL(dg_conn_close);

u64 dg_conn_server_id(struct dg_conn *c)
{
	return c->server_id;
}
EXPORT_SYMBOL_GPL(dg_conn_server_id);

bool dg_conn_alive(struct dg_conn *c)
{
	return READ_ONCE(c->state) == DG_STATE_UP &&
	       READ_ONCE(c->hb_missed) < 2;
}
EXPORT_SYMBOL_GPL(dg_conn_alive);

int dg_conn_wait_up(struct dg_conn *c, unsigned long timeout)
{
	long ret;

	ret = wait_event_killable_timeout(c->state_wq,
		READ_ONCE(c->state) == DG_STATE_UP ||
		READ_ONCE(c->state) == DG_STATE_CLOSING, timeout);
	if (ret < 0)
		return -EINTR;
	if (READ_ONCE(c->state) == DG_STATE_UP)
		return 0;
	return ret ? -ESHUTDOWN : -ETIMEDOUT;
}
EXPORT_SYMBOL_GPL(dg_conn_wait_up);

static int dg_check_io(const struct dg_region *r, u64 offset,
		       unsigned int nr)
{
	u64 len = (u64)nr * DG_PAGE_SIZE;

	if (!IS_ALIGNED(offset, DG_PAGE_SIZE) || offset >= r->size ||
	    r->size - offset < len)
		return -EINVAL;
	return 0;
}

static void dg_page_rw_init(struct dg_mem_rw *rw, const struct dg_region *r,
			    u64 offset, unsigned int nr)
{
	memset(rw, 0, sizeof(*rw));
	rw->slab_id = cpu_to_le64(r->slab_id);
	rw->offset = cpu_to_le64(offset);
	rw->len = cpu_to_le32(nr * DG_PAGE_SIZE);
}

/*
 * Pages as a call, for backends without one-sided access: a
 * %DG_OP_MEM_WRITE carrying them, or a %DG_OP_MEM_READ whose reply lands
 * in them (anything short of every page is an error, never a partial
 * read). Synchronous without @done; else @done runs once.
 */
static int dg_page_call(struct dg_conn *c, const struct dg_region *r,
			u64 offset, struct page **pages, unsigned int nr,
			bool write, dg_done_fn done, void *ctx,
			unsigned long timeout)
{
	struct kvec req[DG_WRITE_BATCH_MAX + 1];
	struct dg_call_req *call;
	struct dg_mem_rw rw;
	unsigned int i;
	u16 op = write ? DG_OP_MEM_WRITE : DG_OP_MEM_READ;

	if (READ_ONCE(c->state) != DG_STATE_UP)
		return -ENOTCONN;
	call = dg_call_get(c, timeout);
	if (!call)
		return -ETIMEDOUT;
	call->page = true;
	dg_page_rw_init(&rw, r, offset, nr);
	req[0].iov_base = &rw;
	req[0].iov_len = sizeof(rw);
	for (i = 0; i < nr; i++) {
		struct kvec *v = write ? &req[i + 1] : &call->vec[i];

		v->iov_base = page_address(pages[i]);
		v->iov_len = DG_PAGE_SIZE;
	}
	if (!write) {
		call->rsp = call->vec;
		call->nr_rsp = nr;
		call->rsp_min = nr * DG_PAGE_SIZE;
	}
	if (!done)
		return dg_page_err(dg_call_wait(c, call, op, req,
						write ? nr + 1 : 1, NULL,
						timeout));
	return dg_page_err(dg_call_post(c, call, op, req, write ? nr + 1 : 1,
					done, ctx, timeout));
}

/*
 * Every page transfer comes here: one-sided by the backend, or as calls.
 * Synchronous without @done.
 */
static int dg_pages_io(struct dg_conn *c, const struct dg_region *r,
		       u64 offset, struct page **pages, unsigned int nr,
		       bool write, dg_done_fn done, void *ctx,
		       unsigned long timeout)
{
	int ret;

	if (!nr || nr > DG_WRITE_BATCH_MAX)
		return -EINVAL;
	ret = dg_check_io(r, offset, nr);
	if (ret)
		return ret;
	if (!(c->t->caps & DG_CAP_ONE_SIDED))
		return dg_page_call(c, r, offset, pages, nr, write, done, ctx,
				    timeout);
	/* A connection being rebuilt fails at once instead of waiting. */
	if (!down_read_trylock(&c->io_sem))
		return -ENOTCONN;
	if (READ_ONCE(c->state) != DG_STATE_UP || !c->priv)
		ret = -ENOTCONN;
	else if (done)
		ret = c->t->pages_async(c, r, offset, pages, nr, write, done,
					ctx);
	else
		ret = c->t->page_io(c, r, offset, pages[0], write, timeout);
	up_read(&c->io_sem);
	return ret;
}

int dg_page_read_timeout(struct dg_conn *c, const struct dg_region *r,
			 u64 offset, struct page *page,
			 unsigned int timeout_ms)
{
	unsigned long timeout = c->timeout;

	if (timeout_ms)
		timeout = max(msecs_to_jiffies(timeout_ms), 1UL);
	return dg_pages_io(c, r, offset, &page, 1, false, NULL, NULL, timeout);
}
EXPORT_SYMBOL_GPL(dg_page_read_timeout);

int dg_page_read(struct dg_conn *c, const struct dg_region *r, u64 offset,
		 struct page *page)
{
	return dg_page_read_timeout(c, r, offset, page, 0);
}
EXPORT_SYMBOL_GPL(dg_page_read);

int dg_page_write(struct dg_conn *c, const struct dg_region *r, u64 offset,
		  struct page *page)
{
	return dg_pages_io(c, r, offset, &page, 1, true, NULL, NULL,
			   c->timeout);
}
EXPORT_SYMBOL_GPL(dg_page_write);

int dg_pages_read_async(struct dg_conn *c, const struct dg_region *r,
			u64 offset, struct page **pages, unsigned int nr,
			dg_done_fn done, void *ctx)
{
	if (!done)
		return -EINVAL;
	return dg_pages_io(c, r, offset, pages, nr, false, done, ctx,
			   c->timeout);
}
EXPORT_SYMBOL_GPL(dg_pages_read_async);

int dg_pages_write_async(struct dg_conn *c, const struct dg_region *r,
			 u64 offset, struct page **pages, unsigned int nr,
			 dg_done_fn done, void *ctx)
{
	if (!done)
		return -EINVAL;
	return dg_pages_io(c, r, offset, pages, nr, true, done, ctx,
			   c->timeout);
}
EXPORT_SYMBOL_GPL(dg_pages_write_async);

int dg_page_write_async(struct dg_conn *c, const struct dg_region *r,
			u64 offset, struct page *page, dg_done_fn done,
			void *ctx)
{
	return dg_pages_write_async(c, r, offset, &page, 1, done, ctx);
}
EXPORT_SYMBOL_GPL(dg_page_write_async);
