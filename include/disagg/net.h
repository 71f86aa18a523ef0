/* SPDX-License-Identifier: GPL-2.0 */
/*
 * disagg_net: the transport module shared by disagg_swap and disaggfs.
 *
 * This header is the whole API other modules may use; the backends (rdma,
 * tcp) are behind it (Documentation/transport.md).
 */
#ifndef DISAGG_NET_H
#define DISAGG_NET_H

#include <linux/kobject.h>
#include <linux/socket.h>
#include <linux/uio.h>
#include <linux/mm_types.h>
#include <disagg/proto.h>

struct dg_conn;

/**
 * enum dg_conn_event - what a connection tells its user
 * @DG_CONN_DOWN: the connection failed (the node died, restarted, or the
 *	network broke); calls in flight failed with -ENOTCONN, new ones fail
 *	the same way until it is back. disagg_net reconnects by itself.
 * @DG_CONN_UP: reconnected to the same node instance (same server id):
 *	its state for our client id is still there, but remote keys changed
 * @DG_CONN_RESTARTED: reconnected, but the node restarted (a new server
 *	id): everything it held for us is gone
 */
enum dg_conn_event {
	DG_CONN_DOWN,
	DG_CONN_UP,
	DG_CONN_RESTARTED,
};

/**
 * typedef dg_event_fn - a connection's state changed
 * @c: the connection
 * @ctx: &dg_conn_params.ctx
 * @ev: what happened
 *
 * Context: process context (a workqueue); may sleep and make calls on @c.
 * Never runs after dg_conn_close() returned.
 */
typedef void (*dg_event_fn)(struct dg_conn *c, void *ctx,
			    enum dg_conn_event ev);

/**
 * typedef dg_request_fn - the node sent a request of its own
 * @c: the connection it came on
 * @ctx: &dg_conn_params.ctx
 * @opcode: the request's opcode; only %DG_OP_MEM_EVICT is delivered
 * @payload: a copy of its payload, valid until the function returns
 * @len: its length, at most %DG_REQUEST_MAX
 *
 * disagg_net answers the request with an empty reply whose status is the
 * return value: 0, or a negative errno (sent as the positive value;
 * anything that is not an errno below 512 goes out as EIO). Requests of
 * one connection are delivered one at a time, in the order they came; at
 * most %DG_REQUEST_QUEUE wait, further ones are answered EBUSY. A request
 * whose connection failed before it was delivered is dropped unanswered
 * (the node asks again on the new connection), as is the reply to one the
 * connection failed under.
 *
 * Context: process context (a workqueue); may sleep and make calls on @c,
 * but must not close it. Never runs after dg_conn_close() returned.
 * Return: 0 or a negative errno, the reply's status.
 */
typedef int (*dg_request_fn)(struct dg_conn *c, void *ctx, u16 opcode,
			     const void *payload, u32 len);

/* Largest payload of a node's request handed to &dg_request_fn. */
#define DG_REQUEST_MAX		64
/* Node requests waiting for &dg_request_fn per connection; more: EBUSY. */
#define DG_REQUEST_QUEUE	64

/**
 * struct dg_conn_params - where and how to connect
 * @addr: the node's address and port (IPv4 or IPv6)
 * @src: local address to connect from; family 0 lets routing choose
 * @role: &enum dg_role announced in the hello
 * @client_id: kept across reconnects so the node hands our resources back
 * @name: our name, for the node's logs (NUL-terminated)
 * @key: name of our key (NUL-terminated; the logon or user key
 *	"disagg:@key" in the caller's keyrings), or empty: no authentication,
 *	for nodes that run without keys
 * @nr_queues: RDMA queue pairs; 0 picks min(online CPUs, %DG_MAX_QUEUES)
 * @timeout_ms: bound on connecting and on every wait; 0 picks
 *	%DG_DEFAULT_TIMEOUT_MS
 * @max_msg: largest message, header included, either side sends on this
 *	connection (both sides must agree: %DG_FS_MSG_MAX for the storage
 *	role); 0 picks %DG_CALL_MAX
 * @event: told when the connection goes down and comes back, or NULL
 * @request: handles the node's %DG_OP_MEM_EVICT requests, or NULL; every
 *	request of the node but %DG_OP_HEARTBEAT (answered by disagg_net) and
 *	%DG_OP_BYE (no reply) that @request does not take is answered
 *	EOPNOTSUPP, one with more than %DG_REQUEST_MAX payload bytes EMSGSIZE
 * @ctx: passed to @event and @request
 */
