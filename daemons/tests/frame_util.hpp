// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// Frames for the daemons' tests: requests, hellos, and decoded replies that
// own their bytes.
#pragma once

#include "auth.hpp"
#include "proto.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>

namespace disagg::test {

using namespace proto;

inline Bytes request(Op op, std::uint64_t req_id, const Body &body = Empty{})
{
	Result<Bytes> b = make_request(op, req_id, body);
	EXPECT_TRUE(b.ok()) << to_string(b.error());
	return b.ok() ? std::move(b).value() : Bytes{};
}

inline Hello hello_body(std::uint64_t client_id, Role role = Role::kSwap,
			std::uint32_t features = kFeatRdma, const std::string &name = "test")
{
	Hello h;
	h.role = role;
	h.features = features;
	h.client_id = client_id;
	h.name = name;
	return h;
}

// Keys the tests' daemons use: "client" and "other" are plain clients,
// "admin" sees the whole node's status.
inline constexpr const char *kTestKeys =
	"# test keys\n"
	"client 0123456789abcdef0123456789abcdef\n"
	"other  fedcba9876543210fedcba9876543210\n"
	"\n"
	"admin  aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa admin\n";

inline std::string test_secret(const std::string &identity)
{
	if (identity == "client")
		return "0123456789abcdef0123456789abcdef";
	if (identity == "other")
		return "fedcba9876543210fedcba9876543210";
	if (identity == "admin")
		return "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
	return "not-a-key-of-the-test-daemons!!!";
}

// What both ends' proofs cover, for a HELLO and its reply.
inline auth::Transcript transcript(const Hello &hello, const HelloReply &reply,
				   const std::string &identity)
{
	auth::Transcript t;
	t.client_nonce = hello.nonce;
	t.server_nonce = reply.nonce;
	t.server_id = reply.server_id;
	t.client_id = hello.client_id;
	t.role = static_cast<std::uint32_t>(hello.role);
	t.identity = identity;
	return t;
}

// The AUTH a client holding @secret sends after @hello got @reply.
inline Auth auth_body(const Hello &hello, const HelloReply &reply, const std::string &identity,
		      const std::string &secret)
{
	Auth a;
	a.id = identity;
	a.mac = auth::proof(secret, auth::Side::kClient, transcript(hello, reply, identity));
	return a;
}

// A decoded frame that owns its bytes.
struct Got {
	Bytes bytes;
	Hdr hdr;
	std::optional<Message> msg;	// points into bytes

	std::uint32_t status() const { return hdr.status; }
	template <class T>
	T body() const
	{
		EXPECT_TRUE(msg && std::holds_alternative<T>(msg->body));
		return msg && std::holds_alternative<T>(msg->body) ? std::get<T>(msg->body) : T{};
	}
};

// Decode a frame a daemon sent; a bad one fails the test.
inline std::unique_ptr<Got> got(Bytes bytes)
{
	auto g = std::make_unique<Got>();
	g->bytes = std::move(bytes);
	Result<Frame> f = decode_frame(g->bytes);
	EXPECT_TRUE(f.ok()) << "daemon sent a bad frame: " << to_string(f.error());
	if (!f)
		return g;
	g->hdr = f->hdr;
	Result<Message> m = decode_message(*f);
	EXPECT_TRUE(m.ok()) << "daemon sent a bad message: " << to_string(m.error());
	if (m)
		g->msg = std::move(m).value();
	return g;
}

}  // namespace disagg::test
