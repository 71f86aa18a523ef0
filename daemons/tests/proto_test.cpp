// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// Tests of the wire protocol codec: byte layout against hand-written arrays
// (so endianness is really tested), round trips of every message, rejection
// of malformed input, hello negotiation, and a bounded fuzz run.
#include "proto.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <initializer_list>
#include <ostream>
#include <random>
#include <string>
#include <vector>

namespace disagg::proto {
namespace {

// Sizes seen from C++, independent of proto.h's own asserts.
static_assert(sizeof(dg_hdr) == 24 && kHdrSize == 24);
static_assert(sizeof(dg_hello) == 128 && sizeof(dg_hello_reply) == 72);
static_assert(sizeof(dg_auth) == 104 && sizeof(dg_auth_reply) == 48);
static_assert(sizeof(dg_cm_private) == 40 && sizeof(dg_mem_info) == 32);
static_assert(sizeof(dg_mem_alloc) == 16 && sizeof(dg_mem_slab) == 40);
static_assert(sizeof(dg_mem_free) == 8 && sizeof(dg_mem_rw) == 24);
static_assert(kMaxRwLen + kMemRwSize <= kMaxPayload);
static_assert(kMaxRwLen + kPageSize + kMemRwSize > kMaxPayload);

Bytes bytes(std::initializer_list<unsigned> v)
{
	Bytes out;
	for (unsigned b : v)
		out.push_back(static_cast<std::byte>(b));
	return out;
}

Bytes pattern(std::size_t n, unsigned seed)
{
	Bytes out(n);
	for (std::size_t i = 0; i < n; i++)
		out[i] = static_cast<std::byte>((i * 7 + seed) & 0xff);
	return out;
}

Bytes concat(const Bytes &a, const Bytes &b)
{
	Bytes out = a;
	out.insert(out.end(), b.begin(), b.end());
	return out;
}

// Header bytes for a frame: opcode, length, status, req_id.
Bytes hdr_bytes(std::uint16_t op, std::uint32_t len, std::uint32_t status = 0,
		std::uint64_t req_id = 1)
{
	Hdr h;
	h.opcode = op;
	h.length = len;
	h.status = status;
	h.req_id = req_id;
	Bytes out(kHdrSize);
	encode_hdr(h, std::span<std::byte, kHdrSize>(out.data(), kHdrSize));
	return out;
}

// Frame with @payload under a header for @op.
Bytes frame_of(std::uint16_t op, const Bytes &payload, std::uint32_t status = 0)
{
	return concat(hdr_bytes(op, static_cast<std::uint32_t>(payload.size()), status),
		      payload);
}

std::uint16_t reply(Op op) { return static_cast<std::uint16_t>(op) | kReplyBit; }
std::uint16_t req(Op op) { return static_cast<std::uint16_t>(op); }

// decode_frame() then decode_message(), error of whichever fails.
Result<Message> decode_all(ByteSpan in)
{
	Result<Frame> f = decode_frame(in);
	if (!f)
		return f.error();
	return decode_message(*f);
}

Errc decode_err(ByteSpan in) { return decode_all(in).error(); }

Bytes payload_of(const Result<Bytes> &frame)
{
	EXPECT_TRUE(frame.ok()) << to_string(frame.error());
	if (!frame || frame->size() < kHdrSize)
		return {};
	return Bytes(frame->begin() + kHdrSize, frame->end());
}

Nonce nonce_from(unsigned first)
{
	Nonce n;
	for (std::size_t i = 0; i < n.size(); i++)
		n[i] = static_cast<std::uint8_t>(first + i);
	return n;
}

// ---------------------------------------------------------------- header

const Bytes kHdrWire = bytes({
	0x44, 0x47, 0x41, 0x47,	// magic "DGAG"
	0x02, 0x07,		// major 2, minor 7
	0x01, 0x81,		// opcode MEM_ALLOC | REPLY
	0x28, 0x00, 0x00, 0x00,	// length 40
	0x0c, 0x00, 0x00, 0x00,	// status 12
	0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01,	// req_id
});

TEST(ProtoHeader, EncodesLittleEndian)
{
	Hdr h{2, 7, 0x8101, 40, 12, 0x0102030405060708};
	Bytes out(kHdrSize);
	encode_hdr(h, std::span<std::byte, kHdrSize>(out.data(), kHdrSize));
	EXPECT_EQ(out, kHdrWire);
}

TEST(ProtoHeader, DecodesLittleEndian)
{
	Result<Hdr> h = decode_hdr(kHdrWire);
	ASSERT_TRUE(h.ok()) << to_string(h.error());
	EXPECT_EQ(*h, (Hdr{2, 7, 0x8101, 40, 12, 0x0102030405060708}));
	EXPECT_TRUE(h->is_reply());
}

TEST(ProtoHeader, MagicIsDGAG)
{
	EXPECT_EQ(std::memcmp(kHdrWire.data(), "DGAG", 4), 0);
}

TEST(ProtoHeader, RejectsShort)
{
	for (std::size_t n = 0; n < kHdrSize; n++)
		EXPECT_EQ(decode_hdr(ByteSpan(kHdrWire).first(n)).error(), Errc::kTooShort)
			<< n;
}

TEST(ProtoHeader, RejectsBadMagic)
{
	for (std::size_t i = 0; i < 4; i++) {
		Bytes b = kHdrWire;
		b[i] ^= std::byte{0x20};	// "dGAG", "DgAG", ...
		EXPECT_EQ(decode_hdr(b).error(), Errc::kBadMagic) << i;
	}
	Bytes be = kHdrWire;	// big-endian magic
	std::reverse(be.begin(), be.begin() + 4);
	EXPECT_EQ(decode_hdr(be).error(), Errc::kBadMagic);
}

TEST(ProtoHeader, RejectsOtherMajorAcceptsOtherMinor)
{
	for (unsigned major : {0u, 1u, 3u, 0x81u, 0xffu}) {
		Bytes b = kHdrWire;
		b[4] = static_cast<std::byte>(major);
		EXPECT_EQ(decode_hdr(b).error(), Errc::kBadMajor) << major;
	}
	for (unsigned minor : {0u, 1u, 0xffu}) {
		Bytes b = kHdrWire;
		b[5] = static_cast<std::byte>(minor);
		Result<Hdr> h = decode_hdr(b);
		ASSERT_TRUE(h.ok());
		EXPECT_EQ(h->minor, minor);
	}
}

TEST(ProtoHeader, RejectsOversizedLength)
{
	for (std::uint32_t len : {kMaxPayload + 1, 0x80000000u, 0xffffffffu})
		EXPECT_EQ(decode_hdr(hdr_bytes(req(Op::kStatus), len)).error(),
			  Errc::kTooLong) << len;
	EXPECT_TRUE(decode_hdr(hdr_bytes(req(Op::kStatus), kMaxPayload)).ok());
}

TEST(ProtoHeader, UnknownOpcodeIsNotAFramingError)
{
	Result<Hdr> h = decode_hdr(hdr_bytes(0x7777, 0));
	ASSERT_TRUE(h.ok());
	EXPECT_EQ(h->opcode, 0x7777);
}

TEST(ProtoHeader, FramingErrorsAreClassified)
{
	EXPECT_TRUE(is_framing_error(Errc::kTooShort));
	EXPECT_TRUE(is_framing_error(Errc::kTruncated));
	EXPECT_FALSE(is_framing_error(Errc::kOk));
	EXPECT_FALSE(is_framing_error(Errc::kBadOpcode));
	EXPECT_FALSE(is_framing_error(Errc::kBadValue));
}

// ---------------------------------------------------------------- frames

TEST(ProtoFrame, RejectsTruncatedPayload)
{
	Bytes f = frame_of(req(Op::kMemFree), bytes({1, 2, 3, 4, 5, 6, 7, 8}));
	for (std::size_t n = kHdrSize; n < f.size(); n++)
		EXPECT_EQ(decode_frame(ByteSpan(f).first(n)).error(), Errc::kTruncated) << n;
	// Length at the limit but the bytes are not there.
	EXPECT_EQ(decode_frame(hdr_bytes(req(Op::kStatus), kMaxPayload)).error(),
		  Errc::kTruncated);
}

TEST(ProtoFrame, IgnoresBytesOfTheNextFrame)
{
	Bytes one = frame_of(req(Op::kMemFree), bytes({1, 2, 3, 4, 5, 6, 7, 8}));
	Bytes two = concat(one, frame_of(req(Op::kHeartbeat), {}));
	Result<Frame> f = decode_frame(two);
	ASSERT_TRUE(f.ok());
	EXPECT_EQ(f->wire_size(), one.size());
	EXPECT_EQ(f->payload.size(), 8u);
	Result<Frame> g = decode_frame(ByteSpan(two).subspan(f->wire_size()));
	ASSERT_TRUE(g.ok());
	EXPECT_EQ(g->hdr.opcode, req(Op::kHeartbeat));
}

TEST(ProtoFrame, MessageRejectsLengthMismatch)
{
	Bytes payload = bytes({1, 2, 3, 4, 5, 6, 7, 8});
	Frame f{Hdr{}, payload};
	f.hdr.opcode = req(Op::kMemFree);
	f.hdr.length = 9;
	EXPECT_EQ(decode_message(f).error(), Errc::kBadSize);
}

// ---------------------------------------------------------------- layout

// Each message's payload is compared with hand-written bytes, both ways.
void expect_layout(std::uint16_t op, const Body &body, const Bytes &wire)
{
	Hdr h;
	h.opcode = op;
	EXPECT_EQ(payload_of(encode_message(Message{h, body})), wire);
	const Bytes frame = frame_of(op, wire);	// outlives m's spans
	Result<Message> m = decode_all(frame);
	ASSERT_TRUE(m.ok()) << to_string(m.error());
	EXPECT_EQ(m->body, body);
}

const Bytes kHelloWire = bytes({
	0x02, 0x00, 0x02, 0x00,	// major 2, minor 2
	0x02, 0x00, 0x00, 0x00,	// role FS
	0x03, 0x00, 0x00, 0x00,	// features RDMA|AUTH
	0x00, 0x00, 0x00, 0x00,	// reserved0
	0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01,	// client_id
	0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,	// nonce
	0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf,
	0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7,
	0xb8, 0xb9, 0xba, 0xbb, 0xbc, 0xbd, 0xbe, 0xbf,
	0x02, 0x00,		// name_len 2
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00,	// reserved
	'a', 'b', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,	// name[64]
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
});

Hello hello_value()
{
	return Hello{2, 2, Role::kFs, kFeatRdma | kFeatAuth, 0x0102030405060708,
		     nonce_from(0xa0), "ab"};
}

TEST(ProtoLayout, Hello)
{
	ASSERT_EQ(kHelloWire.size(), kHelloSize);
	expect_layout(req(Op::kHello), hello_value(), kHelloWire);
}

TEST(ProtoLayout, HelloReply)
{
	const Bytes wire = bytes({
		0x01, 0x00, 0x00, 0x00,	// major 1, minor 0
		0x01, 0x00, 0x00, 0x00,	// features RDMA
		0, 0, 0, 0, 0, 0, 0, 0,	// reserved0
		0x0d, 0xf0, 0xfe, 0xca, 0xef, 0xbe, 0xad, 0xde,	// server_id
		0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
		16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31,
		0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7,	// token
		0xc8, 0xc9, 0xca, 0xcb, 0xcc, 0xcd, 0xce, 0xcf,
	});
	ASSERT_EQ(wire.size(), kHelloReplySize);
	HelloReply r{1, 0, kFeatRdma, 0xdeadbeefcafef00d, nonce_from(0), {}};
	for (std::size_t i = 0; i < kTokenLen; i++)
		r.token[i] = static_cast<std::uint8_t>(0xc0 + i);
	expect_layout(reply(Op::kHello), r, wire);
}

TEST(ProtoLayout, Auth)
{
	Auth a;
	for (std::size_t i = 0; i < kMacLen; i++)
		a.mac[i] = static_cast<std::uint8_t>(0xff - i);
	a.id = "client";
	Bytes wire;
	for (unsigned i = 0; i < kMacLen; i++)
		wire.push_back(static_cast<std::byte>(0xff - i));
	for (unsigned v : {6, 0, 0, 0, 0, 0, 0, 0})	// id_len, reserved
		wire.push_back(static_cast<std::byte>(v));
	for (char ch : std::string("client"))
		wire.push_back(static_cast<std::byte>(ch));
	wire.resize(kAuthSize);
	expect_layout(req(Op::kAuth), a, wire);
}

TEST(ProtoLayout, AuthReply)
{
	AuthReply a;
	Bytes wire;
	for (std::size_t i = 0; i < kMacLen; i++) {
		a.mac[i] = static_cast<std::uint8_t>(i * 3);
		wire.push_back(static_cast<std::byte>(i * 3));
	}
	for (std::size_t i = 0; i < kTokenLen; i++) {
		a.token[i] = static_cast<std::uint8_t>(0x70 + i);
		wire.push_back(static_cast<std::byte>(0x70 + i));
	}
	ASSERT_EQ(wire.size(), kAuthReplySize);
	expect_layout(reply(Op::kAuth), a, wire);
}

TEST(ProtoAuth, IdentityChecks)
{
	EXPECT_TRUE(valid_identity("client"));
	EXPECT_TRUE(valid_identity(std::string(kNameMax, '~')));
	EXPECT_FALSE(valid_identity(""));
	EXPECT_FALSE(valid_identity(std::string(kNameMax + 1, 'a')));
	EXPECT_FALSE(valid_identity("a b"));
	EXPECT_FALSE(valid_identity(std::string("a\0b", 3)));
	EXPECT_FALSE(valid_identity("caf\xc3\xa9"));
	Auth a;
	a.id = "bad id";
	EXPECT_EQ(make_request(Op::kAuth, 1, a).error(), Errc::kBadValue);
	a.id = "";
	EXPECT_EQ(make_request(Op::kAuth, 1, a).error(), Errc::kBadNameLen);
	a.id = "ok";
	Bytes p = payload_of(make_request(Op::kAuth, 1, a));
	ASSERT_EQ(p.size(), kAuthSize);
	Bytes bad = p;
	bad[offsetof(dg_auth, id_len)] = std::byte{0};	// empty
	EXPECT_EQ(decode_auth(bad).error(), Errc::kBadNameLen);
	bad = p;
	bad[offsetof(dg_auth, id_len)] = std::byte{65};	// too long
	EXPECT_EQ(decode_auth(bad).error(), Errc::kBadNameLen);
	bad = p;
	bad[offsetof(dg_auth, reserved) + 5] = std::byte{1};
	EXPECT_EQ(decode_auth(bad).error(), Errc::kBadReserved);
	bad = p;
	bad[offsetof(dg_auth, id) + 1] = std::byte{' '};
	EXPECT_EQ(decode_auth(bad).error(), Errc::kBadValue);
	bad = p;
	bad[offsetof(dg_auth, id) + 10] = std::byte{'x'};	// past id_len: zero
	EXPECT_EQ(decode_auth(bad).error(), Errc::kBadReserved);
	ASSERT_TRUE(decode_auth(p).ok());
	EXPECT_EQ(decode_auth(p)->id, "ok");
}

TEST(ProtoLayout, MemInfo)
{
	const Bytes wire = bytes({
		0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00,	// capacity 8 GiB
		0x00, 0x00, 0x00, 0xc0, 0x00, 0x00, 0x00, 0x00,	// free 3 GiB
		0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00,	// slab_size 64 MiB
		0x05, 0x00, 0x00, 0x00,	// nr_clients
		0x00, 0x00, 0x00, 0x00,	// reserved
	});
	expect_layout(reply(Op::kMemInfo),
		      MemInfo{8ull << 30, 3ull << 30, 64ull << 20, 5}, wire);
}

TEST(ProtoLayout, MemAlloc)
{
	const Bytes wire = bytes({
		0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00,	// size 64 MiB
		0x2a, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80,	// tag
	});
	expect_layout(req(Op::kMemAlloc), MemAlloc{64ull << 20, 0x800000000000002a},
		      wire);
}

TEST(ProtoLayout, MemSlab)
{
	const Bytes wire = bytes({
		0x11, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,	// slab_id
		0x2a, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,	// tag
		0x00, 0x10, 0x32, 0x54, 0x76, 0x7f, 0x00, 0x00,	// addr
		0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00,	// size
		0xef, 0xbe, 0xad, 0xde,	// rkey
		0x01, 0x00, 0x00, 0x00,	// flags RESUMED
	});
	expect_layout(reply(Op::kMemAlloc),
		      MemSlab{0x11, 0x2a, 0x7f7654321000, 64ull << 20, 0xdeadbeef,
			      kSlabResumed},
		      wire);
}

TEST(ProtoLayout, MemFreeAndEvict)
{
	const Bytes wire = bytes({0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11});
	expect_layout(req(Op::kMemFree), MemFree{0x1122334455667788}, wire);
	expect_layout(req(Op::kMemEvict), MemFree{0x1122334455667788}, wire);
}

TEST(ProtoLayout, MemResize)
{
	const Bytes wire = bytes({
		0x00, 0x00, 0x00, 0x40, 0x01, 0x00, 0x00, 0x00,	// capacity 5 GiB
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,	// reserved
	});
	expect_layout(req(Op::kMemResize), MemResize{5ull << 30}, wire);
	Bytes bad = wire;
	bad[12] = std::byte{1};
	EXPECT_EQ(decode_mem_resize(bad).error(), Errc::kBadReserved);
	bad = wire;
	bad[0] = std::byte{1};
	EXPECT_EQ(decode_mem_resize(bad).error(), Errc::kBadAlign);
	EXPECT_EQ(decode_mem_resize(Bytes(kMemResizeSize)).error(), Errc::kBadValue);
	EXPECT_EQ(decode_mem_resize(Bytes(kMemResizeSize - 1)).error(), Errc::kBadSize);
	EXPECT_EQ(make_request(Op::kMemResize, 1, MemResize{0}).error(), Errc::kBadValue);
	EXPECT_EQ(make_request(Op::kMemResize, 1, MemFree{1}).error(), Errc::kBadBody);
}

const Bytes kMemRwWire = bytes({
	0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,	// slab_id 7
	0x00, 0x30, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,	// offset 4 GiB + 12 KiB
	0x00, 0x20, 0x00, 0x00,	// len 8 KiB
	0x00, 0x00, 0x00, 0x00,	// reserved
});

TEST(ProtoLayout, MemRead)
{
	expect_layout(req(Op::kMemRead), MemRw{7, (1ull << 32) + 0x3000, 0x2000},
		      kMemRwWire);
}

TEST(ProtoLayout, MemWrite)
{
	const Bytes data = pattern(0x2000, 3);
	expect_layout(req(Op::kMemWrite),
		      MemWrite{MemRw{7, (1ull << 32) + 0x3000, 0x2000}, data},
		      concat(kMemRwWire, data));
}

TEST(ProtoLayout, WholeFrame)
{
	Result<Bytes> f = make_request(Op::kMemRead, 0x0102030405060708,
				       MemRw{7, (1ull << 32) + 0x3000, 0x2000});
	ASSERT_TRUE(f.ok());
	const Bytes hdr = bytes({
		0x44, 0x47, 0x41, 0x47, 0x02, 0x00, 0x03, 0x01,
		0x18, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01,
	});
	EXPECT_EQ(*f, concat(hdr, kMemRwWire));
}

// ---------------------------------------------------------------- round trip

struct Case {
	const char *name;
	std::uint16_t opcode;
	Body body;
};

const Bytes kTwoPages = pattern(2 * kPageSize, 1);
const Bytes kMaxData = pattern(kMaxRwLen, 2);
const std::string kJsonText = R"({"capacity":8589934592,"clients":[]})";
const Bytes kJson(reinterpret_cast<const std::byte *>(kJsonText.data()),
		  reinterpret_cast<const std::byte *>(kJsonText.data() + kJsonText.size()));

std::vector<Case> round_trip_cases()
{
	Hello full = hello_value();
	full.name = std::string(kNameMax, 'x');
	full.features = 0xffffffff;	// unknown bits pass the codec
	Hello ctl = hello_value();
	ctl.role = Role::kCtl;
	ctl.name.clear();
	return {
		{"hello", req(Op::kHello), hello_value()},
		{"hello_full_name", req(Op::kHello), full},
		{"hello_ctl_no_name", req(Op::kHello), ctl},
		{"hello_reply", reply(Op::kHello),
		 HelloReply{1, 0, kFeatAuth, 42, nonce_from(9), {}}},
		{"auth", req(Op::kAuth), Auth{{}, "client"}},
		{"auth_long_id", req(Op::kAuth), Auth{{}, std::string(kNameMax, 'k')}},
		{"auth_reply", reply(Op::kAuth), AuthReply{}},
		{"heartbeat", req(Op::kHeartbeat), Empty{}},
		{"heartbeat_reply", reply(Op::kHeartbeat), Empty{}},
		{"bye", req(Op::kBye), Empty{}},
		{"status", req(Op::kStatus), Empty{}},
		{"status_reply", reply(Op::kStatus), Data{kJson}},
		{"status_reply_empty", reply(Op::kStatus), Data{}},
		{"mem_info", req(Op::kMemInfo), Empty{}},
		{"mem_info_reply", reply(Op::kMemInfo),
		 MemInfo{1ull << 40, 1ull << 39, 1ull << 26, 17}},
		{"mem_alloc", req(Op::kMemAlloc), MemAlloc{1ull << 26, 99}},
		{"mem_alloc_reply", reply(Op::kMemAlloc),
		 MemSlab{1, 99, 0xffffffffffff0000, 1ull << 26, 0x1234, 0}},
		{"mem_alloc_reply_resumed", reply(Op::kMemAlloc),
		 MemSlab{1, 99, 0, kPageSize, 0, kSlabResumed}},
		{"mem_free", req(Op::kMemFree), MemFree{~0ull}},
		{"mem_free_reply", reply(Op::kMemFree), Empty{}},
		{"mem_read", req(Op::kMemRead), MemRw{3, 0, kPageSize}},
		{"mem_read_max", req(Op::kMemRead),
		 MemRw{3, (~0ull - kMaxRwLen) & ~std::uint64_t{kPageSize - 1}, kMaxRwLen}},
		{"mem_read_reply", reply(Op::kMemRead), Data{kTwoPages}},
		{"mem_write", req(Op::kMemWrite),
		 MemWrite{MemRw{3, kPageSize, 2 * kPageSize}, kTwoPages}},
		{"mem_write_max", req(Op::kMemWrite),
		 MemWrite{MemRw{3, 0, kMaxRwLen}, kMaxData}},
		{"mem_write_reply", reply(Op::kMemWrite), Empty{}},
		{"mem_evict", req(Op::kMemEvict), MemFree{5}},
		{"mem_evict_reply", reply(Op::kMemEvict), Empty{}},
		{"mem_resize", req(Op::kMemResize), MemResize{~0ull & ~std::uint64_t{kPageSize - 1}}},
		{"mem_resize_reply", reply(Op::kMemResize), Empty{}},
	};
}

// Names the parameter in test output instead of dumping its bytes.
void PrintTo(const Case &c, std::ostream *os)
{
	*os << c.name;
}

class ProtoRoundTrip : public ::testing::TestWithParam<Case> {
protected:
	Message message() const
	{
		Hdr h;
		h.opcode = GetParam().opcode;
		h.req_id = 0xfedcba9876543210;
		return Message{h, GetParam().body};
	}
};

TEST_P(ProtoRoundTrip, EncodesAndDecodes)
{
	Result<Bytes> f = encode_message(message());
	ASSERT_TRUE(f.ok()) << to_string(f.error());
	Result<Frame> fr = decode_frame(*f);
	ASSERT_TRUE(fr.ok()) << to_string(fr.error());
	EXPECT_EQ(fr->wire_size(), f->size());
	Result<Message> m = decode_message(*fr);
	ASSERT_TRUE(m.ok()) << to_string(m.error());
	Hdr want = message().hdr;
	want.length = static_cast<std::uint32_t>(f->size() - kHdrSize);
	EXPECT_EQ(m->hdr, want);
	EXPECT_EQ(m->body, GetParam().body);
	EXPECT_EQ(payload_kind(GetParam().opcode), kind_of(GetParam().body));
}

TEST_P(ProtoRoundTrip, RejectsEveryTruncation)
{
	Result<Bytes> f = encode_message(message());
	ASSERT_TRUE(f.ok());
	// Cutting the buffer: framing error. Stepping through a big payload
	// page by page keeps the test quick.
	const std::size_t step = f->size() > 4 * kPageSize ? kPageSize - 1 : 1;
	for (std::size_t n = 0; n < f->size(); n += step) {
		Errc e = decode_err(ByteSpan(*f).first(n));
		EXPECT_EQ(e, n < kHdrSize ? Errc::kTooShort : Errc::kTruncated) << n;
	}
}

TEST_P(ProtoRoundTrip, RejectsWrongPayloadSize)
{
	Bytes payload = payload_of(encode_message(message()));
	const Kind kind = payload_kind(GetParam().opcode);
	Bytes longer = concat(payload, bytes({0}));
	const Bytes frame = frame_of(GetParam().opcode, longer);
	Result<Message> m = decode_all(frame);
	if (kind == Kind::kData) {
		EXPECT_TRUE(m.ok());	// free-form
	} else if (payload.size() + 1 <= kMaxPayload) {
		EXPECT_EQ(m.error(), Errc::kBadSize);
	}
	if (!payload.empty() && kind != Kind::kData) {
		payload.pop_back();
		EXPECT_EQ(decode_err(frame_of(GetParam().opcode, payload)), Errc::kBadSize);
	}
}

TEST_P(ProtoRoundTrip, StatusRules)
{
	Message m = message();
	Bytes payload = payload_of(encode_message(m));
	Errc e = decode_err(frame_of(m.hdr.opcode, payload, 12));
	if (!m.hdr.is_reply()) {
		EXPECT_EQ(e, Errc::kBadStatus);	// requests carry no status
	} else if (!payload.empty()) {
		EXPECT_EQ(e, Errc::kBadSize);	// error replies carry no payload
	} else {
		EXPECT_EQ(e, Errc::kOk);
	}
	m.hdr.status = 12;
	EXPECT_EQ(encode_message(m).error(),
		  !m.hdr.is_reply() ? Errc::kBadStatus
		  : std::holds_alternative<Empty>(m.body) ? Errc::kOk
		  : Errc::kBadBody);
}

TEST_P(ProtoRoundTrip, EncoderRejectsWrongBody)
{
	Message m = message();
	// Every message has a body kind; swap in one that differs.
	m.body = kind_of(m.body) == Kind::kMemFree ? Body{MemAlloc{kPageSize, 1}}
						   : Body{MemFree{1}};
	EXPECT_EQ(encode_message(m).error(), Errc::kBadBody);
}

INSTANTIATE_TEST_SUITE_P(AllMessages, ProtoRoundTrip,
			 ::testing::ValuesIn(round_trip_cases()),
			 [](const auto &info) { return std::string(info.param.name); });

// ---------------------------------------------------------------- opcodes, status

TEST(ProtoOpcode, RejectsUnknownOpcodes)
{
	for (std::uint16_t op : {0x0000, 0x0006, 0x00ff, 0x0107, 0x0215, 0x02ff,
				 0x7fff, 0x8000, 0x8006, 0x8107, 0xffff})
		EXPECT_EQ(decode_err(frame_of(op, {})), Errc::kBadOpcode) << op;
	// BYE has no reply.
	EXPECT_EQ(decode_err(frame_of(reply(Op::kBye), {})), Errc::kBadOpcode);
	EXPECT_EQ(make_reply(Op::kBye, 1).error(), Errc::kBadOpcode);
	Message m{Hdr{}, Empty{}};
	m.hdr.opcode = 0x0300;
	EXPECT_EQ(encode_message(m).error(), Errc::kBadOpcode);
}

TEST(ProtoStatus, ErrorRepliesAreEmptyAndBounded)
{
	Result<Bytes> f = make_error_reply(Op::kMemAlloc, 77, 12 /* ENOMEM */);
	ASSERT_TRUE(f.ok());
	EXPECT_EQ(f->size(), kHdrSize);
	Result<Message> m = decode_all(*f);
	ASSERT_TRUE(m.ok());
	EXPECT_EQ(m->hdr.status, 12u);
	EXPECT_EQ(m->hdr.req_id, 77u);
	EXPECT_EQ(m->hdr.opcode, reply(Op::kMemAlloc));
	EXPECT_TRUE(std::holds_alternative<Empty>(m->body));

	EXPECT_EQ(make_error_reply(Op::kMemAlloc, 1, 0).error(), Errc::kBadStatus);
	EXPECT_EQ(make_error_reply(Op::kMemAlloc, 1, kMaxErrno + 1).error(),
		  Errc::kBadStatus);
	EXPECT_TRUE(make_error_reply(Op::kMemAlloc, 1, kMaxErrno).ok());
	EXPECT_EQ(decode_err(frame_of(reply(Op::kMemAlloc), {}, kMaxErrno + 1)),
		  Errc::kBadStatus);
	EXPECT_EQ(decode_err(frame_of(reply(Op::kMemAlloc), {}, 0xffffffff)),
		  Errc::kBadStatus);
	// An error reply carries no payload.
	EXPECT_EQ(decode_err(frame_of(reply(Op::kMemAlloc), pattern(40, 0), 12)),
		  Errc::kBadSize);
}

TEST(ProtoStatus, ErrorReplyToUnknownRequest)
{
	Result<Bytes> f = make_error_reply(std::uint16_t{0x0300}, 5, 95 /* EOPNOTSUPP */);
	ASSERT_TRUE(f.ok());
	Result<Message> m = decode_all(*f);
	ASSERT_TRUE(m.ok()) << to_string(m.error());
	EXPECT_EQ(m->hdr.opcode, 0x8300);
	EXPECT_EQ(m->hdr.status, 95u);
}

TEST(ProtoStatus, SuccessReplyKeepsMinorAndReqId)
{
	Message m{Hdr{}, MemFree{1}};
	m.hdr.minor = 9;
	m.hdr.opcode = req(Op::kMemFree);
	m.hdr.req_id = 3;
	Result<Bytes> f = encode_message(m);
	ASSERT_TRUE(f.ok());
	Result<Message> d = decode_all(*f);
	ASSERT_TRUE(d.ok());
	EXPECT_EQ(d->hdr.minor, 9);
	EXPECT_EQ(d->hdr.req_id, 3u);
	m.hdr.major = 1;
	EXPECT_EQ(encode_message(m).error(), Errc::kBadMajor);
}

// ---------------------------------------------------------------- hello

Errc hello_err(const Bytes &payload)
{
	return decode_hello(payload).error();
}

TEST(ProtoHello, RejectsNonzeroReserved)
{
	for (std::size_t i : {12, 13, 14, 15, 58, 59, 60, 61, 62, 63}) {
		Bytes b = kHelloWire;
		b[i] = std::byte{1};
		EXPECT_EQ(hello_err(b), Errc::kBadReserved) << i;
		EXPECT_EQ(decode_err(frame_of(req(Op::kHello), b)), Errc::kBadReserved);
	}
}

TEST(ProtoHello, NameLength)
{
	Bytes b = kHelloWire;
	for (unsigned len : {65u, 128u, 0x100u, 0xffffu}) {
		b[56] = static_cast<std::byte>(len & 0xff);
		b[57] = static_cast<std::byte>(len >> 8);
		EXPECT_EQ(hello_err(b), Errc::kBadNameLen) << len;
	}
	std::memset(b.data() + 64, 'n', kNameMax);
	b[56] = std::byte{64};
	b[57] = std::byte{0};
	Result<Hello> h = decode_hello(b);
	ASSERT_TRUE(h.ok());
	EXPECT_EQ(h->name, std::string(kNameMax, 'n'));
	b[56] = std::byte{0};
	h = decode_hello(b);
	ASSERT_TRUE(h.ok());
	EXPECT_EQ(h->name, "");

	Hello big = hello_value();
	big.name = std::string(kNameMax + 1, 'x');
	EXPECT_EQ(make_request(Op::kHello, 1, big).error(), Errc::kBadNameLen);
	EXPECT_EQ(check(Body{big}), Errc::kBadNameLen);
}

TEST(ProtoHello, NameMayHoldAnyBytes)
{
	Hello h = hello_value();
	h.name = std::string("a\0b\xff", 4);
	Result<Message> m = decode_all(*make_request(Op::kHello, 1, h));
	ASSERT_TRUE(m.ok());
	EXPECT_EQ(std::get<Hello>(m->body).name, h.name);
}

TEST(ProtoHello, RejectsUnknownRole)
{
	for (unsigned role : {0u, 4u, 0x100u, 0xffffffffu}) {
		Bytes b = kHelloWire;
		for (int i = 0; i < 4; i++)
			b[4 + i] = static_cast<std::byte>(role >> (8 * i));
		EXPECT_EQ(hello_err(b), Errc::kBadRole) << role;
	}
	Hello h = hello_value();
	h.role = static_cast<Role>(7);
	EXPECT_EQ(make_request(Op::kHello, 1, h).error(), Errc::kBadRole);
}

TEST(ProtoHello, ReplyRejectsNonzeroReserved)
{
	Bytes b = payload_of(make_reply(Op::kHello, 1, HelloReply{}));
	for (std::size_t i = 8; i < 16; i++) {
		Bytes c = b;
		c[i] = std::byte{0x80};
		EXPECT_EQ(decode_hello_reply(c).error(), Errc::kBadReserved) << i;
	}
}

TEST(ProtoHello, ServerNegotiates)
{
	Hello peer = hello_value();
	peer.minor = 5;
	peer.features = kFeatRdma | kFeatAuth | (1u << 20);
	Result<Negotiated> n = negotiate(peer, 3, kFeatAuth);
	ASSERT_TRUE(n.ok());
	EXPECT_EQ(*n, (Negotiated{3, kFeatAuth}));

	peer.minor = 1;
	n = negotiate(peer, 3, kFeatKnown | (1u << 20));	// unknown bits dropped
	ASSERT_TRUE(n.ok());
	EXPECT_EQ(*n, (Negotiated{1, kFeatRdma | kFeatAuth}));

	peer.features = 0;
	n = negotiate(peer);
	ASSERT_TRUE(n.ok());
	EXPECT_EQ(*n, (Negotiated{kMinor, 0}));

	for (std::uint16_t major : {0, 1, 3, 0x102}) {
		peer.major = major;
		EXPECT_EQ(negotiate(peer).error(), Errc::kBadMajor) << major;
	}
}

TEST(ProtoHello, ClientChecksReply)
{
	Hello sent = hello_value();
	sent.minor = 2;
	sent.features = kFeatRdma;
	HelloReply r{kMajor, 1, kFeatRdma, 7, {}};
	Result<Negotiated> n = check_hello_reply(sent, r);
	ASSERT_TRUE(n.ok());
	EXPECT_EQ(*n, (Negotiated{1, kFeatRdma}));

	r.features = kFeatRdma | kFeatAuth;	// AUTH was not offered
	EXPECT_EQ(check_hello_reply(sent, r).error(), Errc::kBadFeatures);
	r.features = kFeatRdma;
	r.minor = 3;	// higher than ours
	EXPECT_EQ(check_hello_reply(sent, r).error(), Errc::kBadFeatures);
	r.minor = 2;
	r.major = 1;
	EXPECT_EQ(check_hello_reply(sent, r).error(), Errc::kBadMajor);
}

// ---------------------------------------------------------------- memory messages

Bytes mem_rw_wire(std::uint64_t offset, std::uint32_t len, std::uint32_t reserved = 0)
{
	Bytes b = kMemRwWire;
	for (int i = 0; i < 8; i++)
		b[8 + i] = static_cast<std::byte>(offset >> (8 * i));
	for (int i = 0; i < 4; i++) {
		b[16 + i] = static_cast<std::byte>(len >> (8 * i));
		b[20 + i] = static_cast<std::byte>(reserved >> (8 * i));
	}
	return b;
}

TEST(ProtoMem, RwRejectsMisalignment)
{
	for (std::uint64_t off : {1ull, 512ull, 4095ull, 4097ull, (1ull << 40) + 8})
		EXPECT_EQ(decode_mem_rw(mem_rw_wire(off, kPageSize)).error(),
			  Errc::kBadAlign) << off;
	for (std::uint32_t len : {1u, 512u, 4095u, 4097u, kMaxRwLen - 1})
		EXPECT_EQ(decode_mem_rw(mem_rw_wire(0, len)).error(), Errc::kBadAlign)
			<< len;
}

TEST(ProtoMem, RwRejectsBadLength)
{
	EXPECT_EQ(decode_mem_rw(mem_rw_wire(0, 0)).error(), Errc::kBadValue);
	EXPECT_EQ(decode_mem_rw(mem_rw_wire(0, kMaxRwLen + kPageSize)).error(),
		  Errc::kBadValue);
	EXPECT_EQ(decode_mem_rw(mem_rw_wire(0, 0xfffff000u)).error(), Errc::kBadValue);
	EXPECT_TRUE(decode_mem_rw(mem_rw_wire(0, kMaxRwLen)).ok());
	// The end, offset + len, must not wrap around.
	const std::uint64_t last_page = ~0ull - kPageSize + 1;
	EXPECT_TRUE(decode_mem_rw(mem_rw_wire(last_page - kPageSize, kPageSize)).ok());
	EXPECT_EQ(decode_mem_rw(mem_rw_wire(last_page, kPageSize)).error(),
		  Errc::kBadValue);
	EXPECT_EQ(decode_mem_rw(mem_rw_wire(last_page - kPageSize, 4 * kPageSize)).error(),
		  Errc::kBadValue);
}

TEST(ProtoMem, RwRejectsReservedAndSize)
{
	for (std::uint32_t r : {1u, 0x100u, 0x80000000u})
		EXPECT_EQ(decode_mem_rw(mem_rw_wire(0, kPageSize, r)).error(),
			  Errc::kBadReserved) << r;
	Bytes b = mem_rw_wire(0, kPageSize);
	EXPECT_EQ(decode_mem_rw(ByteSpan(b).first(23)).error(), Errc::kBadSize);
	EXPECT_EQ(decode_mem_rw(concat(b, bytes({0}))).error(), Errc::kBadSize);
	EXPECT_EQ(decode_mem_rw({}).error(), Errc::kBadSize);
}

TEST(ProtoMem, WriteNeedsExactlyLenBytes)
{
	Bytes rw = mem_rw_wire(0, 2 * kPageSize);
	EXPECT_TRUE(decode_mem_write(concat(rw, pattern(2 * kPageSize, 0))).ok());
	EXPECT_EQ(decode_mem_write(concat(rw, pattern(kPageSize, 0))).error(),
		  Errc::kBadSize);
	EXPECT_EQ(decode_mem_write(concat(rw, pattern(2 * kPageSize + 1, 0))).error(),
		  Errc::kBadSize);
	EXPECT_EQ(decode_mem_write(rw).error(), Errc::kBadSize);
	EXPECT_EQ(decode_mem_write(ByteSpan(rw).first(10)).error(), Errc::kBadSize);
	// The dg_mem_rw's own checks apply.
	EXPECT_EQ(decode_mem_write(concat(mem_rw_wire(100, kPageSize),
					  pattern(kPageSize, 0))).error(),
		  Errc::kBadAlign);
	// Encoder side.
	const Bytes page = pattern(kPageSize, 0);
	EXPECT_EQ(make_request(Op::kMemWrite, 1,
			       MemWrite{MemRw{0, 0, 2 * kPageSize}, page}).error(),
		  Errc::kBadSize);
	EXPECT_EQ(make_request(Op::kMemRead, 1, MemRw{0, 1, kPageSize}).error(),
		  Errc::kBadAlign);
}

TEST(ProtoMem, AllocRejectsBadSize)
{
	auto wire = [](std::uint64_t size) {
		Bytes b(kMemAllocSize);
		for (int i = 0; i < 8; i++)
			b[i] = static_cast<std::byte>(size >> (8 * i));
		return b;
	};
	EXPECT_EQ(decode_mem_alloc(wire(0)).error(), Errc::kBadValue);
	for (std::uint64_t size : {1ull, 4095ull, 4097ull, (1ull << 26) + 1, ~0ull})
		EXPECT_EQ(decode_mem_alloc(wire(size)).error(), Errc::kBadAlign) << size;
	EXPECT_TRUE(decode_mem_alloc(wire(kPageSize)).ok());
	EXPECT_EQ(decode_mem_alloc(pattern(15, 0)).error(), Errc::kBadSize);
	EXPECT_EQ(make_request(Op::kMemAlloc, 1, MemAlloc{0, 0}).error(), Errc::kBadValue);
}

TEST(ProtoMem, SlabRejectsBadFields)
{
	MemSlab s{1, 2, 3, kPageSize, 4, 0};
	Bytes good = payload_of(make_reply(Op::kMemAlloc, 1, s));
	ASSERT_TRUE(decode_mem_slab(good).ok());
	Bytes b = good;
	b[36] = std::byte{2};	// unknown flag
	EXPECT_EQ(decode_mem_slab(b).error(), Errc::kBadValue);
	b = good;
	b[39] = std::byte{0x80};
	EXPECT_EQ(decode_mem_slab(b).error(), Errc::kBadValue);
	b = good;
	std::memset(b.data() + 24, 0, 8);	// size 0
	EXPECT_EQ(decode_mem_slab(b).error(), Errc::kBadValue);
	b[24] = std::byte{1};	// size 1
	EXPECT_EQ(decode_mem_slab(b).error(), Errc::kBadAlign);
}

TEST(ProtoMem, InfoRejectsBadFields)
{
	MemInfo ok{1ull << 30, 1ull << 29, 1ull << 26, 1};
	Bytes good = payload_of(make_reply(Op::kMemInfo, 1, ok));
	ASSERT_TRUE(decode_mem_info(good).ok());
	for (std::size_t i = 28; i < 32; i++) {
		Bytes b = good;
		b[i] = std::byte{1};
		EXPECT_EQ(decode_mem_info(b).error(), Errc::kBadReserved) << i;
	}
	EXPECT_EQ(check(Body{MemInfo{1, 2, kPageSize, 0}}), Errc::kBadValue);
	EXPECT_EQ(check(Body{MemInfo{0, 0, 0, 0}}), Errc::kBadValue);
	EXPECT_EQ(check(Body{MemInfo{0, 0, 100, 0}}), Errc::kBadAlign);
	EXPECT_EQ(make_reply(Op::kMemInfo, 1, MemInfo{1, 2, kPageSize, 0}).error(),
		  Errc::kBadValue);
}

TEST(ProtoMem, ReadReplyUpToMaxPayload)
{
	const Bytes max = pattern(kMaxPayload, 0);
	EXPECT_TRUE(make_reply(Op::kMemRead, 1, Data{max}).ok());
	const Bytes over = pattern(kMaxPayload + 1, 0);
	EXPECT_EQ(make_reply(Op::kMemRead, 1, Data{over}).error(), Errc::kTooLong);
}

TEST(ProtoErrc, EveryErrorHasAName)
{
	for (int e = 0; e <= static_cast<int>(Errc::kBadFeatures); e++)
		EXPECT_NE(to_string(static_cast<Errc>(e)), "unknown error") << e;
}

// ---------------------------------------------------------------- fuzz

constexpr std::uint64_t kFuzzSeed = 0x6469736167677a7a;
constexpr int kRandomIters = 20000;
constexpr int kMutationsPerCase = 1500;

// Feeds @in to every decoder; none may crash or read outside @in (the
// buffers are exactly sized, so ASan sees any overrun).
void decode_everything(ByteSpan in)
{
	(void)decode_hdr(in);
	Result<Frame> f = decode_frame(in);
	if (f) {
		EXPECT_LE(f->wire_size(), in.size());
		(void)decode_message(*f);
	}
	(void)decode_hello(in);
	(void)decode_hello_reply(in);
	(void)decode_auth(in);
	(void)decode_mem_info(in);
	(void)decode_mem_alloc(in);
	(void)decode_mem_slab(in);
	(void)decode_mem_free(in);
	(void)decode_mem_rw(in);
	(void)decode_mem_write(in);
}

TEST(ProtoFuzz, RandomBytes)
{
	std::mt19937_64 rng(kFuzzSeed);
	int frames = 0;
	for (int i = 0; i < kRandomIters; i++) {
		Bytes b(rng() % 300);
		for (auto &x : b)
			x = static_cast<std::byte>(rng());
		// Half the time, get past the magic and major checks.
		if (i % 2 && b.size() >= kHdrSize) {
			std::memcpy(b.data(), "DGAG", 4);
			b[4] = std::byte{kMajor};
			b[8 + (rng() % 4)] = std::byte{0};	// shrink length
			b[11] = std::byte{0};
			if (rng() % 2)
				b[10] = std::byte{0};
		} else if (b.size() >= 4) {
			EXPECT_FALSE(decode_frame(b).ok() &&
				     std::memcmp(b.data(), "DGAG", 4) != 0);
		}
		frames += decode_frame(b).ok();
		decode_everything(b);
	}
	EXPECT_GT(frames, 0);	// the fuzzer reached the message decoders
}

// Mutates valid frames. Whatever decodes must encode back to the same bytes
// (the codec is canonical; a hello's name tail is the one exception) and
// decode again to the same message.
TEST(ProtoFuzz, MutatedFrames)
{
	std::mt19937_64 rng(kFuzzSeed + 1);
	int accepted = 0, rejected = 0;
	for (const Case &c : round_trip_cases()) {
		Hdr h;
		h.opcode = c.opcode;
		Result<Bytes> orig = encode_message(Message{h, c.body});
		ASSERT_TRUE(orig.ok()) << c.name;
		if (orig->size() > 4096)
			continue;	// big data payloads only slow this down
		for (int i = 0; i < kMutationsPerCase; i++) {
			Bytes b = *orig;
			switch (rng() % 4) {
			case 0:	// truncate
				b.resize(rng() % (b.size() + 1));
				break;
			case 1:	// append
				b.resize(b.size() + 1 + rng() % 16, std::byte{0});
				break;
			default:
				break;
			}
			for (int n = 1 + rng() % 4; n > 0 && !b.empty(); n--)
				b[rng() % b.size()] ^= static_cast<std::byte>(1 + rng() % 255);

			decode_everything(b);
			Result<Message> m = decode_all(b);
			if (!m) {
				rejected++;
				continue;
			}
			accepted++;
			Result<Bytes> again = encode_message(*m);
			ASSERT_TRUE(again.ok()) << c.name << ": " << to_string(again.error());
			ASSERT_LE(again->size(), b.size());
			if (payload_kind(m->hdr.opcode) != Kind::kHello || m->hdr.status) {
				ASSERT_TRUE(std::equal(again->begin(), again->end(), b.begin()))
					<< c.name;
			}
			Result<Message> m2 = decode_all(*again);
			ASSERT_TRUE(m2.ok()) << c.name;
			EXPECT_EQ(m2->hdr, m->hdr);
			EXPECT_EQ(m2->body, m->body);
		}
	}
	EXPECT_GT(accepted, 0);
	EXPECT_GT(rejected, 0);
}

}  // namespace
}  // namespace disagg::proto
