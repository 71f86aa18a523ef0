// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// State of one client connection.
#pragma once

#include "clock.hpp"
#include "proto.hpp"
#include "transport.hpp"

#include <cstdint>
#include <map>
#include <string>

namespace disagg::memd {

struct Session {
	ConnId conn = 0;
	std::string peer;	// "addr:port"
	TimePoint connected_at{};
	TimePoint last_rx{};	// any frame received
	TimePoint last_probe{};	// last HEARTBEAT sent
	bool closing = false;	// close() called; ignore further frames

	// From the hello.
	bool hello_done = false;
	proto::Role role = proto::Role::kCtl;
	std::uint64_t client_id = 0;
	std::string name;	// raw bytes from the network: escape to log
	proto::Negotiated neg;
	// This session speaks for client_id's slabs (swap role, not
	// superseded by a newer connection with the same id, no BYE yet).
	bool owns_slabs = false;

	// Slabs attached to this connection, with their keys on it. Only
	// these may be read or written through it.
	std::map<std::uint64_t, RemoteKey> slabs;

	std::string label() const;	// for logs
};

}  // namespace disagg::memd
