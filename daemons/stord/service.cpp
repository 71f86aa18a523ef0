// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "service.hpp"

#include "json.hpp"

#include <cerrno>

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
	if (!s.closing && !reply.frame.empty())
		transport_.send(c, std::move(reply.frame));
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
