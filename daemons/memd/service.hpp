// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// The memory node's protocol logic, independent of the transport: the
// handshake, MEM_INFO/ALLOC/FREE, MEM_READ/WRITE (transports without
// one-sided access), HEARTBEAT, BYE and STATUS. One file per concern:
//   service.cpp    connections, framing checks, dispatch, timers, shutdown
//   op_hello.cpp   HELLO: version and feature negotiation, client identity
//   op_mem.cpp     MEM_INFO, MEM_ALLOC, MEM_FREE
//   op_rw.cpp      MEM_READ, MEM_WRITE
//   op_status.cpp  STATUS (JSON)
//
// Every frame is decoded with the codec before anything looks at it. A
// framing error (the byte stream cannot be trusted) closes the connection;
// a protocol major we do not speak is answered with EPROTONOSUPPORT first.
// Any other bad message gets an error reply: EOPNOTSUPP for unknown
// opcodes, EINVAL for bad fields. Client ids and names are only logged
// escaped.
#pragma once

#include "clock.hpp"
#include "proto.hpp"
#include "service_util.hpp"
#include "session.hpp"
#include "slab_pool.hpp"
#include "transport.hpp"

#include <cstdint>
#include <map>
#include <string>

namespace disagg::memd {

struct ServiceOptions {
	// A client silent this long gets a HEARTBEAT (again every period). It
	// need not answer (the kernel client does not): the probe exists so
	// that a dead peer fails at the transport (RDMA retries exhausted, TCP
	// user timeout) and the connection is closed. 0: no probes.
	unsigned heartbeat_sec = 15;
	std::uint64_t server_id = 0;	// 0: pick a random one
};

class MemService final : public TransportEvents {
public:
	MemService(Transport &transport, SlabPool &pool, ServiceOptions opt);

	void on_connect(ConnId c, const std::string &peer) override;
	void on_message(ConnId c, proto::ByteSpan frame) override;
	void on_close(ConnId c) override;

	// A connection must finish the handshake this soon.
	static constexpr std::chrono::seconds kHelloTimeout{30};

	// Once a second or so: free slabs whose grace ended, probe silent
	// clients, close connections that never said hello.
	void tick();
	// Say BYE to every connection and close it. Slabs are kept until the
	// pool is destroyed.
	void shutdown();

	// The address the transport bound, for status output.
	void set_listen(std::string addr) { listen_ = std::move(addr); }
	std::uint64_t server_id() const { return server_id_; }
	proto::MemInfo info() const;
	// Connections that finished the handshake.
	std::uint32_t nr_clients() const;
	std::size_t nr_sessions() const { return sessions_.size(); }
	// Status as JSON; at most @max_bytes long (details are dropped to fit).
	std::string status_json(std::size_t max_bytes = proto::kMaxPayload) const;

private:
	void dispatch(Session &s, const proto::Message &m);
	void framing_error(Session &s, proto::ByteSpan frame, proto::Errc e);

	// op_hello.cpp
	void op_hello(Session &s, const proto::Hdr &h, const proto::Hello &hello);
	void take_over(Session &s);
	// op_mem.cpp
	void op_info(Session &s, const proto::Hdr &h);
	void op_alloc(Session &s, const proto::Hdr &h, const proto::MemAlloc &a);
	void op_free(Session &s, const proto::Hdr &h, const proto::MemFree &f);
	void drop_slabs(Session &s);
	// op_rw.cpp
	void op_read(Session &s, const proto::Hdr &h, const proto::MemRw &rw);
	void op_write(Session &s, const proto::Hdr &h, const proto::MemWrite &w);
	// op_status.cpp
	void op_status(Session &s, const proto::Hdr &h);

	void reply(Session &s, const proto::Hdr &req, const proto::Body &body);
	void reply_error(Session &s, std::uint16_t opcode, std::uint64_t req_id,
			 std::uint32_t status);
	void request(Session &s, proto::Op op);
	void close(Session &s);
	// Slab @id attached to this session, or nullptr.
	Slab *session_slab(Session &s, std::uint64_t id);

	Transport &transport_;
	SlabPool &pool_;
	const ServiceOptions opt_;
	const std::uint64_t server_id_;
	std::string listen_;
	std::uint64_t next_req_id_ = 1;	// for server-initiated requests
	std::map<ConnId, Session> sessions_;
	// client_id -> the connection that owns its slabs.
	std::map<std::uint64_t, ConnId> owners_;
};


}  // namespace disagg::memd
