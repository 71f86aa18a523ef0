// SPDX-License-Identifier: GPL-2.0
/*
 * disagg_net connections: opening one with its handshake, and two-sided
 * calls matched to their replies by request id. The transport backends
 * move the bytes.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>
#include "internal.h"

static unsigned int heartbeat_ms = 5000;
module_param(heartbeat_ms, uint, 0644);
MODULE_PARM_DESC(heartbeat_ms,
		 "Interval of heartbeats to every node, in ms (0: none; default 5000)");

static const struct dg_transport *dg_transports[] = {
	&dg_rdma_transport,
};

const char *dg_conn_name(const struct dg_conn *c)
{
	return c->p.name;
}

/*
 * Hand a received message to the waiting call. Runs in the backend's
 * receive context (softirq for RDMA). Nothing in @msg is trusted.
 */
void dg_conn_recv(struct dg_conn *c, const void *msg, u32 len)
{
	const struct dg_hdr *h = msg;
	u32 plen, status;
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
	if (!(op & DG_OP_REPLY)) {
		if (op == DG_OP_HEARTBEAT) {
			/* Replying may sleep: not here. */
			spin_lock(&c->call_lock);
			c->probe_req_id = le64_to_cpu(h->req_id);
			if (!c->closing)
				schedule_work(&c->probe_work);
			spin_unlock(&c->call_lock);
			return;
		}
		/* Other node-initiated messages come with later changes. */
		pr_debug("%s: ignored request 0x%x\n", dg_conn_name(c), op);
		return;
	}

	spin_lock(&c->call_lock);
	if (!c->call_waiting || le64_to_cpu(h->req_id) != c->call_req_id) {
		spin_unlock(&c->call_lock);
		pr_warn_ratelimited("%s: dropped a reply nobody waits for\n",
				    dg_conn_name(c));
		return;
	}
	status = le32_to_cpu(h->status);
	if (status > MAX_ERRNO || (status && plen)) {
		c->call_status = -EBADMSG;
	} else if (status) {
		c->call_status = -(int)status;
	} else if (plen > c->call_rsp_size) {
		c->call_status = -EBADMSG;
	} else {
		memcpy(c->call_rsp, h + 1, plen);
		c->call_rsp_len = plen;
		c->call_status = 0;
	}
	c->call_waiting = false;
	complete(&c->call_done);
	spin_unlock(&c->call_lock);
}

int dg_call(struct dg_conn *c, u16 opcode, const void *req, u32 req_len,
	    void *rsp, u32 rsp_size, u32 *rsp_len)
{
	struct dg_hdr *h;
	u64 id;
	int ret;

	if (req_len > DG_CALL_MAX - sizeof(*h))
		return -EMSGSIZE;
	h = kmalloc(sizeof(*h) + req_len, GFP_NOIO);
	if (!h)
		return -ENOMEM;

	mutex_lock(&c->call_mutex);
	id = c->next_req_id++;
	dg_hdr_init(h, opcode, req_len, 0, id);
	if (req_len)
		memcpy(h + 1, req, req_len);

	spin_lock_bh(&c->call_lock);
	reinit_completion(&c->call_done);
	c->call_waiting = true;
	c->call_req_id = id;
	c->call_rsp = rsp;
	c->call_rsp_size = rsp_size;
	c->call_rsp_len = 0;
	c->call_status = -ETIMEDOUT;
	spin_unlock_bh(&c->call_lock);

	ret = c->t->send(c, h, sizeof(*h) + req_len);
	if (!ret && !wait_for_completion_timeout(&c->call_done, c->timeout))
		ret = -ETIMEDOUT;

	spin_lock_bh(&c->call_lock);
	if (!ret)
		ret = c->call_status;
	if (!ret && rsp_len)
		*rsp_len = c->call_rsp_len;
	/* A reply arriving from now on finds nobody waiting. */
	c->call_waiting = false;
	c->call_rsp = NULL;
	spin_unlock_bh(&c->call_lock);
	mutex_unlock(&c->call_mutex);

	kfree(h);
	if (ret == -ETIMEDOUT)
		pr_warn_ratelimited("%s: call 0x%x timed out\n",
				    dg_conn_name(c), opcode);
	return ret;
}
EXPORT_SYMBOL_GPL(dg_call);

static int dg_conn_hello(struct dg_conn *c)
{
	struct dg_hello_reply rep;
	struct dg_hello *hello;
	size_t nlen = strnlen(c->p.name, DG_NAME_MAX);
	u32 len;
	u16 major, minor;
	u32 feat;
	int ret;

	hello = kzalloc(sizeof(*hello), GFP_KERNEL);
	if (!hello)
		return -ENOMEM;
	hello->major = cpu_to_le16(DG_PROTO_MAJOR);
	hello->minor = cpu_to_le16(DG_PROTO_MINOR);
	hello->role = cpu_to_le32(c->p.role);
	hello->features = cpu_to_le32(DG_FEAT_RDMA);
	hello->client_id = cpu_to_le64(c->p.client_id);
	get_random_bytes(hello->nonce, sizeof(hello->nonce));
	hello->name_len = cpu_to_le16(nlen);
	memcpy(hello->name, c->p.name, nlen);

	ret = dg_call(c, DG_OP_HELLO, hello, sizeof(*hello), &rep, sizeof(rep),
		      &len);
	kfree(hello);
	if (ret)
		return ret;
	if (len != sizeof(rep))
		return -EBADMSG;
	major = le16_to_cpu(rep.major);
	minor = le16_to_cpu(rep.minor);
	feat = le32_to_cpu(rep.features);
	if (major != DG_PROTO_MAJOR)
		return -EPROTONOSUPPORT;
	if (minor > DG_PROTO_MINOR || (feat & ~(u32)DG_FEAT_RDMA))
		return -EBADMSG;
	c->minor = minor;
	c->features = feat;
	c->server_id = le64_to_cpu(rep.server_id);
	return 0;
}

