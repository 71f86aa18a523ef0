// SPDX-License-Identifier: GPL-2.0
/*
 * disaggfs: extended attributes in the user.* and trusted.* namespaces,
 * stored by the node. Other namespaces (security.*, system.*) have no
 * handler, so the VFS answers EOPNOTSUPP.
 */
#include <linux/slab.h>
#include <linux/xattr.h>
#include <linux/capability.h>
#include "fs.h"

/* "prefix" + "name" into @full (XATTR_NAME_MAX + 1 bytes). */
static int dg_xattr_name(const struct xattr_handler *h, const char *name,
			 char *full, u32 *len)
{
	int n = snprintf(full, XATTR_NAME_MAX + 1, "%s%s", h->prefix, name);

	if (n > XATTR_NAME_MAX || n > DG_FS_XATTR_NAME_MAX)
		return -ERANGE;
	*len = n;
	return 0;
}

static int dg_xattr_get(const struct xattr_handler *h, struct dentry *dentry,
			struct inode *inode, const char *name, void *buffer,
			size_t size)
{
	struct dg_fs_xattr_reply head;
	struct kvec rsp[2] = {
		{ .iov_base = &head, .iov_len = sizeof(head) },
		{ .iov_base = buffer, .iov_len = size },
	};
	struct dg_fs_call call = {
		.op = DG_OP_FS_GETXATTR, .rsp = rsp, .nr_rsp = size ? 2 : 1,
	};
	char full[XATTR_NAME_MAX + 1];
	struct dg_path p;
	u32 vlen;
	int err;

	err = dg_xattr_name(h, name, full, &call.name2_len);
	if (err)
		return err;
	size = min_t(size_t, size, DG_FS_XATTR_SIZE_MAX);
	rsp[1].iov_len = size;
	dg_path_get(dentry, &p);
	call.path = &p;
	call.name2 = full;
	call.req.count = cpu_to_le32(size);
	err = dg_fs_call(DG_SB(inode->i_sb), &call);
	dg_path_put(&p);
	if (err)
		return err;
	if (call.rsp_len < sizeof(head))
		return -EIO;
	vlen = le32_to_cpu(head.size);
	if (vlen > DG_FS_XATTR_SIZE_MAX)
		return -EIO;
	if (!size)
		return call.rsp_len == sizeof(head) ? vlen : -EIO;
	if (vlen > size)
		return -ERANGE;
	if (call.rsp_len != sizeof(head) + vlen)
		return -EIO;
	return vlen;
}

static int dg_xattr_set(const struct xattr_handler *h, DG_IDMAP *idmap,
			struct dentry *dentry, struct inode *inode,
			const char *name, const void *value, size_t size,
			int flags)
{
	struct kvec data = { .iov_base = (void *)value, .iov_len = size };
	struct dg_fs_call call = { .op = DG_OP_FS_SETXATTR };
	char full[XATTR_NAME_MAX + 1];
	struct dg_path p;
	u32 wflags = 0;
	int err;

	if (size > DG_FS_XATTR_SIZE_MAX)
		return -E2BIG;
	err = dg_xattr_name(h, name, full, &call.name2_len);
	if (err)
		return err;
	if (!value) {
		call.op = DG_OP_FS_REMOVEXATTR;
	} else {
		if (flags & XATTR_CREATE)
			wflags |= DG_FS_XATTR_CREATE;
		if (flags & XATTR_REPLACE)
			wflags |= DG_FS_XATTR_REPLACE;
		call.req.flags = cpu_to_le32(wflags);
		if (size) {
			call.data = &data;
			call.nr_data = 1;
		}
	}
	dg_path_get(dentry, &p);
	call.path = &p;
	call.name2 = full;
	err = dg_fs_call(DG_SB(inode->i_sb), &call);
	dg_path_put(&p);
	/* A lost reply: the first removal went through. */
	if (err == -ENODATA && !value && call.retried)
		err = 0;
	dg_invalidate_attr(inode);
	return err;
}

static const struct xattr_handler dg_xattr_user = {
	.prefix	= XATTR_USER_PREFIX,
	.get	= dg_xattr_get,
	.set	= dg_xattr_set,
};

static const struct xattr_handler dg_xattr_trusted = {
	.prefix	= XATTR_TRUSTED_PREFIX,
	.get	= dg_xattr_get,
	.set	= dg_xattr_set,
};

const struct xattr_handler *dg_xattr_handlers[] = {
	&dg_xattr_user,
	&dg_xattr_trusted,
	NULL,
};

static bool dg_xattr_listed(const char *name, size_t len)
{
	if (len > XATTR_USER_PREFIX_LEN &&
	    !strncmp(name, XATTR_USER_PREFIX, XATTR_USER_PREFIX_LEN))
		return true;
	return len > XATTR_TRUSTED_PREFIX_LEN &&
	       !strncmp(name, XATTR_TRUSTED_PREFIX, XATTR_TRUSTED_PREFIX_LEN) &&
	       capable(CAP_SYS_ADMIN);
}

/**
 * dg_listxattr - the names of a file's extended attributes
 * @dentry: the file
 * @list: where to put them, NUL-separated, or NULL
 * @size: room in @list; 0 asks only for the size needed
 *
 * Only names we can get are listed (user.*, and trusted.* for
 * CAP_SYS_ADMIN).
 *
 * Return: bytes of names, -ERANGE when @size is too small, or an error.
 */
ssize_t dg_listxattr(struct dentry *dentry, char *list, size_t size)
{
	struct dg_fs_xattr_reply head;
	struct kvec rsp[2] = { { .iov_base = &head, .iov_len = sizeof(head) } };
	struct dg_fs_call call = {
		.op = DG_OP_FS_LISTXATTR, .rsp = rsp, .nr_rsp = 2,
	};
	size_t vlen, off, out = 0;
	struct dg_path p;
	char *buf;
	int err;

	buf = kvmalloc(DG_FS_XATTR_SIZE_MAX, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	rsp[1].iov_base = buf;
	rsp[1].iov_len = DG_FS_XATTR_SIZE_MAX;
	dg_path_get(dentry, &p);
	call.path = &p;
	call.req.count = cpu_to_le32(DG_FS_XATTR_SIZE_MAX);
	err = dg_fs_call(DG_SB(dentry->d_sb), &call);
	dg_path_put(&p);
	if (err)
		goto out;
	err = -EIO;
	if (call.rsp_len < sizeof(head))
		goto out;
	vlen = le32_to_cpu(head.size);
	if (vlen > DG_FS_XATTR_SIZE_MAX ||
	    call.rsp_len != sizeof(head) + vlen ||
	    (vlen && buf[vlen - 1]))
		goto out;
	for (off = 0; off < vlen; ) {
		size_t len = strlen(buf + off);

		if (dg_xattr_listed(buf + off, len)) {
			if (size && out + len + 1 > size) {
				err = -ERANGE;
				goto out;
			}
			if (size)
				memcpy(list + out, buf + off, len + 1);
			out += len + 1;
		}
		off += len + 1;
	}
	err = out;
out:
	kvfree(buf);
	return err;
}
