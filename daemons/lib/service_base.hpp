// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// The protocol logic every daemon shares, independent of the transport:
// sessions, framing checks, the handshake, HEARTBEAT, BYE, STATUS, hello
// timeouts, heartbeat probes and the goodbye at shutdown. A daemon derives
// from ServiceBase<its session type> and supplies the hooks: which roles it
// admits, its own opcodes (dispatch) and its status JSON.
//
// Every frame is decoded with the codec before anything looks at it. A
// framing error (the byte stream cannot be trusted) closes the connection;
// a protocol major we do not speak is answered with EPROTONOSUPPORT first.
// Any other bad message gets an error reply: EOPNOTSUPP for unknown
// opcodes, EINVAL for bad fields. Client ids and names are only logged
// escaped; every line a peer can cause is rate-limited. Everything runs on
// the event-loop thread.
//
// Limits: a connection that sends no request for idle_timeout_sec is
// closed (answers to our HEARTBEAT probes do not count, the kernel
// client's own HEARTBEAT requests do), one that has not finished the
// handshake in kHelloTimeout too, and admit_identity() holds each identity
// to max_conns_per_identity connections.
#pragma once

#include "clock.hpp"
#include "json.hpp"
#include "log.hpp"
#include "proto.hpp"
#include "service_util.hpp"
#include "session.hpp"
#include "transport.hpp"

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <map>
#include <string>

namespace disagg {

struct ServiceOptions {
	// A client silent this long gets a HEARTBEAT (again every period). It
	// need not answer (the kernel client does not): the probe exists so
	// that a dead peer fails at the transport (RDMA retries exhausted, TCP
	// user timeout) and the connection is closed. 0: no probes.
	unsigned heartbeat_sec = 15;
	// A connection that sends no request this long is closed; 0: never.
	// Keep it above the clients' heartbeat interval (the kernel's is 5 s).
	unsigned idle_timeout_sec = 120;
	// Connections of one identity at a time; 0: no limit.
	unsigned max_conns_per_identity = 64;
	std::uint64_t server_id = 0;	// 0: pick a random one
};

// The "clients" list of a STATUS object: its entries, or only how many
// there are ("clients_omitted") when the whole would not fit in a reply.
class ClientList {
public:
	ClientList(JsonWriter &j, bool listing) : j_(j), listing_(listing)
	{
		if (listing_)
			j_.begin_array("clients");
	}
	// Counts an entry; true when it is to be written (one object).
	bool add()
	{
		entries_++;
		return listing_;
	}
	bool listing() const { return listing_; }
	void end()
	{
		if (listing_)
			j_.end_array();
		else
			j_.num("clients_omitted", entries_);
	}

private:
	JsonWriter &j_;
	const bool listing_;
	std::size_t entries_ = 0;
};

template <class S>
class ServiceBase : public TransportEvents {
public:
	// A connection must finish the handshake this soon.
	static constexpr std::chrono::seconds kHelloTimeout{30};

	ServiceBase(Transport &transport, const Clock &clock, ServiceOptions opt)
		: transport_(transport), clock_(clock), opt_(opt),
		  server_id_(opt.server_id ? opt.server_id : random_u64())
	{
	}

	void on_connect(ConnId c, const std::string &peer) override
	{
		S &s = sessions_[c];
		s.conn = c;
		s.peer = peer;
		s.connected_at = s.last_rx = s.last_request = clock_.now();
		LOG_DBG("%s: connected", s.label().c_str());
	}

	void on_message(ConnId c, proto::ByteSpan frame) override
	{
		using namespace proto;
		auto it = sessions_.find(c);
		if (it == sessions_.end() || it->second.closing)
			return;
		S &s = it->second;
		s.last_rx = clock_.now();

		Result<Frame> f = decode_frame(frame);
		if (!f)
			return framing_error(s, frame, f.error());
		if (!f->hdr.is_reply())
			s.last_request = s.last_rx;
		if (f->wire_size() != frame.size())
			return framing_error(s, frame, Errc::kTruncated);	// trailing bytes
		Result<Message> m = decode_message(*f);
		if (!m) {
			LOG_DBG("%s: bad message (opcode %#x): %s", s.label().c_str(),
				f->hdr.opcode, std::string(to_string(m.error())).c_str());
			if (!f->hdr.is_reply())
				reply_error(s, f->hdr.opcode, f->hdr.req_id,
					    bad_message(f->hdr, m.error()));
			return;
		}
		if (m->hdr.is_reply()) {
			// Answers to our heartbeats; nothing else is expected.
			LOG_DBG("%s: reply %#x ignored", s.label().c_str(), m->hdr.opcode);
			return;
		}
		const Hdr &h = m->hdr;
		const auto op = static_cast<Op>(h.opcode);
		if (!s.hello_done && op != Op::kHello) {
			LOG_WARN_RL("%s: opcode %#x before hello; closing", s.label().c_str(),
				    h.opcode);
			if (op != Op::kBye)
				reply_error(s, h.opcode, h.req_id, EPROTO);
			return close(s);
		}
		switch (op) {
		case Op::kHello:
			return hello(s, h, std::get<Hello>(m->body));
		case Op::kHeartbeat:
			return reply(s, h, Empty{});
		case Op::kBye:
			LOG_DBG("%s: bye", s.label().c_str());
			on_bye(s);
			return close(s);
		case Op::kStatus: {
			const std::size_t max = transport_.max_frame() - kHdrSize;
			std::string text = status_json(max < kMaxPayload ? max : kMaxPayload);
			return reply(s, h, Data{std::as_bytes(std::span(text.data(), text.size()))});
		}
		default:
			return dispatch(s, *m);
		}
	}

