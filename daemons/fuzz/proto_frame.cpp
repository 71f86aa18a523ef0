// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// libFuzzer harness: a whole frame as a peer sends it, through every step of
// the codec (decode_hdr, decode_frame, decode_message and so every payload
// decoder the opcode selects), with the codec's promises checked:
//   - no step reads past the input (ASan) or hits undefined behaviour;
//   - decode_frame fails only with framing errors, decode_message never
//     with one;
//   - a decoded message passes check(), carries the payload its opcode
//     calls for, and encodes back to the same bytes (the codec is
//     canonical; a hello's name tail is the one exception) that decode to
//     the same message.
#include "fuzz_util.hpp"
#include "proto.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>

using namespace disagg::proto;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
	const ByteSpan in = std::as_bytes(std::span(data, size));

	Result<Hdr> h = decode_hdr(in);
	Result<Frame> f = decode_frame(in);
	FUZZ_CHECK(h.ok() || !f.ok(), size);
	if (!f) {
		FUZZ_CHECK(is_framing_error(f.error()), static_cast<unsigned>(f.error()));
		return 0;
	}
	FUZZ_CHECK(f->hdr == *h, size);
	FUZZ_CHECK(f->wire_size() <= size, f->wire_size());
	FUZZ_CHECK(f->payload.data() == in.data() + kHdrSize, size);
	FUZZ_CHECK(f->payload.size() == f->hdr.length, f->hdr.length);

	Result<Message> m = decode_message(*f);
	if (!m) {
		FUZZ_CHECK(!is_framing_error(m.error()), static_cast<unsigned>(m.error()));
		return 0;
	}
	FUZZ_CHECK(m->hdr == f->hdr, m->hdr.opcode);
	FUZZ_CHECK(check(m->body) == Errc::kOk, static_cast<unsigned>(check(m->body)));
	const Kind kind = payload_kind(m->hdr.opcode);
	if (m->hdr.status)
		FUZZ_CHECK(kind_of(m->body) == Kind::kEmpty && m->hdr.is_reply(), m->hdr.opcode);
	else	// or, for DG_FEAT_FSATTR's replies, the entry form
		FUZZ_CHECK(kind_of(m->body) == kind ||
				   (kind_of(m->body) == Kind::kFsEntry && m->hdr.is_reply() &&
				    has_entry_reply(m->hdr.opcode)),
			   m->hdr.opcode);

	Result<Bytes> again = encode_message(*m);
	FUZZ_CHECK(again.ok(), static_cast<unsigned>(again.error()));
	FUZZ_CHECK(again->size() == f->wire_size(), again->size());
	if (kind != Kind::kHello || m->hdr.status)
		FUZZ_CHECK(std::equal(again->begin(), again->end(), in.begin()), m->hdr.opcode);

	Result<Frame> f2 = decode_frame(*again);
	FUZZ_CHECK(f2.ok(), static_cast<unsigned>(f2.error()));
	Result<Message> m2 = decode_message(*f2);
	FUZZ_CHECK(m2.ok(), static_cast<unsigned>(m2.error()));
	FUZZ_CHECK(m2->hdr == m->hdr, m->hdr.opcode);
	FUZZ_CHECK(m2->body == m->body, m->hdr.opcode);
	return 0;
}
