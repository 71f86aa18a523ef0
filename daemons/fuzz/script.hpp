// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// The service harnesses' common part: playing a script (fuzz_util.hpp)
// against a service on the fake transport, following each connection's
// handshake from the frames that go by, and the checks that hold for every
// daemon:
//   - every frame the service sends decodes and fits the transport;
//   - nothing but HELLO and AUTH is answered with success before the
//     handshake is complete (HELLO on an open daemon, AUTH with keys);
//   - with keys: between HELLO and AUTH, anything but a good AUTH closes
//     the connection; an AUTH the harness made wrong (bad MAC, unknown
//     identity, another key, another transcript, a replay) never succeeds;
//     a good AUTH's reply carries the server's right proof and a HELLO
//     reply no join token;
//   - a STATUS reply to a non-admin names no identity and no client id
//     but the viewer's own.
//
// Keyed mode (flags bit 1): the service has the keys of kTestKeys (all but
// mallory's), and a connect with cmd >> 3 != 0 logs in first:
//     cmd >> 3 = x:  x & 3 who (kTestKeys), (x >> 2) % 3 role (swap, fs,
//                    ctl), then u8 client_id, u8 how:
//     how & 7:       0..3 the right proof; 4 one MAC bit flipped (byte
//                    (how >> 3) % 32); 5 the last good AUTH of this input
//                    replayed; 6 the proof of client_id ^ 1; 7 the proof
//                    with the next identity's key
// The harness sends the HELLO (features RDMA and AUTH), computes the
// proof from the reply's nonce and server_id with lib/auth and sends the
// AUTH; the fuzzer's own frames then follow on that connection. A connect
// with cmd >> 3 == 0 (and every connect in open mode) only connects.
#pragma once

#include "auth.hpp"
#include "fake_transport.hpp"
#include "fuzz_util.hpp"
#include "proto.hpp"
#include "service_util.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace disagg::fuzz {

inline constexpr std::uint8_t kFlagOneSided = 1;
inline constexpr std::uint8_t kFlagKeyed = 2;

struct TestKey {
	const char *id;
	const char *secret;
	bool admin;
	bool known;	// in the service's key file
};
inline constexpr TestKey kTestKeys[4] = {
	{"mallory", "mallory-0123456789abcdef", false, false},
	{"alice", "alice-0123456789abcdef", false, true},
	{"bob", "bob-0123456789abcdef", false, true},
	{"ops", "ops-0123456789abcdef", true, true},
};

inline const TestKey *test_key(std::string_view id)
{
	for (const TestKey &k : kTestKeys)
		if (k.known && id == k.id)
			return &k;
	return nullptr;
}

// The service's key file.
inline std::string test_key_file()
{
	std::string text = "# fuzz harness keys\n";
	for (const TestKey &k : kTestKeys)
		if (k.known)
			text += std::string(k.id) + " " + k.secret + (k.admin ? " admin\n" : "\n");
	return text;
}

// What the harness knows of a connection, from the frames it saw.
struct ConnState {
	bool hello_ok = false;	// HELLO answered with success
	bool done = false;	// handshake complete
	bool admin = false;
	std::string identity;
	std::uint64_t client_id = 0;
	proto::Role role = proto::Role::kCtl;
	proto::Nonce client_nonce{};
	proto::Nonce server_nonce{};
	std::uint64_t server_id = 0;
	bool expect_fail = false;	// the next AUTH is one the harness spoilt
	proto::Bytes last_req;		// the last request delivered
	proto::Bytes hello_req;		// the last HELLO delivered
};

class ScriptRunner {
public:
	class Hooks {
	public:
		virtual ~Hooks() = default;
		// Hand @frame to the service (and wait for its answer).
		virtual void deliver(ConnId c, const proto::Bytes &frame) = 0;
		virtual void tick(unsigned seconds) = 0;
		// A successful reply @rep on @c; @req the request it answers,
		// if the harness delivered it (else nullptr).
		virtual void on_reply(ConnId, const ConnState &, const proto::Message *,
				      const proto::Message &)
		{
		}
		// After each script record.
		virtual void step() {}
	};

	ScriptRunner(FakeTransport &t, Hooks &hooks, bool keyed, std::size_t max_conns)
		: t_(t), hooks_(hooks), keyed_(keyed), max_conns_(max_conns)
	{
	}

	const std::vector<ConnId> &conns() const { return conns_; }

