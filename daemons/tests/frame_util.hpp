// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// Frames for the daemons' tests: requests, hellos, and decoded replies that
// own their bytes.
#pragma once

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
