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
// Slabs belong to (identity, client_id): the key the client authenticated
// with (or "" on an open daemon) and the id from its hello. Another
// identity presenting the same id is another owner with a namespace of its
// own: it gets nothing of the first one's. A swap client whose owner
// already has a live connection replaces it: the old connection is most
// likely dead but not yet detected. The old one is closed, its keys
// withdrawn, and the client's slabs wait (with the grace deadline) for the
// new connection to ask for their tags again.
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
	std::size_t held = s.role == Role::kSwap ? pool_.slabs_of(s.owner).size() : 0;
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
	s.owner = owner_of(s.identity, s.client_id);
	if (auto it = owners_.find(s.owner); it != owners_.end()) {
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
		pool_.detach(s.owner);
		evict_owner_gone(s.owner);
	}
	owners_[s.owner] = s.conn;
	s.owns_slabs = true;
}

std::uint64_t MemService::owner_of(const std::string &identity, std::uint64_t client_id)
{
	auto [it, added] = owner_no_.try_emplace(OwnerKey{identity, client_id}, next_owner_);
	if (added) {
		owner_key_[next_owner_] = it->first;
		next_owner_++;
	}
	return it->second;
}

void MemService::forget_owner(std::uint64_t owner)
{
	if (owners_.contains(owner) || !pool_.slabs_of(owner).empty())
		return;
	if (auto it = owner_key_.find(owner); it != owner_key_.end()) {
		owner_no_.erase(it->second);
		owner_key_.erase(it);
	}
}

}  // namespace disagg::memd
