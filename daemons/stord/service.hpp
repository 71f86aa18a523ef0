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

#include <deque>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace disagg::stord {

// Staging buffers for one-sided file data: mapped once per session, at
// its first READ or WRITE with segments, and registered with the
// transport (bulk_register()). Shared with the jobs using it, so memory a
// worker still touches outlives a session that closed meanwhile.
struct Staging {
	explicit Staging(std::size_t len);
	~Staging();
	Staging(const Staging &) = delete;
	Staging &operator=(const Staging &) = delete;
	std::span<std::byte> slot(unsigned i) const;

	std::byte *mem = nullptr;	// nullptr: the mapping failed
	std::size_t len = 0;
};

// A READ or WRITE with segments: its fields as decoded, its strings copied,
// its segments checked. Waits for a staging slot in StorSession::waiting.
struct SegJob {
	proto::Hdr hdr;
	proto::FsReq fields;	// strings and data not set
	proto::Bytes strings;	// path, then name2
	std::size_t path_len = 0;
	proto::FsSegs segs;
	unsigned slot = 0;
};

struct StorSession : SessionBase {
	unsigned in_flight = 0;		// fs requests with the workers (or waiting for a slot)
	std::uint64_t requests = 0;	// fs requests answered
	std::uint64_t errors = 0;	// ... with an error
	// One-sided file data (DG_FEAT_RDMA_FS): kStagingSlots slots of
	// kFsRdmaIoMax bytes, the free ones, the requests using one (by
	// slot) and those waiting for one (oldest first).
	std::shared_ptr<Staging> staging;
	std::uint64_t staging_handle = 0;
	std::vector<unsigned> free_slots;
	std::map<unsigned, SegJob> active;
	std::deque<SegJob> waiting;
};

class StorService final : public ServiceBase<StorSession> {
public:
	static constexpr unsigned kMaxInFlight = 64;
	// Staging slots per session for one-sided file data, kFsRdmaIoMax each.
	static constexpr unsigned kStagingSlots = 4;

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
	std::uint64_t rdma_write_bytes() const { return rdma_write_bytes_; }
	std::uint64_t rdma_read_bytes() const { return rdma_read_bytes_; }
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
	// The reply to a request reaches the transport: counters, then send.
	void answer(ConnId c, JobResult reply, const std::uint32_t *invalidate = nullptr);

	// One-sided file data (DG_FS_IO_SEGS), see service.cpp.
	void dispatch_segs(StorSession &s, const proto::Message &m);
	bool setup_staging(StorSession &s);
	void start_segs(StorSession &s, SegJob job);
	void submit_segs(StorSession &s, unsigned slot);
	void segs_finished(StorSession &s, unsigned slot, JobResult reply,
			   std::uint32_t io_bytes);
	void segs_answer(ConnId c, unsigned slot, JobResult reply);
	void release_slot(StorSession &s, unsigned slot);

	FsOps &ops_;
	const FdCache &cache_;
	const std::string root_;
	std::uint64_t requests_ = 0, errors_ = 0, busy_ = 0;
	// Bytes of file data moved by RDMA WRITE (READs) and RDMA READ (WRITEs).
	std::uint64_t rdma_write_bytes_ = 0, rdma_read_bytes_ = 0;
	std::uint64_t staging_failures_ = 0;	// sessions refused their staging
	unsigned max_in_flight_ = kMaxInFlight;
	std::unique_ptr<WorkerPool> pool_;	// last: stops before the rest
};

}  // namespace disagg::stord
