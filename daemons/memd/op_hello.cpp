// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// HELLO: protocol version and features, and who the client is.
//
// The minor is the lower of the two and the features the intersection of
// the client's, ours (DG_FEAT_RDMA on one-sided transports) and the known
// ones. A client of another major gets EPROTONOSUPPORT and is closed. Roles:
// swap clients allocate memory and must send a nonzero client_id (it is how
// a returning client gets its slabs back); ctl clients (tools, disaggctl)
// may only ask for MEM_INFO and STATUS; fs clients belong to disagg-stord.
//
// A swap client whose id already has a live connection replaces it: the
// old connection is most likely dead but not yet detected. The old one is
// closed, its keys withdrawn, and the client's slabs wait (with the grace
// deadline) for the new connection to ask for their tags again.
#include "service.hpp"

#include "log.hpp"

#include <cerrno>

namespace disagg::memd {

using namespace proto;

std::uint32_t MemService::admit(Session &s, const Hello &hello)
{
	if (hello.role == Role::kFs) {
		LOG_WARN_RL("%s: fs client at a memory node; closing", s.label().c_str());
		return EPROTONOSUPPORT;
	}
	if (hello.role == Role::kSwap && hello.client_id == 0) {
		LOG_WARN_RL("%s: swap client without a client_id; closing", s.label().c_str());
		return EINVAL;
	}
	return 0;
}

void MemService::welcomed(Session &s)
{
	if (s.role == Role::kSwap)
		take_over(s);
	std::size_t held = s.role == Role::kSwap ? pool_.slabs_of(s.client_id).size() : 0;
	if (s.role == Role::kCtl)
		LOG_DBG("%s: hello, role ctl", s.label().c_str());
	else
		LOG_INFO_RL("%s: hello, role %s, protocol %u.%u, features %#x%s%s",
			    s.label().c_str(), role_name(s.role), kMajor, s.neg.minor,
			    s.neg.features, held ? ", returning with slabs held: " : "",
			    held ? std::to_string(held).c_str() : "");
}

void MemService::take_over(Session &s)
{
	if (auto it = owners_.find(s.client_id); it != owners_.end()) {
		auto old = sessions_.find(it->second);
		if (old != sessions_.end()) {
			Session &o = old->second;
			LOG_INFO_RL("%s: replaces %s of the same client", s.label().c_str(),
				    o.label().c_str());
			for (auto &[id, key] : o.slabs)
				transport_.unexpose(o.conn, key);
			o.slabs.clear();
			o.owns_slabs = false;
			close(o);
		}
		pool_.detach(s.client_id);
	}
	owners_[s.client_id] = s.conn;
	owner_identity_[s.client_id] = s.identity;	// what its slabs count against
	s.owns_slabs = true;
}

}  // namespace disagg::memd
