// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// Counting connections per source address, for the transports' per-address
// limit (TransportLimits::max_conns_per_addr). The key is the address
// without the port, as sockaddr_host() prints it: one IPv4 address or one
// IPv6 address (not a prefix: hosts of a datacenter /64 are not lumped
// together). Not thread-safe: the event loop is the only user.
#pragma once

#include <sys/socket.h>

#include <map>
#include <string>

namespace disagg {

// The address of @sa without the port: "198.18.0.1", "fd00::1"; "?" for
// other families.
std::string sockaddr_host(const ::sockaddr *sa);

class AddrCount {
public:
	// @max: connections per address; 0: no limit.
	explicit AddrCount(unsigned max = 0) : max_(max) {}
	void set_max(unsigned max) { max_ = max; }
	unsigned max() const { return max_; }

	// Count one more connection from @addr: false (and nothing counted)
	// when it has max already.
	bool acquire(const std::string &addr)
	{
		unsigned &n = count_[addr];
		if (max_ && n >= max_) {
			if (n == 0)
				count_.erase(addr);
			return false;
		}
		n++;
		return true;
	}
	// One connection from @addr is gone (each acquire() once).
	void release(const std::string &addr)
	{
		auto it = count_.find(addr);
		if (it != count_.end() && --it->second == 0)
			count_.erase(it);
	}
	unsigned count(const std::string &addr) const
	{
		auto it = count_.find(addr);
		return it == count_.end() ? 0 : it->second;
	}
	// Addresses with connections (the map never keeps zeros).
	std::size_t addresses() const { return count_.size(); }

private:
	unsigned max_;
	std::map<std::string, unsigned> count_;
};

}  // namespace disagg
