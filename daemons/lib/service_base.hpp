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
// Authentication (ServiceOptions::keys set): the server offers DG_FEAT_AUTH
// and a HELLO without it gets EACCES and is closed. After HELLO only AUTH
// and BYE are taken (anything else: EACCES, closed). AUTH with an unknown
// identity or a wrong proof gets EKEYREJECTED (the two are not told apart),
// one rate-limited log line, and is closed; a good one is answered with the
// server's proof and a fresh join token, and the session has its identity
// (and admin flag) from the key. Without keys the daemon is open: the HELLO
// reply carries the join token, identity is "" and ctl clients are admin.
// The hello timeout covers the whole handshake. STATUS shows an admin the
// whole node, anyone else the node's summary and its own sessions.
//
// Limits: a connection that sends no request for idle_timeout_sec is
// closed (answers to our HEARTBEAT probes do not count, the kernel
// client's own HEARTBEAT requests do), one that has not finished the
// handshake (HELLO, and AUTH with keys) in kHelloTimeout too. When the
// handshake completes (a good AUTH with keys, HELLO without), before its
// reply goes out, admit_identity() holds each identity to
// max_conns_per_identity connections (EUSERS, closed) and tells the
// transport, which grows the connection's RDMA ring to full size.
//
// Requests of our own: HEARTBEAT probes and the BYE at shutdown go out
// with request() and their answers are ignored. send_request() sends one
// whose answer matters (memd's MEM_EVICT) and remembers it in the
// session's pending table, at most kMaxPending at a time per connection
// (so a client that never answers cannot make us queue without bound). The
// reply, matched by req_id and opcode, reaches the daemon's on_reply()
// hook: its status, or EBADMSG when it does not decode (a garbage answer
// is an answer), or ETIMEDOUT when none came in kReplyTimeout; a
// connection that closes takes its pending requests with it. Every req_id
// we choose has kServerReqId set, so it never equals one a client uses
// for its own calls (the kernel client counts from 1) and a log or a
// packet trace tells at once who asked.
#pragma once

#include "auth.hpp"
#include "clock.hpp"
#include "json.hpp"
#include "log.hpp"
#include "metrics.hpp"
#include "proto.hpp"
#include "service_util.hpp"
#include "session.hpp"
#include "transport.hpp"

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

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
	// The identities that may connect, or nullptr: open to anyone. Not
	// owned; may be reloaded between events (nothing keeps pointers into
	// it across events).
	const auth::KeyStore *keys = nullptr;
};

// The "clients" list of a STATUS object: its entries, or only how many
// there are ("clients_omitted") when the whole would not fit in a reply.
class ClientList {
public:
	ClientList(Json &j, bool listing) : j_(j), listing_(listing)
	{
		if (listing_)
			j_["clients"] = Json::array();
	}
	// Counts an entry; the object to fill in when it is to be written,
	// else nullptr.
	Json *add()
	{
		entries_++;
		if (!listing_)
			return nullptr;
		Json &list = j_["clients"];
		list.push_back(Json::object());
		return &list.back();
	}
	bool listing() const { return listing_; }
	void end()
	{
		if (!listing_)
			j_["clients_omitted"] = entries_;
	}

private:
	Json &j_;
	const bool listing_;
	std::size_t entries_ = 0;
};

// Bit set in the req_id of every request a daemon sends to a client.
inline constexpr std::uint64_t kServerReqId = 1ull << 63;

template <class S>
class ServiceBase : public TransportEvents {
public:
	// A connection must finish the handshake this soon.
	static constexpr std::chrono::seconds kHelloTimeout{30};
	// send_request(): replies awaited per connection, and for how long.
	static constexpr std::size_t kMaxPending = 16;
	static constexpr std::chrono::seconds kReplyTimeout{60};

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
		if (!f->hdr.is_reply()) {
			s.last_request = s.last_rx;
			req_metrics_.started(c, f->hdr.req_id, f->hdr.opcode, s.last_rx);
		}
		if (f->wire_size() != frame.size())
			return framing_error(s, frame, Errc::kTruncated);	// trailing bytes
		Result<Message> m = decode_message(*f);
		if (!m) {
			LOG_DBG("%s: bad message (opcode %#x): %s", s.label().c_str(),
				f->hdr.opcode, std::string(to_string(m.error())).c_str());
			if (f->hdr.is_reply() && !s.hello_seen)
				return answered(s, f->hdr, EBADMSG, nullptr);
			if (!f->hdr.is_reply())
				reply_error(s, f->hdr.opcode, f->hdr.req_id,
					    bad_message(f->hdr, m.error()));
			if (s.hello_seen)	// a malformed AUTH is a failed one
				close(s);
			return;
		}
		if (m->hdr.is_reply())
			return answered(s, m->hdr, m->hdr.status, &*m);
		const Hdr &h = m->hdr;
		const auto op = static_cast<Op>(h.opcode);
		if (s.hello_seen) {	// between HELLO and AUTH
			if (op == Op::kAuth)
				return authenticate(s, h, std::get<Auth>(m->body));
			if (op != Op::kBye) {
				LOG_DBG("%s: opcode %#x before auth; closing", s.label().c_str(),
					h.opcode);
				reply_error(s, h.opcode, h.req_id, EACCES);
			}
			return close(s);
		}
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
		case Op::kAuth:	// not negotiated, or done already
			return reply_error(s, h.opcode, h.req_id,
					   s.neg.features & kFeatAuth ? EPROTO : EOPNOTSUPP);
		case Op::kHeartbeat:
			return reply(s, h, Empty{});
		case Op::kBye:
			LOG_DBG("%s: bye", s.label().c_str());
			on_bye(s);
			return close(s);
		case Op::kStatus: {
			const std::size_t max = transport_.max_frame() - kHdrSize;
			std::string text = status_json(max < kMaxPayload ? max : kMaxPayload,
						       s.admin ? nullptr : &s);
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
		req_metrics_.forget(c);
	}

