// SPDX-License-Identifier: GPL-2.0
/*
 * disagg_net core: module life cycle and /sys/kernel/disagg.
 *
 * disagg_net owns the sysfs root that disagg_swap and disaggfs hang their
 * directories from, and the protocol helpers both of them use.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/kobject.h>
#include <linux/bitmap.h>
#include <linux/slab.h>
#include "internal.h"

/*
 * Heartbeats, reconnects and answers to the node's heartbeats. Swap-out
 * can wait on a reconnect, so it must make progress under memory pressure.
 */
struct workqueue_struct *dg_wq;

/* /sys/kernel/disagg; set in init, cleared in exit, never changes between. */
static struct kobject *dg_root_kobj;

struct kobject *dg_sysfs_root(void)
{
	return dg_root_kobj;
}
EXPORT_SYMBOL_GPL(dg_sysfs_root);

/**
 * dg_pool_init - a pool of @nr free slots
 * @p: the pool
 * @nr: slots, numbered 0 to @nr - 1
 * @gfp: for the bitmap
 *
 * Return: 0 or -ENOMEM.
 */
int dg_pool_init(struct dg_pool *p, unsigned int nr, gfp_t gfp)
{
	p->map = bitmap_zalloc(nr, gfp);
	if (!p->map)
		return -ENOMEM;
	p->nr = nr;
	sema_init(&p->free, nr);
	return 0;
}

/**
 * dg_pool_init_taken - a pool of @nr slots, all taken at first
 * @p: the pool
 * @nr: slots, numbered 0 to @nr - 1
 * @gfp: for the bitmap
 *
 * For slots that become usable one by one: dg_pool_put() frees each once
 * it is.
 *
 * Return: 0 or -ENOMEM.
 */
int dg_pool_init_taken(struct dg_pool *p, unsigned int nr, gfp_t gfp)
{
	p->map = bitmap_alloc(nr, gfp);
	if (!p->map)
		return -ENOMEM;
	bitmap_fill(p->map, nr);
	p->nr = nr;
	sema_init(&p->free, 0);
	return 0;
}

/* Free the bitmap; slots still taken are forgotten. Idempotent. */
void dg_pool_destroy(struct dg_pool *p)
{
	bitmap_free(p->map);
	p->map = NULL;
}

/**
 * dg_pool_get - take a free slot
 * @p: the pool
 * @timeout: longest wait for one, in jiffies (0: do not wait)
 *
 * Context: process context when @timeout is not 0.
 * Return: the slot's number, or -ETIMEDOUT.
 */
int dg_pool_get(struct dg_pool *p, unsigned long timeout)
{
	unsigned int i;

	if (timeout ? down_timeout(&p->free, timeout) : down_trylock(&p->free))
		return -ETIMEDOUT;
	/* The semaphore guarantees a clear bit; racing takers retry. */
	for (;;) {
		i = find_first_zero_bit(p->map, p->nr);
		if (i < p->nr && !test_and_set_bit_lock(i, p->map))
			return i;
	}
}

/* Give slot @i back. Context: any. */
void dg_pool_put(struct dg_pool *p, unsigned int i)
{
	clear_bit_unlock(i, p->map);
	up(&p->free);
}

static ssize_t protocol_show(struct kobject *kobj, struct kobj_attribute *attr,
			     char *buf)
{
	return sysfs_emit(buf, "%u.%u\n", DG_PROTO_MAJOR, DG_PROTO_MINOR);
}
static struct kobj_attribute protocol_attr = __ATTR_RO(protocol);

static struct attribute *dg_root_attrs[] = {
	&protocol_attr.attr,
	NULL,
};

static const struct attribute_group dg_root_group = {
	.attrs = dg_root_attrs,
};

static int __init dg_net_init(void)
{
	int ret;

	dg_wq = alloc_workqueue("disagg_net", WQ_MEM_RECLAIM, 0);
	if (!dg_wq)
		return -ENOMEM;
	dg_root_kobj = kobject_create_and_add("disagg", kernel_kobj);
	if (!dg_root_kobj) {
		ret = -ENOMEM;
		goto err_wq;
	}
	ret = sysfs_create_group(dg_root_kobj, &dg_root_group);
	if (ret)
		goto err_put;
	ret = dg_rdma_init();
	if (ret)
		goto err_group;
	pr_info("loaded, protocol %u.%u\n", DG_PROTO_MAJOR, DG_PROTO_MINOR);
	return 0;

err_group:
	sysfs_remove_group(dg_root_kobj, &dg_root_group);
err_put:
	kobject_put(dg_root_kobj);
	dg_root_kobj = NULL;
err_wq:
	destroy_workqueue(dg_wq);
	return ret;
}

static void __exit dg_net_exit(void)
{
	dg_rdma_exit();
	sysfs_remove_group(dg_root_kobj, &dg_root_group);
	kobject_put(dg_root_kobj);
	dg_root_kobj = NULL;
	destroy_workqueue(dg_wq);
	pr_info("unloaded\n");
}

module_init(dg_net_init);
module_exit(dg_net_exit);

MODULE_DESCRIPTION("disagg transport core");
MODULE_AUTHOR("disagg developers");
MODULE_LICENSE("GPL");
MODULE_VERSION("0.1");
MODULE_SOFTDEP("pre: hmac sha256");
