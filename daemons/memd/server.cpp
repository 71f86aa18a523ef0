// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "server.hpp"

#include "log.hpp"

namespace disagg::memd {

const Clock &Server::default_clock()
{
	static SteadyClock clock;
	return clock;
}

Server::Server(const Config &cfg, const Clock &clock) : cfg_(cfg), clock_(clock) {}

Server::~Server()
{
	// Keys (memory regions) go before the memory they cover.
	service_.reset();
	transport_.reset();
	pool_.reset();
}

bool Server::start(std::string &err)
{
	if (!check_loop(err) || !load_keys(cfg_, err))
		return false;
	pool_ = std::make_unique<SlabPool>(cfg_.capacity, cfg_.slab_size, clock_,
					   std::chrono::seconds(cfg_.grace_sec));
	make_transport(cfg_, kRdmaMaxFrame);
	service_ = std::make_unique<MemService>(*transport_, *pool_, service_options(cfg_));
	service_->set_client_quota(cfg_.client_quota);
	service_->set_evict_grace(std::chrono::seconds(cfg_.evict_grace_sec));
	return listen(cfg_, err) && start_metrics(cfg_, "disagg_memd_", err);
}

void Server::run()
{
	serve_clients();
	const std::size_t slabs = pool_->slab_count();
	const std::uint64_t bytes = pool_->used();
	// Every key is withdrawn (the connections are gone); free the memory.
	service_.reset();
	transport_.reset();
	pool_->clear();
	LOG_INFO("freed %zu slabs (%llu MiB); exiting", slabs,
		 static_cast<unsigned long long>(bytes >> 20));
}

}  // namespace disagg::memd