struct dg_conn_params {
	struct sockaddr_storage	addr;
	struct sockaddr_storage	src;
	u32			role;
	u64			client_id;
	char			name[DG_NAME_MAX + 1];
	char			key[DG_NAME_MAX + 1];
	unsigned int		nr_queues;
	unsigned int		timeout_ms;
	u32			max_msg;
	dg_event_fn		event;
	dg_request_fn		request;
	void			*ctx;
};

#define DG_MAX_QUEUES		8
#define DG_DEFAULT_TIMEOUT_MS	5000

/**
 * struct dg_region - remote memory a node gave us (from &struct dg_mem_slab)
 * @slab_id: the node's handle
 * @addr: remote address of the first byte
 * @size: bytes
 * @rkey: remote key, valid on the connection that allocated it
 */
struct dg_region {
	u64	slab_id;
	u64	addr;
	u64	size;
	u32	rkey;
};

/**
 * dg_conn_open - connect to a node and complete the handshake
 * @transport: "rdma" or "tcp"
 * @p: parameters, copied
 *
 * The first connection must succeed; once up, a connection that fails is
 * re-established in the background, with the same client id, until
 * dg_conn_close() (see &enum dg_conn_event).
 *
 * Context: process context, may sleep up to about 2 * @p->timeout_ms.
 * Return: the connection, or an ERR_PTR(): -EPROTONOSUPPORT for an unknown
 * transport or a node speaking another protocol major, -ETIMEDOUT,
 * -ECONNREFUSED, -EHOSTUNREACH, -ENOMEM; with a key: -ENOKEY when the
 * caller has no such key, -EKEYREJECTED when the node refused our proof or
 * could not prove the key itself, -EACCES when the node does not
 * authenticate; without one, -EACCES when the node requires a key.
 */
struct dg_conn *dg_conn_open(const char *transport,
			     const struct dg_conn_params *p);

/**
 * dg_conn_close - say goodbye, disconnect and free everything
 * @c: connection; no call on it may be running or start afterwards
 *
 * Context: process context, may sleep.
 */
void dg_conn_close(struct dg_conn *c);

/**
 * dg_conn_server_id - the node's server id from the handshake
 * @c: connection
 *
 * Context: any.
 */
u64 dg_conn_server_id(struct dg_conn *c);

/**
 * dg_conn_alive - whether the node answers
 * @c: connection
 *
 * False once two heartbeats in a row went unanswered (the node died, the
 * network broke, or a queue failed); true again when one is answered.
 *
 * Context: any.
 */
bool dg_conn_alive(struct dg_conn *c);

/**
 * dg_conn_wait_up - wait until a connection that is down is back
 * @c: connection
 * @timeout: in jiffies; MAX_SCHEDULE_TIMEOUT waits for ever
 *
 * Context: process context; sleeps killably.
 * Return: 0 when up; -ETIMEDOUT; -EINTR when a fatal signal arrived.
 */
int dg_conn_wait_up(struct dg_conn *c, unsigned long timeout);

/**
 * dg_callv - two-sided request and reply, gathered and scattered
 * @c: connection
 * @opcode: request opcode
 * @req: request payload pieces, sent one after the other
 * @nr_req: number of @req pieces, at most %DG_CALL_MAX_VEC
 * @rsp: where the reply payload goes, filled one piece after the other
 * @nr_rsp: number of @rsp pieces
 * @rsp_len: set to the reply's payload length (may be less than the room
 *	in @rsp)
 *
 * Calls on one connection run concurrently; each waits for its own reply,
 * at most the connection's timeout.
 *
 * Context: process context, may sleep.
 * Return: 0; the negated status of an error reply; -EMSGSIZE when the
 * request does not fit the connection's largest message or has more than
 * %DG_CALL_MAX_VEC pieces; -EBADMSG for a
 * reply larger than @rsp or otherwise malformed; -ETIMEDOUT; -ENOTCONN
 * when the connection is down or went down during the call (the request
 * may or may not have been carried out).
 */
int dg_callv(struct dg_conn *c, u16 opcode, const struct kvec *req,
	     unsigned int nr_req, const struct kvec *rsp, unsigned int nr_rsp,
	     u32 *rsp_len);

/**
 * dg_call - two-sided request and reply
 * @c: connection
 * @opcode: request opcode
 * @req: request payload
 * @req_len: its length, at most %DG_CALL_MAX - sizeof(struct dg_hdr)
 * @rsp: buffer for the reply payload
 * @rsp_size: its size
 * @rsp_len: set to the reply's payload length
 *
 * dg_callv() with one piece each way.
 *
 * Context: process context, may sleep up to the connection's timeout.
 * Return: as dg_callv().
 */