	void run(Reader &in)
	{
		while (!in.empty()) {
			const std::uint8_t cmd = in.u8();
			switch (static_cast<Cmd>(cmd & 3)) {
			case Cmd::kConnect:
				if (conns_.size() >= max_conns_)
					break;
				conns_.push_back(t_.connect());
				if (keyed_ && cmd >> 3)
					login(conns_.back(), cmd >> 3, in);
				break;
			case Cmd::kDeliver: {
				const std::size_t len = in.u16();
				proto::Bytes frame;
				for (std::byte b : in.bytes(len))
					frame.push_back(b);
				if (cmd & kFixLength && frame.size() >= proto::kHdrSize) {
					const auto n = static_cast<std::uint32_t>(frame.size() -
										  proto::kHdrSize);
					for (int i = 0; i < 4; i++)
						frame[8 + i] = static_cast<std::byte>(n >> (8 * i));
				}
				auto open = open_conns();
				if (open.empty()) {
					if (conns_.size() >= max_conns_)
						break;
					conns_.push_back(t_.connect());
					open.push_back(conns_.back());
				}
				send(open[(cmd >> 3) % open.size()], frame);
				break;
			}
			case Cmd::kDrop: {
				auto open = open_conns();
				if (!open.empty())
					t_.drop(open[(cmd >> 3) % open.size()]);
				break;
			}
			case Cmd::kTick:
				hooks_.tick(in.u8());
				break;
			}
			drain();
			hooks_.step();
		}
	}

	// Check and consume what the service sent.
	void drain()
	{
		for (ConnId c : conns_) {
			auto &q = t_.sent(c);
			for (const proto::Bytes &b : q) {
				check_sent(b, t_.max_frame());
				observe(c, b);
			}
			q.clear();
		}
	}

	// Done with the input: forget the closed connections' outboxes.
	void forget()
	{
		for (ConnId c : conns_)
			t_.forget(c);
	}

private:
	std::vector<ConnId> open_conns() const
	{
		std::vector<ConnId> open;
		for (ConnId c : conns_)
			if (t_.is_open(c))
				open.push_back(c);
		return open;
	}

	// Deliver @frame on @c, then check what came back.
	void send(ConnId c, const proto::Bytes &frame)
	{
		using namespace proto;
		ConnState &st = state_[c];
		bool request = false, auth = false;
		if (Result<Frame> f = decode_frame(frame); f && f->wire_size() == frame.size()) {
			request = !f->hdr.is_reply();
			if (request) {
				st.last_req = frame;
				if (f->hdr.opcode == DG_OP_HELLO)
					st.hello_req = frame;
				auth = f->hdr.opcode == DG_OP_AUTH;
			}
		} else {
			request = true;	// a framing error closes in any state
		}
		const bool between = keyed_ && st.hello_ok && !st.done;
		if (!auth)
			st.expect_fail = false;
		hooks_.deliver(c, frame);
		drain();
		if (between && request)
			FUZZ_CHECK(st.done || !t_.is_open(c), c);
		st.expect_fail = false;
	}

	void observe(ConnId c, const proto::Bytes &b)
	{
		using namespace proto;
		Result<Frame> f = decode_frame(b);
		Result<Message> m = decode_message(*f);
		if (!m->hdr.is_reply() || m->hdr.status)
			return;
		ConnState &st = state_[c];
		const std::uint16_t op = m->hdr.opcode & ~kReplyBit;

		// The request this answers, if it was the last one.
		Result<Frame> rf = decode_frame(st.last_req);
		Result<Message> rm = rf ? decode_message(*rf) : Result<Message>(Errc::kTruncated);
		const Message *req = rm && rm->hdr.opcode == op && rm->hdr.req_id == m->hdr.req_id
					     ? &*rm : nullptr;

		if (op == DG_OP_HELLO) {
			Result<Frame> hf = decode_frame(st.hello_req);
			FUZZ_CHECK(hf.ok(), c);
			Result<Message> hm = decode_message(*hf);
			FUZZ_CHECK(hm.ok() && kind_of(hm->body) == Kind::kHello, c);
			const Hello &h = std::get<Hello>(hm->body);
			const HelloReply &r = std::get<HelloReply>(m->body);
			FUZZ_CHECK(!st.done, c);
			st.hello_ok = true;
			st.client_id = h.client_id;
			st.role = h.role;
			st.client_nonce = h.nonce;
			st.server_nonce = r.nonce;
			st.server_id = r.server_id;
			if (keyed_) {
				FUZZ_CHECK(r.features & kFeatAuth, r.features);
				FUZZ_CHECK(r.token == Token{}, c);
			} else {
				st.done = true;
				st.identity.clear();
				st.admin = h.role == Role::kCtl;
			}
		} else if (op == DG_OP_AUTH) {
			FUZZ_CHECK(keyed_ && st.hello_ok && !st.done, c);
			FUZZ_CHECK(!st.expect_fail, c);	// a spoilt AUTH got in
			FUZZ_CHECK(req != nullptr, c);
			const Auth &a = std::get<Auth>(req->body);
			const TestKey *k = test_key(a.id);
			FUZZ_CHECK(k != nullptr, c);
			auth::Transcript t;
			t.client_nonce = st.client_nonce;
			t.server_nonce = st.server_nonce;
			t.server_id = st.server_id;
			t.client_id = st.client_id;
			t.role = static_cast<std::uint32_t>(st.role);
			t.identity = a.id;
			FUZZ_CHECK(auth::same_mac(a.mac, auth::proof(k->secret, auth::Side::kClient, t)),
				   c);
			const AuthReply &r = std::get<AuthReply>(m->body);
			FUZZ_CHECK(auth::same_mac(r.mac, auth::proof(k->secret, auth::Side::kServer, t)),
				   c);
			st.done = true;
			st.identity = a.id;
			st.admin = k->admin;
		} else {
			// No service before the handshake.
			FUZZ_CHECK(st.done, m->hdr.opcode);
			if (op == DG_OP_STATUS && !st.admin)
				check_status(st, std::get<Data>(m->body).bytes);
		}
		hooks_.on_reply(c, st, req, *m);
	}

