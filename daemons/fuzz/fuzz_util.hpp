// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// Shared by the libFuzzer harnesses: reading a fuzz input as a script of
// connection events, and the checks every frame a daemon sends must pass.
//
// A service script (memd_service, stord_service) is
//   u8 flags      harness options (bit 0: one-sided transport, memd only;
//                 bit 1: the service has keys, see script.hpp)
//   records       until the input ends:
//     u8 cmd      cmd & 3: 0 deliver, 1 connect, 2 drop, 3 tick
//                 cmd & 4: deliver: set the header's length to the frame's
//                 cmd >> 3: deliver, drop: which open connection (modulo);
//                 connect with keys: non-zero logs in (script.hpp)
//     deliver:    u16 length (little-endian), then that many frame bytes
//     connect:    logging in: u8 client id, u8 how (script.hpp)
//     tick:       u8 seconds the clock moves before the service's tick()
// A deliver with no connection open connects first. script.hpp plays
// scripts, corpus_gen.cpp writes them; keep the three in step.
#pragma once

#include "proto.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>

namespace disagg::fuzz {

// Stop with a message libFuzzer reports as a crash, with the input saved.
[[noreturn]] inline void fail(const char *what, unsigned long long v = 0)
{
	std::fprintf(stderr, "fuzz invariant broken: %s (%llu)\n", what, v);
	std::abort();
}

#define FUZZ_CHECK(cond, v)                                                 \
	do {                                                                 \
		if (!(cond))                                                 \
			::disagg::fuzz::fail(#cond, static_cast<unsigned long long>(v)); \
	} while (0)

// Bytes taken from the front of an input; past the end everything is 0.
class Reader {
public:
	Reader(const std::uint8_t *data, std::size_t size) : data_(data), size_(size) {}

	bool empty() const { return off_ >= size_; }
	std::uint8_t u8() { return off_ < size_ ? data_[off_++] : 0; }
	std::uint16_t u16()
	{
		std::uint16_t lo = u8();
		return static_cast<std::uint16_t>(lo | (u8() << 8));
	}
	// Up to @n bytes (fewer at the end of the input).
	std::span<const std::byte> bytes(std::size_t n)
	{
		const std::size_t left = off_ < size_ ? size_ - off_ : 0;
		if (n > left)
			n = left;
		auto out = std::as_bytes(std::span(data_ + off_, n));
		off_ += n;
		return out;
	}

private:
	const std::uint8_t *data_;
	std::size_t size_;
	std::size_t off_ = 0;
};

enum class Cmd : std::uint8_t { kDeliver = 0, kConnect = 1, kDrop = 2, kTick = 3 };
inline constexpr std::uint8_t kFixLength = 4;

// Script encoding, for corpus_gen.cpp.
inline void put_deliver(proto::Bytes &out, const proto::Bytes &frame, unsigned conn = 0)
{
	out.push_back(static_cast<std::byte>(conn << 3 | static_cast<unsigned>(Cmd::kDeliver)));
	out.push_back(static_cast<std::byte>(frame.size() & 0xff));
	out.push_back(static_cast<std::byte>(frame.size() >> 8));
	out.insert(out.end(), frame.begin(), frame.end());
}
inline void put_cmd(proto::Bytes &out, Cmd cmd, unsigned conn = 0)
{
	out.push_back(static_cast<std::byte>(conn << 3 | static_cast<unsigned>(cmd)));
}
inline void put_tick(proto::Bytes &out, std::uint8_t seconds)
{
	put_cmd(out, Cmd::kTick);
	out.push_back(static_cast<std::byte>(seconds));
}

// What a daemon sends must always be a frame its peer can decode, no
// larger than the transport takes: a reply (any status) or one of the
// requests a server makes (HEARTBEAT, BYE, MEM_EVICT).
inline void check_sent(proto::ByteSpan frame, std::size_t max_frame)
{
	using namespace proto;
	FUZZ_CHECK(frame.size() <= max_frame, frame.size());
	Result<Frame> f = decode_frame(frame);
	FUZZ_CHECK(f.ok(), static_cast<unsigned>(f.error()));
	FUZZ_CHECK(f->wire_size() == frame.size(), frame.size());
	Result<Message> m = decode_message(*f);
	FUZZ_CHECK(m.ok(), static_cast<unsigned>(m.error()));
	if (!m->hdr.is_reply()) {
		const auto op = static_cast<Op>(m->hdr.opcode);
		FUZZ_CHECK(op == Op::kHeartbeat || op == Op::kBye || op == Op::kMemEvict,
			   m->hdr.opcode);
	}
}

}  // namespace disagg::fuzz
