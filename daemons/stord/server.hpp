// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// disagg-stord put together: the exported root, the fd cache, the file
// operations, a transport and the service with its worker pool. Usable
// in-process (tests run it on a thread and call request_stop()).
#pragma once

#include "clock.hpp"
#include "config.hpp"
#include "event_loop.hpp"
#include "fd_cache.hpp"
#include "fs_ops.hpp"
#include "fs_root.hpp"
#include "service.hpp"
#include "transport.hpp"

#include <atomic>
#include <memory>
#include <string>

namespace disagg::stord {

class Server {
public:
	static constexpr std::chrono::seconds kDrainTimeout{5};

	explicit Server(const Config &cfg);
	~Server();

	// Open the root, create the transport and listen. False and @err.
	bool start(std::string &err);
	// Serve until request_stop(), then say BYE to every client and close.
	void run();
	// Thread-safe; a second call while shutting down skips the drain.
	void request_stop();

	EventLoop &loop() { return loop_; }
	std::uint16_t port() const;
	std::string address() const;
	FsOps &ops() { return *ops_; }
	FdCache &cache() { return *cache_; }

private:
	const Config cfg_;
	SteadyClock clock_;
	EventLoop loop_;
	FsRoot root_;
	std::unique_ptr<FdCache> cache_;
	std::unique_ptr<FsOps> ops_;
	std::unique_ptr<Transport> transport_;
	std::unique_ptr<StorService> service_;
	std::atomic<int> stop_requests_{0};
};

}  // namespace disagg::stord
