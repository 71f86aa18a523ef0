/* SPDX-License-Identifier: GPL-2.0 */
/*
 * disagg_net internals shared by the core and the transport backends.
 */
#ifndef DG_NET_INTERNAL_H
#define DG_NET_INTERNAL_H

#include <linux/completion.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/rwsem.h>
#include <linux/semaphore.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <disagg/net.h>

struct dg_conn;
struct key;
struct crypto_shash;

/**
 * struct dg_pool - a fixed set of numbered slots, taken and given back
 *	without allocating (requests, buffers, calls in flight)
 * @free: counts the free slots; a taker waits here
 * @nr: slots
 * @map: bit set: slot taken
 */
struct dg_pool {
	struct semaphore	free;
	unsigned int		nr;
	unsigned long		*map;
};

int dg_pool_init(struct dg_pool *p, unsigned int nr, gfp_t gfp);
int dg_pool_init_taken(struct dg_pool *p, unsigned int nr, gfp_t gfp);
void dg_pool_destroy(struct dg_pool *p);
int dg_pool_get(struct dg_pool *p, unsigned long timeout);
void dg_pool_put(struct dg_pool *p, unsigned int i);

/* What a backend can do (&dg_transport.caps). */
#define DG_CAP_ONE_SIDED	BIT(0)	/* page I/O without the node's CPU
					 * (@page_io, @pages_async); else the
					 * core moves pages as calls */
#define DG_CAP_POLLED		BIT(1)	/* synchronous page I/O polls for its
					 * completion */
#define DG_CAP_QUEUES		BIT(2)	/* several queues per connection
					 * (&dg_conn_params.nr_queues, @join) */

/**
 * struct dg_transport - a backend
 * @name: as given to dg_conn_open()
 * @caps: DG_CAP_*
 * @depth: calls in flight per connection (what the peer can take), at
 *	most %DG_CALL_TAGS
 * @min_msg: largest message the backend itself needs (page transfers as
 *	messages); a connection's largest message is at least this
 * @open: connect @c's first queue, the one the handshake uses; on failure
 *	leave nothing behind
 * @join: after the handshake, connect @c's other queues with the join
 *	token in &dg_conn.token (NULL: the backend has one queue); on failure
 *	the core calls @close, which closes whatever did connect
 * @abort: make every transfer in flight fail soon; any context but hard
 *	irq, may run concurrently with everything but @open and @close
 * @close: disconnect and free what @open built
 * @send: send one message, header included, gathered from @vec (@len
 *	bytes in all, at most the connection's largest message), on queue @q
 *	(below &dg_conn.mq_nr; backends with one queue ignore it)
 * @page_io: (%DG_CAP_ONE_SIDED) one page to or from remote memory,
 *	synchronously, waiting at most @timeout jiffies; when it returns
 *	nothing moves into @page any more
 * @pages_async: (%DG_CAP_ONE_SIDED) @nr consecutive pages to (@write) or
 *	from remote memory; @done runs once when all completed
 *
 * Backends hand every message they receive to dg_conn_recv() and report a
 * broken connection with dg_conn_failed(). The core holds &dg_conn.io_sem
 * for reading around @send, @page_io and @pages_async and for writing
 * around @open, @join and @close after the first open.
 */
struct dg_transport {
	const char	*name;
	unsigned int	caps;
	unsigned int	depth;
	u32		min_msg;
	int		(*open)(struct dg_conn *c);
	int		(*join)(struct dg_conn *c);
	void		(*abort)(struct dg_conn *c);
	void		(*close)(struct dg_conn *c);
	int		(*send)(struct dg_conn *c, unsigned int q,
				const struct kvec *vec, unsigned int nr, u32 len);
	int		(*page_io)(struct dg_conn *c, const struct dg_region *r,
				   u64 offset, struct page *page, bool write,
				   unsigned long timeout);
	int		(*pages_async)(struct dg_conn *c,
				       const struct dg_region *r, u64 offset,
				       struct page **pages, unsigned int nr,
				       bool write, dg_done_fn done, void *ctx);
};

/* enum dg_conn_state - where a connection is in its life */
enum dg_conn_state {
	DG_STATE_CONNECTING,	/* first open */
	DG_STATE_UP,		/* everything works */
	DG_STATE_DOWN,		/* failed; recovery reconnects */
	DG_STATE_RESUMING,	/* reconnected; the user's event runs: calls only */
	DG_STATE_CLOSING,	/* dg_conn_close() started */
};

/*
 * A call's request id is its tag (its index in &dg_conn.calls) and the
 * entry's generation above it: a reply finds its call without a search,
 * and a late or duplicate reply to an earlier use of the entry is dropped.
 */
#define DG_CALL_TAG_BITS	8
#define DG_CALL_TAGS		(1u << DG_CALL_TAG_BITS)

/**
 * struct dg_call_req - a call in flight, an entry of &dg_conn.calls
 * @id: request id: generation << %DG_CALL_TAG_BITS | tag
 * @gen: bumped at every use of the entry
 * @opcode: request opcode; the reply must carry it with %DG_OP_REPLY
 * @pending: sent (or being sent) and waiting for its reply, under
 *	&dg_conn.lock; whoever clears it finishes the call
 * @page: a page transfer as a call: errors reported as page I/O errors
 * @rsp: where the reply payload goes
 * @nr_rsp: pieces in @rsp
 * @rsp_len: payload bytes received
 * @rsp_min: a successful reply shorter than this fails with -EBADMSG
 * @status: 0 or a negative errno, set when the reply came or the call failed
 * @deadline: jiffies after which the call counts as lost
 * @done: completed for a synchronous call
 * @async_done: called instead for an asynchronous one
 * @ctx: passed to @async_done
 * @rsp_len_out: an asynchronous call's caller's reply length, or NULL
 * @qid: the queue its request went on, holding one of its credits while
 *	@pending (&dg_conn.mq_busy)
 * @vec: room for @rsp when the caller's pieces do not outlive the call
 *	(pages read as a call, asynchronous calls)
 *
 * Taken from &dg_conn.call_pool for the whole call: by a synchronous
 * caller until it read the result, by an asynchronous call until
 * @async_done was called.
 */
