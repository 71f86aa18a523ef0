// SPDX-License-Identifier: GPL-2.0
/*
 * disagg_net TCP backend: one kernel stream socket per connection.
 *
 * For hosts without an RDMA NIC, and for comparison. Messages go out
 * whole under a send mutex (a socket whose send times out or fails half
 * way has lost its framing and fails the connection); a receive thread
 * reads one message at a time into a buffer of the connection's largest
 * message and hands it to dg_conn_recv(). The core moves pages as
 * two-sided DG_OP_MEM_READ/DG_OP_MEM_WRITE calls (no %DG_CAP_ONE_SIDED),
 * copied from and into the caller's page by the socket layer.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/kthread.h>
#include <linux/net.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <net/sock.h>
#include <net/tcp.h>
#include <disagg/compat.h>
#include "internal.h"

#define DG_TCP_DEPTH	64	/* calls in flight per connection */

/**
 * struct dg_tcp_conn - the backend's state of a connection
 * @c: owner
 * @sock: the socket
 * @send_lock: one message at a time on the wire
 * @broken: a send failed half way; nothing more may go out
 * @rx: the receive thread
 * @rx_buf: one message, header included
 */
struct dg_tcp_conn {
	struct dg_conn		*c;
	struct socket		*sock;
	struct mutex		send_lock;
	bool			broken;
	struct task_struct	*rx;
	void			*rx_buf;
};

static int dg_tcp_recv_all(struct socket *sock, void *buf, size_t len)
{
	while (len) {
		struct kvec v = { .iov_base = buf, .iov_len = len };
		struct msghdr msg = { .msg_flags = MSG_NOSIGNAL };
		int ret;

		ret = kernel_recvmsg(sock, &msg, &v, 1, len, MSG_WAITALL);
		if (ret <= 0)
			return ret ?: -ECONNRESET;
		buf += ret;
		len -= ret;
	}
	return 0;
}

static int dg_tcp_rx_thread(void *arg)
{
	struct dg_tcp_conn *tc = arg;
	struct dg_conn *c = tc->c;
	struct dg_hdr *h = tc->rx_buf;
	const char *why = "the node closed the connection";
	u32 plen;
	int ret;

	while (!kthread_should_stop()) {
		ret = dg_tcp_recv_all(tc->sock, h, sizeof(*h));
		if (ret)
			break;
		ret = dg_hdr_check(h, c->max_msg - sizeof(*h));
		if (ret) {
			/* The stream can no longer be cut into messages. */
			why = "the node sent a malformed message";
			break;
		}
		plen = le32_to_cpu(h->length);
		ret = dg_tcp_recv_all(tc->sock, h + 1, plen);
		if (ret)
			break;
		dg_conn_recv(c, h, sizeof(*h) + plen);
	}
	if (!kthread_should_stop()) {
		if (ret && ret != -ECONNRESET)
			why = "receive failed";
		dg_conn_failed(c, why);
	}
	/* Stay until dg_tcp_close() stops us. */
	for (;;) {
		set_current_state(TASK_INTERRUPTIBLE);
		if (kthread_should_stop())
			break;
		schedule();
	}
	__set_current_state(TASK_RUNNING);
	return 0;
}

/* One stream: @q is ignored. */
static int dg_tcp_send(struct dg_conn *c, unsigned int q,
		       const struct kvec *vec, unsigned int nr, u32 len)
{
	struct dg_tcp_conn *tc = c->priv;
	struct msghdr msg = { .msg_flags = MSG_NOSIGNAL };
	int ret;

	mutex_lock(&tc->send_lock);
	if (tc->broken) {
		mutex_unlock(&tc->send_lock);
		return -ENOTCONN;
	}
	/* Blocking: returns when all is queued, or on error or timeout. */
	ret = kernel_sendmsg(tc->sock, &msg, (struct kvec *)vec, nr, len);
	if (ret != len)
		tc->broken = true;
	mutex_unlock(&tc->send_lock);
	if (ret == len)
		return 0;
	dg_conn_failed(c, ret < 0 ? "send failed" : "send timed out");
	return ret < 0 && ret != -EAGAIN ? -ENOTCONN : -ETIMEDOUT;
}

