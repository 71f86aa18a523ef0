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

	// From the hello.
	bool hello_done = false;
	proto::Role role = proto::Role::kCtl;
	std::uint64_t client_id = 0;
	std::string name;	// raw bytes from the network: escape to log
	proto::Negotiated neg;

	// Who the peer is: the key name it authenticated with; "" on a daemon
	// without keys (anonymous).
	std::string identity;
	// Counted against the per-identity connection limit (admit_identity()).
	bool identity_admitted = false;

	std::string label() const;	// for logs
};

}  // namespace disagg
