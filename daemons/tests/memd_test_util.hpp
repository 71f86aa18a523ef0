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
		  pool(capacity, slab, clock, std::chrono::seconds(grace_sec))
	{
		log::set_level(log::Level::kError);
		ServiceOptions o;
		o.heartbeat_sec = heartbeat_sec;
		o.idle_timeout_sec = idle_sec;
		o.max_conns_per_identity = conns_per_identity;
		service = std::make_unique<MemService>(transport, pool, o);
		std::string err;
		transport.listen("fake", 0, service.get(), err);
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
	// Connect and finish the handshake.
	ConnId client(std::uint64_t client_id, Role role = Role::kSwap)
	{
		ConnId c = transport.connect();
		auto g = call(c, Op::kHello, hello_body(client_id, role));
		EXPECT_TRUE(g && g->status() == 0);
		return c;
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
	std::unique_ptr<MemService> service;

private:
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