	void on_close(ConnId c) override
	{
		auto it = sessions_.find(c);
		if (it == sessions_.end())
			return;
		closed(it->second);
		sessions_.erase(it);
	}

	// Once a second or so: close idle connections and those that never
	// said hello, probe silent clients, then the daemon's own timers.
	void tick()
	{
		const TimePoint now = clock_.now();
		const auto period = std::chrono::seconds(opt_.heartbeat_sec);
		const auto idle = std::chrono::seconds(opt_.idle_timeout_sec);
		for (auto &[c, s] : sessions_) {
			if (s.closing)
				continue;
			if (opt_.idle_timeout_sec && now - s.last_request >= idle && !busy(s)) {
				LOG_INFO_RL("%s: no request in %u s; closing", s.label().c_str(),
					    opt_.idle_timeout_sec);
				close(s);
				continue;
			}
			if (!s.hello_done) {
				if (now - s.connected_at >= kHelloTimeout) {
					LOG_WARN_RL("%s: no hello in %lld s; closing", s.label().c_str(),
						    static_cast<long long>(kHelloTimeout.count()));
					close(s);
				}
				continue;
			}
			if (opt_.heartbeat_sec && now - s.last_rx >= period &&
			    now - s.last_probe >= period) {
				s.last_probe = now;
				request(s, proto::Op::kHeartbeat);
			}
		}
		on_tick();
	}

	// Say BYE to every connection and close it.
	void shutdown()
	{
		for (auto &[c, s] : sessions_) {
			if (s.closing)
				continue;
			if (s.hello_done)
				request(s, proto::Op::kBye);
			close(s);
		}
	}

	// The address the transport bound, for status output.
	void set_listen(std::string addr) { listen_ = std::move(addr); }
	std::uint64_t server_id() const { return server_id_; }
	// Connections that finished the handshake.
	std::uint32_t nr_clients() const
	{
		std::uint32_t n = 0;
		for (const auto &[c, s] : sessions_)
			n += s.hello_done && !s.closing;
		return n;
	}
	std::size_t nr_sessions() const { return sessions_.size(); }
	// Status as JSON; at most @max_bytes long (details are dropped to fit).
	virtual std::string status_json(std::size_t max_bytes = proto::kMaxPayload) const = 0;

protected:
	// Hooks. The status of a request that did not decode.
	virtual std::uint32_t bad_message(const proto::Hdr &, proto::Errc e) { return errno_of(e); }
	// 0 to welcome a client of this role (and id), else the status it
	// gets before it is closed.
	virtual std::uint32_t admit(S &s, const proto::Hello &hello) = 0;
	// After the hello reply went out.
	virtual void welcomed(S &) {}
	// Work for the peer is under way (a reply will come): not idle.
	virtual bool busy(const S &) const { return false; }
	// Every request but HELLO, HEARTBEAT, BYE and STATUS, after the hello.
	virtual void dispatch(S &s, const proto::Message &m) = 0;
	virtual void on_bye(S &) {}
	// The connection is gone; the session is erased after this.
	virtual void closed(S &s)
	{
		if (s.hello_done)
			LOG_INFO_RL("%s: disconnected", s.label().c_str());
		else
			LOG_DBG("%s: disconnected before hello", s.label().c_str());
	}

	// Once @s's identity is known (after AUTH; after HELLO on a daemon
	// without keys, where every peer is ""): whether it may stay under
	// max_conns_per_identity. If so it is counted until it closes and the
	// transport learns that the peer passed the handshake. If not, the
	// caller answers EUSERS and closes.
	bool admit_identity(S &s)
	{
		if (s.identity_admitted)
			return true;
		if (opt_.max_conns_per_identity) {
			unsigned n = 0;
			for (const auto &[c, o] : sessions_)
				n += o.identity_admitted && !o.closing && o.identity == s.identity;
			if (n >= opt_.max_conns_per_identity) {
				LOG_WARN_RL("%s: refused: identity \"%s\" has %u connections already",
					    s.label().c_str(), log::escape(s.identity).c_str(), n);
				return false;
			}
		}
		s.identity_admitted = true;
		transport_.handshake_done(s.conn);
		return true;
	}
	// Open connections of @identity that admit_identity() counted.
	unsigned identity_conns(const std::string &identity) const
	{
		unsigned n = 0;
		for (const auto &[c, s] : sessions_)
			n += s.identity_admitted && !s.closing && s.identity == identity;
		return n;
	}
	virtual void on_tick() {}

