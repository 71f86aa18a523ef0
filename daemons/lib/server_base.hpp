// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// What both daemons' Server classes share: the event loop, the transport,
// the protocol service (a ServiceBase) and the stop requests; creating the
// transport, listening, and serving until asked to stop. A Server derives
// from ServerBase<its service>, creates service_ in its start() and says in
// its destructor in which order things go.
#pragma once

#include "auth.hpp"
#include "daemon_config.hpp"
#include "event_loop.hpp"
#include "metrics_http.hpp"
#include "rdma_transport.hpp"
#include "serve.hpp"
#include "service_base.hpp"
#include "tcp_transport.hpp"
#include "transport.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
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

	// SIGHUP: read the key file again. A file that does not load (bad
	// line, permissions, gone) leaves the keys as they were; logged once
	// per attempt. Sessions already authenticated stay.
	void reload_keys()
	{
		if (!keys_) {
			LOG_INFO("SIGHUP: no --keys file to reload (the node is open to anyone)");
			return;
		}
		std::string err;
		if (keys_->load(keys_->path(), err))
			LOG_INFO("reloaded %zu keys from %s", keys_->size(), keys_->path().c_str());
		else
			LOG_ERR("cannot reload keys, keeping the %zu loaded before: %s",
				keys_->size(), err.c_str());
	}
	// The keys in force, or nullptr on an open daemon.
	const auth::KeyStore *keys() const { return keys_.get(); }
	std::uint16_t port() const { return transport_ ? transport_->local_port() : 0; }
	std::string address() const
	{
		return transport_ ? transport_->local_address() : std::string();
	}
	// The --metrics port (0: no --metrics).
	std::uint16_t metrics_port() const { return metrics_ ? metrics_->port() : 0; }

protected:
	ServerBase() = default;
	~ServerBase() = default;

	// Read cfg.keys_file (none: warn loudly that the node is open). False
	// and @err when it does not load.
	bool load_keys(const DaemonConfig &cfg, std::string &err)
	{
		if (cfg.keys_file.empty()) {
			LOG_WARN("WARNING: started without --keys: authentication is OFF and ANY host "
				 "that can reach this node can use it, read its status and take over "
				 "its clients' resources");
			return true;
		}
		keys_ = std::make_unique<auth::KeyStore>();
		if (!keys_->load(cfg.keys_file, err)) {
			err = "--keys: " + err;
			keys_.reset();
			return false;
		}
		LOG_INFO("authentication on: %zu keys from %s", keys_->size(),
			 cfg.keys_file.c_str());
		return true;
	}

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

	ServiceOptions service_options(const DaemonConfig &cfg) const
	{
		ServiceOptions opt;
		opt.heartbeat_sec = cfg.heartbeat_sec;
		opt.keys = keys_.get();
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

	// Serve --metrics (when @cfg has it) with service_'s metrics_text(),
	// names starting with @prefix. False and @err when it cannot listen.
	bool start_metrics(const DaemonConfig &cfg, std::string prefix, std::string &err)
	{
		if (cfg.metrics_host.empty())
			return true;
		metrics_ = std::make_unique<MetricsServer>(
			[this, prefix] { return render_metrics(prefix); });
		if (!metrics_->start(cfg.metrics_host, cfg.metrics_port, err)) {
			metrics_.reset();
			return false;
		}
		const bool v6 = cfg.metrics_host.find(':') != std::string::npos;
		LOG_INFO("metrics on http://%s%s%s:%u/metrics", v6 ? "[" : "",
			 cfg.metrics_host.c_str(), v6 ? "]" : "", metrics_->port());
		return true;
	}

	// serve() with the service's and the transport's ticks; returns once
	// every client has had its BYE. --metrics stops with it.
	void serve_clients()
	{
		serve(loop_, *transport_, stop_requests_,
		      [this] {
			      service_->tick();
			      transport_->tick();
			      if (tick_hook_)
				      tick_hook_();
		      },
		      [this] { service_->shutdown(); }, kDrainTimeout);
		metrics_.reset();
	}

	EventLoop loop_;
	std::unique_ptr<Transport> transport_;
	std::unique_ptr<Service> service_;
	std::unique_ptr<auth::KeyStore> keys_;	// null: open daemon
	std::atomic<int> stop_requests_{0};
	std::unique_ptr<MetricsServer> metrics_;	// goes first: it posts to loop_
	// Run on the loop's thread after each once-a-second tick, if set.
	std::function<void()> tick_hook_;

private:
	// On the metrics server's thread: the text, made on the loop's thread
	// (where the service lives), or nullopt when the loop does not get to
	// it in kMetricsWait (it is not running: starting or stopping).
	static constexpr std::chrono::seconds kMetricsWait{2};
	std::optional<std::string> render_metrics(const std::string &prefix)
	{
		struct Job {
			std::mutex lock;	// protects the fields below
			std::condition_variable cv;
			bool done = false;
			std::string text;
		};
		auto job = std::make_shared<Job>();
		loop_.post([this, job, prefix] {
			std::string t = service_ ? service_->metrics_text(prefix) : std::string();
			std::lock_guard<std::mutex> g(job->lock);
			job->text = std::move(t);
			job->done = true;
			job->cv.notify_all();
		});
		std::unique_lock<std::mutex> l(job->lock);
		if (!job->cv.wait_for(l, kMetricsWait, [&job] { return job->done; }) ||
		    job->text.empty())
			return std::nullopt;
		return std::move(job->text);
	}
};

}  // namespace disagg
