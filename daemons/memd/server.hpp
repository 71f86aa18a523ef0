// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// disagg-memd put together: event loop, transport, slab pool and protocol
// service, with a once-a-second tick and an orderly shutdown. Usable
// in-process (tests run it on a thread and call request_stop()).
#pragma once

#include "clock.hpp"
#include "config.hpp"
#include "registrar.hpp"
#include "server_base.hpp"
#include "service.hpp"
#include "slab_pool.hpp"

#include <memory>
#include <mutex>
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

	// SIGTERM with --registry: the record says "draining"; once no slab
	// is held (or --drain-timeout passed) the node leaves the registry
	// and stops as on request_stop(). False (nothing done) without
	// --registry or when already draining. Thread-safe.
	bool drain();
	// The registrar, nullptr without --registry (tests).
	const Registrar *registrar() const { return registrar_.get(); }

private:
	// The event loop's view for the registrar: updated on every tick.
	void publish_stats();
	std::string start_registry();

	mutable std::mutex stats_lock_;	// protects stats_
	NodeStats stats_;
	std::unique_ptr<Registrar> registrar_;

	const Config cfg_;
	const Clock &clock_;
	std::unique_ptr<SlabPool> pool_;
};

}  // namespace disagg::memd
