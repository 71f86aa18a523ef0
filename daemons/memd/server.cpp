// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "server.hpp"

#include "log.hpp"
#include "service_util.hpp"

namespace disagg::memd {

const Clock &Server::default_clock()
{
	static SteadyClock clock;
	return clock;
}

Server::Server(const Config &cfg, const Clock &clock) : cfg_(cfg), clock_(clock) {}

Server::~Server()
{
	registrar_.reset();
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
	if (!listen(cfg_, err) || !start_metrics(cfg_, "disagg_memd_", err))
		return false;
	publish_stats();
	tick_hook_ = [this] { publish_stats(); };
	err = start_registry();
	return err.empty();
}

void Server::publish_stats()
{
	NodeStats st{pool_->capacity(), pool_->free_bytes(), pool_->slab_count(),
		     std::chrono::steady_clock::now()};
	std::lock_guard<std::mutex> g(stats_lock_);
	stats_ = st;
}

std::string Server::start_registry()
{
	if (cfg_.registry.empty())
		return {};
	registry::NodeRecord r;
	r.name = cfg_.registry_name;
	r.addr = cfg_.advertise;
	r.port = port();
	r.transports = {to_string(cfg_.transport)};
	r.server_id = hex64(service_->server_id());
	r.labels = cfg_.labels;
	Registrar::Options o;
	o.endpoints = cfg_.registry;
	o.prefix = cfg_.registry_prefix;
	o.ttl_s = cfg_.registry_ttl_sec;
	o.drain_timeout_s = cfg_.drain_timeout_sec;
	registrar_ = std::make_unique<Registrar>(o, std::move(r), [this] {
		std::lock_guard<std::mutex> g(stats_lock_);
		return stats_;
	});
	registrar_->start();
	return {};
}

bool Server::drain()
{
	return registrar_ && registrar_->drain([this] { request_stop(); });
}

void Server::run()
{
	serve_clients();
	// Out of the registry (the lease revoked) before the memory goes.
	registrar_.reset();
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