struct dg_call_req {
	u64			id;
	u32			gen;
	u16			opcode;
	bool			pending;
	bool			page;
	const struct kvec	*rsp;
	unsigned int		nr_rsp;
	u32			rsp_len;
	u32			rsp_min;
	int			status;
	unsigned long		deadline;
	struct completion	done;
	dg_done_fn		async_done;
	void			*ctx;
	u32			*rsp_len_out;
	struct kvec		vec[DG_WRITE_BATCH_MAX];
	u8			qid;
};

/**
 * struct dg_conn - a connection to one node
 * @p: parameters from dg_conn_open()
 * @t: the backend
 * @priv: the backend's state
 * @timeout: @p.timeout_ms in jiffies
 * @max_msg: largest message on this connection, header included
 * @server_id: from the hello reply
 * @minor: protocol minor in use
 * @features: DG_FEAT_* in use
 * @key: the key named by &dg_conn_params.key, or NULL (no authentication)
 * @hmac: hmac(sha256) transform for the handshake's proofs, with @key
 * @token: the session's join token, from the handshake
 * @io_sem: read around every transfer, written by recovery while it
 *	replaces the backend's state
 * @call_pool: which of @calls are taken
 * @calls: the calls in flight, the backend's depth of them, by tag
 * @lock: protects @state, &dg_call_req.pending and what a reply fills in,
 *	@probe_req_id; taken in the backend's receive context (softirq for
 *	RDMA), so _bh
 * @state: &enum dg_conn_state
 * @state_wq: woken when @state changes
 * @recover_work: reconnects a failed connection
 * @hb_work: sends a heartbeat every dg_heartbeat_ms, so the node knows we
 *	are alive while pages move by one-sided RDMA it never sees, and we
 *	learn when it stops answering; also fails calls past their deadline
 * @hb_missed: heartbeats in a row without an answer (heartbeat work only)
 * @probe_work: answers the node's own heartbeat, from process context
 * @probe_req_id: request id of the node's last heartbeat
 * @req_work: answers the node's other requests (&struct dg_node_req), one
 *	at a time, calling &dg_conn_params.request for those it takes
 * @req_list: node requests waiting for @req_work, under @lock
 * @req_nr: of them, those for &dg_conn_params.request (at most
 *	%DG_REQUEST_QUEUE)
 * @req_nr_reply: of them, those only to be answered with an error (at
 *	most %DG_REQUEST_QUEUE too; beyond, requests are dropped)
 * @epoch: bumped under @io_sem (write) and @lock whenever recovery closes
 *	the backend, so an answer never goes to another backend instance
 *	than the one its request came on
 * @reconnects: successful reconnects, for logs
 * @mq_nr: queues a call's request may go on (1: queue 0 only, until the
 *	backend's @join said more with dg_conn_msg_queues()), under @lock
 * @mq_credits: requests unanswered per queue, at most (under @lock)
 * @mq_busy: requests unanswered per queue (under @lock)
 */
struct dg_conn {
	struct dg_conn_params		p;
	const struct dg_transport	*t;
	void				*priv;
	unsigned long			timeout;
	u32				max_msg;
	u64				server_id;
	u16				minor;
	u32				features;
	struct key			*key;
	struct crypto_shash		*hmac;
	u8				token[DG_TOKEN_LEN];

	struct rw_semaphore		io_sem;
	struct dg_pool			call_pool;
	struct dg_call_req		*calls;

	spinlock_t			lock;
	int				state;
	wait_queue_head_t		state_wq;

	struct work_struct		recover_work;
	struct delayed_work		hb_work;
	unsigned int			hb_missed;
	struct work_struct		probe_work;
	u64				probe_req_id;
	struct work_struct		req_work;
	struct list_head		req_list;
	unsigned int			req_nr;
	unsigned int			req_nr_reply;
	unsigned int			epoch;
	unsigned int			reconnects;
	unsigned int			mq_nr;
	unsigned int			mq_credits;
	u16				mq_busy[DG_MAX_QUEUES];
};

/*
 * Errors of the first connect are the user's to see; while reconnecting,
 * dg_conn_recover_work() reports each attempt itself.
 */
#define dg_conn_err(c, fmt, ...)					\
do {									\
	if (READ_ONCE((c)->state) == DG_STATE_CONNECTING)		\
		pr_err("%s: " fmt, dg_conn_name(c), ##__VA_ARGS__);	\
	else								\
		pr_debug("%s: " fmt, dg_conn_name(c), ##__VA_ARGS__);	\
} while (0)

void dg_conn_recv(struct dg_conn *c, const void *msg, u32 len);
void dg_conn_failed(struct dg_conn *c, const char *why);
void dg_conn_msg_queues(struct dg_conn *c, unsigned int nr,
			unsigned int credits);
const char *dg_conn_name(const struct dg_conn *c);

int dg_auth_init(struct dg_conn *c);
void dg_auth_release(struct dg_conn *c);
int dg_auth_exchange(struct dg_conn *c, const u8 *cnonce, const u8 *snonce,
		     u8 *token);

extern struct workqueue_struct *dg_wq;

extern const struct dg_transport dg_rdma_transport;
int dg_rdma_init(void);
void dg_rdma_exit(void);

extern const struct dg_transport dg_tcp_transport;

#endif /* DG_NET_INTERNAL_H */
