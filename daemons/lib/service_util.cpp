// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "service_util.hpp"

#include "auth.hpp"
#include "log.hpp"
#include "session.hpp"

#include <sys/random.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <chrono>
#include <cstdio>

namespace disagg {

using namespace proto;

std::uint32_t errno_of(Errc e)
{
	switch (e) {
	case Errc::kOk:
		return 0;
	case Errc::kBadOpcode:
		return EOPNOTSUPP;
	case Errc::kBadMajor:
		return EPROTONOSUPPORT;
	default:
		return EINVAL;
	}
}

std::uint64_t random_u64()
{
	std::uint64_t v = 0;
	std::array<std::uint8_t, sizeof(v)> b{};
	if (auth::random_bytes(b))
		std::memcpy(&v, b.data(), sizeof(v));
	else if (::getrandom(&v, sizeof(v), 0) != sizeof(v))
		v = static_cast<std::uint64_t>(
			std::chrono::steady_clock::now().time_since_epoch().count()) *
			0x9e3779b97f4a7c15ull;
	return v ? v : 1;
}

std::string hex64(std::uint64_t v)
{
	char buf[20];
	std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(v));
	return buf;
}

std::string SessionBase::label() const
{
	char buf[320];
	if ((hello_done || hello_seen) && !identity.empty())
		std::snprintf(buf, sizeof(buf), "conn %llu (%s, client %016llx \"%s\" as %s)",
			      static_cast<unsigned long long>(conn), peer.c_str(),
			      static_cast<unsigned long long>(client_id),
			      log::escape(name).c_str(), log::escape(identity).c_str());
	else if (hello_done || hello_seen)
		std::snprintf(buf, sizeof(buf), "conn %llu (%s, client %016llx \"%s\")",
			      static_cast<unsigned long long>(conn), peer.c_str(),
			      static_cast<unsigned long long>(client_id),
			      log::escape(name).c_str());
	else
		std::snprintf(buf, sizeof(buf), "conn %llu (%s)",
			      static_cast<unsigned long long>(conn), peer.c_str());
	return buf;
}

Result<Negotiated> check_hello(const Hdr &h, const Hello &hello, bool one_sided, bool auth,
			       std::uint32_t &status)
{
	// Messages on several queues: RDMA's queue pairs (one_sided) only.
	std::uint32_t ours = (one_sided ? kFeatRdma | kFeatMq : 0) | (auth ? kFeatAuth : 0);
	// Entry replies and READDIRPLUS: storage-node sessions only; file
	// data one-sided too, and only over RDMA.
	if (hello.role == Role::kFs)
		ours |= kFeatFsattr | kFeatRmattr | (one_sided ? kFeatRdmaFs : 0);
	Result<Negotiated> neg = negotiate(hello, kMinor, ours);
	if (!neg || hello.major != h.major || hello.minor != h.minor) {
		status = neg ? EINVAL : EPROTONOSUPPORT;
		return Errc::kBadMajor;
	}
	status = 0;
	return neg;
}

HelloReply hello_reply(const Negotiated &neg, std::uint64_t server_id)
{
	HelloReply r;
	r.major = kMajor;
	r.minor = neg.minor;
	r.features = neg.features;
	r.server_id = server_id;
	(void)auth::random_bytes(r.nonce);
	return r;
}

std::optional<Bytes> bad_major_reply(ByteSpan frame)
{
	if (frame.size() < kHdrSize)
		return std::nullopt;
	Bytes hdr(frame.begin(), frame.begin() + kHdrSize);
	hdr[offsetof(dg_hdr, major)] = static_cast<std::byte>(kMajor);
	Result<Hdr> h = decode_hdr(hdr);
	std::uint16_t opcode = h ? h->opcode : static_cast<std::uint16_t>(Op::kHello);
	std::uint64_t req_id = h ? h->req_id : 0;
	if (opcode & kReplyBit)
		return std::nullopt;
	Result<Bytes> out = make_error_reply(opcode, req_id, EPROTONOSUPPORT);
	if (!out)
		return std::nullopt;
	return std::move(out).value();
}

}  // namespace disagg
