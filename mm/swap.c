// SPDX-License-Identifier: GPL-2.0
/*
 * disagg_swap: remote-memory swap device (/dev/dswapN).
 *
 * This is the module's frame: it loads on top of disagg_net and takes its
 * sysfs root. The block device and the memory-node management come with
 * the remote-memory swap change.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <disagg/net.h>
#include <disagg/compat.h>

static int __init dg_swap_init(void)
{
	if (!dg_sysfs_root())
		return -ENODEV;
	pr_info("loaded\n");
	return 0;
}

static void __exit dg_swap_exit(void)
{
	pr_info("unloaded\n");
}

module_init(dg_swap_init);
module_exit(dg_swap_exit);

MODULE_DESCRIPTION("disagg remote-memory swap device");
MODULE_AUTHOR("disagg developers");
MODULE_LICENSE("GPL");
MODULE_VERSION("0.1");
