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
		[this](ConnId c, Bytes reply) { finished(c, std::move(reply)); });
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
	// The request's spans point into the transport's buffer: the job gets
	// its own copy of the frame and decodes that.
	Result<Bytes> copy = encode_message(m);
	if (!copy)
		return reply_error(s, h.opcode, h.req_id, EINVAL);
	s.in_flight++;
	const std::uint8_t minor = static_cast<std::uint8_t>(s.neg.minor);
	pool_->submit(s.conn, [this, minor, frame = std::move(copy).value()]() {
		Result<Frame> f = decode_frame(frame);
		Result<Message> msg = f ? decode_message(*f) : Result<Message>(f.error());
		if (!msg)	// cannot happen: we encoded it
			return make_error_reply(f->hdr.opcode, f->hdr.req_id, EIO).value();
		return ops_.run(msg->hdr, minor, std::get<FsReq>(msg->body)).frame;
	});
}

void StorService::finished(ConnId c, Bytes reply)
{
	Result<Hdr> h = decode_hdr(reply);
	const bool failed = !h || h->status != 0;
	requests_++;
	errors_ += failed;
	if (h)
		req_metrics_.answered(c, h->req_id, h->opcode, h->status, clock_.now());
	auto it = sessions_.find(c);
	if (it == sessions_.end())
		return;	// gone meanwhile
	StorSession &s = it->second;
	s.in_flight--;
	s.requests++;
	s.errors += failed;
	if (!s.closing)
		transport_.send(c, std::move(reply));
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