	void reply(S &s, const proto::Hdr &req, const proto::Body &body)
	{
		using namespace proto;
		Hdr h;
		h.minor = static_cast<std::uint8_t>(s.hello_done ? s.neg.minor : kMinor);
		h.opcode = req.opcode | kReplyBit;
		h.req_id = req.req_id;
		Result<Bytes> out = encode_message(Message{h, body});
		if (!out) {
			// Our own bug: answer something rather than nothing.
			LOG_ERR_RL("%s: cannot encode reply %#x: %s", s.label().c_str(),
				   h.opcode, std::string(to_string(out.error())).c_str());
			return reply_error(s, req.opcode, req.req_id, EIO);
		}
		transport_.send(s.conn, std::move(out).value());
	}

	void reply_error(S &s, std::uint16_t opcode, std::uint64_t req_id, std::uint32_t status)
	{
		proto::Result<proto::Bytes> out = proto::make_error_reply(opcode, req_id, status);
		if (out)
			transport_.send(s.conn, std::move(out).value());
	}

	void request(S &s, proto::Op op)
	{
		proto::Result<proto::Bytes> out = proto::make_request(op, next_req_id_++);
		if (out)
			transport_.send(s.conn, std::move(out).value());
	}

	// A status_json(): an object with server_id, transport and listen,
	// then what @fields(j) writes, then "clients": one entry per session
	// past the hello (client_id, name and role, then what @client(j, s)
	// writes), then those @more(j, list) adds. When that is longer than
	// @max_bytes it is built again with the list left out.
	template <class Fields, class Client, class More>
	std::string status_text(std::size_t max_bytes, const Fields &fields, const Client &client,
				const More &more) const
	{
		auto build = [&](bool listing) {
			JsonWriter j;
			j.begin_object();
			j.str("server_id", hex64(server_id_));
			j.str("transport", transport_.name());
			j.str("listen", listen_);
			fields(j);
			ClientList list(j, listing);
			for (const auto &[c, s] : sessions_) {
				if (!s.hello_done || s.closing)
					continue;
				if (!list.add())
					continue;
				j.begin_object();
				j.str("client_id", hex64(s.client_id));
				j.str("name", s.name);
				j.str("role", proto::role_name(s.role));
				client(j, s);
				j.end_object();
			}
			more(j, list);
			list.end();
			j.end_object();
			return j.text();
		};
		std::string full = build(true);
		if (full.size() <= max_bytes)
			return full;
		return build(false);
	}

	template <class Fields, class Client>
	std::string status_text(std::size_t max_bytes, const Fields &fields,
				const Client &client) const
	{
		return status_text(max_bytes, fields, client, [](JsonWriter &, ClientList &) {});
	}

	void close(S &s)
	{
		if (s.closing)
			return;
		s.closing = true;
		transport_.close(s.conn);
	}

	Transport &transport_;
	const Clock &clock_;
	const ServiceOptions opt_;
	const std::uint64_t server_id_;
	std::string listen_;
	std::uint64_t next_req_id_ = 1;	// for server-initiated requests
	std::map<ConnId, S> sessions_;

private:
	void framing_error(S &s, proto::ByteSpan frame, proto::Errc e)
	{
		LOG_WARN_RL("%s: %s; closing", s.label().c_str(),
			    std::string(proto::to_string(e)).c_str());
		// Answer another major in ours so the peer learns why.
		if (e == proto::Errc::kBadMajor)
			if (std::optional<proto::Bytes> r = bad_major_reply(frame))
				transport_.send(s.conn, std::move(*r));
		close(s);
	}

	void hello(S &s, const proto::Hdr &h, const proto::Hello &hello)
	{
		using namespace proto;
		if (s.hello_done)
			return reply_error(s, h.opcode, h.req_id, EPROTO);
		std::uint32_t status = 0;
		Result<Negotiated> neg = check_hello(h, hello, transport_.one_sided(), status);
		if (!neg) {
			LOG_WARN_RL("%s: hello with protocol %u.%u (header %u.%u), we speak %u.%u; "
				    "closing", s.label().c_str(), hello.major, hello.minor, h.major,
				    h.minor, kMajor, kMinor);
			reply_error(s, h.opcode, h.req_id, status);
			return close(s);
		}
		if ((status = admit(s, hello))) {
			reply_error(s, h.opcode, h.req_id, status);
			return close(s);
		}
		// Without keys the identity ("") is known now. (With keys this
		// belongs to AUTH's success.)
		if (!admit_identity(s)) {
			reply_error(s, h.opcode, h.req_id, EUSERS);
			return close(s);
		}
		s.hello_done = true;
		s.role = hello.role;
		s.client_id = hello.client_id;
		s.name = hello.name;
		s.neg = *neg;
		reply(s, h, hello_reply(s.neg, server_id_));
		welcomed(s);
	}
};

}  // namespace disagg
