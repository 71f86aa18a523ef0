// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// The memory node's protocol logic, independent of the transport:
// ServiceBase (daemons/lib: framing checks, handshake, HEARTBEAT, BYE,
// STATUS, timers) plus the memory node's own parts, one file per concern:
//   service.cpp    dispatch, disconnects, grace-period expiry
//   op_hello.cpp   HELLO: which roles are welcome, client identity
//   op_mem.cpp     MEM_INFO, MEM_ALLOC, MEM_FREE
//   op_evict.cpp   MEM_RESIZE, and MEM_EVICT while over capacity
//   op_rw.cpp      MEM_READ, MEM_WRITE
//   op_status.cpp  STATUS (JSON)
//   quota.cpp      --client-quota: slab bytes per identity
#pragma once

#include "proto.hpp"
#include "service_util.hpp"
#include "mem_session.hpp"
#include "service_base.hpp"
#include "slab_pool.hpp"
#include "transport.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <utility>
#include <string>

namespace disagg::memd {

// Largest capacity MEM_RESIZE takes (2^50 bytes).
inline constexpr std::uint64_t kMaxCapacity = 1ull << 50;

class MemService final : public ServiceBase<Session> {
public:
	MemService(Transport &transport, SlabPool &pool, ServiceOptions opt);

	proto::MemInfo info() const;
	// The slab pool's owner number of (identity, client_id), 0 if none.
	std::uint64_t owner_id(const std::string &identity, std::uint64_t client_id) const
	{
		auto it = owner_no_.find(OwnerKey{identity, client_id});
		return it == owner_no_.end() ? 0 : it->second;
	}
	// Slab bytes one identity may hold; 0 (the default): no quota.
	void set_client_quota(std::uint64_t bytes) { client_quota_ = bytes; }
	// How long a client has to release a slab asked for with MEM_EVICT
	// before it is asked again.
	void set_evict_grace(Duration d) { evict_grace_ = d; }
	// Slabs asked for (or about to be) while over capacity, and their bytes.
	std::size_t evicting() const { return evicting_.size(); }
	std::uint64_t evicting_bytes() const;
	// ... of which the client said it will release them (answered 0).
	std::size_t evicting_acked() const;
	bool is_evicting(std::uint64_t slab_id) const { return evicting_.contains(slab_id); }
	// Slab bytes @identity holds over all its client ids (grace-period
	// slabs included).
	std::uint64_t identity_used(const std::string &identity) const;
	// Status as JSON; at most @max_bytes long (details are dropped to fit);
	// only @viewer's own sessions and slabs unless it is nullptr (admin).
	std::string status_json(std::size_t max_bytes = proto::kMaxPayload,
				const Session *viewer = nullptr) const override;

private:
	// Storage-node opcodes are not ours, whatever their payload.
	std::uint32_t bad_message(const proto::Hdr &h, proto::Errc e) override;
	void dispatch(Session &s, const proto::Message &m) override;
	// Slabs of a vanished client wait out their grace period.
	void closed(Session &s) override;
	void on_bye(Session &s) override { drop_slabs(s); }
	// Free slabs whose grace ended.
	void on_tick() override;
	// op_status.cpp: capacity, free and used bytes, slabs, eviction.
	void metrics(MetricsText &t) const override;

	// op_hello.cpp
	std::uint32_t admit(Session &s, const proto::Hello &hello) override;
	void welcomed(Session &s) override;
	void take_over(Session &s);
	// op_mem.cpp
	void op_info(Session &s, const proto::Hdr &h);
	void op_alloc(Session &s, const proto::Hdr &h, const proto::MemAlloc &a);
	void op_free(Session &s, const proto::Hdr &h, const proto::MemFree &f);
	void drop_slabs(Session &s);
	// op_evict.cpp
	void op_resize(Session &s, const proto::Hdr &h, const proto::MemResize &r);
	// Forget released slabs; while over capacity pick slabs and ask their
	// owners. Cheap when there is nothing to do; called after anything
	// that frees, attaches or resizes, and every tick.
	void evict();
	void choose_victims();
	void ask_owners();
	void on_reply(Session &s, const PendingRequest &req, std::uint32_t status,
		      const proto::Message *m) override;
	// @owner's connection went away (closed or replaced).
	void evict_owner_gone(std::uint64_t owner);
	std::size_t evicting_of(std::uint64_t owner) const;
	// The live connection that speaks for @owner's slabs, or nullptr.
	Session *owner_session(std::uint64_t owner);
	// op_rw.cpp
	void op_read(Session &s, const proto::Hdr &h, const proto::MemRw &rw);
	void op_write(Session &s, const proto::Hdr &h, const proto::MemWrite &w);
	// Slab @id attached to this session, or nullptr.
	Slab *session_slab(Session &s, std::uint64_t id);
	// quota.cpp
	// Whether @s may have a new slab of @size: 0 or EDQUOT.
	std::uint32_t check_quota(const Session &s, std::uint64_t size) const;
	// "client_quota" and "identities": [{"identity","conns","used","quota"}]
	// (every identity for an admin, @viewer's own one else).
	void quota_json(Json &j, const Session *viewer) const;

	SlabPool &pool_;
	// The pool's owner number of (identity, client_id), assigned on first
	// use; forgotten once the owner has neither slabs nor a connection.
	std::uint64_t owner_of(const std::string &identity, std::uint64_t client_id);
	void forget_owner(std::uint64_t owner);
	void sweep_owners();	// forget_owner() on all
	// owner -> the connection that owns its slabs.
	std::map<std::uint64_t, ConnId> owners_;
	// (identity, client_id) <-> owner number. An owner's identity is what
	// its slabs count against for the quota.
	using OwnerKey = std::pair<std::string, std::uint64_t>;
	std::map<OwnerKey, std::uint64_t> owner_no_;
	std::map<std::uint64_t, OwnerKey> owner_key_;
	std::uint64_t next_owner_ = 1;
	std::uint64_t client_quota_ = 0;

	// A slab the node wants back (op_evict.cpp).
	struct Eviction {
		std::uint64_t owner = 0;
		std::uint64_t size = 0;
		unsigned asks = 0;		// MEM_EVICTs sent
		TimePoint first_ask{};
		TimePoint next_ask{};		// not before; {}: as soon as possible
		bool in_flight = false;		// its reply is awaited
		bool acked = false;		// answered 0 (will be released)
		std::uint32_t refused = 0;	// the last answer's errno, 0 none
	};
	std::map<std::uint64_t, Eviction> evicting_;	// by slab id
	Duration evict_grace_ = std::chrono::seconds(30);	// --evict-grace
};

}  // namespace disagg::memd
