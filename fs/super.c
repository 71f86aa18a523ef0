// SPDX-License-Identifier: GPL-2.0
/*
 * disaggfs: in-kernel filesystem forwarding full-path requests to a storage
 * node.
 *
 * This is the module's frame: it loads on top of disagg_net. The
 * filesystem type comes with the disaggfs change.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <disagg/net.h>

static int __init dg_fs_init(void)
{
	if (!dg_sysfs_root())
		return -ENODEV;
	pr_info("loaded\n");
	return 0;
}

static void __exit dg_fs_exit(void)
{
	pr_info("unloaded\n");
}

module_init(dg_fs_init);
module_exit(dg_fs_exit);

MODULE_DESCRIPTION("disagg full-path filesystem");
MODULE_AUTHOR("disagg developers");
MODULE_LICENSE("GPL");
MODULE_VERSION("0.1");
