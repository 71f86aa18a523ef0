// SPDX-License-Identifier: GPL-2.0
/*
 * Memory nodes of disagg_swap: /sys/kernel/disagg/memory_nodes/{add,remove}
 * and one directory per node with its state and counters; choosing a node
 * for a new copy of a slab by power-of-two choices over free capacity.
 *
 * dswap_nodes_lock guards the list and the nodes' states only: calls to a
 * node are made without it, with the node's @active count held, so one
 * slow node never stalls the choice of another. A node that is added
 * holds a reference on this module until it is removed.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/ctype.h>
#include <linux/inet.h>
#include <linux/random.h>
#include <linux/parser.h>
#include "dswap.h"

DEFINE_MUTEX(dswap_nodes_lock);
static LIST_HEAD(dswap_nodes);
static struct kobject *dswap_nodes_kobj;
static u64 dswap_client_id;		/* one per module load */
static void dswap_reap_fn(struct work_struct *work);
static DECLARE_WORK(dswap_reap_work, dswap_reap_fn);

static const char * const dswap_state_names[] = {
	[DSWAP_NODE_CONNECTING]	= "connecting",
	[DSWAP_NODE_UP]		= "up",
	[DSWAP_NODE_DRAINING]	= "draining",
	[DSWAP_NODE_DOWN]	= "down",
};

#define to_node(k) container_of(k, struct dswap_node, kobj)

/* A node that stopped answering heartbeats is down until it answers. */
static int dswap_node_state(struct dswap_node *n)
{
	int state = READ_ONCE(n->state);

	if (!n->conn || READ_ONCE(n->gone))
		return DSWAP_NODE_DOWN;
	if (state == DSWAP_NODE_UP && !dg_conn_alive(n->conn))
		return DSWAP_NODE_DOWN;
	return state;
}

/**
 * dswap_node_usable - whether a copy on @n may be read
 * @n: node
 *
 * False once the node was removed by force or stopped answering
 * heartbeats; a read then tries another copy first.
 *
 * Context: any.
 */
bool dswap_node_usable(struct dswap_node *n)
{
	return !READ_ONCE(n->gone) && dg_conn_alive(n->conn);
}

/**
 * dswap_node_get_active - count a call or transfer on @n's connection
 * @n: node, which a copy or the node list refers to
 *
 * Context: any; the caller holds what keeps @n listed (a slab's lock
 * while the copy is there, or dswap_nodes_lock).
 */
void dswap_node_get_active(struct dswap_node *n)
{
	atomic_inc(&n->active);
}

/**
 * dswap_node_put_active - end what dswap_node_get_active() counted
 * @n: node
 *
 * Context: any.
 */
void dswap_node_put_active(struct dswap_node *n)
{
	if (atomic_dec_and_test(&n->active))
		wake_up_all(&n->active_wq);
}

static ssize_t state_show(struct kobject *kobj, struct kobj_attribute *attr,
			  char *buf)
{
	struct dswap_node *n = to_node(kobj);
	int state;

	mutex_lock(&dswap_nodes_lock);
	state = dswap_node_state(n);
	mutex_unlock(&dswap_nodes_lock);
	return sysfs_emit(buf, "%s\n", dswap_state_names[state]);
}
static struct kobj_attribute state_attr = __ATTR_RO(state);

/* One line: slabs reads writes errors free_bytes (see the ABI document). */
static ssize_t stat_show(struct kobject *kobj, struct kobj_attribute *attr,
			 char *buf)
{
	struct dswap_node *n = to_node(kobj);
	unsigned int slabs = atomic_read(&n->nr_slabs);
	u64 free = READ_ONCE(n->free);

	return sysfs_emit(buf, "%8u %8llu %8llu %8llu %12llu\n", slabs,
			  (u64)atomic64_read(&n->reads),
			  (u64)atomic64_read(&n->writes),
			  (u64)atomic64_read(&n->errors), free);
}
static struct kobj_attribute stat_attr = __ATTR_RO(stat);

/* The key's name (never its secret), or "none". */
static ssize_t key_show(struct kobject *kobj, struct kobj_attribute *attr,
			char *buf)
{
	struct dswap_node *n = to_node(kobj);

	return sysfs_emit(buf, "%s\n", n->key[0] ? n->key : "none");
}
static struct kobj_attribute key_attr = __ATTR_RO(key);

