// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// Authentication (DG_FEAT_AUTH, see the comment above struct dg_auth in
// include/disagg/proto.h): the HMAC-SHA256 proofs both ends compute, their
// constant-time comparison, random bytes from OpenSSL's CSPRNG, and the key
// file both the daemons (--keys) and the tools (--key-file) read.
//
// Key file: one "NAME SECRET [admin]" per line; '#' starts a comment line,
// blank lines are skipped. NAME is an identity (printable ASCII without
// spaces, 1..DG_NAME_MAX bytes), SECRET the HMAC key as the bytes written
// (DG_KEY_MIN..DG_KEY_MAX of them, e.g. `openssl rand -hex 32`), and the
// optional word "admin" lets that identity see the whole node's STATUS.
// The file must be a regular file without any group or other permission
// bits (like ssh's private keys), else it is refused.
#pragma once

#include "proto.hpp"

#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>

namespace disagg::auth {

// Which proof: the client's ("DGAUTHC2") or the server's ("DGAUTHS2").
enum class Side { kClient, kServer };

// What a proof covers (both ends know all of it after HELLO).
struct Transcript {
	proto::Nonce client_nonce{};
	proto::Nonce server_nonce{};
	std::uint64_t server_id = 0;
	std::uint64_t client_id = 0;
	std::uint32_t role = 0;
	std::string identity;
};

// The byte string the MAC is computed over:
// label[8] || client nonce || server nonce || server_id || client_id ||
// role[4] || id_len[2] || id, integers little endian.
proto::Bytes proof_message(Side side, const Transcript &t);
// HMAC-SHA256(@secret, proof_message(@side, @t)).
proto::Mac proof(std::string_view secret, Side side, const Transcript &t);
// Constant-time comparison (CRYPTO_memcmp).
bool same_mac(const proto::Mac &a, const proto::Mac &b);
bool same_token(const proto::Token &a, const proto::Token &b);
// Fill @out from OpenSSL's CSPRNG. False (and @out zeroed) if it failed.
bool random_bytes(std::span<std::uint8_t> out);

struct Key {
	std::string secret;
	bool admin = false;
};

// The keys of a key file, by identity.
class KeyStore {
public:
	KeyStore() = default;
	~KeyStore();
	KeyStore(const KeyStore &) = delete;
	KeyStore &operator=(const KeyStore &) = delete;

	// Parse key-file text into @out. False and @err ("line N: ...") on the
	// first bad line; @out is then unchanged. Secrets never appear in @err.
	static bool parse(std::string_view text, std::map<std::string, Key> &out,
			  std::string &err);
	// Read @path: refuses anything but a regular file without group or
	// other permission bits, larger than 1 MiB, or without any key. The
	// keys are replaced only on success: a failed load keeps the old ones.
	bool load(const std::string &path, std::string &err);
	// The same from text already read (tests): parse, at least one key,
	// replace only on success.
	bool load_text(std::string_view text, std::string &err);

	const Key *find(std::string_view identity) const;
	std::size_t size() const { return keys_.size(); }
	bool empty() const { return keys_.empty(); }
	const std::string &path() const { return path_; }

private:
	void wipe();

	std::string path_;
	std::map<std::string, Key, std::less<>> keys_;
};

// A key file's secret for @identity (for tools). False and @err when the
// file cannot be loaded or has no such identity.
bool load_secret(const std::string &path, const std::string &identity, std::string &secret,
		 std::string &err);

}  // namespace disagg::auth
