// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// The transport-independent part of the client: calls and the handshake.
#include "memclient.hpp"


#include <cerrno>
#include <chrono>
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
	if (c && (!c->hello(err) || !c->join_queues(err)))
		c.reset();
	return c;
}

std::string use_key_file(Options &o, const std::string &file, const std::string &identity)
{
	if (file.empty() && identity.empty())
		return {};
	if (file.empty() || identity.empty())
		return "--key-file and --identity go together";
	std::string err;
	if (!auth::load_secret(file, identity, o.secret, err))
		return "--key-file: " + err;
	o.identity = identity;
	return {};
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
	} else if (op == Op::kMemEvict && evict_answer) {
		const std::uint64_t id = std::get<MemFree>(m.body).slab_id;
		const std::uint32_t st = evict_answer(id);
		Result<Bytes> r = st ? make_error_reply(m.hdr.opcode, m.hdr.req_id, st)
				     : make_reply(Op::kMemEvict, m.hdr.req_id);
		if (r)
			send_frame(*r);
		if (!st)
			evictions_.push_back(id);
	} else {
		Result<Bytes> r = make_error_reply(m.hdr.opcode, m.hdr.req_id, EOPNOTSUPP);
		if (r)
			send_frame(*r);
	}
}

bool Conn::wait_evict(int timeout_ms, int &err)
{
	const auto deadline = std::chrono::steady_clock::now() +
			      std::chrono::milliseconds(timeout_ms);
	wake_on_evict_ = true;
	while (evictions_.empty()) {
		const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
			deadline - std::chrono::steady_clock::now());
		if (left.count() <= 0) {
			err = ETIMEDOUT;
			break;
		}
		err = 0;
		Bytes b = recv_frame(static_cast<int>(left.count()), err);
		if (b.empty() && err)
			break;	// timeout, or the connection is gone
		// A stale reply, or woken: look again.
	}
	wake_on_evict_ = false;
	return !evictions_.empty();
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
	std::uint32_t status = 0;
	return hello(err, status);
}

bool Conn::hello(std::string &err, std::uint32_t &status)
{
	const bool keyed = !opt_.secret.empty();
	Hello h;
	h.role = opt_.role;
	h.features = keyed ? kFeatKnown : kFeatKnown & ~kFeatAuth;
	if (!opt_.rdma_fs)
		h.features &= ~kFeatRdmaFs;
	h.client_id = opt_.client_id;
	h.name = opt_.name.substr(0, kNameMax);
	(void)auth::random_bytes(h.nonce);
	Reply r = call(Op::kHello, h);
	status = r.err ? static_cast<std::uint32_t>(r.err) : r.status;
	if (r.err) {
		err = "hello: " + error_;
		return false;
	}
	if (r.status) {
		err = std::string("hello refused: ") + std::strerror(static_cast<int>(r.status));
		if (r.status == EACCES && !keyed)
			err += " (the node requires authentication: --key-file and --identity)";
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
	if (!keyed) {
		token_ = server_.token;
		return true;
	}
	if (!(neg_.features & kFeatAuth)) {
		status = EACCES;
		err = "the node does not offer authentication, and we hold a key: refusing it";
		return false;
	}
	auth::Transcript t;
	t.client_nonce = h.nonce;
	t.server_nonce = server_.nonce;
	t.server_id = server_.server_id;
	t.client_id = h.client_id;
	t.role = static_cast<std::uint32_t>(h.role);
	t.identity = opt_.identity;
	Auth a;
	a.id = opt_.identity;
	a.mac = auth::proof(opt_.secret, auth::Side::kClient, t);
	r = call(Op::kAuth, a);
	status = r.err ? static_cast<std::uint32_t>(r.err) : r.status;
	if (r.err) {
		err = "auth: " + error_;
		return false;
	}
	if (r.status) {
		err = std::string("authentication as '") + opt_.identity + "' refused: " +
		      std::strerror(static_cast<int>(r.status));
		return false;
	}
	m = r.message();
	if (!m || !std::holds_alternative<AuthReply>(m->body)) {
		status = EPROTO;
		err = "auth: malformed reply";
		return false;
	}
	const AuthReply &ar = std::get<AuthReply>(m->body);
	if (!auth::same_mac(ar.mac, auth::proof(opt_.secret, auth::Side::kServer, t))) {
		status = EKEYREJECTED;
		err = "the node's proof is wrong: it does not hold our key";
		return false;
	}
	token_ = ar.token;
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
