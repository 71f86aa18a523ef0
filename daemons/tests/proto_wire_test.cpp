// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// Tests of the codec's tables (daemons/lib/wire.hpp): every payload kind
// round-trips with every member set to a distinct nonzero value (so a member
// a table leaves out, or binds twice, comes back wrong), every opcode's
// payload kind has such a value here, and the layout check that each table
// must pass at compile time does tell a gap and an overlap from a good table.
#include "proto.hpp"
#include "wire.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstddef>
#include <map>
#include <string>
#include <tuple>

namespace disagg::proto {
namespace {

// ------------------------------------------------ the compile-time check

// A table that covers its struct is kOk; one with a hole or with two entries
// on the same bytes is not, and table_ok<> (instantiated by every encode and
// decode) refuses it with a static_assert. These asserts check the checker.
using wire::Layout;
using wire::layout_of;
using wire::Le;
using wire::Reserved;

static_assert(layout_of<dg_mem_rw, std::tuple<Le<&MemRw::slab_id, 0, 8>, Le<&MemRw::offset, 8, 8>,
					      Le<&MemRw::len, 16, 4>, Reserved<20, 4>>>() ==
	      Layout::kOk);
// Entries in any order.
static_assert(layout_of<dg_mem_rw, std::tuple<Reserved<20, 4>, Le<&MemRw::len, 16, 4>,
					      Le<&MemRw::slab_id, 0, 8>, Le<&MemRw::offset, 8, 8>>>() ==
	      Layout::kOk);
// The reserved field forgotten: a gap at the end.
static_assert(layout_of<dg_mem_rw, std::tuple<Le<&MemRw::slab_id, 0, 8>, Le<&MemRw::offset, 8, 8>,
					      Le<&MemRw::len, 16, 4>>>() == Layout::kGap);
// A field forgotten in the middle.
static_assert(layout_of<dg_mem_rw, std::tuple<Le<&MemRw::slab_id, 0, 8>, Le<&MemRw::len, 16, 4>,
					      Reserved<20, 4>>>() == Layout::kGap);
// Two entries on the same bytes.
static_assert(layout_of<dg_mem_rw, std::tuple<Le<&MemRw::slab_id, 0, 8>, Le<&MemRw::offset, 8, 8>,
					      Le<&MemRw::len, 16, 4>, Reserved<16, 8>>>() ==
	      Layout::kOverlap);
// Past the end of the struct.
static_assert(layout_of<dg_mem_free, std::tuple<Le<&MemRw::slab_id, 0, 8>, Reserved<8, 8>>>() ==
	      Layout::kOverlap);

// ------------------------------------------------ every kind, every member

Bytes pattern(std::size_t n, unsigned seed)
{
	Bytes out(n);
	for (std::size_t i = 0; i < n; i++)
		out[i] = static_cast<std::byte>((i * 13 + seed) | 1);
	return out;
}

template <std::size_t N>
std::array<std::uint8_t, N> array_from(unsigned seed)
{
	std::array<std::uint8_t, N> a{};
	for (std::size_t i = 0; i < N; i++)
		a[i] = static_cast<std::uint8_t>(seed + i);
	return a;
}

const Bytes kPages = pattern(2 * kPageSize, 3);
const Bytes kData = pattern(100, 5);
const Bytes kValue = pattern(7, 9);

FsAttr attr_value()
{
	return FsAttr{101, 102, 103, 104, 105, 106, 107, 108, 109, 110,
		      0100644, 111, 112, 113, 114, 115};
}

FsCred cred_value()
{
	FsCred c{201, 202, kFsNgroups, {}};
	for (std::size_t i = 0; i < kFsNgroups; i++)
		c.groups[i] = static_cast<std::uint32_t>(300 + i);
	return c;
}

// One value per payload kind with every member nonzero and distinct.
std::map<Kind, Body> samples()
{
	std::map<Kind, Body> s;
	s[Kind::kEmpty] = Empty{};
	s[Kind::kHello] = Hello{7, 8, Role::kFs, 0x5a5a, 0x0102030405060708,
				array_from<kNonceLen>(1), "hello-name"};
	s[Kind::kHelloReply] = HelloReply{9, 10, 0x33, 0x1112131415161718,
					  array_from<kNonceLen>(40), array_from<kTokenLen>(80)};
	s[Kind::kAuth] = Auth{array_from<kMacLen>(20), "key-id"};
	s[Kind::kAuthReply] = AuthReply{array_from<kMacLen>(60), array_from<kTokenLen>(99)};
	s[Kind::kMemInfo] = MemInfo{1ull << 40, 1ull << 30, 1ull << 21, 17};
	s[Kind::kMemAlloc] = MemAlloc{1ull << 21, 23};
	s[Kind::kMemSlab] = MemSlab{31, 32, 0x7000000000, 1ull << 21, 0xabcd, kSlabResumed};
	s[Kind::kMemFree] = MemFree{41};
	s[Kind::kMemRw] = MemRw{51, 3 * kPageSize, kPageSize};
	s[Kind::kMemWrite] = MemWrite{MemRw{61, 5 * kPageSize, 2 * kPageSize}, kPages};
	s[Kind::kData] = Data{kData};
	FsReq r;
	r.flags = 1;
	r.valid = 0xff;
	r.mode = 0100600;
	r.uid = 71;
	r.gid = 72;
	r.rdev = 73;
	r.count = 74;
	r.offset = 75;
	r.atime_sec = 76;
	r.mtime_sec = 77;
	r.atime_nsec = 78;
	r.mtime_nsec = 79;
	r.cred = cred_value();
	r.path = "dir/file";
	r.name2 = "other";
	r.data = kData;
	s[Kind::kFsReq] = r;
	s[Kind::kFsAttr] = attr_value();
	s[Kind::kFsWriteReply] = FsWriteReply{81, attr_value()};
	s[Kind::kFsReaddir] = FsReaddir{true, {{91, 92, 4, "a"}, {93, 94, 8, "eightchr"},
					       {95, 96, 10, "nine-char"}}};
	s[Kind::kFsStatfs] = FsStatfs{121, 122, 123, 124, 125, 126, 127, 128};
	s[Kind::kFsXattr] = FsXattr{static_cast<std::uint32_t>(kValue.size()), kValue};
	s[Kind::kMemResize] = MemResize{1ull << 33};
	FsAttr other = attr_value();
	other.ino = 131;
	s[Kind::kFsEntry] = FsEntry{attr_value(), other, attr_value()};
	s[Kind::kFsReaddirPlus] = FsReaddirPlus{false, {{attr_value(), 141, 4, "a"},
							{other, 142, 8, "eightchr"}}};
	return s;
}

Result<Message> decode_all(ByteSpan in)
{
	Result<Frame> f = decode_frame(in);
	if (!f)
		return f.error();
	return decode_message(*f);
}

TEST(ProtoWire, EveryKindHasASample)
{
	const std::map<Kind, Body> s = samples();
	for (unsigned k = static_cast<unsigned>(Kind::kEmpty);
	     k <= static_cast<unsigned>(Kind::kFsReaddirPlus); k++) {
		auto it = s.find(static_cast<Kind>(k));
		ASSERT_NE(it, s.end()) << "kind " << k;
		EXPECT_EQ(kind_of(it->second), static_cast<Kind>(k)) << "kind " << k;
	}
}

// Every opcode a message can carry, request and reply, with its kind's
// sample: encoded, decoded and compared member by member.
TEST(ProtoWire, EveryOpcodeRoundTrips)
{
	const std::map<Kind, Body> s = samples();
	int messages = 0;
	for (unsigned op = 0; op <= 0xffff; op++) {
		const auto opcode = static_cast<std::uint16_t>(op);
		const Kind kind = payload_kind(opcode);
		if (kind == Kind::kNone)
			continue;
		Hdr h;
		h.opcode = opcode;
		h.req_id = 0x0123456789abcdef;
		const Body &body = s.at(kind);
		Result<Bytes> f = encode_message(Message{h, body});
		ASSERT_TRUE(f.ok()) << std::hex << op << ": " << to_string(f.error());
		Result<Message> m = decode_all(*f);
		ASSERT_TRUE(m.ok()) << std::hex << op << ": " << to_string(m.error());
		EXPECT_EQ(m->hdr.opcode, opcode);
		EXPECT_EQ(m->hdr.req_id, h.req_id);
		EXPECT_EQ(m->body, body) << std::hex << op;
		// And again from the decoded value: the same bytes.
		Result<Bytes> again = encode_message(*m);
		ASSERT_TRUE(again.ok());
		EXPECT_EQ(*again, *f) << std::hex << op;
		messages++;
	}
	// 5 common opcodes (BYE has no reply), 7 memory and 21 storage ones.
	EXPECT_EQ(messages, 2 * (5 + 7 + 21) - 1);
}

// Each member of the samples, changed alone, changes the encoding: no
// member is left out of its table.
template <class T, class V>
void expect_member_encoded(Op op, bool reply, const T &base, V T::*member, V other)
{
	T changed = base;
	changed.*member = other;
	Hdr h;
	h.opcode = static_cast<std::uint16_t>(op) | (reply ? kReplyBit : 0);
	Result<Bytes> a = encode_message(Message{h, base});
	Result<Bytes> b = encode_message(Message{h, changed});
	ASSERT_TRUE(a.ok() && b.ok());
	EXPECT_NE(*a, *b);
	EXPECT_FALSE(Body{base} == Body{changed});
}

TEST(ProtoWire, FsReqEqualityAndEncodingSeeEveryMember)
{
	const FsReq r = std::get<FsReq>(samples().at(Kind::kFsReq));
	const Op op = Op::kFsWrite;
	expect_member_encoded(op, false, r, &FsReq::flags, 2u);
	expect_member_encoded(op, false, r, &FsReq::valid, 1u);
	expect_member_encoded(op, false, r, &FsReq::mode, 0100700u);
	expect_member_encoded(op, false, r, &FsReq::uid, 1u);
	expect_member_encoded(op, false, r, &FsReq::gid, 1u);
	expect_member_encoded(op, false, r, &FsReq::rdev, 1u);
	expect_member_encoded(op, false, r, &FsReq::count, 1u);
	expect_member_encoded(op, false, r, &FsReq::offset, std::uint64_t{1});
	expect_member_encoded(op, false, r, &FsReq::atime_sec, std::uint64_t{1});
	expect_member_encoded(op, false, r, &FsReq::mtime_sec, std::uint64_t{1});
	expect_member_encoded(op, false, r, &FsReq::atime_nsec, 1u);
	expect_member_encoded(op, false, r, &FsReq::mtime_nsec, 1u);
	FsCred c = r.cred;
	c.groups[kFsNgroups - 1] = 1;
	expect_member_encoded(op, false, r, &FsReq::cred, c);
	expect_member_encoded(op, false, r, &FsReq::path, std::string_view("dir/filf"));
	expect_member_encoded(op, false, r, &FsReq::name2, std::string_view("othes"));
	const Bytes d = pattern(100, 6);
	expect_member_encoded(op, false, r, &FsReq::data, ByteSpan(d));
}

TEST(ProtoWire, SpanMembersCompareByContent)
{
	const Bytes a = pattern(64, 1);
	const Bytes b = a;	// another buffer, same bytes
	FsXattr x{64, a};
	FsXattr y{64, b};
	EXPECT_EQ(x, y);
	MemWrite w{MemRw{1, 0, 64}, a};
	MemWrite v{MemRw{1, 0, 64}, b};
	EXPECT_EQ(w, v);
	v.rw.slab_id = 2;
	EXPECT_NE(w, v);
}

}  // namespace
}  // namespace disagg::proto
