// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// disagg-memd put together: event loop, transport, slab pool and protocol
// service, with a once-a-second tick and an orderly shutdown. Usable
// in-process (tests run it on a thread and call request_stop()).
#pragma once

#include "clock.hpp"
#include "config.hpp"
#include "server_base.hpp"
#include "service.hpp"
#include "slab_pool.hpp"

#include <memory>
#include <string>

namespace disagg::memd {

class Server : public ServerBase<MemService> {
public:
	explicit Server(const Config &cfg, const Clock &clock = default_clock());
	~Server();

	// Create the transport and listen. False and @err on failure.
	bool start(std::string &err);
	// Serve until request_stop(), then say BYE to every client, close,
	// withdraw all keys and free all memory.
	void run();

	static const Clock &default_clock();

private:
	const Config cfg_;
	const Clock &clock_;
	std::unique_ptr<SlabPool> pool_;
};

}  // namespace disagg::memd
