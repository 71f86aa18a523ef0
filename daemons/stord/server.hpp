// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// disagg-stord put together: the exported root, the fd cache, the file
// operations, a transport and the service with its worker pool. Usable
// in-process (tests run it on a thread and call request_stop()).
#pragma once

#include "clock.hpp"
#include "config.hpp"
#include "fd_cache.hpp"
#include "fs_ops.hpp"
#include "fs_root.hpp"
#include "server_base.hpp"
#include "service.hpp"

#include <memory>
#include <string>

namespace disagg::stord {

class Server : public ServerBase<StorService> {
public:
	explicit Server(const Config &cfg);
	~Server();

	// Open the root, create the transport and listen. False and @err.
	bool start(std::string &err);
	// Serve until request_stop(), then say BYE to every client and close.
	void run();

	FsOps &ops() { return *ops_; }
	FdCache &cache() { return *cache_; }

private:
	const Config cfg_;
	SteadyClock clock_;
	FsRoot root_;
	std::unique_ptr<FdCache> cache_;
	std::unique_ptr<FsOps> ops_;
};

}  // namespace disagg::stord
