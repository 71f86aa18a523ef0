// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// What every daemon knows about one client connection. Daemons derive
// their own session types from it.
#pragma once

#include "clock.hpp"
#include "proto.hpp"
#include "transport.hpp"

#include <cstdint>
#include <map>
#include <string>

namespace disagg {

// A request the daemon sent to a client and whose reply it awaits
// (ServiceBase::send_request()).
struct PendingRequest {
	std::uint16_t opcode = 0;
	std::uint64_t arg = 0;	// the daemon's own, e.g. a slab id
	TimePoint sent{};
};

struct SessionBase {
	ConnId conn = 0;
	std::string peer;	// "addr:port"
	TimePoint connected_at{};
	TimePoint last_rx{};	// any frame received
	// Last request received (not a reply: answers to our probes do not
	// keep a connection from being idle).
	TimePoint last_request{};
	TimePoint last_probe{};	// last HEARTBEAT sent
	bool closing = false;	// close() called; ignore further frames

	// The handshake. hello_seen: HELLO accepted, AUTH still to come (a
	// daemon with keys). hello_done: the handshake is complete (HELLO, and
	// AUTH when required): the client may use the service.
	bool hello_seen = false;
	bool hello_done = false;
	proto::Role role = proto::Role::kCtl;
	std::uint64_t client_id = 0;
	std::string name;	// raw bytes from the network: escape to log
	proto::Negotiated neg;
	proto::Nonce client_nonce{};	// from the HELLO
	proto::Nonce server_nonce{};	// from our HELLO reply
	proto::Hello hello;		// the HELLO, for admit() (after AUTH with keys)

	// Who the client is: the key it authenticated with ("" on a daemon
	// without keys), and whether that key is marked admin (on an open
	// daemon: ctl clients are). Resources belong to (identity, client_id).
	std::string identity;
	bool admin = false;
	// Counted against the per-identity connection limit (admit_identity()).
	bool identity_admitted = false;

	// Our requests awaiting their reply, by req_id (bounded by
	// ServiceBase::kMaxPending).
	std::map<std::uint64_t, PendingRequest> pending;

	std::string label() const;	// for logs
};

}  // namespace disagg