static struct attribute *dswap_node_attrs[] = {
	&state_attr.attr,
	&stat_attr.attr,
	&key_attr.attr,
	NULL,
};
ATTRIBUTE_GROUPS(dswap_node);

static void dswap_node_release(struct kobject *kobj)
{
	kfree(to_node(kobj));
}

static const struct kobj_type dswap_node_ktype = {
	.release	= dswap_node_release,
	.sysfs_ops	= &kobj_sysfs_ops,
	.default_groups	= dswap_node_groups,
};

static struct dswap_node *dswap_node_find(const char *name)
{
	struct dswap_node *n;

	lockdep_assert_held(&dswap_nodes_lock);
	list_for_each_entry(n, &dswap_nodes, list)
		if (!strcmp(n->name, name))
			return n;
	return NULL;
}

static bool dswap_name_ok(const char *s)
{
	size_t len = strlen(s);

	if (!len || len > DSWAP_NODE_NAME_MAX)
		return false;
	for (; *s; s++)
		if (!isalnum(*s) && *s != '_' && *s != '-' && *s != '.')
			return false;
	return true;
}

enum {
	Opt_name, Opt_transport, Opt_addr, Opt_port, Opt_src, Opt_queues,
	Opt_timeout, Opt_key, Opt_err,
};

static const match_table_t dswap_add_tokens = {
	{ Opt_name,	"name=%s" },
	{ Opt_transport, "transport=%s" },
	{ Opt_addr,	"addr=%s" },
	{ Opt_port,	"port=%u" },
	{ Opt_src,	"src=%s" },
	{ Opt_queues,	"queues=%u" },
	{ Opt_timeout,	"timeout_ms=%u" },
	{ Opt_key,	"key=%s" },
	{ Opt_err,	NULL },
};

/*
 * Parse "name=N transport=T addr=A port=P [src=S] [queues=Q]
 * [timeout_ms=MS] [key=K]" into @n and @p. Logs and returns -EINVAL on bad
 * input. The key's secret stays in the keyring; only its name passes here.
 */
static int dswap_parse_add(char *opts, struct dswap_node *n,
			   struct dg_conn_params *p)
{
	substring_t args[MAX_OPT_ARGS];
	char addr[64] = "", src[64] = "", port[8] = "";
	char *o;
	int v, ret;

	strscpy(n->transport, "rdma", sizeof(n->transport));
	while ((o = strsep(&opts, " \t\n")) != NULL) {
		if (!*o)
			continue;
		switch (match_token(o, dswap_add_tokens, args)) {
		case Opt_name:
			if (match_strlcpy(n->name, &args[0], sizeof(n->name)) >=
			    sizeof(n->name) || !dswap_name_ok(n->name))
				goto bad;
			break;
		case Opt_transport:
			if (match_strlcpy(n->transport, &args[0],
					  sizeof(n->transport)) >=
			    sizeof(n->transport))
				goto bad;
			break;
		case Opt_addr:
			if (match_strlcpy(addr, &args[0], sizeof(addr)) >=
			    sizeof(addr))
				goto bad;
			break;
		case Opt_src:
			if (match_strlcpy(src, &args[0], sizeof(src)) >=
			    sizeof(src))
				goto bad;
			break;
		case Opt_port:
			if (match_int(&args[0], &v) || v < 1 || v > 65535)
				goto bad;
			snprintf(port, sizeof(port), "%d", v);
			break;
		case Opt_queues:
			if (match_int(&args[0], &v) || v < 1 ||
			    v > DG_MAX_QUEUES)
				goto bad;
			p->nr_queues = v;
			break;
		case Opt_timeout:
			if (match_int(&args[0], &v) || v < 100 || v > 600000)
				goto bad;
			p->timeout_ms = v;
			break;
		case Opt_key:
			if (match_strlcpy(p->key, &args[0], sizeof(p->key)) >=
			    sizeof(p->key) || !p->key[0])
				goto bad;
			break;
		default:
			goto bad;
		}
	}
	if (!n->name[0] || !addr[0] || !port[0]) {
		pr_err("memory_nodes/add: name=, addr= and port= are required\n");
		return -EINVAL;
	}
	if (strcmp(n->transport, "rdma") && strcmp(n->transport, "tcp")) {
		pr_err("memory_nodes/add: transport '%s' is not available (rdma or tcp)\n",
		       n->transport);
		return -EINVAL;
	}
	ret = inet_pton_with_scope(&init_net, AF_UNSPEC, addr, port, &p->addr);
	if (ret) {
		pr_err("memory_nodes/add: bad address '%s'\n", addr);
		return -EINVAL;
	}
	if (src[0] && inet_pton_with_scope(&init_net, AF_UNSPEC, src, NULL,
					   &p->src)) {
		pr_err("memory_nodes/add: bad source address '%s'\n", src);
		return -EINVAL;
	}
	return 0;
bad:
	pr_err("memory_nodes/add: bad option '%.32s'\n", o);
	return -EINVAL;
}

