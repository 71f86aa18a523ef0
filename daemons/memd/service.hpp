// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// The memory node's protocol logic, independent of the transport:
// ServiceBase (daemons/lib: framing checks, handshake, HEARTBEAT, BYE,
// STATUS, timers) plus the memory node's own parts, one file per concern:
//   service.cpp    dispatch, disconnects, grace-period expiry
//   op_hello.cpp   HELLO: which roles are welcome, client identity
//   op_mem.cpp     MEM_INFO, MEM_ALLOC, MEM_FREE
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

#include <cstdint>
#include <map>
#include <string>

namespace disagg::memd {

class MemService final : public ServiceBase<Session> {
public:
	MemService(Transport &transport, SlabPool &pool, ServiceOptions opt);

	proto::MemInfo info() const;
	// Slab bytes one identity may hold; 0 (the default): no quota.
	void set_client_quota(std::uint64_t bytes) { client_quota_ = bytes; }
	// Slab bytes @identity holds (grace-period slabs included).
	std::uint64_t identity_used(const std::string &identity) const;
	// Status as JSON; at most @max_bytes long (details are dropped to fit).
	std::string status_json(std::size_t max_bytes = proto::kMaxPayload) const override;

private:
	// Storage-node opcodes are not ours, whatever their payload.
	std::uint32_t bad_message(const proto::Hdr &h, proto::Errc e) override;
	void dispatch(Session &s, const proto::Message &m) override;
	// Slabs of a vanished client wait out their grace period.
	void closed(Session &s) override;
	void on_bye(Session &s) override { drop_slabs(s); }
	// Free slabs whose grace ended.
	void on_tick() override;

	// op_hello.cpp
	std::uint32_t admit(Session &s, const proto::Hello &hello) override;
	void welcomed(Session &s) override;
	void take_over(Session &s);
	// op_mem.cpp
	void op_info(Session &s, const proto::Hdr &h);
	void op_alloc(Session &s, const proto::Hdr &h, const proto::MemAlloc &a);
	void op_free(Session &s, const proto::Hdr &h, const proto::MemFree &f);
	void drop_slabs(Session &s);
	// op_rw.cpp
	void op_read(Session &s, const proto::Hdr &h, const proto::MemRw &rw);
	void op_write(Session &s, const proto::Hdr &h, const proto::MemWrite &w);
	// Slab @id attached to this session, or nullptr.
	Slab *session_slab(Session &s, std::uint64_t id);
	// quota.cpp
	// Whether @s may have a new slab of @size: 0 or EDQUOT.
	std::uint32_t check_quota(const Session &s, std::uint64_t size) const;
	// "client_quota" and "identities": [{"identity","conns","used","quota"}].
	void quota_json(JsonWriter &j) const;
	// Forget owners with no slabs and no connection.
	void prune_owner_identities();

	SlabPool &pool_;
	// client_id -> the connection that owns its slabs.
	std::map<std::uint64_t, ConnId> owners_;
	// client_id -> the identity its slabs count against (of the last
	// connection that owned them); pruned once it has none.
	std::map<std::uint64_t, std::string> owner_identity_;
	std::uint64_t client_quota_ = 0;
};

}  // namespace disagg::memd
