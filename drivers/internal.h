/* SPDX-License-Identifier: GPL-2.0 */
/*
 * disagg_net internals shared by the core and the transport backends.
 */
#ifndef DG_NET_INTERNAL_H
#define DG_NET_INTERNAL_H

#include <linux/completion.h>
#include <linux/mutex.h>
#include <linux/rwsem.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>
#include <disagg/net.h>

struct dg_conn;

/**
 * struct dg_transport - a backend
 * @name: as given to dg_conn_open()
 * @open: connect every queue of @c; on failure leave nothing behind
 * @close: disconnect and free what @open built
 * @send: send one message (header included) of at most %DG_CALL_MAX bytes
 * @page_io: one page to or from remote memory, synchronously
 * @write_async: one page to remote memory; @done runs when it completed
 *
 * Backends hand every message they receive to dg_conn_recv().
 */
struct dg_transport {
	const char	*name;
	int		(*open)(struct dg_conn *c);
	void		(*close)(struct dg_conn *c);
	int		(*send)(struct dg_conn *c, const void *msg, u32 len);
	int		(*page_io)(struct dg_conn *c, const struct dg_region *r,
				   u64 offset, struct page *page, bool write);
	int		(*write_async)(struct dg_conn *c,
				       const struct dg_region *r, u64 offset,
				       struct page *page, dg_done_fn done,
				       void *ctx);
};

/**
 * struct dg_conn - a connection to one node
 * @p: parameters from dg_conn_open()
 * @t: the backend
 * @priv: the backend's state
 * @timeout: @p.timeout_ms in jiffies
 * @server_id: from the hello reply
 * @minor: protocol minor in use
 * @features: DG_FEAT_* in use
 * @call_mutex: serialises dg_call(); protects @next_req_id
 * @next_req_id: id of the next request
 * @call_lock: protects the call_* fields, which dg_conn_recv() fills in
 *	from the backend's receive context
 * @call_waiting: a call waits for the reply with @call_req_id
 * @call_req_id: id of that call
 * @call_rsp: where its reply payload goes
 * @call_rsp_size: size of @call_rsp
 * @call_rsp_len: length of the reply payload received
 * @call_status: 0, or the negated errno of the reply
 * @call_done: completed when the reply arrived
 * @hb_work: sends a heartbeat every dg_heartbeat_ms, so the node knows we
 *	are alive while pages move by one-sided RDMA it never sees, and we
 *	learn when it stops answering
 * @hb_missed: heartbeats in a row without an answer (heartbeat work only)
 * @probe_work: answers the node's own heartbeat, from process context
 * @probe_req_id: request id of the node's last heartbeat (under @call_lock)
 * @closing: set under @call_lock when closing starts: no more @probe_work
 */
struct dg_conn {
	struct dg_conn_params		p;
	const struct dg_transport	*t;
	void				*priv;
	unsigned long			timeout;
	u64				server_id;
	u16				minor;
	u32				features;

	struct mutex			call_mutex;
	u64				next_req_id;

	spinlock_t			call_lock;
	bool				call_waiting;
	u64				call_req_id;
	void				*call_rsp;
	u32				call_rsp_size;
	u32				call_rsp_len;
	int				call_status;
	struct completion		call_done;

	struct delayed_work		hb_work;
	unsigned int			hb_missed;
	struct work_struct		probe_work;
	u64				probe_req_id;
	bool				closing;
};

void dg_conn_recv(struct dg_conn *c, const void *msg, u32 len);
const char *dg_conn_name(const struct dg_conn *c);

extern const struct dg_transport dg_rdma_transport;
int dg_rdma_init(void);
void dg_rdma_exit(void);

#endif /* DG_NET_INTERNAL_H */