/* Ask @n for its free capacity. */
static int dswap_node_info(struct dswap_node *n)
{
	struct dg_mem_info info;
	u32 len;
	int ret;

	ret = dg_call(n->conn, DG_OP_MEM_INFO, NULL, 0, &info, sizeof(info),
		      &len);
	if (!ret && len != sizeof(info))
		ret = -EBADMSG;
	if (ret) {
		atomic64_inc(&n->errors);
		return ret;
	}
	WRITE_ONCE(n->free, le64_to_cpu(info.free));
	return 0;
}

/* The node's connection failed or came back (disagg_net's work). */
static void dswap_node_event(struct dg_conn *c, void *ctx,
			     enum dg_conn_event ev)
{
	struct dswap_node *n = ctx;

	switch (ev) {
	case DG_CONN_DOWN:
		pr_warn("memory node %s: connection lost; reconnecting\n",
			n->name);
		/* Copies with another copy elsewhere are rebuilt elsewhere. */
		dswap_node_down(n, false);
		break;
	case DG_CONN_UP:
	case DG_CONN_RESTARTED:
		pr_info("memory node %s: reconnected%s\n", n->name,
			ev == DG_CONN_RESTARTED ? "; it restarted" : "");
		dswap_node_resume(n, ev == DG_CONN_RESTARTED);
		dswap_node_info(n);
		break;
	}
}

/* A request from the node: only MEM_EVICT, asking for a slab back. */
static int dswap_node_request(struct dg_conn *c, void *ctx, u16 opcode,
			      const void *payload, u32 len)
{
	struct dswap_node *n = ctx;
	struct dg_mem_free req;

	if (opcode != DG_OP_MEM_EVICT)
		return -EOPNOTSUPP;
	if (len != sizeof(req))
		return -EINVAL;
	memcpy(&req, payload, sizeof(req));
	return dswap_node_evict(n, le64_to_cpu(req.slab_id));
}

