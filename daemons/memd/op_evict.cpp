// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// MEM_RESIZE, and taking memory back from clients with MEM_EVICT.
//
// An admin may change the node's capacity at runtime (MEM_RESIZE; SIGHUP
// reloads only the keys). Growing takes effect at once. Shrinking below
// what clients hold puts the node over capacity: MEM_ALLOC of a new slab
// gets ENOSPC (resuming a held tag still works), and the node picks slabs
// whose release would bring it back within capacity and asks each one's
// owner for it with MEM_EVICT {slab_id}. The client answers at once (0: it
// will give the slab back; ENOENT: not its own), moves the data elsewhere
// and releases the slab with an ordinary MEM_FREE. Only that MEM_FREE (or
// the client's BYE, or its grace period running out after it vanished)
// frees the memory: memd never takes a slab back by force, so a client's
// data is never lost behind its back.
//
// Which slabs: first slabs whose owner is disconnected (they are freed at
// the end of its grace period anyway, or asked for as soon as the owner
// is back and has asked for the slab again), newest first; then, one at a
// time, the newest slab of the client holding the most bytes not asked for
// yet. Newest, because a swap device takes slabs as it fills, so its
// newest holds the fewest pages to move; the biggest holder first, so the
// work and the lost remote memory are spread over clients in proportion
// to what they hold. Slabs are asked for only while the node is over
// capacity, and only enough to get back within it.
//
// Asking again: a slab not released --evict-grace seconds after its
// MEM_EVICT is asked for again (one rate-limited log line); a client that
// answers anything but 0 (ENOENT, EOPNOTSUPP from a client without
// eviction, a reply that does not decode, none within the reply timeout)
// keeps its slab, is logged (rate-limited) and asked again after the
// grace, and another slab is picked to make up for it. A client holds at
// most ServiceBase::kMaxPending requests of ours at a time; the rest wait
// for a tick. Once the node is within capacity again it forgets every
// eviction (clients that were asked release their slabs all the same).
#include "service.hpp"

#include "log.hpp"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <vector>

