// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// Dispatch, disconnects and grace-period expiry.
#include "service.hpp"

#include "log.hpp"

#include <cerrno>
#include <chrono>
#include <vector>

namespace disagg::memd {

using namespace proto;

MemService::MemService(Transport &transport, SlabPool &pool, ServiceOptions opt)
	: ServiceBase(transport, pool.clock(), opt), pool_(pool)
{
}

std::uint32_t MemService::bad_message(const Hdr &h, Errc e)
{
	return is_fs_op(h.opcode) ? EOPNOTSUPP : errno_of(e);
}

void MemService::closed(Session &s)
{
	// The transport has withdrawn every key of this connection.
	s.slabs.clear();
	if (!s.owns_slabs)
		return ServiceBase::closed(s);
	owners_.erase(s.owner);
	pool_.detach(s.owner);
	evict_owner_gone(s.owner);
	std::size_t n = pool_.slabs_of(s.owner).size();
	if (n)
		LOG_INFO_RL("%s: disconnected; its %zu slabs are kept for %lld s",
			    s.label().c_str(), n,
			    static_cast<long long>(std::chrono::duration_cast<
				std::chrono::seconds>(pool_.grace()).count()));
	else
		LOG_INFO_RL("%s: disconnected", s.label().c_str());
	forget_owner(s.owner);
	if (pool_.expire())
		sweep_owners();
	evict();
}

void MemService::dispatch(Session &s, const Message &m)
{
	const Hdr &h = m.hdr;
	switch (static_cast<Op>(h.opcode)) {
	case Op::kMemInfo:
		return op_info(s, h);
	case Op::kMemAlloc:
		return op_alloc(s, h, std::get<MemAlloc>(m.body));
	case Op::kMemFree:
		return op_free(s, h, std::get<MemFree>(m.body));
	case Op::kMemRead:
		return op_read(s, h, std::get<MemRw>(m.body));
	case Op::kMemWrite:
		return op_write(s, h, std::get<MemWrite>(m.body));
	case Op::kMemResize:
		return op_resize(s, h, std::get<MemResize>(m.body));
	default:	// MEM_EVICT (server to client), storage-node opcodes
		break;
	}
	reply_error(s, h.opcode, h.req_id, EOPNOTSUPP);
}

void MemService::on_tick()
{
	const std::uint64_t before = pool_.used();
	if (std::size_t n = pool_.expire(); n) {
		LOG_INFO("grace period over: freed %zu slabs (%llu MiB) of clients that did not return",
			 n, static_cast<unsigned long long>((before - pool_.used()) >> 20));
		sweep_owners();
	}
	evict();
}

void MemService::sweep_owners()
{
	std::vector<std::uint64_t> all;
	for (const auto &[owner, key] : owner_key_)
		all.push_back(owner);
	for (std::uint64_t o : all)
		forget_owner(o);
}

}  // namespace disagg::memd