static ssize_t add_store(struct kobject *kobj, struct kobj_attribute *attr,
			 const char *buf, size_t count)
{
	struct dg_conn_params *p;
	struct dswap_node *n;
	char *opts;
	int ret;

	p = kzalloc(sizeof(*p), GFP_KERNEL);
	n = kzalloc(sizeof(*n), GFP_KERNEL);
	opts = kstrndup(buf, count, GFP_KERNEL);
	ret = -ENOMEM;
	if (!p || !n || !opts)
		goto out_free;
	ret = dswap_parse_add(opts, n, p);
	if (ret)
		goto out_free;

	p->role = DG_ROLE_SWAP;
	p->client_id = dswap_client_id;
	p->event = dswap_node_event;
	p->request = dswap_node_request;
	p->ctx = n;
	n->timeout_ms = p->timeout_ms ?: DG_DEFAULT_TIMEOUT_MS;
	strscpy(n->key, p->key, sizeof(n->key));
	snprintf(p->name, sizeof(p->name), "dswap-%s", n->name);
	kobject_init(&n->kobj, &dswap_node_ktype);
	atomic64_set(&n->reads, 0);
	atomic64_set(&n->writes, 0);
	atomic64_set(&n->errors, 0);
	atomic_set(&n->nr_slabs, 0);
	atomic_set(&n->active, 0);
	init_waitqueue_head(&n->active_wq);
	n->state = DSWAP_NODE_CONNECTING;

	mutex_lock(&dswap_nodes_lock);
	ret = dswap_node_find(n->name) ? -EEXIST : 0;
	mutex_unlock(&dswap_nodes_lock);
	if (ret) {
		pr_err("memory_nodes/add: node '%s' exists\n", n->name);
		goto out_put;
	}
	/* Bounded by the timeout; I/O to other nodes goes on meanwhile. */
	n->conn = dg_conn_open(n->transport, p);
	if (IS_ERR(n->conn)) {
		ret = PTR_ERR(n->conn);
		n->conn = NULL;
		pr_err("memory_nodes/add: cannot connect to node '%s' at %pISpc: %d\n",
		       n->name, &p->addr, ret);
		goto out_put;
	}
	mutex_lock(&dswap_nodes_lock);
	ret = dswap_node_find(n->name) ? -EEXIST : 0;
	ret = ret ?: dswap_node_info(n);
	ret = ret ?: kobject_add(&n->kobj, dswap_nodes_kobj, "%s", n->name);
	if (ret) {
		mutex_unlock(&dswap_nodes_lock);
		dg_conn_close(n->conn);
		n->conn = NULL;
		pr_err("memory_nodes/add: node '%s': %d\n", n->name, ret);
		goto out_put;
	}
	n->state = DSWAP_NODE_UP;
	list_add_tail(&n->list, &dswap_nodes);
	/* Until the node is removed; see remove_store(). */
	__module_get(THIS_MODULE);
	mutex_unlock(&dswap_nodes_lock);
	pr_info("memory node %s up at %pISpc, %llu MiB free\n", n->name,
		&p->addr, n->free >> 20);
	/* Degraded slabs may now get their copies back. */
	dswap_kick_all();
	kfree(opts);
	kfree(p);
	return count;

out_put:
	kfree(opts);
	kfree(p);
	kobject_put(&n->kobj);
	return ret;
out_free:
	kfree(opts);
	kfree(p);
	kfree(n);
	return ret;
}
static struct kobj_attribute add_attr = __ATTR_WO(add);

/*
 * Close a node that is off the list and that no copy refers to any more,
 * once the transfers in flight on it ended, and drop the module
 * reference it held.
 */
static void dswap_node_close(struct dswap_node *n)
{
	/* Waits for readers of the node's files, which use the connection. */
	kobject_del(&n->kobj);
	wait_event(n->active_wq, !atomic_read(&n->active));
	dg_conn_close(n->conn);
	n->conn = NULL;
	kobject_put(&n->kobj);
}

static void dswap_node_destroy(struct dswap_node *n)
{
	dswap_node_close(n);
	module_put(THIS_MODULE);
}

/*
 * Whether draining @n holds nothing and may be closed; it then takes no
 * copy any more. A copy being placed there counts itself first and then
 * looks at @gone (dswap_node_take_copy()): one of us sees the other.
 */
static bool dswap_node_claim_empty(struct dswap_node *n)
{
	lockdep_assert_held(&dswap_nodes_lock);
	if (atomic_read(&n->nr_slabs))
		return false;
	WRITE_ONCE(n->gone, true);
	smp_mb();
	if (atomic_read(&n->nr_slabs)) {
		WRITE_ONCE(n->gone, false);
		return false;
	}
	return true;
}

/* Close the draining nodes that hold nothing any more. */
static void dswap_reap_fn(struct work_struct *work)
{
	struct dswap_node *n, *tmp;

	LIST_HEAD(gone);

	mutex_lock(&dswap_nodes_lock);
	list_for_each_entry_safe(n, tmp, &dswap_nodes, list) {
		if (n->state != DSWAP_NODE_DRAINING ||
		    atomic_read(&n->nr_slabs))
			continue;
		if (dswap_node_claim_empty(n))
			list_move(&n->list, &gone);
	}
	mutex_unlock(&dswap_nodes_lock);
	list_for_each_entry_safe(n, tmp, &gone, list) {
		list_del(&n->list);
		pr_info("memory node %s drained and removed\n", n->name);
		dswap_node_destroy(n);
	}
}

/**
 * dswap_nodes_reap - close draining nodes that hold nothing now
 *
 * Context: any process context; the work runs on its own.
 */
void dswap_nodes_reap(void)
{
	queue_work(dswap_wq, &dswap_reap_work);
}

/*
 * "NAME": drain the node (its copies move to other nodes; it is closed
 * when it holds nothing). "NAME force": drop it now; its copies are gone.
 */