int dg_call(struct dg_conn *c, u16 opcode, const void *req, u32 req_len,
	    void *rsp, u32 rsp_size, u32 *rsp_len);

/* Most request pieces one dg_callv() takes (the header not counted). */
#define DG_CALL_MAX_VEC		20

/* Default largest message (header included) of a connection. */
#define DG_CALL_MAX		4096u

/**
 * dg_page_read - read one page of remote memory, synchronously
 * @c: connection
 * @r: region
 * @offset: byte offset in @r, page aligned, inside @r
 * @page: destination, mapped for DMA in place
 *
 * One-sided RDMA READ; the caller polls the completion queue itself, so
 * it returns as soon as the data is there.
 *
 * Context: process context, may sleep; bounded by the timeout.
 * Return: 0, -EINVAL for an offset outside @r, -EIO, -ETIMEDOUT, -ENOTCONN.
 */
int dg_page_read(struct dg_conn *c, const struct dg_region *r, u64 offset,
		 struct page *page);

/**
 * dg_page_read_timeout - dg_page_read() with a deadline of its own
 * @c: connection
 * @r: region
 * @offset: byte offset in @r, page aligned, inside @r
 * @page: destination, mapped for DMA in place
 * @timeout_ms: longest wait for the data, in ms; 0: the connection's
 *	timeout (then it is dg_page_read())
 *
 * For a reader that has another copy of the page and would rather fail
 * over to it than wait the connection's whole timeout. When it returns,
 * nothing is written into @page any more, whatever the result: over RDMA
 * a read past its deadline resets the queue pair (which fails the
 * connection, and disagg_net reconnects it); over TCP the late reply is
 * dropped.
 *
 * Context: process context, may sleep about @timeout_ms (an RDMA queue
 * that must be reset adds up to a second).
 * Return: as dg_page_read().
 */
int dg_page_read_timeout(struct dg_conn *c, const struct dg_region *r,
			 u64 offset, struct page *page,
			 unsigned int timeout_ms);

/**
 * typedef dg_done_fn - completion of an asynchronous page transfer or call
 * @ctx: the caller's pointer
 * @err: 0, or -EIO, -ENOTCONN, -ETIMEDOUT, -EBADMSG (a call: any error
 *	dg_callv() returns)
 *
 * Context: softirq (RDMA), the receive thread (TCP), or the work that
 * fails a connection's calls; must not sleep.
 */
typedef void (*dg_done_fn)(void *ctx, int err);

/**
 * dg_callv_async - start a two-sided call nobody waits for
 * @c: connection
 * @opcode: request opcode
 * @req: request payload pieces; copied out before this returns
 * @nr_req: number of @req pieces, at most %DG_CALL_MAX_VEC
 * @rsp: where the reply payload goes; the array is copied, the buffers it
 *	points to must stay until @done runs
 * @nr_rsp: number of @rsp pieces, at most %DG_WRITE_BATCH_MAX
 * @rsp_len: set to the reply's payload length before @done runs with 0,
 *	or NULL; must stay until then
 * @done: called once with 0 or what dg_callv() would return, in the
 *	contexts &dg_done_fn names (a reply is copied into @rsp there)
 * @ctx: passed to @done
 *
 * dg_callv() without the wait: the call takes an entry of the
 * connection's call table until its reply, so at most the backend's depth
 * of calls (synchronous and asynchronous) are in flight, and waiting for
 * a free entry is bounded by the timeout. A call with no reply fails when
 * the heartbeat finds it past twice the timeout (the connection is then
 * failed) or the connection goes down.
 *
 * Context: process context, may sleep for a free entry.
 * Return: 0 when sent (then @done runs exactly once); -EINVAL for a bad
 * argument, or an error as dg_callv() (then @done does not run).
 */
int dg_callv_async(struct dg_conn *c, u16 opcode, const struct kvec *req,
		   unsigned int nr_req, const struct kvec *rsp,
		   unsigned int nr_rsp, u32 *rsp_len, dg_done_fn done,
		   void *ctx);

