// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// Pieces of protocol logic both daemons' services use: errno values for
// codec errors, the handshake's checks and reply, the answer to a peer of
// another protocol major, random ids.
#pragma once

#include "clock.hpp"
#include "proto.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace disagg {

// Positive errno for a codec error in a message whose framing is intact.
std::uint32_t errno_of(proto::Errc e);
// Random 64 bits from OpenSSL's CSPRNG (getrandom(2) if that fails), never 0.
std::uint64_t random_u64();
// "%016llx".
std::string hex64(std::uint64_t v);

// A hello's version checks: the negotiated minor and features (ours: the
// known ones, DG_FEAT_RDMA only when @one_sided, DG_FEAT_AUTH only when
// @auth), or the status to answer (EPROTONOSUPPORT for another major,
// EINVAL when the hello's version disagrees with its header's) before
// closing.
proto::Result<proto::Negotiated> check_hello(const proto::Hdr &h, const proto::Hello &hello,
					     bool one_sided, bool auth, std::uint32_t &status);
// The server's answer: our major, the negotiated minor and features, a
// fresh nonce (from the CSPRNG), a zero token.
proto::HelloReply hello_reply(const proto::Negotiated &neg, std::uint64_t server_id);

// For a frame that failed decode_hdr() with kBadMajor: an EPROTONOSUPPORT
// reply in our major (the header layout is the one thing all majors share),
// or nothing when the frame is a reply or too short.
std::optional<proto::Bytes> bad_major_reply(proto::ByteSpan frame);

}  // namespace disagg
