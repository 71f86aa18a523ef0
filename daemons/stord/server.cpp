// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "server.hpp"

#include "log.hpp"
#include "rdma_transport.hpp"
#include "serve.hpp"
#include "tcp_transport.hpp"

namespace disagg::stord {

Server::Server(const Config &cfg) : cfg_(cfg) {}

Server::~Server()
{
	service_.reset();	// workers stop first
	transport_.reset();
}

bool Server::start(std::string &err)
{
	if (!loop_.ok()) {
		err = "cannot create the event loop";
		return false;
	}
	if (!root_.open(cfg_.root, err))
		return false;
	cache_ = std::make_unique<FdCache>(cfg_.fd_cache);
	ops_ = std::make_unique<FsOps>(root_, *cache_);
	if (cfg_.transport == TransportKind::kTcp)
		transport_ = std::make_unique<TcpTransport>(loop_, cfg_.max_clients);
	else
		transport_ = make_rdma_transport(loop_, cfg_.max_clients, proto::kFsMsgMax);
	ServiceOptions opt;
	opt.heartbeat_sec = cfg_.heartbeat_sec;
	service_ = std::make_unique<StorService>(*transport_, loop_, clock_, opt, *ops_, *cache_,
						 cfg_.root, cfg_.threads);
	if (!service_->ok()) {
		err = "cannot start the worker threads";
		return false;
	}
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
	LOG_INFO("served %llu requests (%llu errors); exiting",
		 static_cast<unsigned long long>(service_->requests()),
		 static_cast<unsigned long long>(service_->errors()));
}

}  // namespace disagg::stord