/**
 * dg_page_write_async - start writing one page to remote memory
 * @c: connection
 * @r: region
 * @offset: byte offset in @r, page aligned, inside @r
 * @page: source, mapped for DMA in place; must stay until @done runs
 * @done: called once when the write completed or failed
 * @ctx: passed to @done
 *
 * Writes go on queue pairs of their own, whose completions are reaped in
 * softirq context, so many can be in flight at once. A write that the
 * node never acknowledges fails when the queue pair's retries run out or
 * the connection is closed.
 *
 * Context: process context, may sleep while the send queue is full
 * (bounded by the timeout).
 * Return: 0 when started (then @done runs exactly once); otherwise an
 * error as dg_page_read() and @done does not run.
 */
int dg_page_write_async(struct dg_conn *c, const struct dg_region *r,
			u64 offset, struct page *page, dg_done_fn done,
			void *ctx);

/* Most pages one dg_pages_write_async() takes (a TCP write is one call). */
#define DG_WRITE_BATCH_MAX	16
static_assert(DG_WRITE_BATCH_MAX + 1 <= DG_CALL_MAX_VEC);

/**
 * dg_pages_write_async - start writing consecutive pages to remote memory
 * @c: connection
 * @r: region
 * @offset: byte offset in @r of the first page, page aligned; the pages
 *	go to @offset, @offset + %DG_PAGE_SIZE, ..., all inside @r
 * @pages: the sources, mapped for DMA in place; must stay until @done
 * @nr: number of @pages, 1 to %DG_WRITE_BATCH_MAX
 * @done: called once when every page was written, or with the first error
 * @ctx: passed to @done
 *
 * One work request (RDMA: one RDMA WRITE gathering every page, split only
 * if the device takes fewer scatter entries) or one message (TCP).
 *
 * Context and return: as dg_page_write_async().
 */
int dg_pages_write_async(struct dg_conn *c, const struct dg_region *r,
			 u64 offset, struct page **pages, unsigned int nr,
			 dg_done_fn done, void *ctx);

/**
 * dg_pages_read_async - start reading consecutive pages from remote memory
 * @c: connection
 * @r: region
 * @offset: byte offset in @r of the first page, page aligned; the pages
 *	come from @offset, @offset + %DG_PAGE_SIZE, ..., all inside @r
 * @pages: the destinations, mapped for DMA in place; must stay until @done
 * @nr: number of @pages, 1 to %DG_WRITE_BATCH_MAX
 * @done: called once when every page was read, or with the first error;
 *	on an error the contents of @pages are undefined
 * @ctx: passed to @done
 *
 * The mirror of dg_pages_write_async(), on the same queue pairs: for the
 * reads nobody waits for one at a time (a block device's queue, prefetch).
 * A page fault reads with dg_page_read(), which polls for its completion.
 *
 * Context and return: as dg_page_write_async().
 */
int dg_pages_read_async(struct dg_conn *c, const struct dg_region *r,
			u64 offset, struct page **pages, unsigned int nr,
			dg_done_fn done, void *ctx);

/**
 * dg_page_write - write one page to remote memory, synchronously
 * @c: connection
 * @r: region
 * @offset: byte offset in @r, page aligned, inside @r
 * @page: source, mapped for DMA in place
 *
 * Context: process context, may sleep; bounded by the timeout.
 * Return: as dg_page_read().
 */
int dg_page_write(struct dg_conn *c, const struct dg_region *r, u64 offset,
		  struct page *page);

/**
 * dg_sysfs_root - the /sys/kernel/disagg directory
 *
 * Owned by disagg_net; users add their own directories beneath it and
 * remove them before they unload (a module reference keeps it alive).
 *
 * Context: any.
 * Return: the kobject of /sys/kernel/disagg.
 */
struct kobject *dg_sysfs_root(void);

/**
 * dg_hdr_init - fill in a message header
 * @h: header to fill
 * @opcode: &enum dg_opcode value, with %DG_OP_REPLY for replies
 * @length: payload bytes that follow
 * @status: 0, or a positive errno value in a reply
 * @req_id: request id
 *
 * Context: any.
 */
void dg_hdr_init(struct dg_hdr *h, u16 opcode, u32 length, u32 status,
		 u64 req_id);

/**
 * dg_hdr_check - validate a header received from the network
 * @h: the header, as received (little endian)
 * @max_payload: largest payload the caller can accept, at most
 *	%DG_MAX_PAYLOAD
 *
 * Checks magic, major version and payload length. Never trusts anything
 * else in @h before this returns 0.
 *
 * Context: any.
 * Return: 0; -EBADMSG for a wrong magic; -EPROTONOSUPPORT for another
 * major version; -EMSGSIZE for a payload larger than @max_payload.
 */
int dg_hdr_check(const struct dg_hdr *h, u32 max_payload);

#endif /* DISAGG_NET_H */
