// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// Extended attributes of the final component itself (like the l*xattr
// calls): the name is pinned with O_PATH|O_NOFOLLOW and reached through
// /proc/self/fd, so no name is looked up twice.
#include "fs_ops.hpp"

#include <sys/xattr.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

namespace disagg::stord {

using namespace proto;

namespace {

// The kernel's own limits (ERANGE for an empty or too long name).
int check_name(std::string_view name)
{
	return name.empty() || name.size() > kFsXattrNameMax ? ERANGE : 0;
}

// trusted.* and security.*: the storage host's own business (its
// capabilities, SELinux labels, overlayfs' and other services' state)
// unless the export allows them.
bool system_name(std::string_view name)
{
	return name.starts_with("trusted.") || name.starts_with("security.");
}

// Drop the system names from a listxattr(2) list.
std::size_t filter_list(std::vector<std::byte> &buf, std::size_t n)
{
	std::size_t out = 0;
	for (std::size_t pos = 0; pos < n;) {
		const char *name = reinterpret_cast<const char *>(buf.data() + pos);
		const std::size_t len = ::strnlen(name, n - pos);
		const std::size_t next = pos + len + 1;
		if (!system_name(std::string_view(name, len))) {
			std::memmove(buf.data() + out, buf.data() + pos, std::min(next, n) - pos);
			out += std::min(next, n) - pos;
		}
		pos = next;
	}
	return out;
}

// Pins @r.path's final component in @self and sets @proc to its
// /proc/self/fd path, having checked the attribute name first when the
// request has one (@named). 0 or an errno.
int open_target(const FsRoot &root, const FsReq &r, bool named, UniqueFd &self,
		std::string &proc)
{
	if (int err = named ? check_name(r.name2) : 0)
		return err;
	if (int err = root.open_final(r.path, self))
		return err;
	proc = FsRoot::proc_path(self.get());
	return 0;
}

}  // namespace

int FsOps::getxattr(const FsReq &r, Out &out, bool list)
{
	UniqueFd self;
	std::string p;
	if (int err = open_target(root_, r, !list, self, p))
		return err;
	const std::string name(r.name2);
	const bool hide = !opt_.allow_sys_xattrs;
	if (!list && hide && system_name(name))
		return ENODATA;
	// Bigger buffers than the largest value are pointless; the kernel
	// clamps the same way.
	const std::size_t count = std::min<std::size_t>(r.count, kFsXattrSizeMax);
	ssize_t n;
	if (list && hide) {
		// The whole list, filtered; then as listxattr(2) answers.
		out.buf.resize(kFsXattrSizeMax);
		n = ::listxattr(p.c_str(), reinterpret_cast<char *>(out.buf.data()),
				out.buf.size());
		if (n < 0)
			return errno == ERANGE ? E2BIG : errno;
		n = static_cast<ssize_t>(filter_list(out.buf, static_cast<std::size_t>(n)));
		if (count && static_cast<std::size_t>(n) > count)
			return ERANGE;
	} else {
		out.buf.resize(count);
		void *buf = count ? out.buf.data() : nullptr;
		n = list ? ::listxattr(p.c_str(), static_cast<char *>(buf), count)
			 : ::getxattr(p.c_str(), name.c_str(), buf, count);
		if (n < 0)
			return errno;
	}
	if (static_cast<std::size_t>(n) > kFsXattrSizeMax)
		return E2BIG;
	out.buf.resize(count ? static_cast<std::size_t>(n) : 0);
	out.body = FsXattr{static_cast<std::uint32_t>(n), out.buf};
	return 0;
}

int FsOps::setxattr(const FsReq &r)
{
	UniqueFd self;
	std::string p;
	if (int err = open_target(root_, r, true, self, p))
		return err;
	const std::string name(r.name2);
	if (!opt_.allow_sys_xattrs && system_name(name))
		return EPERM;
	int flags = 0;
	if (r.flags & DG_FS_XATTR_CREATE)
		flags |= XATTR_CREATE;
	if (r.flags & DG_FS_XATTR_REPLACE)
		flags |= XATTR_REPLACE;
	if (::setxattr(p.c_str(), name.c_str(), r.data.data(), r.data.size(), flags) != 0)
		return errno;
	return 0;
}

int FsOps::removexattr(const FsReq &r)
{
	UniqueFd self;
	std::string p;
	if (int err = open_target(root_, r, true, self, p))
		return err;
	const std::string name(r.name2);
	if (!opt_.allow_sys_xattrs && system_name(name))
		return EPERM;
	if (::removexattr(p.c_str(), name.c_str()) != 0)
		return errno;
	return 0;
}

}  // namespace disagg::stord
