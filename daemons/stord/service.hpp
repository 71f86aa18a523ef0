// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// The storage node's protocol logic: ServiceBase (handshake, heartbeats,
// BYE, STATUS) plus the fs opcodes, which run on the worker pool. The
// service keeps nothing per client that a request's meaning depends on;
// per session only counters and the number of requests in flight.
//
// Roles: fs clients may send every fs request; ctl clients (tools) only
// STATUS and HEARTBEAT (an fs request gets EPERM); swap clients belong to
// memd and are refused with EPROTONOSUPPORT. A client with max_in_flight()
// requests unanswered (kMaxInFlight unless --max-in-flight says less) gets
// EAGAIN for more: not carried out, the client sends them again.
#pragma once

#include "fs_ops.hpp"
#include "service_base.hpp"
#include "worker_pool.hpp"

#include <memory>
#include <string>

namespace disagg::stord {

struct StorSession : SessionBase {
	unsigned in_flight = 0;		// fs requests with the workers
	std::uint64_t requests = 0;	// fs requests answered
	std::uint64_t errors = 0;	// ... with an error
};

class StorService final : public ServiceBase<StorSession> {
public:
	static constexpr unsigned kMaxInFlight = 64;

	// @threads workers, at most @threads - 1 busy for one client (1 if
	// there is only one thread).
	StorService(Transport &transport, EventLoop &loop, const Clock &clock,
		    ServiceOptions opt, FsOps &ops, const FdCache &cache,
		    const std::string &root, unsigned threads);
	~StorService() override;

	bool ok() const { return pool_ && pool_->ok(); }
	std::string status_json(std::size_t max_bytes = proto::kMaxPayload,
				const StorSession *viewer = nullptr) const override;
	std::uint64_t requests() const { return requests_; }
	std::uint64_t errors() const { return errors_; }
	// Requests answered EAGAIN (busy) without running, not in requests().
	std::uint64_t busy_replies() const { return busy_; }
	// Requests one connection may have with the workers, 1..kMaxInFlight.
	void set_max_in_flight(unsigned n) { max_in_flight_ = n; }
	unsigned max_in_flight() const { return max_in_flight_; }

private:
	std::uint32_t admit(StorSession &s, const proto::Hello &hello) override;
	void welcomed(StorSession &s) override;
	bool busy(const StorSession &s) const override { return s.in_flight > 0; }
	// Worker threads, the fd cache, busy replies.
	void metrics(MetricsText &t) const override;
	void dispatch(StorSession &s, const proto::Message &m) override;
	void closed(StorSession &s) override;
	void finished(ConnId c, JobResult reply);

	FsOps &ops_;
	const FdCache &cache_;
	const std::string root_;
	std::uint64_t requests_ = 0, errors_ = 0, busy_ = 0;
	unsigned max_in_flight_ = kMaxInFlight;
	std::unique_ptr<WorkerPool> pool_;	// last: stops before the rest
};

}  // namespace disagg::stord
