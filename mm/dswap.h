/* SPDX-License-Identifier: GPL-2.0 */
/*
 * disagg_swap internals: memory nodes (nodes.c) and swap devices (swap.c).
 */
#ifndef DSWAP_H
#define DSWAP_H

#include <linux/kobject.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/atomic.h>
#include <disagg/net.h>

#define DSWAP_NODE_NAME_MAX	31

enum dswap_node_state {
	DSWAP_NODE_CONNECTING,
	DSWAP_NODE_UP,
	DSWAP_NODE_DRAINING,
	DSWAP_NODE_DOWN,
};

/**
 * struct dswap_node - a memory node, /sys/kernel/disagg/memory_nodes/NAME
 * @kobj: its sysfs directory; the node is freed when the last ref goes
 * @list: in dswap_nodes, under dswap_nodes_lock
 * @name: name given at add
 * @transport: "rdma"
 * @conn: connection, valid while the node is listed
 * @state: &enum dswap_node_state
 * @nr_slabs: slabs of our devices on this node (under dswap_nodes_lock)
 * @reads, @writes: pages moved
 * @errors: failed page transfers and calls
 * @free: free bytes the node last reported
 * @timeout_ms: the connection's timeout; a read waits this long for a
 *	node that is reconnecting
 * @key: name of the key the connection authenticates with, or empty
 */
struct dswap_node {
	struct kobject		kobj;
	struct list_head	list;
	char			name[DSWAP_NODE_NAME_MAX + 1];
	char			transport[8];
	struct dg_conn		*conn;
	int			state;
	unsigned int		nr_slabs;
	atomic64_t		reads;
	atomic64_t		writes;
	atomic64_t		errors;
	u64			free;
	unsigned int		timeout_ms;
	char			key[DG_NAME_MAX + 1];
};

/* Protects dswap_nodes, every node's list entry and nr_slabs. */
extern struct mutex dswap_nodes_lock;

int dswap_nodes_init(void);
void dswap_nodes_exit(void);
struct dswap_node *dswap_node_pick(void);
int dswap_node_alloc(struct dswap_node *n, u64 size, u64 tag,
		     struct dg_region *r);
int dswap_node_realloc(struct dswap_node *n, u64 size, u64 tag,
		       struct dg_region *r, bool *resumed);
void dswap_node_free(struct dswap_node *n, const struct dg_region *r);
void dswap_node_resume(struct dswap_node *n, bool restarted);

#endif /* DSWAP_H */
