// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "service.hpp"

#include "json.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>

namespace disagg::stord {

using namespace proto;

StorService::StorService(Transport &transport, EventLoop &loop, const Clock &clock,
			 ServiceOptions opt, FsOps &ops, const FdCache &cache,
			 const std::string &root, unsigned threads)
	: ServiceBase(transport, clock, opt), ops_(ops), cache_(cache), root_(root)
{
	pool_ = std::make_unique<WorkerPool>(
		loop, threads, threads > 1 ? threads - 1 : 1,
		[this](ConnId c, JobResult reply) { finished(c, std::move(reply)); });
}

StorService::~StorService()
{
	pool_.reset();	// joins the workers before anything they use goes
}

std::uint32_t StorService::admit(StorSession &s, const Hello &hello)
{
	if (hello.role == Role::kSwap) {
		LOG_WARN_RL("%s: swap client at a storage node; closing", s.label().c_str());
		return EPROTONOSUPPORT;
	}
	return 0;
}

void StorService::welcomed(StorSession &s)
{
	if (s.role == Role::kCtl)
		LOG_DBG("%s: hello, role ctl", s.label().c_str());
	else
		LOG_INFO_RL("%s: hello, role %s, protocol %u.%u, features %#x",
			    s.label().c_str(), role_name(s.role), kMajor, s.neg.minor,
			    s.neg.features);
}

void StorService::dispatch(StorSession &s, const Message &m)
{
	const Hdr &h = m.hdr;
	if (!is_fs_op(h.opcode))
		return reply_error(s, h.opcode, h.req_id, EOPNOTSUPP);
	if (s.role != Role::kFs)
		return reply_error(s, h.opcode, h.req_id, EPERM);
	if (s.in_flight >= max_in_flight_) {
		busy_++;
		return reply_error(s, h.opcode, h.req_id, EAGAIN);
	}
	const auto op = static_cast<Op>(h.opcode);
	if ((op == Op::kFsRead || op == Op::kFsWrite) &&
	    (std::get<FsReq>(m.body).flags & DG_FS_IO_SEGS))
		return dispatch_segs(s, m);
	// The request was decoded and checked once (ServiceBase); its
	// strings and data point into the transport's buffer, so the job
	// gets them copied into a buffer of its own, the fields as decoded.
	const FsReq &in = std::get<FsReq>(m.body);
	Bytes buf;
	buf.reserve(in.path.size() + in.name2.size() + in.data.size());
	auto append = [&buf](const void *src, std::size_t n) {
		const auto *b = static_cast<const std::byte *>(src);
		buf.insert(buf.end(), b, b + n);
	};
	append(in.path.data(), in.path.size());
	append(in.name2.data(), in.name2.size());
	append(in.data.data(), in.data.size());
	FsReq fields = in;	// spans re-pointed into buf by the job
	fields.path = {};
	fields.name2 = {};
	fields.data = {};
	s.in_flight++;
	const std::uint8_t minor = static_cast<std::uint8_t>(s.neg.minor);
	const std::uint32_t features = s.neg.features;
	pool_->submit(s.conn, [this, minor, features, hdr = h, fields, np = in.path.size(),
			       nn = in.name2.size(), buf = std::move(buf)]() {
		FsReq req = fields;
		const char *c = reinterpret_cast<const char *>(buf.data());
		req.path = {c, np};
		req.name2 = {c + np, nn};
		req.data = ByteSpan(buf).subspan(np + nn);
		FsDone d = ops_.run(hdr, minor, req, features);
		JobResult r;
		r.frame = std::move(d.frame);
		r.opcode = hdr.opcode | kReplyBit;
		r.status = d.status;
		r.req_id = hdr.req_id;
		return r;
	});
}

void StorService::finished(ConnId c, JobResult reply)
{
	if (reply.slot >= 0) {
		auto it = sessions_.find(c);
		if (it == sessions_.end())
			return answer(c, std::move(reply));	// gone: counted only
		const auto slot = static_cast<unsigned>(reply.slot);
		const std::uint32_t io = reply.io_bytes;
		return segs_finished(it->second, slot, std::move(reply), io);
	}
	answer(c, std::move(reply));
}

void StorService::answer(ConnId c, JobResult reply, const std::uint32_t *invalidate)
{
	// An empty frame: not even the error reply could be built.
	const bool failed = reply.status != 0 || reply.frame.empty();
	requests_++;
	errors_ += failed;
	req_metrics_.answered(c, reply.req_id, reply.opcode, reply.status, clock_.now());
	auto it = sessions_.find(c);
	if (it == sessions_.end())
		return;	// gone meanwhile
	StorSession &s = it->second;
	s.in_flight--;
	s.requests++;
	s.errors += failed;
	if (s.closing || reply.frame.empty())
		return;
	if (invalidate && !failed)
		transport_.send_invalidate(c, std::move(reply.frame), *invalidate);
	else
		transport_.send(c, std::move(reply.frame));
}

// ---- One-sided file data (DG_FEAT_RDMA_FS; proto.h, "One-sided file data")
//
// A READ or WRITE with DG_FS_IO_SEGS names client memory instead of
// carrying data. Its segments are checked once here (decode_fs_segs());
// it then needs one of the session's kStagingSlots staging slots (1 MiB,
// registered with the transport once per session) and waits in
// StorSession::waiting, in order, until one is free. Counted in in_flight
// from the start, so --max-in-flight bounds the waiting list too.
//   READ:  worker preads into the slot -> bulk(kToPeer) of the bytes read
//          -> reply (dg_fs_rdma_read_reply) -> slot free
//   WRITE: bulk(kFromPeer) into the slot -> worker pwrites from it
//          -> reply (dg_fs_write_reply) -> slot free
// A transfer that fails ends the connection in the transport; the session
// then goes with its slots, and the staging memory with the last job that
// holds it. A reply goes out with SEND with invalidate of the segments'
// rkey when the request asked for it (DG_FS_IO_INVALIDATE).

Staging::Staging(std::size_t n)
{
	void *p = ::mmap(nullptr, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p != MAP_FAILED) {
		mem = static_cast<std::byte *>(p);
		len = n;
	}
}

Staging::~Staging()
{
	if (mem)
		::munmap(mem, len);
}

std::span<std::byte> Staging::slot(unsigned i) const
{
	return {mem + static_cast<std::size_t>(i) * kFsRdmaIoMax, kFsRdmaIoMax};
}

bool StorService::setup_staging(StorSession &s)
{
	if (s.staging)
		return true;
	auto st = std::make_shared<Staging>(std::size_t{kStagingSlots} * kFsRdmaIoMax);
	int err = st->mem ? 0 : ENOMEM;
	std::uint64_t handle = 0;
	if (!err)
		err = transport_.bulk_register(s.conn, {st->mem, st->len}, handle);
	if (err) {
		staging_failures_++;
		LOG_WARN_RL("%s: no staging buffers for one-sided file data: %s",
			    s.label().c_str(), std::strerror(err));
		return false;
	}
	s.staging = std::move(st);
	s.staging_handle = handle;
	for (unsigned i = kStagingSlots; i-- > 0;)
		s.free_slots.push_back(i);
	return true;
}

void StorService::dispatch_segs(StorSession &s, const Message &m)
{
	const Hdr &h = m.hdr;
	const FsReq &in = std::get<FsReq>(m.body);
	// Only where it was agreed, which implies a one-sided transport.
	if (!(s.neg.features & kFeatRdmaFs) || !transport_.one_sided())
		return reply_error(s, h.opcode, h.req_id, EPROTO);
	Result<FsSegs> segs = decode_fs_segs(in);
	if (!segs)
		return reply_error(s, h.opcode, h.req_id, EINVAL);
	if (!setup_staging(s))
		return reply_error(s, h.opcode, h.req_id, ENOMEM);
	SegJob job;
	job.hdr = h;
	job.fields = in;
	job.fields.path = {};
	job.fields.name2 = {};
	job.fields.data = {};
	job.path_len = in.path.size();
	auto append = [&job](std::string_view v) {
		const auto *b = reinterpret_cast<const std::byte *>(v.data());
		job.strings.insert(job.strings.end(), b, b + v.size());
	};
	append(in.path);
	append(in.name2);
	job.segs = *segs;
	s.in_flight++;
	if (s.free_slots.empty()) {
		s.waiting.push_back(std::move(job));
		return;
	}
	start_segs(s, std::move(job));
}

void StorService::start_segs(StorSession &s, SegJob job)
{
	const unsigned slot = s.free_slots.back();
	s.free_slots.pop_back();
	job.slot = slot;
	const bool write = job.hdr.opcode == static_cast<std::uint16_t>(Op::kFsWrite);
	SegJob &j = s.active[slot] = std::move(job);
	if (!write)
		return submit_segs(s, slot);
	// Fetch the data first, then write it.
	std::vector<RemoteSeg> rs;
	for (const FsSeg &g : j.segs.view())
		rs.push_back(RemoteSeg{g.addr, g.len, g.rkey});
	const ConnId c = s.conn;
	const std::uint32_t total = j.segs.total;
	transport_.bulk(c, j.hdr.req_id, s.staging_handle, s.staging->slot(slot).first(total),
			BulkDir::kFromPeer, rs, [this, c, slot, total] {
				auto it = sessions_.find(c);
				if (it == sessions_.end())
					return;
				rdma_read_bytes_ += total;
				submit_segs(it->second, slot);
			});
	// False: the connection is closing, and the session goes with it.
}

void StorService::submit_segs(StorSession &s, unsigned slot)
{
	const SegJob &j = s.active.at(slot);
	const std::uint8_t minor = static_cast<std::uint8_t>(s.neg.minor);
	const std::uint32_t features = s.neg.features;
	pool_->submit(s.conn, [this, minor, features, hdr = j.hdr, fields = j.fields,
			       np = j.path_len, strings = j.strings, staging = s.staging, slot]() {
		FsReq req = fields;
		const char *c = reinterpret_cast<const char *>(strings.data());
		req.path = {c, np};
		req.name2 = {c + np, strings.size() - np};
		FsDone d = ops_.run(hdr, minor, req, features, staging->slot(slot));
		JobResult r;
		r.frame = std::move(d.frame);
		r.opcode = hdr.opcode | kReplyBit;
		r.status = d.status;
		r.req_id = hdr.req_id;
		r.slot = static_cast<int>(slot);
		r.io_bytes = d.io_bytes;
		return r;
	});
}

void StorService::segs_finished(StorSession &s, unsigned slot, JobResult reply,
				std::uint32_t io_bytes)
{
	auto it = s.active.find(slot);
	if (it == s.active.end())
		return answer(s.conn, std::move(reply));	// cannot happen
	const SegJob &j = it->second;
	const bool read = j.hdr.opcode == static_cast<std::uint16_t>(Op::kFsRead);
	if (!read || reply.status != 0 || io_bytes == 0)
		return segs_answer(s.conn, slot, std::move(reply));
	// The bytes read go into the client's segments, in order, first.
	std::vector<RemoteSeg> rs;
	std::uint32_t left = io_bytes;
	for (const FsSeg &g : j.segs.view()) {
		if (!left)
			break;
		const std::uint32_t n = std::min(left, g.len);
		rs.push_back(RemoteSeg{g.addr, n, g.rkey});
		left -= n;
	}
	const ConnId c = s.conn;
	transport_.bulk(c, j.hdr.req_id, s.staging_handle, s.staging->slot(slot).first(io_bytes),
			BulkDir::kToPeer, rs,
			[this, c, slot, io_bytes, reply = std::move(reply)]() mutable {
				rdma_write_bytes_ += io_bytes;
				segs_answer(c, slot, std::move(reply));
			});
}

void StorService::segs_answer(ConnId c, unsigned slot, JobResult reply)
{
	auto it = sessions_.find(c);
	if (it == sessions_.end())
		return answer(c, std::move(reply));
	StorSession &s = it->second;
	std::optional<std::uint32_t> inv;
	if (auto a = s.active.find(slot); a != s.active.end()) {
		if (a->second.fields.flags & DG_FS_IO_INVALIDATE)
			inv = a->second.segs.seg[0].rkey;
	}
	// The slot is free before the reply goes: a request the client sends
	// on seeing it may use it.
	release_slot(s, slot);
	answer(c, std::move(reply), inv ? &*inv : nullptr);
}

void StorService::release_slot(StorSession &s, unsigned slot)
{
	s.active.erase(slot);
	s.free_slots.push_back(slot);
	if (!s.waiting.empty() && !s.closing) {
		SegJob next = std::move(s.waiting.front());
		s.waiting.pop_front();
		start_segs(s, std::move(next));
	}
}

void StorService::closed(StorSession &s)
{
	pool_->forget(s.conn);
	ServiceBase::closed(s);
}

void StorService::metrics(MetricsText &t) const
{
	t.gauge("threads", "Worker threads doing file I/O.", pool_->threads());
	t.gauge("fd_cache_size", "Open files in the fd cache.", cache_.size());
	t.gauge("fd_cache_capacity", "Open files the fd cache may keep (--fd-cache).",
		cache_.capacity());
	t.counter("fd_cache_hits", "READs and WRITEs that found their file open.", cache_.hits());
	t.counter("fd_cache_misses", "READs and WRITEs that had to open their file.",
		  cache_.misses());
	t.counter("busy_replies",
		  "Requests answered EAGAIN over --max-in-flight (also counted as errors).",
		  busy_);
	t.counter("rdma_write_bytes",
		  "File data bytes put into clients' memory by RDMA WRITE (READs with segments).",
		  rdma_write_bytes_);
	t.counter("rdma_read_bytes",
		  "File data bytes fetched from clients' memory by RDMA READ (WRITEs with segments).",
		  rdma_read_bytes_);
	t.counter("rdma_staging_failures",
		  "Sessions whose staging buffers for one-sided file data could not be set up "
		  "(their READs and WRITEs with segments answered ENOMEM).",
		  staging_failures_);
}

std::string StorService::status_json(std::size_t max_bytes, const StorSession *viewer) const
{
	return status_text(
		max_bytes, viewer,
		[&](Json &j) {
			j["root"] = json_bytes(root_);
			j["nr_clients"] = nr_clients();
			j["requests"] = requests_;
			j["errors"] = errors_;
			j["busy"] = busy_;
			j["threads"] = pool_->threads();
			Json &fd = j["fd_cache"] = Json::object();
			fd["size"] = cache_.size();
			fd["capacity"] = cache_.capacity();
			fd["hits"] = cache_.hits();
			fd["misses"] = cache_.misses();
		},
		[](Json &j, const StorSession &s) {
			j["conn"] = s.conn;
			j["peer"] = json_bytes(s.peer);
			j["requests"] = s.requests;
			j["errors"] = s.errors;
			j["in_flight"] = s.in_flight;
		});
}

}  // namespace disagg::stord
