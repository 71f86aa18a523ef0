// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// State of one client connection of the memory node.
#pragma once

#include "session.hpp"
#include "transport.hpp"

#include <cstdint>
#include <map>

namespace disagg::memd {

struct Session : SessionBase {
	// This session speaks for client_id's slabs (swap role, not
	// superseded by a newer connection with the same id, no BYE yet).
	bool owns_slabs = false;

	// Slabs attached to this connection, with their keys on it. Only
	// these may be read or written through it.
	std::map<std::uint64_t, RemoteKey> slabs;
};

}  // namespace disagg::memd