	// A non-admin's STATUS: its own identity and client id only.
	static void check_status(const ConnState &st, proto::ByteSpan body)
	{
		const std::string_view text(reinterpret_cast<const char *>(body.data()), body.size());
		auto only = [&](std::string_view key, const std::string &want) {
			const std::string prefix = "\"" + std::string(key) + "\":\"";
			const std::string full = prefix + want + "\"";
			for (std::size_t p = text.find(prefix); p != std::string_view::npos;
			     p = text.find(prefix, p + 1))
				FUZZ_CHECK(text.compare(p, full.size(), full) == 0, p);
		};
		only("identity", st.identity);
		only("client_id", hex64(st.client_id));
	}

	proto::Bytes encode(proto::Op op, const proto::Body &body)
	{
		proto::Result<proto::Bytes> b = proto::make_request(op, ++req_id_, body);
		if (!b)
			fail("cannot encode a handshake frame");
		return std::move(b).value();
	}

	// The harness's own HELLO and AUTH (see the top of this file).
	void login(ConnId c, unsigned x, Reader &in)
	{
		using namespace proto;
		static constexpr Role kRoles[] = {Role::kSwap, Role::kFs, Role::kCtl};
		const TestKey &who = kTestKeys[x & 3];
		Hello h;
		h.role = kRoles[(x >> 2) % 3];
		h.client_id = in.u8();
		h.features = kFeatRdma | kFeatAuth;
		h.name = "fuzz-login";
		for (std::size_t i = 0; i < h.nonce.size(); i++)
			h.nonce[i] = static_cast<std::uint8_t>(i ^ h.client_id ^ c);
		const std::uint8_t how = in.u8();
		send(c, encode(Op::kHello, h));
		const ConnState &st = state_[c];
		if (!st.hello_ok || st.done || !t_.is_open(c))
			return;

		auth::Transcript t;
		t.client_nonce = h.nonce;
		t.server_nonce = st.server_nonce;
		t.server_id = st.server_id;
		t.client_id = h.client_id;
		t.role = static_cast<std::uint32_t>(h.role);
		t.identity = who.id;
		std::string_view secret = who.secret;
		bool spoilt = true;
		Bytes frame;
		switch (how & 7) {
		case 4:
		case 6:
		case 7:
			if ((how & 7) == 6)
				t.client_id ^= 1;
			if ((how & 7) == 7)
				secret = kTestKeys[(x + 1) & 3].secret;
			frame = encode(Op::kAuth, Auth{auth::proof(secret, auth::Side::kClient, t),
						       who.id});
			if ((how & 7) == 4)
				frame[kHdrSize + (how >> 3) % kMacLen] ^= std::byte{1};
			break;
		case 5:
			frame = last_good_auth_.empty() ? encode(Op::kAuth, Auth{Mac{}, who.id})
							: last_good_auth_;
			break;
		default:
			spoilt = !who.known;
			frame = encode(Op::kAuth,
				       Auth{auth::proof(secret, auth::Side::kClient, t), who.id});
			break;
		}
		state_[c].expect_fail = spoilt;
		send(c, frame);
		if (!spoilt && state_[c].done)
			last_good_auth_ = frame;
	}

	FakeTransport &t_;
	Hooks &hooks_;
	const bool keyed_;
	const std::size_t max_conns_;
	std::vector<ConnId> conns_;
	std::map<ConnId, ConnState> state_;
	proto::Bytes last_good_auth_;
	std::uint64_t req_id_ = 0x1000;
};

}  // namespace disagg::fuzz
