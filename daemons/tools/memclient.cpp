// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// The transport-independent part of the client: calls and the handshake.
#include "memclient.hpp"

#include <sys/random.h>

#include <cerrno>
#include <cstring>

namespace disagg::client {

using namespace proto;

Result<Message> Reply::message() const
{
	Result<Frame> f = decode_frame(frame);
	if (!f)
		return f.error();
	return decode_message(*f);
}

std::unique_ptr<Conn> Conn::connect(const Options &opt, std::string &err)
{
	return opt.rdma ? open_rdma(opt, err) : open_tcp(opt, err);
}

std::unique_ptr<Conn> Conn::open(const Options &opt, std::string &err)
{
	std::unique_ptr<Conn> c = connect(opt, err);
	if (c && !c->hello(err))
		c.reset();
	return c;
}

void Conn::on_server_request(const Message &m)
{
	const auto op = static_cast<Op>(m.hdr.opcode);
	if (op == Op::kBye) {
		got_bye_ = true;
	} else if (op == Op::kHeartbeat) {
		Result<Bytes> r = make_reply(Op::kHeartbeat, m.hdr.req_id);
		if (r)
			send_frame(*r);
	} else {
		Result<Bytes> r = make_error_reply(m.hdr.opcode, m.hdr.req_id, EOPNOTSUPP);
		if (r)
			send_frame(*r);
	}
}

Reply Conn::call(Op op, const Body &body)
{
	Reply out;
	const std::uint64_t req = next_req_++;
	Result<Bytes> f = make_request(op, req, body);
	if (!f) {
		out.err = EINVAL;
		error_ = std::string("cannot encode request: ") + std::string(to_string(f.error()));
		return out;
	}
	if (!send_frame(*f)) {
		out.err = ECONNRESET;
		return out;
	}
	for (;;) {
		int err = 0;
		Bytes b = recv_frame(opt_.timeout_ms, err);
		if (b.empty()) {
			out.err = err ? err : ETIMEDOUT;
			if (error_.empty())
				error_ = std::strerror(out.err);
			return out;
		}
		Result<Hdr> h = decode_hdr(b);
		if (!h) {
			out.err = EPROTO;
			error_ = std::string("bad frame from server: ") + std::string(to_string(h.error()));
			return out;
		}
		if (h->req_id != req || h->opcode != (static_cast<std::uint16_t>(op) | kReplyBit))
			continue;	// a stale reply
		out.status = h->status;
		out.frame = std::move(b);
		return out;
	}
}

bool Conn::hello(std::string &err)
{
	Hello h;
	h.role = opt_.role;
	h.features = kFeatKnown & ~kFeatAuth;
	h.client_id = opt_.client_id;
	h.name = opt_.name.substr(0, kNameMax);
	if (::getrandom(h.nonce.data(), h.nonce.size(), 0) < 0)
		h.nonce.fill(0);
	Reply r = call(Op::kHello, h);
	if (r.err) {
		err = "hello: " + error_;
		return false;
	}
	if (r.status) {
		err = std::string("hello refused: ") + std::strerror(static_cast<int>(r.status));
		return false;
	}
	Result<Message> m = r.message();
	if (!m || !std::holds_alternative<HelloReply>(m->body)) {
		err = "hello: malformed reply";
		return false;
	}
	server_ = std::get<HelloReply>(m->body);
	Result<Negotiated> n = check_hello_reply(h, server_);
	if (!n) {
		err = std::string("hello: ") + std::string(to_string(n.error()));
		return false;
	}
	neg_ = *n;
	return true;
}

std::optional<MemInfo> Conn::info(std::string &err)
{
	Reply r = call(Op::kMemInfo);
	if (!r.ok()) {
		err = r.err ? error_ : std::strerror(static_cast<int>(r.status));
		return std::nullopt;
	}
	Result<Message> m = r.message();
	if (!m || !std::holds_alternative<MemInfo>(m->body)) {
		err = "malformed MEM_INFO reply";
		return std::nullopt;
	}
	return std::get<MemInfo>(m->body);
}

std::optional<MemSlab> Conn::alloc(std::uint64_t size, std::uint64_t tag,
				   std::uint32_t &status)
{
	Reply r = call(Op::kMemAlloc, MemAlloc{size, tag});
	status = r.err ? static_cast<std::uint32_t>(r.err) : r.status;
	if (!r.ok())
		return std::nullopt;
	Result<Message> m = r.message();
	if (!m || !std::holds_alternative<MemSlab>(m->body)) {
		status = EPROTO;
		return std::nullopt;
	}
	return std::get<MemSlab>(m->body);
}

std::uint32_t Conn::free(std::uint64_t slab_id)
{
	Reply r = call(Op::kMemFree, MemFree{slab_id});
	return r.err ? static_cast<std::uint32_t>(r.err) : r.status;
}

std::optional<std::string> Conn::status(std::string &err)
{
	Reply r = call(Op::kStatus);
	if (!r.ok()) {
		err = r.err ? error_ : std::strerror(static_cast<int>(r.status));
		return std::nullopt;
	}
	Result<Message> m = r.message();
	if (!m || !std::holds_alternative<Data>(m->body)) {
		err = "malformed STATUS reply";
		return std::nullopt;
	}
	ByteSpan d = std::get<Data>(m->body).bytes;
	return std::string(reinterpret_cast<const char *>(d.data()), d.size());
}

void Conn::bye()
{
	Result<Bytes> f = make_request(Op::kBye, next_req_++);
	if (f)
		send_frame(*f);
}

}  // namespace disagg::client
