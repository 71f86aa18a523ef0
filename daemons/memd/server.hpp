// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// disagg-memd put together: event loop, transport, slab pool and protocol
// service, with a once-a-second tick and an orderly shutdown. Usable
// in-process (tests run it on a thread and call request_stop()).
#pragma once

#include "clock.hpp"
#include "config.hpp"
#include "event_loop.hpp"
#include "service.hpp"
#include "slab_pool.hpp"
#include "transport.hpp"

#include <atomic>
#include <memory>
#include <string>

namespace disagg::memd {

class Server {
public:
	// How long shutdown waits for clients to take their BYE and go.
	static constexpr std::chrono::seconds kDrainTimeout{5};

	explicit Server(const Config &cfg, const Clock &clock = default_clock());
	~Server();

	// Create the transport and listen. False and @err on failure.
	bool start(std::string &err);
	// Serve until request_stop(), then say BYE to every client, close,
	// withdraw all keys and free all memory.
	void run();
	// Thread-safe; a second call while shutting down skips the drain.
	void request_stop();

	EventLoop &loop() { return loop_; }
	std::uint16_t port() const;
	std::string address() const;

	static const Clock &default_clock();

private:

	const Config cfg_;
	const Clock &clock_;
	EventLoop loop_;
	std::unique_ptr<SlabPool> pool_;
	std::unique_ptr<Transport> transport_;
	std::unique_ptr<MemService> service_;
	std::atomic<int> stop_requests_{0};
};

}  // namespace disagg::memd
