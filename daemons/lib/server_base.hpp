// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// What both daemons' Server classes share: the event loop, the transport,
// the protocol service (a ServiceBase) and the stop requests; creating the
// transport, listening, and serving until asked to stop. A Server derives
// from ServerBase<its service>, creates service_ in its start() and says in
// its destructor in which order things go.
#pragma once

#include "daemon_config.hpp"
#include "event_loop.hpp"
#include "rdma_transport.hpp"
#include "serve.hpp"
#include "service_base.hpp"
#include "tcp_transport.hpp"
#include "transport.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace disagg {

template <class Service>
class ServerBase {
public:
	// How long shutdown waits for clients to take their BYE and go.
	static constexpr std::chrono::seconds kDrainTimeout{5};

	// Thread-safe; a second call while shutting down skips the drain.
	void request_stop()
	{
		stop_requests_++;
		loop_.wake();
	}

	EventLoop &loop() { return loop_; }
	std::uint16_t port() const { return transport_ ? transport_->local_port() : 0; }
	std::string address() const
	{
		return transport_ ? transport_->local_address() : std::string();
	}

protected:
	ServerBase() = default;
	~ServerBase() = default;

	// False and @err when the event loop could not be created.
	bool check_loop(std::string &err)
	{
		if (loop_.ok())
			return true;
		err = "cannot create the event loop";
		return false;
	}

	// The transport @cfg asks for; @rdma_max_frame: the largest frame over
	// RDMA, header included.
	void make_transport(const DaemonConfig &cfg, std::size_t rdma_max_frame)
	{
		TransportLimits limits;
		limits.max_conns = cfg.max_clients;
		limits.max_conns_per_addr = cfg.max_conns_per_addr;
		limits.max_pinned = cfg.max_pinned;
		if (cfg.transport == TransportKind::kTcp)
			transport_ = std::make_unique<TcpTransport>(loop_, limits);
		else
			transport_ = make_rdma_transport(loop_, limits, rdma_max_frame);
	}

	static ServiceOptions service_options(const DaemonConfig &cfg)
	{
		ServiceOptions opt;
		opt.heartbeat_sec = cfg.heartbeat_sec;
		opt.idle_timeout_sec = cfg.idle_timeout_sec;
		opt.max_conns_per_identity = cfg.max_conns_per_identity;
		return opt;
	}

	// Listen where @cfg says, for service_. False and @err on failure.
	bool listen(const DaemonConfig &cfg, std::string &err)
	{
		if (!transport_->listen(cfg.listen_host, cfg.listen_port, service_.get(), err))
			return false;
		service_->set_listen(transport_->local_address());
		return true;
	}

	// serve() with the service's and the transport's ticks; returns once
	// every client has had its BYE.
	void serve_clients()
	{
		serve(loop_, *transport_, stop_requests_,
		      [this] {
			      service_->tick();
			      transport_->tick();
		      },
		      [this] { service_->shutdown(); }, kDrainTimeout);
	}

	EventLoop loop_;
	std::unique_ptr<Transport> transport_;
	std::unique_ptr<Service> service_;
	std::atomic<int> stop_requests_{0};
};

}  // namespace disagg
