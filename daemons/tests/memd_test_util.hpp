// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// Helpers for memd's tests: a service over the fake transport with a fake
// clock, and frame builders/decoders.
#pragma once

#include "clock.hpp"
#include "fake_transport.hpp"
#include "log.hpp"
#include "frame_util.hpp"
#include "proto.hpp"
#include "service.hpp"
#include "slab_pool.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

namespace disagg::memd::test {

using namespace proto;

inline constexpr std::uint64_t kMiB = 1ull << 20;

using disagg::test::Got;
using disagg::test::hello_body;
using disagg::test::request;

// A service on a FakeTransport, with a FakeClock.
class Harness {
public:
	explicit Harness(bool one_sided = false, std::uint64_t capacity = 64 * kMiB,
			 std::uint64_t slab = 4 * kMiB, unsigned grace_sec = 30,
			 unsigned heartbeat_sec = 15, unsigned idle_sec = 120,
			 unsigned conns_per_identity = 64)
		: transport(one_sided),
		  pool(capacity, slab, clock, std::chrono::seconds(grace_sec)),
		  heartbeat_sec_(heartbeat_sec), idle_sec_(idle_sec),
		  conns_per_identity_(conns_per_identity)
	{
		log::set_level(log::Level::kError);
		start(nullptr);
	}

	// Require authentication with disagg::test::kTestKeys (a new service:
	// call before connecting anyone).
	void with_keys()
	{
		std::string err;
		ASSERT_TRUE(keys.load_text(disagg::test::kTestKeys, err)) << err;
		start(&keys);
	}

	// Deliver @frame on @c and return the next frame sent back, if any.
	std::unique_ptr<Got> send(ConnId c, const Bytes &frame)
	{
		transport.deliver(c, frame);
		return next(c);
	}
	std::unique_ptr<Got> next(ConnId c)
	{
		auto &q = transport.sent(c);
		if (q.empty())
			return nullptr;
		Bytes b = std::move(q.front());
		q.pop_front();
		return disagg::test::got(std::move(b));
	}
	std::unique_ptr<Got> call(ConnId c, Op op, const Body &body = Empty{})
	{
		auto g = send(c, request(op, ++req_, body));
		EXPECT_TRUE(g) << "no reply to opcode " << static_cast<unsigned>(op);
		if (g) {
			EXPECT_EQ(g->hdr.req_id, req_);
			EXPECT_EQ(g->hdr.opcode, static_cast<std::uint16_t>(op) | kReplyBit);
		}
		return g;
	}
	// Connect and finish the handshake (with AUTH as @identity when the
	// service has keys).
	ConnId client(std::uint64_t client_id, Role role = Role::kSwap,
		      const std::string &identity = "client")
	{
		ConnId c = transport.connect();
		Hello hello = hello_body(client_id, role,
					 service->auth_on() ? kFeatRdma | kFeatAuth : kFeatRdma);
		for (std::size_t i = 0; i < hello.nonce.size(); i++)
			hello.nonce[i] = static_cast<std::uint8_t>(c * 7 + i);
		auto g = call(c, Op::kHello, hello);
		EXPECT_TRUE(g && g->status() == 0);
		if (!g || g->status() || !service->auth_on())
			return c;
		const HelloReply reply = g->body<HelloReply>();
		const std::string secret = disagg::test::test_secret(identity);
		g = call(c, Op::kAuth, disagg::test::auth_body(hello, reply, identity, secret));
		EXPECT_TRUE(g && g->status() == 0) << (g ? g->status() : 0);
		if (g && g->status() == 0) {
			const AuthReply a = g->body<AuthReply>();
			auto t = disagg::test::transcript(hello, reply, identity);
			EXPECT_TRUE(auth::same_mac(a.mac, auth::proof(secret, auth::Side::kServer, t)));
		}
		return c;
	}
	// The pool's owner number of (@identity, @client_id): "" on an open
	// service.
	std::uint64_t owner(std::uint64_t client_id, const std::string &identity = "")
	{
		return service->owner_id(service->auth_on() && identity.empty() ? "client" : identity,
					 client_id);
	}
	MemSlab alloc_ok(ConnId c, std::uint64_t size, std::uint64_t tag)
	{
		auto g = call(c, Op::kMemAlloc, MemAlloc{size, tag});
		EXPECT_TRUE(g && g->status() == 0) << (g ? g->status() : 0);
		return g && g->status() == 0 ? g->body<MemSlab>() : MemSlab{};
	}
	std::uint32_t alloc_err(ConnId c, std::uint64_t size, std::uint64_t tag)
	{
		auto g = call(c, Op::kMemAlloc, MemAlloc{size, tag});
		return g ? g->status() : 0xffffffff;
	}
	MemInfo info(ConnId c)
	{
		auto g = call(c, Op::kMemInfo);
		return g && g->status() == 0 ? g->body<MemInfo>() : MemInfo{};
	}

	FakeClock clock;
	FakeTransport transport;
	SlabPool pool;
	auth::KeyStore keys;
	std::unique_ptr<MemService> service;

private:
	void start(const auth::KeyStore *k)
	{
		ServiceOptions o;
		o.heartbeat_sec = heartbeat_sec_;
		o.idle_timeout_sec = idle_sec_;
		o.max_conns_per_identity = conns_per_identity_;
		o.keys = k;
		service = std::make_unique<MemService>(transport, pool, o);
		std::string err;
		transport.listen("fake", 0, service.get(), err);
	}

	unsigned heartbeat_sec_;
	unsigned idle_sec_;
	unsigned conns_per_identity_;
	std::uint64_t req_ = 0;
};

inline Bytes pattern(std::size_t n, unsigned seed)
{
	Bytes out(n);
	for (std::size_t i = 0; i < n; i++)
		out[i] = static_cast<std::byte>((i * 131 + seed * 7 + (i >> 12)) & 0xff);
	return out;
}

}  // namespace disagg::memd::test