static ssize_t remove_store(struct kobject *kobj, struct kobj_attribute *attr,
			    const char *buf, size_t count)
{
	char line[DSWAP_NODE_NAME_MAX + 16], *name, *mode;
	struct dswap_node *n;
	bool force = false;

	if (!count || count >= sizeof(line)) {
		pr_err("memory_nodes/remove: bad node name\n");
		return -EINVAL;
	}
	memcpy(line, buf, count);
	line[count] = '\0';
	mode = strim(line);
	name = strsep(&mode, " \t");
	if (mode) {
		mode = skip_spaces(mode);
		if (strcmp(mode, "force")) {
			pr_err("memory_nodes/remove: '%.16s': write NAME or 'NAME force'\n",
			       mode);
			return -EINVAL;
		}
		force = true;
	}

	mutex_lock(&dswap_nodes_lock);
	n = dswap_node_find(name);
	if (!n) {
		mutex_unlock(&dswap_nodes_lock);
		pr_err("memory_nodes/remove: no node '%s'\n", name);
		return -ENOENT;
	}
	if (!force) {
		if (n->state == DSWAP_NODE_DRAINING) {
			mutex_unlock(&dswap_nodes_lock);
			return count;
		}
		WRITE_ONCE(n->state, DSWAP_NODE_DRAINING);
		/* Pairs with dswap_node_take_copy(): one of us sees the other. */
		smp_mb();
		if (dswap_node_claim_empty(n)) {
			/* Nothing to move: removed at once. */
			list_del(&n->list);
			mutex_unlock(&dswap_nodes_lock);
			dswap_node_destroy(n);
			pr_info("memory node %s removed\n", name);
			return count;
		}
		mutex_unlock(&dswap_nodes_lock);
		pr_info("memory node %s: draining %d slabs\n", n->name,
			atomic_read(&n->nr_slabs));
		dswap_kick_all();
		dswap_nodes_reap();
		return count;
	}
	WRITE_ONCE(n->gone, true);
	list_del(&n->list);
	mutex_unlock(&dswap_nodes_lock);
	/* Every copy there is dropped; reads stop waiting for it. */
	dswap_node_down(n, true);
	pr_warn("memory node %s removed by force\n", name);
	dswap_node_destroy(n);
	dswap_kick_all();
	return count;
}
static struct kobj_attribute remove_attr = __ATTR_WO(remove);

static struct attribute *dswap_nodes_attrs[] = {
	&add_attr.attr,
	&remove_attr.attr,
	NULL,
};

static const struct attribute_group dswap_nodes_group = {
	.attrs = dswap_nodes_attrs,
};

static bool dswap_node_excluded(struct dswap_node *n,
				struct dswap_node **exclude, unsigned int nr)
{
	unsigned int i;

	for (i = 0; i < nr; i++)
		if (exclude[i] == n)
			return true;
	return false;
}

/**
 * dswap_node_pick - choose the node for a new copy of a slab
 * @exclude: nodes that must not be chosen (they hold copies already)
 * @nr_exclude: entries in @exclude
 * @out: the node chosen, with its active count held
 *
 * Power of two choices: of two nodes drawn at random among those up, the
 * one that reports more free memory. Their free memory is asked for
 * without dswap_nodes_lock.
 *
 * Context: process context.
 * Return: 0, or -ENODEV when no other node is up.
 */
int dswap_node_pick(struct dswap_node **exclude, unsigned int nr_exclude,
		    struct dswap_node **out)
{
	struct dswap_node *n, *a = NULL, *b = NULL;
	unsigned int up = 0, ia, ib, i = 0;

	mutex_lock(&dswap_nodes_lock);
	list_for_each_entry(n, &dswap_nodes, list)
		if (dswap_node_state(n) == DSWAP_NODE_UP &&
		    !dswap_node_excluded(n, exclude, nr_exclude))
			up++;
	if (!up) {
		mutex_unlock(&dswap_nodes_lock);
		return -ENODEV;
	}
	ia = get_random_u32_below(up);
	ib = get_random_u32_below(up);
	list_for_each_entry(n, &dswap_nodes, list) {
		if (dswap_node_state(n) != DSWAP_NODE_UP ||
		    dswap_node_excluded(n, exclude, nr_exclude))
			continue;
		if (i == ia)
			a = n;
		if (i == ib)
			b = n;
		i++;
	}
	dswap_node_get_active(a);
	dswap_node_get_active(b);
	mutex_unlock(&dswap_nodes_lock);
	if (a != b) {
		dswap_node_info(a);
		dswap_node_info(b);
	}
	if (READ_ONCE(a->free) < READ_ONCE(b->free))
		swap(a, b);
	dswap_node_put_active(b);
	*out = a;
	return 0;
}

