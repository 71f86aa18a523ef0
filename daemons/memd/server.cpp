// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "server.hpp"

#include "log.hpp"
#include "rdma_transport.hpp"
#include "serve.hpp"
#include "tcp_transport.hpp"


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
	if (!loop_.ok()) {
		err = "cannot create the event loop";
		return false;
	}
	pool_ = std::make_unique<SlabPool>(cfg_.capacity, cfg_.slab_size, clock_,
					   std::chrono::seconds(cfg_.grace_sec));
	if (cfg_.transport == TransportKind::kTcp)
		transport_ = std::make_unique<TcpTransport>(loop_, cfg_.max_clients);
	else
		transport_ = make_rdma_transport(loop_, cfg_.max_clients);
	ServiceOptions opt;
	opt.heartbeat_sec = cfg_.heartbeat_sec;
	service_ = std::make_unique<MemService>(*transport_, *pool_, opt);
	if (!transport_->listen(cfg_.listen_host, cfg_.listen_port, service_.get(), err))
		return false;
	service_->set_listen(transport_->local_address());
	return true;
}

std::uint16_t Server::port() const { return transport_ ? transport_->local_port() : 0; }
std::string Server::address() const
{
	return transport_ ? transport_->local_address() : std::string();
}

void Server::request_stop()
{
	stop_requests_++;
	loop_.wake();
}

void Server::run()
{
	serve(loop_, *transport_, stop_requests_,
	      [this] {
		      service_->tick();
		      transport_->tick();
	      },
	      [this] { service_->shutdown(); }, kDrainTimeout);
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