namespace disagg::memd {

using namespace proto;

namespace {

unsigned long long mib(std::uint64_t bytes)
{
	return static_cast<unsigned long long>(bytes >> 20);
}

}  // namespace

void MemService::op_resize(Session &s, const Hdr &h, const MemResize &r)
{
	if (!s.admin) {
		LOG_WARN_RL("%s: MEM_RESIZE refused: not an admin", s.label().c_str());
		return reply_error(s, h.opcode, h.req_id, EPERM);
	}
	const std::uint64_t slab = pool_.slab_size();
	if (r.capacity < slab || r.capacity % slab || r.capacity > kMaxCapacity) {
		LOG_WARN_RL("%s: MEM_RESIZE to %llu bytes refused: not a multiple of the slab size "
			    "(%llu) from one slab to 2^50", s.label().c_str(),
			    static_cast<unsigned long long>(r.capacity),
			    static_cast<unsigned long long>(slab));
		return reply_error(s, h.opcode, h.req_id, EINVAL);
	}
	const std::uint64_t old = pool_.capacity();
	pool_.set_capacity(r.capacity);
	LOG_INFO("%s: capacity %llu MiB -> %llu MiB; clients hold %llu MiB%s", s.label().c_str(),
		 mib(old), mib(r.capacity), mib(pool_.used()),
		 pool_.over_capacity() ? ": asking them for slabs back" : "");
	reply(s, h, Empty{});
	evict();
}

Session *MemService::owner_session(std::uint64_t owner)
{
	auto o = owners_.find(owner);
	if (o == owners_.end())
		return nullptr;
	auto it = sessions_.find(o->second);
	if (it == sessions_.end() || it->second.closing || !it->second.owns_slabs)
		return nullptr;
	return &it->second;
}

void MemService::evict()
{
	if (evicting_.empty() && !pool_.over_capacity())
		return;
	// Slabs that are gone: released (MEM_FREE, BYE) or expired.
	const std::size_t before = evicting_.size();
	std::erase_if(evicting_, [this](const auto &e) {
		return pool_.find(e.second.owner, e.first) == nullptr;
	});
	if (before != evicting_.size())
		LOG_DBG("%zu evicted slabs released", before - evicting_.size());
	if (!pool_.over_capacity()) {
		LOG_INFO("within capacity again: %llu of %llu MiB used", mib(pool_.used()),
			 mib(pool_.capacity()));
		evicting_.clear();
		return;
	}
	choose_victims();
	ask_owners();
}

void MemService::choose_victims()
{
	const std::uint64_t need = pool_.used() - pool_.capacity();
	std::uint64_t covered = 0;
	for (const auto &[id, e] : evicting_)
		if (!e.refused)
			covered += e.size;
	if (covered >= need)
		return;
	auto take = [&](const Slab &slab) {
		Eviction &e = evicting_[slab.id];
		e.owner = slab.owner;
		e.size = slab.size;
		covered += slab.size;
		LOG_DBG("evicting slab %llu (%llu MiB, owner %llu%s)",
			static_cast<unsigned long long>(slab.id), mib(slab.size),
			static_cast<unsigned long long>(slab.owner),
			slab.attached ? "" : ", disconnected");
	};
	// Candidates in id order: the back of each list is the newest.
	std::vector<const Slab *> detached;
	std::map<std::uint64_t, std::vector<const Slab *>> held;
	std::map<std::uint64_t, std::uint64_t> bytes;
	for (const auto &[id, slab] : pool_.slabs()) {
		if (evicting_.contains(id))
			continue;
		if (!slab.attached) {
			detached.push_back(&slab);
		} else {
			held[slab.owner].push_back(&slab);
			bytes[slab.owner] += slab.size;
		}
	}
	for (auto it = detached.rbegin(); it != detached.rend() && covered < need; ++it)
		take(**it);
	while (covered < need) {
		std::uint64_t most = 0, owner = 0;
		for (const auto &[o, b] : bytes)
			if (b > most) {
				most = b;
				owner = o;
			}
		if (!most)
			break;	// nothing left to ask for
		std::vector<const Slab *> &v = held[owner];
		const Slab &slab = *v.back();
		v.pop_back();
		bytes[owner] -= slab.size;
		take(slab);
	}
}

void MemService::ask_owners()
{
	const TimePoint now = clock_.now();
	for (auto &[id, e] : evicting_) {
		if (e.in_flight || now < e.next_ask)
			continue;
		// Only a connection that holds the slab (asked for it since it
		// connected) can be asked for it.
		Session *s = owner_session(e.owner);
		if (!s || !s->slabs.contains(id))
			continue;
		if (!send_request(*s, Op::kMemEvict, MemFree{id}, id))
			continue;	// its requests are full: next tick
		if (e.asks)
			LOG_WARN_RL("%s: slab %llu not released %lld s after its first MEM_EVICT; "
				    "asking again", s->label().c_str(),
				    static_cast<unsigned long long>(id),
				    static_cast<long long>(std::chrono::duration_cast<
					std::chrono::seconds>(now - e.first_ask).count()));
		else
			e.first_ask = now;
		e.asks++;
		e.in_flight = true;
		e.next_ask = now + evict_grace_;
	}
}

void MemService::on_reply(Session &s, const PendingRequest &req, std::uint32_t status,
			  const Message *)
{
	if (req.opcode != DG_OP_MEM_EVICT)
		return;
	auto it = evicting_.find(req.arg);
	if (it == evicting_.end() || !s.owns_slabs || it->second.owner != s.owner)
		return;	// released meanwhile, or the node is within capacity again
	Eviction &e = it->second;
	e.in_flight = false;
	if (status == 0) {
		LOG_DBG("%s: will release slab %llu", s.label().c_str(),
			static_cast<unsigned long long>(req.arg));
		e.acked = true;
		e.refused = 0;
		return;
	}
	LOG_WARN_RL("%s: MEM_EVICT of slab %llu answered %s%s; the slab stays until the client "
		    "releases it", s.label().c_str(), static_cast<unsigned long long>(req.arg),
		    std::strerror(static_cast<int>(status)),
		    status == EOPNOTSUPP ? " (a client without eviction)" : "");
	e.refused = status;
	evict();	// pick another slab in its place
}

void MemService::evict_owner_gone(std::uint64_t owner)
{
	// Its requests died with the connection: ask again as soon as the
	// owner is back and holds the slab.
	for (auto &[id, e] : evicting_)
		if (e.owner == owner) {
			e.in_flight = false;
			e.next_ask = {};
		}
}

std::size_t MemService::evicting_of(std::uint64_t owner) const
{
	std::size_t n = 0;
	for (const auto &[id, e] : evicting_)
		n += e.owner == owner;
	return n;
}

std::size_t MemService::evicting_acked() const
{
	std::size_t n = 0;
	for (const auto &[id, e] : evicting_)
		n += e.acked;
	return n;
}

std::uint64_t MemService::evicting_bytes() const
{
	std::uint64_t n = 0;
	for (const auto &[id, e] : evicting_)
		n += e.size;
	return n;
}

}  // namespace disagg::memd