/**
 * dswap_node_alloc - ask @n for the slab with @tag (a new one, or ours)
 * @n: node, active count held
 * @size: bytes
 * @tag: our number for the slab
 * @r: filled in
 * @resumed: set when the node still had the slab and kept its contents
 *
 * Context: process context; no lock held.
 * Return: 0 or a negative errno (-ENOSPC when the node is full).
 */
int dswap_node_alloc(struct dswap_node *n, u64 size, u64 tag,
		     struct dg_region *r, bool *resumed)
{
	struct dg_mem_alloc req = {
		.size = cpu_to_le64(size),
		.tag = cpu_to_le64(tag),
	};
	struct dg_mem_slab slab;
	u32 len;
	int ret;

	ret = dg_call(n->conn, DG_OP_MEM_ALLOC, &req, sizeof(req), &slab,
		      sizeof(slab), &len);
	if (!ret && (len != sizeof(slab) || le64_to_cpu(slab.size) != size ||
		     le64_to_cpu(slab.tag) != tag))
		ret = -EBADMSG;
	if (ret) {
		if (ret != -ENOSPC)
			atomic64_inc(&n->errors);
		return ret;
	}
	r->slab_id = le64_to_cpu(slab.slab_id);
	r->addr = le64_to_cpu(slab.addr);
	r->size = size;
	r->rkey = le32_to_cpu(slab.rkey);
	*resumed = le32_to_cpu(slab.flags) & DG_SLAB_RESUMED;
	if (!*resumed) {
		u64 free = READ_ONCE(n->free);

		WRITE_ONCE(n->free, free > size ? free - size : 0);
	}
	return 0;
}

/**
 * dswap_node_free - give a slab back to @n
 * @n: node, active count held
 * @slab_id: the node's handle
 * @size: its bytes
 *
 * Context: process context; no lock held.
 */
void dswap_node_free(struct dswap_node *n, u64 slab_id, u64 size)
{
	struct dg_mem_free req = { .slab_id = cpu_to_le64(slab_id) };
	int ret;

	ret = dg_call(n->conn, DG_OP_MEM_FREE, &req, sizeof(req), NULL, 0,
		      NULL);
	if (ret) {
		/* The node frees it when our connection goes. */
		atomic64_inc(&n->errors);
		pr_warn_ratelimited("node %s: freeing slab %llu: %d\n",
				    n->name, slab_id, ret);
		return;
	}
	WRITE_ONCE(n->free, READ_ONCE(n->free) + size);
}

int dswap_nodes_init(void)
{
	int ret;

	get_random_bytes(&dswap_client_id, sizeof(dswap_client_id));
	dswap_nodes_kobj = kobject_create_and_add("memory_nodes",
						  dg_sysfs_root());
	if (!dswap_nodes_kobj)
		return -ENOMEM;
	ret = sysfs_create_group(dswap_nodes_kobj, &dswap_nodes_group);
	if (ret)
		kobject_put(dswap_nodes_kobj);
	return ret;
}

/*
 * Every node holds a module reference, so none is left by now but those
 * a drain is closing; devices are gone, so no copy refers to a node.
 */
void dswap_nodes_exit(void)
{
	struct dswap_node *n, *tmp;

	LIST_HEAD(gone);

	sysfs_remove_group(dswap_nodes_kobj, &dswap_nodes_group);
	flush_work(&dswap_reap_work);
	/* Destroy outside the lock: the nodes' sysfs readers take it. */
	mutex_lock(&dswap_nodes_lock);
	list_splice_init(&dswap_nodes, &gone);
	mutex_unlock(&dswap_nodes_lock);
	list_for_each_entry_safe(n, tmp, &gone, list) {
		list_del(&n->list);
		dswap_node_close(n);
	}
	kobject_put(dswap_nodes_kobj);
}