static void dg_conn_hb_arm(struct dg_conn *c)
{
	unsigned int ms = READ_ONCE(heartbeat_ms);

	if (ms)
		schedule_delayed_work(&c->hb_work, msecs_to_jiffies(ms));
}

static void dg_conn_hb_work(struct work_struct *work)
{
	struct dg_conn *c = container_of(to_delayed_work(work), struct dg_conn,
					 hb_work);
	int ret;

	ret = dg_call(c, DG_OP_HEARTBEAT, NULL, 0, NULL, 0, NULL);
	if (ret) {
		if (c->hb_missed == 1)
			pr_warn("%s: node does not answer heartbeats (%d)\n",
				dg_conn_name(c), ret);
		if (c->hb_missed < UINT_MAX)
			WRITE_ONCE(c->hb_missed, c->hb_missed + 1);
	} else {
		if (c->hb_missed >= 2)
			pr_info("%s: node answers heartbeats again\n",
				dg_conn_name(c));
		WRITE_ONCE(c->hb_missed, 0);
	}
	dg_conn_hb_arm(c);
}

static void dg_conn_probe_work(struct work_struct *work)
{
	struct dg_conn *c = container_of(work, struct dg_conn, probe_work);
	struct dg_hdr h;
	u64 id;

	spin_lock_bh(&c->call_lock);
	id = c->probe_req_id;
	spin_unlock_bh(&c->call_lock);
	dg_hdr_init(&h, DG_OP_HEARTBEAT | DG_OP_REPLY, 0, 0, id);
	if (c->t->send(c, &h, sizeof(h)))
		pr_warn_ratelimited("%s: cannot answer the node's heartbeat\n",
				    dg_conn_name(c));
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
	c->timeout = msecs_to_jiffies(c->p.timeout_ms);
	c->t = t;
	c->next_req_id = 1;
	mutex_init(&c->call_mutex);
	spin_lock_init(&c->call_lock);
	init_completion(&c->call_done);
	INIT_DELAYED_WORK(&c->hb_work, dg_conn_hb_work);
	INIT_WORK(&c->probe_work, dg_conn_probe_work);

	ret = t->open(c);
	if (ret)
		goto err_free;
	ret = dg_conn_hello(c);
	if (ret) {
		pr_err("%s: handshake failed: %d\n", dg_conn_name(c), ret);
		goto err_close;
	}
	pr_info("%s: connected over %s, %u queues, protocol %u.%u\n",
		dg_conn_name(c), t->name, c->p.nr_queues, DG_PROTO_MAJOR,
		c->minor);
	dg_conn_hb_arm(c);
	return c;

err_close:
	spin_lock_bh(&c->call_lock);
	c->closing = true;
	spin_unlock_bh(&c->call_lock);
	cancel_work_sync(&c->probe_work);
	t->close(c);
err_free:
	kfree(c);
	return ERR_PTR(ret);
}
EXPORT_SYMBOL_GPL(dg_conn_open);

void dg_conn_close(struct dg_conn *c)
{
	struct dg_hdr bye;

	spin_lock_bh(&c->call_lock);
	c->closing = true;
	spin_unlock_bh(&c->call_lock);
	cancel_work_sync(&c->probe_work);
	/* The work re-arms itself; the _sync variant stops that too. */
	cancel_delayed_work_sync(&c->hb_work);
	dg_hdr_init(&bye, DG_OP_BYE, 0, 0, 0);
	c->t->send(c, &bye, sizeof(bye));
	c->t->close(c);
	pr_info("%s: closed\n", dg_conn_name(c));
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
	return READ_ONCE(c->hb_missed) < 2;
}
EXPORT_SYMBOL_GPL(dg_conn_alive);

static int dg_check_io(const struct dg_region *r, u64 offset)
{
	if (!IS_ALIGNED(offset, DG_PAGE_SIZE) || offset >= r->size ||
	    r->size - offset < DG_PAGE_SIZE)
		return -EINVAL;
	return 0;
}

int dg_page_read(struct dg_conn *c, const struct dg_region *r, u64 offset,
		 struct page *page)
{
	return dg_check_io(r, offset) ?: c->t->page_io(c, r, offset, page, false);
}
EXPORT_SYMBOL_GPL(dg_page_read);

int dg_page_write_async(struct dg_conn *c, const struct dg_region *r,
			u64 offset, struct page *page, dg_done_fn done,
			void *ctx)
{
	return dg_check_io(r, offset) ?:
	       c->t->write_async(c, r, offset, page, done, ctx);
}
EXPORT_SYMBOL_GPL(dg_page_write_async);

int dg_page_write(struct dg_conn *c, const struct dg_region *r, u64 offset,
		  struct page *page)
{
	return dg_check_io(r, offset) ?: c->t->page_io(c, r, offset, page, true);
}
EXPORT_SYMBOL_GPL(dg_page_write);
