// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// Export options and acting with the caller's credentials.
//
// Every request carries its caller's fsuid, fsgid and up to DG_FS_NGROUPS
// supplementary groups (dg_fs_cred, like NFS's AUTH_SYS). The export
// options map them (root squashed to the anonymous ids by default), and
// the worker thread running the request takes the mapped ids as its own
// fsuid, fsgid and groups for the duration of the request: the storage
// host's permission checks, ownership of new files, set-group-ID
// directories and chown rules all apply as for a local process of that
// user. setfsuid(2), setfsgid(2) and the raw setgroups system call change
// only the calling thread (glibc's setgroups() would change every thread
// of the process, which is why it is not used).
//
// Capabilities: when a thread's fsuid leaves 0 the kernel drops the
// filesystem capabilities (CAP_CHOWN, CAP_DAC_OVERRIDE,
// CAP_DAC_READ_SEARCH, CAP_FOWNER, CAP_FSETID, CAP_MKNOD,
// CAP_LINUX_IMMUTABLE, CAP_MAC_OVERRIDE) from its effective set, and
// raises them again from the permitted set when it returns to 0. So a
// stord running as root checks a non-root caller exactly, and a root
// caller under --squash none gets root's rights. A stord running as
// another user needs CAP_SETUID and CAP_SETGID (plus, for --squash none,
// the filesystem capabilities above in its permitted set): each worker
// thread drops the filesystem capabilities from its effective set once,
// and the kernel raises them only while the thread acts for uid 0.
// Without CAP_SETUID and CAP_SETGID stord cannot switch at all: it says so
// at startup and every request acts as stord's own user.
//
// Capabilities outside that set (CAP_SYS_ADMIN for trusted.* xattrs,
// CAP_SETFCAP for security.capability, CAP_SYS_RESOURCE) stay: the export
// options refuse what they would allow (see ExportOptions).
#pragma once

#include "proto.hpp"

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <string>

namespace disagg::stord {

enum class Squash { kRoot, kAll, kNone };

inline constexpr std::uint32_t kDefaultAnonId = 65534;

struct ExportOptions {
	// kRoot: uid 0 becomes anon_uid and gid 0 (also among the groups)
	// anon_gid; kAll: everybody is anon_uid:anon_gid with no groups;
	// kNone: ids are taken as they come.
	Squash squash = Squash::kRoot;
	std::uint32_t anon_uid = kDefaultAnonId;
	std::uint32_t anon_gid = kDefaultAnonId;
	// MKNOD of character and block devices (else EPERM; FIFOs and
	// sockets are always fine).
	bool allow_devices = false;
	// Set-user-ID bits, and set-group-ID bits of anything but a directory,
	// in CREATE, MKDIR, MKNOD and SETATTR modes (else silently cleared,
	// as the kernel clears a set-group-ID bit a caller may not set).
	bool allow_setid = false;
	// Set, remove and see trusted.* and security.* extended attributes
	// (else EPERM to set or remove, ENODATA to get, left out of lists).
	bool allow_sys_xattrs = false;
	// Paths may cross into other filesystems mounted beneath the root
	// (else EXDEV, as openat2's RESOLVE_NO_XDEV).
	bool cross_mounts = false;
	// WRITE replies before its data is stable even when the client asks
	// for DG_FS_WRITE_SYNC (NFS's "async" export): a crash of the storage
	// host then loses data that fsync() or close() on a client reported
	// written. FSYNC still syncs. For scratch data and measurements.
	bool async = false;
};

const char *squash_name(Squash s);

// Mapped credentials of one request.
struct Ids {
	uid_t uid = 0;
	gid_t gid = 0;
	unsigned ngroups = 0;
	std::array<gid_t, proto::kFsNgroups> groups{};

	bool operator==(const Ids &) const = default;
};

Ids map_cred(const proto::FsCred &c, const ExportOptions &o);

// A short binary string naming @ids exactly, for keying caches.
std::string ids_key(const Ids &ids);

// What this process can do; probed once by the FsOps constructor.
struct CredAbility {
	bool can_switch = false;	// CAP_SETUID and CAP_SETGID effective
	uid_t own_uid = 0;		// our fsuid (= euid) and fsgid
	gid_t own_gid = 0;
	static CredAbility probe();
};

// Acts as @ids on this thread until destroyed (then back to the daemon's
// own fsuid, fsgid and groups). ok() is false when the switch did not
// take (the request must then fail with EPERM). Without can_switch it
// does nothing and ok() is true: every request acts as stord's user.
class ActAs {
public:
	ActAs(const CredAbility &a, const Ids &ids);
	~ActAs();
	ActAs(const ActAs &) = delete;
	ActAs &operator=(const ActAs &) = delete;

	bool ok() const { return ok_; }

	// Run @f with the daemon's own credentials for a moment (the owner
	// override of a READ or WRITE); back to the caller's afterwards.
	template <class F>
	auto as_daemon(F &&f)
	{
		restore();
		struct Again {
			ActAs &a;
			~Again() { a.apply(); }
		} again{*this};
		return f();
	}

private:
	void apply();
	void restore();

	const CredAbility &a_;
	const Ids ids_;
	bool switched_ = false;
	bool ok_ = true;
};

}  // namespace disagg::stord
