// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// MEM_INFO, MEM_ALLOC, MEM_FREE, and BYE's release of a client's slabs.
//
// MEM_ALLOC is idempotent per (identity, client_id, tag): a tag the client holds
// (from this connection, or from one that vanished less than --grace ago)
// returns the same slab with DG_SLAB_RESUMED and a key valid on this
// connection; otherwise a new zero-filled slab. Sizes: a page multiple up
// to the slab size MEM_INFO reports. Errors: EPERM (not a swap client),
// EINVAL, EEXIST (tag held with another size), EDQUOT (the identity's
// --client-quota, see quota.cpp), ENOSPC (capacity; always while the node
// is over a capacity MEM_RESIZE lowered, see op_evict.cpp), ENOMEM.
#include "service.hpp"

#include "log.hpp"

#include <cerrno>
#include <cstring>

namespace disagg::memd {

using namespace proto;

MemInfo MemService::info() const
{
	MemInfo m;
	m.capacity = pool_.capacity();
	m.free = pool_.free_bytes();
	m.slab_size = pool_.slab_size();
	m.nr_clients = nr_clients();
	return m;
}

void MemService::op_info(Session &s, const Hdr &h)
{
	reply(s, h, info());
}

Slab *MemService::session_slab(Session &s, std::uint64_t id)
{
	if (!s.owns_slabs || !s.slabs.contains(id))
		return nullptr;
	return pool_.find(s.owner, id);
}

void MemService::op_alloc(Session &s, const Hdr &h, const MemAlloc &a)
{
	if (!s.owns_slabs)
		return reply_error(s, h.opcode, h.req_id, EPERM);
	if (!pool_.holds(s.owner, a.tag))
		if (std::uint32_t err = check_quota(s, a.size))
			return reply_error(s, h.opcode, h.req_id, err);
	AllocOutcome r = pool_.alloc(s.owner, a.tag, a.size);
	if (r.err) {
		LOG_DBG("%s: alloc tag %llu size %llu: %s", s.label().c_str(),
			static_cast<unsigned long long>(a.tag),
			static_cast<unsigned long long>(a.size), std::strerror(r.err));
		return reply_error(s, h.opcode, h.req_id, static_cast<std::uint32_t>(r.err));
	}
	Slab &slab = *r.slab;
	auto known = s.slabs.find(slab.id);
	if (known == s.slabs.end()) {
		RemoteKey key;
		if (int err = transport_.expose(s.conn, {slab.mem, slab.size}, key)) {
			LOG_WARN_RL("%s: cannot expose slab %llu: %s", s.label().c_str(),
				    static_cast<unsigned long long>(slab.id), std::strerror(err));
			if (!r.resumed)
				(void)pool_.free(s.owner, slab.id);
			return reply_error(s, h.opcode, h.req_id, static_cast<std::uint32_t>(err));
		}
		known = s.slabs.emplace(slab.id, key).first;
	}
	MemSlab m;
	m.slab_id = slab.id;
	m.tag = slab.tag;
	m.addr = known->second.addr;
	m.size = slab.size;
	m.rkey = known->second.rkey;
	m.flags = r.resumed ? kSlabResumed : 0;
	LOG_DBG("%s: slab %llu tag %llu %s", s.label().c_str(),
		static_cast<unsigned long long>(slab.id),
		static_cast<unsigned long long>(slab.tag), r.resumed ? "resumed" : "new");
	reply(s, h, m);
	// A slab being evicted is asked for again once it is back.
	if (r.resumed)
		evict();
}

void MemService::op_free(Session &s, const Hdr &h, const MemFree &f)
{
	if (!s.owns_slabs)
		return reply_error(s, h.opcode, h.req_id, EPERM);
	// A detached slab (not asked for since a reconnect) may be freed too.
	if (!pool_.find(s.owner, f.slab_id))
		return reply_error(s, h.opcode, h.req_id, ENOENT);
	// Withdraw the key before the memory goes back to the kernel.
	if (auto it = s.slabs.find(f.slab_id); it != s.slabs.end()) {
		transport_.unexpose(s.conn, it->second);
		s.slabs.erase(it);
	}
	if (is_evicting(f.slab_id))
		LOG_INFO_RL("%s: released slab %llu after MEM_EVICT", s.label().c_str(),
			    static_cast<unsigned long long>(f.slab_id));
	(void)pool_.free(s.owner, f.slab_id);
	reply(s, h, Empty{});
	evict();
}

void MemService::drop_slabs(Session &s)
{
	if (!s.owns_slabs)
		return;
	for (auto &[id, key] : s.slabs)
		transport_.unexpose(s.conn, key);
	s.slabs.clear();
	std::size_t n = pool_.release(s.owner);
	owners_.erase(s.owner);
	s.owns_slabs = false;
	forget_owner(s.owner);
	if (n)
		LOG_INFO_RL("%s: said bye; freed its %zu slabs", s.label().c_str(), n);
	evict();
}

}  // namespace disagg::memd
