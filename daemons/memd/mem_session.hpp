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
	// This session speaks for its owner's slabs (swap role, not
	// superseded by a newer connection of the same owner, no BYE yet).
	bool owns_slabs = false;
	// The slab pool's number for (identity, client_id): who owns slabs.
	std::uint64_t owner = 0;

	// Slabs attached to this connection, with their keys on it. Only
	// these may be read or written through it.
	std::map<std::uint64_t, RemoteKey> slabs;
};

}  // namespace disagg::memd