	// Once a second or so: close idle connections and those that never
	// said hello, probe silent clients, then the daemon's own timers.
	void tick()
	{
		const TimePoint now = clock_.now();
		const auto period = std::chrono::seconds(opt_.heartbeat_sec);
		const auto idle = std::chrono::seconds(opt_.idle_timeout_sec);
		expire_pending(now);
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
					LOG_WARN_RL("%s: no %s in %lld s; closing", s.label().c_str(),
						    s.hello_seen ? "auth" : "hello",
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
	// Clients must authenticate (the daemon has keys).
	bool auth_on() const { return opt_.keys != nullptr; }
	// Status as JSON; at most @max_bytes long (details are dropped to fit).
	// @viewer: the whole node when nullptr (an admin), else the node's
	// summary and @viewer's own sessions (same identity and client id).
	virtual std::string status_json(std::size_t max_bytes = proto::kMaxPayload,
					const S *viewer = nullptr) const = 0;

	// The --metrics text, every name starting with @prefix: connections,
	// clients, what the daemon's metrics() adds, the transport's (RDMA:
	// messages by queue), then the requests by
	// opcode (requests_total, request_errors_total and the
	// request_duration_seconds histogram).
	std::string metrics_text(std::string prefix) const
	{
		MetricsText t(std::move(prefix));
		t.gauge("connections", "Open connections, handshake done or not.",
			sessions_.size());
		t.gauge("clients", "Connections past the handshake.", nr_clients());
		metrics(t);
		transport_.write_metrics(t);
		req_metrics_.write(t);
		return t.finish();
	}
	const RequestMetrics &request_metrics() const { return req_metrics_; }

protected:
	// Hooks. The status of a request that did not decode.
	virtual std::uint32_t bad_message(const proto::Hdr &, proto::Errc e) { return errno_of(e); }
	// 0 to welcome a client of this role (and id), else the status it
	// gets before it is closed. Called when the handshake completes: after
	// HELLO on an open daemon, after a good AUTH (s.identity and s.admin
	// set) with keys; s.role, client_id and name are set.
	virtual std::uint32_t admit(S &s, const proto::Hello &hello) = 0;
	// After the reply that completed the handshake went out.
	virtual void welcomed(S &) {}
	// Work for the peer is under way (a reply will come): not idle.
	virtual bool busy(const S &) const { return false; }
	// Every request but HELLO, HEARTBEAT, BYE and STATUS, after the hello.
	virtual void dispatch(S &s, const proto::Message &m) = 0;
	// The answer to @req, a send_request() of ours on @s: @status is the
	// reply's (0 or an errno), EBADMSG for a reply that did not decode,
	// ETIMEDOUT for none within kReplyTimeout; @m is the decoded reply
	// when there is one. Not called for connections that closed.
	virtual void on_reply(S &s, const PendingRequest &req, std::uint32_t status,
			      const proto::Message *m)
	{
		(void)s;
		(void)req;
		(void)status;
		(void)m;
	}
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
	// The daemon's own metric families.
	virtual void metrics(MetricsText &) const {}

	void reply(S &s, const proto::Hdr &req, const proto::Body &body)
	{
		using namespace proto;
		Hdr h;
		h.minor = static_cast<std::uint8_t>(s.hello_done || s.hello_seen ? s.neg.minor
										 : kMinor);
		h.opcode = req.opcode | kReplyBit;
		h.req_id = req.req_id;
		Result<Bytes> out = encode_message(Message{h, body});
		if (!out) {
			// Our own bug: answer something rather than nothing.
			LOG_ERR_RL("%s: cannot encode reply %#x: %s", s.label().c_str(),
				   h.opcode, std::string(to_string(out.error())).c_str());
			return reply_error(s, req.opcode, req.req_id, EIO);
		}
		req_metrics_.answered(s.conn, req.req_id, req.opcode, 0, clock_.now());
		transport_.send(s.conn, std::move(out).value());
	}

	void reply_error(S &s, std::uint16_t opcode, std::uint64_t req_id, std::uint32_t status)
	{
		req_metrics_.answered(s.conn, req_id, opcode, status, clock_.now());
		proto::Result<proto::Bytes> out = proto::make_error_reply(opcode, req_id, status);
		if (out)
			transport_.send(s.conn, std::move(out).value());
	}

	void request(S &s, proto::Op op)
	{
		proto::Result<proto::Bytes> out =
			proto::make_request(op, kServerReqId | next_req_id_++);
		if (out)
			transport_.send(s.conn, std::move(out).value());
	}

	// Send @op with @body to @s and expect its reply (on_reply(), with
	// @arg). False when @s cannot take one now: not past the handshake,
	// closing, kMaxPending replies awaited already, or the send failed
	// (the transport then closes the connection).
	bool send_request(S &s, proto::Op op, const proto::Body &body, std::uint64_t arg)
	{
		if (!s.hello_done || s.closing || s.pending.size() >= kMaxPending)
			return false;
		const std::uint64_t id = kServerReqId | next_req_id_++;
		proto::Result<proto::Bytes> out = proto::make_request(op, id, body);
		if (!out) {
			LOG_ERR_RL("%s: cannot encode request %#x: %s", s.label().c_str(),
				   static_cast<unsigned>(op),
				   std::string(proto::to_string(out.error())).c_str());
			return false;
		}
		if (!transport_.send(s.conn, std::move(out).value()))
			return false;
		s.pending[id] = PendingRequest{static_cast<std::uint16_t>(op), arg, clock_.now()};
		return true;
	}

	// Whether @viewer (nullptr: an admin) may see what belongs to
	// (@identity, @client_id).
	static bool visible(const S *viewer, const std::string &identity, std::uint64_t client_id)
	{
		return !viewer || (viewer->identity == identity && viewer->client_id == client_id);
	}

	// A status_json(): an object with server_id, transport, listen and
	// auth ("on", or "off" for an open daemon), then what @fields(j)
	// writes, then "clients": one entry per session past the handshake
	// that @viewer may see (client_id, name, role and identity, then what
	// @client(j, s) writes), then those @more(j, list) adds. When that is
	// longer than @max_bytes it is built again with the list left out.
	template <class Fields, class Client, class More>
	std::string status_text(std::size_t max_bytes, const S *viewer, const Fields &fields,
				const Client &client, const More &more) const
	{
		auto build = [&](bool listing) {
			Json j = Json::object();
			j["server_id"] = hex64(server_id_);
			j["transport"] = transport_.name();
			j["listen"] = json_bytes(listen_);
			j["auth"] = auth_on() ? "on" : "off";
			fields(j);
			ClientList list(j, listing);
			for (const auto &[c, s] : sessions_) {
				if (!s.hello_done || s.closing ||
				    !visible(viewer, s.identity, s.client_id))
					continue;
				Json *e = list.add();
				if (!e)
					continue;
				(*e)["client_id"] = hex64(s.client_id);
				(*e)["name"] = json_bytes(s.name);
				(*e)["role"] = proto::role_name(s.role);
				(*e)["identity"] = json_bytes(s.identity);
				client(*e, s);
			}
			more(j, list);
			list.end();
			return json_text(j);
		};
		std::string full = build(true);
		if (full.size() <= max_bytes)
			return full;
		return build(false);
	}

	template <class Fields, class Client>
	std::string status_text(std::size_t max_bytes, const S *viewer, const Fields &fields,
				const Client &client) const
	{
		return status_text(max_bytes, viewer, fields, client,
				   [](Json &, ClientList &) {});
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
	RequestMetrics req_metrics_;

private:
	// A reply arrived on @s: to a send_request() of ours (on_reply()), or
	// to a HEARTBEAT probe or nothing we know (ignored).
	void answered(S &s, const proto::Hdr &h, std::uint32_t status, const proto::Message *m)
	{
		auto it = s.pending.find(h.req_id);
		if (it == s.pending.end()) {
			LOG_DBG("%s: reply %#x to req_id %#llx ignored", s.label().c_str(), h.opcode,
				static_cast<unsigned long long>(h.req_id));
			return;
		}
		const PendingRequest req = it->second;
		s.pending.erase(it);
		if ((h.opcode & ~proto::kReplyBit) != req.opcode) {
			status = EBADMSG;	// the right req_id on another opcode
			m = nullptr;
		}
		on_reply(s, req, status, m);
	}

	// Requests whose reply is overdue are answered ETIMEDOUT.
	void expire_pending(TimePoint now)
	{
		std::vector<std::pair<ConnId, PendingRequest>> late;
		for (auto &[c, s] : sessions_) {
			for (auto it = s.pending.begin(); it != s.pending.end();) {
				if (now - it->second.sent >= kReplyTimeout) {
					late.emplace_back(c, it->second);
					it = s.pending.erase(it);
				} else {
					++it;
				}
			}
		}
		for (const auto &[c, req] : late) {
			auto it = sessions_.find(c);
			if (it != sessions_.end() && !it->second.closing)
				on_reply(it->second, req, ETIMEDOUT, nullptr);
		}
	}

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
		Result<Negotiated> neg = check_hello(h, hello, transport_.one_sided(), auth_on(),
						     status);
		if (!neg) {
			LOG_WARN_RL("%s: hello with protocol %u.%u (header %u.%u), we speak %u.%u; "
				    "closing", s.label().c_str(), hello.major, hello.minor, h.major,
				    h.minor, kMajor, kMinor);
			reply_error(s, h.opcode, h.req_id, status);
			return close(s);
		}
		s.role = hello.role;
		s.client_id = hello.client_id;
		s.name = hello.name;
		s.neg = *neg;
		s.client_nonce = hello.nonce;
		if (auth_on() && !(neg->features & kFeatAuth)) {
			LOG_WARN_RL("%s: hello without authentication, which this node requires; "
				    "closing", s.label().c_str());
			reply_error(s, h.opcode, h.req_id, EACCES);
			return close(s);
		}
		HelloReply r = hello_reply(s.neg, server_id_);
		s.server_nonce = r.nonce;
		s.hello = hello;
		if (auth_on()) {
			s.hello_seen = true;
			return reply(s, h, r);
		}
		// Open: no identity; the ctl role (tools on the node's own
		// network) sees everything.
		s.identity.clear();
		s.admin = s.role == Role::kCtl;
		complete_handshake(s, h, r);
	}

	void authenticate(S &s, const proto::Hdr &h, const proto::Auth &a)
	{
		using namespace proto;
		s.hello_seen = false;
		const auth::Key *key = opt_.keys->find(a.id);
		auth::Transcript t;
		t.client_nonce = s.client_nonce;
		t.server_nonce = s.server_nonce;
		t.server_id = server_id_;
		t.client_id = s.client_id;
		t.role = static_cast<std::uint32_t>(s.role);
		t.identity = a.id;
		// A MAC is computed for unknown identities too: both fail alike.
		static const std::string no_key(kKeyMin, '\0');
		const Mac want = auth::proof(key ? std::string_view(key->secret) : no_key,
					     auth::Side::kClient, t);
		if (!auth::same_mac(want, a.mac) || !key) {
			LOG_WARN_RL("%s: authentication failed for identity \"%s\"; closing",
				    s.label().c_str(), log::escape(a.id).c_str());
			reply_error(s, h.opcode, h.req_id, EKEYREJECTED);
			return close(s);
		}
		s.identity = a.id;
		s.admin = key->admin;
		AuthReply r;
		r.mac = auth::proof(key->secret, auth::Side::kServer, t);
		complete_handshake(s, h, r);
	}

	// The handshake of @s is complete (identity and admin set): the
	// per-identity limit (EUSERS), then the daemon's admit(), then the
	// reply @r (HelloReply or AuthReply) with a fresh join token. Both
	// checks run before the reply goes out, so the transport has grown
	// the connection's ring (handshake_done()) before the client may send
	// more than the handshake.
	template <class Reply>
	void complete_handshake(S &s, const proto::Hdr &h, Reply &r)
	{
		if (!admit_identity(s)) {
			reply_error(s, h.opcode, h.req_id, EUSERS);
			return close(s);
		}
		if (std::uint32_t status = admit(s, s.hello)) {
			reply_error(s, h.opcode, h.req_id, status);
			return close(s);
		}
		if (s.neg.features & proto::kFeatMq)
			transport_.enable_mq(s.conn);	// before its queues may join
		s.hello_done = true;
		r.token = issue_token(s);
		reply(s, h, r);
		welcomed(s);
	}

	// A fresh join token for @s, handed to the transport.
	proto::Token issue_token(S &s)
	{
		proto::Token t{};
		if (!auth::random_bytes(t))
			LOG_ERR_RL("%s: no random bytes for a join token", s.label().c_str());
		transport_.set_join_token(s.conn, t);
		return t;
	}
};

}  // namespace disagg
