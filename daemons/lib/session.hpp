// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// What every daemon knows about one client connection. Daemons derive
// their own session types from it.
#pragma once

#include "clock.hpp"
#include "proto.hpp"
#include "transport.hpp"

#include <cstdint>
#include <string>

namespace disagg {

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

	std::string label() const;	// for logs
};

}  // namespace disagg
