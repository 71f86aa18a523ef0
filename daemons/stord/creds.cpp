// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "creds.hpp"

#include "log.hpp"

#include <linux/capability.h>
#include <sys/fsuid.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

namespace disagg::stord {

namespace {

// The daemon's own supplementary groups, read once by probe().
std::vector<gid_t> &own_groups()
{
	static std::vector<gid_t> g;
	return g;
}

bool get_caps(__user_cap_data_struct (&d)[2])
{
	__user_cap_header_struct h{};
	h.version = _LINUX_CAPABILITY_VERSION_3;
	h.pid = 0;
	return ::syscall(SYS_capget, &h, d) == 0;
}

bool has_cap(const __user_cap_data_struct (&d)[2], unsigned cap)
{
	return d[cap / 32].effective & (1u << (cap % 32));
}

// Filesystem capabilities (the kernel's CAP_FS_SET) leave this thread's
// effective set; the kernel gives them back from the permitted set while
// the thread's fsuid is 0.
void drop_fs_caps_once()
{
	thread_local bool dropped = false;
	if (dropped)
		return;
	dropped = true;
	__user_cap_data_struct d[2]{};
	if (!get_caps(d))
		return;
	for (unsigned cap : {CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER,
			     CAP_FSETID, CAP_MKNOD, CAP_LINUX_IMMUTABLE, CAP_MAC_OVERRIDE})
		d[cap / 32].effective &= ~(1u << (cap % 32));
	__user_cap_header_struct h{};
	h.version = _LINUX_CAPABILITY_VERSION_3;
	if (::syscall(SYS_capset, &h, d) != 0)
		LOG_ERR("capset: %s", std::strerror(errno));
}

// Per thread (the raw system call, not glibc's process-wide wrapper).
int set_groups(std::size_t n, const gid_t *g)
{
	return ::syscall(SYS_setgroups, n, g) == 0 ? 0 : errno;
}

}  // namespace

const char *squash_name(Squash s)
{
	switch (s) {
	case Squash::kRoot:
		return "root";
	case Squash::kAll:
		return "all";
	case Squash::kNone:
		return "none";
	}
	return "?";
}

Ids map_cred(const proto::FsCred &c, const ExportOptions &o)
{
	Ids ids;
	if (o.squash == Squash::kAll) {
		ids.uid = o.anon_uid;
		ids.gid = o.anon_gid;
		return ids;
	}
	const bool root = o.squash == Squash::kRoot;
	auto gid = [&](std::uint32_t g) { return root && g == 0 ? o.anon_gid : g; };
	ids.uid = root && c.uid == 0 ? o.anon_uid : c.uid;
	ids.gid = gid(c.gid);
	ids.ngroups = std::min<unsigned>(c.ngroups, proto::kFsNgroups);
	for (unsigned i = 0; i < ids.ngroups; i++)
		ids.groups[i] = gid(c.groups[i]);
	return ids;
}

std::string ids_key(const Ids &ids)
{
	std::string k;
	auto put = [&k](std::uint32_t v) { k.append(reinterpret_cast<const char *>(&v), 4); };
	put(ids.uid);
	put(ids.gid);
	for (unsigned i = 0; i < ids.ngroups; i++)
		put(ids.groups[i]);
	return k;
}

CredAbility CredAbility::probe()
{
	CredAbility a;
	a.own_uid = ::geteuid();
	a.own_gid = ::getegid();
	__user_cap_data_struct d[2]{};
	a.can_switch = get_caps(d) && has_cap(d, CAP_SETUID) && has_cap(d, CAP_SETGID);
	int n = ::getgroups(0, nullptr);
	std::vector<gid_t> g(n > 0 ? static_cast<std::size_t>(n) : 0);
	if (n > 0 && ::getgroups(n, g.data()) != n)
		g.clear();
	own_groups() = std::move(g);
	return a;
}

ActAs::ActAs(const CredAbility &a, const Ids &ids) : a_(a), ids_(ids)
{
	if (!a_.can_switch)
		return;
	if (a_.own_uid != 0)
		drop_fs_caps_once();
	apply();
}

ActAs::~ActAs()
{
	restore();
}

void ActAs::apply()
{
	if (!a_.can_switch)
		return;
	switched_ = true;
	// Groups and fsgid first: nothing is checked against them until the
	// fsuid changes too (and a failure leaves the daemon's fsuid, which
	// ok() then refuses to act with).
	int err = set_groups(ids_.ngroups, ids_.groups.data());
	::setfsgid(ids_.gid);
	::setfsuid(ids_.uid);
	// setfsuid and setfsgid return the previous id, whether or not they
	// changed it: ask again (an invalid id changes nothing).
	const bool took = static_cast<uid_t>(::setfsuid(static_cast<uid_t>(-1))) == ids_.uid &&
			  static_cast<gid_t>(::setfsgid(static_cast<gid_t>(-1))) == ids_.gid;
	ok_ = !err && took;
	if (!ok_)
		LOG_ERR_RL("cannot act as uid %u gid %u: %s", ids_.uid, ids_.gid,
			   err ? std::strerror(err) : "setfsuid/setfsgid refused");
}

void ActAs::restore()
{
	if (!switched_)
		return;
	switched_ = false;
	::setfsuid(a_.own_uid);
	::setfsgid(a_.own_gid);
	const auto &g = own_groups();
	if (int err = set_groups(g.size(), g.data()))
		LOG_ERR_RL("cannot restore our groups: %s", std::strerror(err));
}

}  // namespace disagg::stord
