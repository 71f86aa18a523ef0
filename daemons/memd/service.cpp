// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// Connections, framing checks, dispatch, timers and shutdown.
#include "service.hpp"

#include "log.hpp"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <vector>

namespace disagg::memd {

using namespace proto;

std::string Session::label() const
{
	char buf[160];
	if (hello_done)
		std::snprintf(buf, sizeof(buf), "conn %llu (%s, client %016llx \"%s\")",
			      static_cast<unsigned long long>(conn), peer.c_str(),
			      static_cast<unsigned long long>(client_id),
			      log::escape(name).c_str());
	else
		std::snprintf(buf, sizeof(buf), "conn %llu (%s)",
			      static_cast<unsigned long long>(conn), peer.c_str());
	return buf;
}

MemService::MemService(Transport &transport, SlabPool &pool, ServiceOptions opt)
	: transport_(transport), pool_(pool), opt_(std::move(opt)),
	  server_id_(opt_.server_id ? opt_.server_id : random_u64())
{
}

void MemService::on_connect(ConnId c, const std::string &peer)
{
	Session &s = sessions_[c];
	s.conn = c;
	s.peer = peer;
	s.connected_at = s.last_rx = pool_.clock().now();
	LOG_DBG("%s: connected", s.label().c_str());
}

void MemService::on_close(ConnId c)
{
	auto it = sessions_.find(c);
	if (it == sessions_.end())
		return;
	Session &s = it->second;
	// The transport has withdrawn every key of this connection.
	s.slabs.clear();
	if (s.owns_slabs) {
		owners_.erase(s.client_id);
		pool_.detach(s.client_id);
		std::size_t n = pool_.slabs_of(s.client_id).size();
		if (n)
			LOG_INFO("%s: disconnected; its %zu slabs are kept for %lld s",
				 s.label().c_str(), n,
				 static_cast<long long>(std::chrono::duration_cast<
					std::chrono::seconds>(pool_.grace()).count()));
		else
			LOG_INFO("%s: disconnected", s.label().c_str());
		pool_.expire();
	} else if (s.hello_done) {
		LOG_INFO("%s: disconnected", s.label().c_str());
	} else {
		LOG_DBG("%s: disconnected before hello", s.label().c_str());
	}
	sessions_.erase(it);
}

void MemService::on_message(ConnId c, ByteSpan frame)
{
	auto it = sessions_.find(c);
	if (it == sessions_.end() || it->second.closing)
		return;
	Session &s = it->second;
	s.last_rx = pool_.clock().now();

	Result<Frame> f = decode_frame(frame);
	if (!f)
		return framing_error(s, frame, f.error());
	if (f->wire_size() != frame.size())
		return framing_error(s, frame, Errc::kTruncated);	// trailing bytes
	Result<Message> m = decode_message(*f);
	if (!m) {
		LOG_DBG("%s: bad message (opcode %#x): %s", s.label().c_str(),
			f->hdr.opcode, std::string(to_string(m.error())).c_str());
		// Storage-node opcodes are not ours, whatever their payload.
		if (!f->hdr.is_reply())
			reply_error(s, f->hdr.opcode, f->hdr.req_id,
				    is_fs_op(f->hdr.opcode) ? EOPNOTSUPP : errno_of(m.error()));
		return;
	}
	if (m->hdr.is_reply()) {
		// Answers to our heartbeats; nothing else is expected.
		LOG_DBG("%s: reply %#x ignored", s.label().c_str(), m->hdr.opcode);
		return;
	}
	dispatch(s, *m);
}

void MemService::framing_error(Session &s, ByteSpan frame, Errc e)
{
	LOG_WARN("%s: %s; closing", s.label().c_str(), std::string(to_string(e)).c_str());
	// Answer another major in ours so the peer learns why.
	if (e == Errc::kBadMajor)
		if (std::optional<Bytes> r = bad_major_reply(frame))
			transport_.send(s.conn, std::move(*r));
	close(s);
}

void MemService::dispatch(Session &s, const Message &m)
{
	const Hdr &h = m.hdr;
	const auto op = static_cast<Op>(h.opcode);
	if (!s.hello_done && op != Op::kHello) {
		LOG_WARN("%s: opcode %#x before hello; closing", s.label().c_str(), h.opcode);
		if (op != Op::kBye)
			reply_error(s, h.opcode, h.req_id, EPROTO);
		close(s);
		return;
	}
	switch (op) {
	case Op::kHello:
		return op_hello(s, h, std::get<Hello>(m.body));
	case Op::kHeartbeat:
		return reply(s, h, Empty{});
	case Op::kBye:
		LOG_DBG("%s: bye", s.label().c_str());
		drop_slabs(s);
		close(s);
		return;
	case Op::kStatus:
		return op_status(s, h);
	case Op::kMemInfo:
		return op_info(s, h);
	case Op::kMemAlloc:
		return op_alloc(s, h, std::get<MemAlloc>(m.body));
	case Op::kMemFree:
		return op_free(s, h, std::get<MemFree>(m.body));
	case Op::kMemRead:
		return op_read(s, h, std::get<MemRw>(m.body));
	case Op::kMemWrite:
		return op_write(s, h, std::get<MemWrite>(m.body));
	case Op::kAuth:		// DG_FEAT_AUTH is not offered yet
	case Op::kMemEvict:	// server to client only
		break;
	default:		// storage-node opcodes are disagg-stord's
		break;
	}
	reply_error(s, h.opcode, h.req_id, EOPNOTSUPP);
}

void MemService::reply(Session &s, const Hdr &req, const Body &body)
{
	Hdr h;
	h.minor = static_cast<std::uint8_t>(s.hello_done ? s.neg.minor : kMinor);
	h.opcode = req.opcode | kReplyBit;
	h.req_id = req.req_id;
	Result<Bytes> out = encode_message(Message{h, body});
	if (!out) {
		// Our own bug: answer something rather than nothing.
		LOG_ERR("%s: cannot encode reply %#x: %s", s.label().c_str(), h.opcode,
			std::string(to_string(out.error())).c_str());
		return reply_error(s, req.opcode, req.req_id, EIO);
	}
	transport_.send(s.conn, std::move(out).value());
}

void MemService::reply_error(Session &s, std::uint16_t opcode, std::uint64_t req_id,
			     std::uint32_t status)
{
	Result<Bytes> out = make_error_reply(opcode, req_id, status);
	if (out)
		transport_.send(s.conn, std::move(out).value());
}

void MemService::request(Session &s, Op op)
{
	Result<Bytes> out = make_request(op, next_req_id_++);
	if (out)
		transport_.send(s.conn, std::move(out).value());
}

void MemService::close(Session &s)
{
	if (s.closing)
		return;
	s.closing = true;
	transport_.close(s.conn);
}

void MemService::tick()
{
	const std::uint64_t before = pool_.used();
	if (std::size_t n = pool_.expire(); n)
		LOG_INFO("grace period over: freed %zu slabs (%llu MiB) of clients that did not return",
			 n, static_cast<unsigned long long>((before - pool_.used()) >> 20));
	const TimePoint now = pool_.clock().now();
	const auto period = std::chrono::seconds(opt_.heartbeat_sec);
	for (auto &[c, s] : sessions_) {
		if (s.closing)
			continue;
		if (!s.hello_done) {
			if (now - s.connected_at >= kHelloTimeout) {
				LOG_WARN("%s: no hello in %lld s; closing", s.label().c_str(),
					 static_cast<long long>(kHelloTimeout.count()));
				close(s);
			}
			continue;
		}
		if (opt_.heartbeat_sec && now - s.last_rx >= period &&
		    now - s.last_probe >= period) {
			s.last_probe = now;
			request(s, Op::kHeartbeat);
		}
	}
}

void MemService::shutdown()
{
	for (auto &[c, s] : sessions_) {
		if (s.closing)
			continue;
		if (s.hello_done)
			request(s, Op::kBye);
		close(s);
	}
}

std::uint32_t MemService::nr_clients() const
{
	std::uint32_t n = 0;
	for (const auto &[c, s] : sessions_)
		n += s.hello_done && !s.closing;
	return n;
}

}  // namespace disagg::memd