static void dg_tcp_abort(struct dg_conn *c)
{
	struct dg_tcp_conn *tc = c->priv;

	kernel_sock_shutdown(tc->sock, SHUT_RDWR);
}

static void dg_tcp_free(struct dg_tcp_conn *tc)
{
	if (tc->sock)
		sock_release(tc->sock);
	kvfree(tc->rx_buf);
	kfree(tc);
}

static void dg_tcp_close(struct dg_conn *c)
{
	struct dg_tcp_conn *tc = c->priv;

	kernel_sock_shutdown(tc->sock, SHUT_RDWR);
	kthread_stop(tc->rx);
	dg_tcp_free(tc);
	c->priv = NULL;
}

static int dg_tcp_open(struct dg_conn *c)
{
	struct sockaddr *addr = (struct sockaddr *)&c->p.addr;
	int alen = addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
						 sizeof(struct sockaddr_in);
	struct dg_tcp_conn *tc;
	struct sock *sk;
	int ret;

	tc = kzalloc(sizeof(*tc), GFP_KERNEL);
	if (!tc)
		return -ENOMEM;
	tc->c = c;
	mutex_init(&tc->send_lock);
	tc->rx_buf = kvmalloc(c->max_msg, GFP_KERNEL);
	if (!tc->rx_buf) {
		ret = -ENOMEM;
		goto err;
	}
	ret = sock_create_kern(&init_net, addr->sa_family, SOCK_STREAM,
			       IPPROTO_TCP, &tc->sock);
	if (ret)
		goto err;
	sk = tc->sock->sk;
	/* Swap-out may need this socket to free memory. */
	sk->sk_allocation = GFP_NOIO;
	if (c->p.role == DG_ROLE_SWAP)
		sk_set_memalloc(sk);
	/*
	 * Reclaim entered from inside some task's own socket send may send
	 * on this socket: it must never use that task's page fragment,
	 * which the interrupted send is filling (6.12: usercopy BUG and
	 * corrupt data under memcached and Redis swapping over TCP).
	 */
	dg_sock_no_task_frag(sk);
	sk->sk_sndtimeo = c->timeout;	/* bounds connect and every send */
	tcp_sock_set_nodelay(sk);
	if (c->p.src.ss_family) {
		ret = kernel_bind(tc->sock, (struct sockaddr *)&c->p.src,
				  c->p.src.ss_family == AF_INET6 ?
				  sizeof(struct sockaddr_in6) :
				  sizeof(struct sockaddr_in));
		if (ret) {
			pr_err("%s: cannot bind to %pISc: %d\n",
			       dg_conn_name(c), &c->p.src, ret);
			goto err;
		}
	}
	ret = kernel_connect(tc->sock, addr, alen, 0);
	if (ret == -EINPROGRESS || ret == -EAGAIN)
		ret = -ETIMEDOUT;
	if (ret) {
		dg_conn_err(c, "cannot connect to %pISpc: %d\n", &c->p.addr,
			    ret);
		goto err;
	}
	tc->rx = kthread_run(dg_tcp_rx_thread, tc, "dg_tcp_rx");
	if (IS_ERR(tc->rx)) {
		ret = PTR_ERR(tc->rx);
		goto err;
	}
	c->priv = tc;
	return 0;

err:
	dg_tcp_free(tc);
	return ret;
}

const struct dg_transport dg_tcp_transport = {
	.name		= "tcp",
	.caps		= 0,	/* pages move as calls (conn.c) */
	.depth		= DG_TCP_DEPTH,
	.min_msg	= sizeof(struct dg_hdr) + sizeof(struct dg_mem_rw) +
			  DG_WRITE_BATCH_MAX * DG_PAGE_SIZE,
	.open		= dg_tcp_open,
	.abort		= dg_tcp_abort,
	.close		= dg_tcp_close,
	.send		= dg_tcp_send,
};
