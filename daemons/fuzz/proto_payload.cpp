// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// libFuzzer harness: every payload decoder of the codec on its own, without
// a header in front. The first input byte picks the decoder (modulo the
// table below), the rest is the payload. What decodes must pass check(),
// encode (as the message the table names) to the same payload bytes (a
// hello's name tail excepted) and come back equal through decode_message.
//
// A new decoder in proto.hpp gets a line in kDecoders (and a seed in
// corpus_gen.cpp); the order is part of the corpus, so append only.
#include "fuzz_util.hpp"
#include "proto.hpp"

#include <algorithm>
#include <cstdint>
#include <iterator>

using namespace disagg::proto;

namespace {

template <auto Fn>
Result<Body> as_body(ByteSpan p)
{
	auto r = Fn(p);
	if (!r)
		return r.error();
	return Body{std::move(r).value()};
}

struct Decoder {
	Result<Body> (*decode)(ByteSpan);
	std::uint16_t opcode;	// a message that carries this payload
};

constexpr std::uint16_t reply(Op op) { return static_cast<std::uint16_t>(op) | kReplyBit; }
constexpr std::uint16_t req(Op op) { return static_cast<std::uint16_t>(op); }

const Decoder kDecoders[] = {
	{as_body<decode_hello>, req(Op::kHello)},
	{as_body<decode_hello_reply>, reply(Op::kHello)},
	{as_body<decode_auth>, req(Op::kAuth)},
	{as_body<decode_mem_info>, reply(Op::kMemInfo)},
	{as_body<decode_mem_alloc>, req(Op::kMemAlloc)},
	{as_body<decode_mem_slab>, reply(Op::kMemAlloc)},
	{as_body<decode_mem_free>, req(Op::kMemFree)},
	{as_body<decode_mem_rw>, req(Op::kMemRead)},
	{as_body<decode_mem_write>, req(Op::kMemWrite)},
	{as_body<decode_fs_req>, req(Op::kFsWrite)},
	{as_body<decode_fs_attr>, reply(Op::kFsGetattr)},
	{as_body<decode_fs_write_reply>, reply(Op::kFsWrite)},
	{as_body<decode_fs_readdir>, reply(Op::kFsReaddir)},
	{as_body<decode_fs_statfs>, reply(Op::kFsStatfs)},
	{as_body<decode_fs_xattr>, reply(Op::kFsGetxattr)},
	{as_body<decode_auth_reply>, reply(Op::kAuth)},
	{as_body<decode_mem_resize>, req(Op::kMemResize)},
	{as_body<decode_fs_entry>, reply(Op::kFsCreate)},
	{as_body<decode_fs_readdirplus>, reply(Op::kFsReaddirplus)},
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
	if (size < 1)
		return 0;
	const Decoder &d = kDecoders[data[0] % std::size(kDecoders)];
	const ByteSpan p = std::as_bytes(std::span(data + 1, size - 1));

	Result<Body> body = d.decode(p);
	if (!body) {
		FUZZ_CHECK(!is_framing_error(body.error()), static_cast<unsigned>(body.error()));
		return 0;
	}
	FUZZ_CHECK(check(*body) == Errc::kOk, static_cast<unsigned>(check(*body)));
	// The decoder's kind, or DG_FEAT_FSATTR's entry form of a reply.
	FUZZ_CHECK(kind_of(*body) == payload_kind(d.opcode) ||
			   (kind_of(*body) == Kind::kFsEntry && (d.opcode & kReplyBit) &&
			    has_entry_reply(d.opcode)),
		   d.opcode);

	Hdr h;
	h.opcode = d.opcode;
	h.req_id = 1;
	Result<Bytes> frame = encode_message(Message{h, *body});
	if (!frame) {
		// Only a payload too big for one message may fail here.
		FUZZ_CHECK(frame.error() == Errc::kTooLong, static_cast<unsigned>(frame.error()));
		FUZZ_CHECK(p.size() > kMaxPayload, p.size());
		return 0;
	}
	FUZZ_CHECK(frame->size() == kHdrSize + p.size(), frame->size());
	if (payload_kind(d.opcode) != Kind::kHello)
		FUZZ_CHECK(std::equal(frame->begin() + kHdrSize, frame->end(), p.begin()), d.opcode);

	Result<Frame> f = decode_frame(*frame);
	FUZZ_CHECK(f.ok(), static_cast<unsigned>(f.error()));
	Result<Message> m = decode_message(*f);
	FUZZ_CHECK(m.ok(), static_cast<unsigned>(m.error()));
	FUZZ_CHECK(m->body == *body, d.opcode);
	return 0;
}
