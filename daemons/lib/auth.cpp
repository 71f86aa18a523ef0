// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "auth.hpp"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

namespace disagg::auth {

using namespace proto;

namespace {

constexpr std::size_t kMaxKeyFile = 1u << 20;

void put_le(Bytes &out, std::uint64_t v, std::size_t n)
{
	for (std::size_t i = 0; i < n; i++)
		out.push_back(static_cast<std::byte>(v >> (8 * i)));
}

void put_raw(Bytes &out, const void *p, std::size_t n)
{
	auto *b = static_cast<const std::byte *>(p);
	out.insert(out.end(), b, b + n);
}

void cleanse(std::string &s)
{
	if (!s.empty())
		OPENSSL_cleanse(s.data(), s.size());
	s.clear();
}

}  // namespace

Bytes proof_message(Side side, const Transcript &t)
{
	static_assert(sizeof(DG_AUTH_LABEL_CLIENT) - 1 == DG_AUTH_LABEL_LEN &&
		      sizeof(DG_AUTH_LABEL_SERVER) - 1 == DG_AUTH_LABEL_LEN);
	Bytes m;
	m.reserve(DG_AUTH_LABEL_LEN + 2 * kNonceLen + 8 + 8 + 4 + 2 + t.identity.size());
	put_raw(m, side == Side::kClient ? DG_AUTH_LABEL_CLIENT : DG_AUTH_LABEL_SERVER,
		DG_AUTH_LABEL_LEN);
	put_raw(m, t.client_nonce.data(), t.client_nonce.size());
	put_raw(m, t.server_nonce.data(), t.server_nonce.size());
	put_le(m, t.server_id, 8);
	put_le(m, t.client_id, 8);
	put_le(m, t.role, 4);
	put_le(m, t.identity.size(), 2);
	put_raw(m, t.identity.data(), t.identity.size());
	return m;
}

Mac proof(std::string_view secret, Side side, const Transcript &t)
{
	const Bytes m = proof_message(side, t);
	Mac mac{};
	unsigned int len = 0;
	if (!HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
		  reinterpret_cast<const unsigned char *>(m.data()), m.size(), mac.data(), &len) ||
	    len != mac.size()) {
		// Cannot happen with a working libcrypto; a random MAC matches nothing.
		(void)random_bytes(mac);
	}
	return mac;
}

bool same_mac(const Mac &a, const Mac &b)
{
	return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool same_token(const Token &a, const Token &b)
{
	return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool random_bytes(std::span<std::uint8_t> out)
{
	if (out.empty())
		return true;
	if (RAND_bytes(out.data(), static_cast<int>(out.size())) == 1)
		return true;
	std::memset(out.data(), 0, out.size());
	return false;
}

KeyStore::~KeyStore()
{
	wipe();
}

void KeyStore::wipe()
{
	for (auto &[name, k] : keys_)
		cleanse(k.secret);
	keys_.clear();
}

bool KeyStore::parse(std::string_view text, std::map<std::string, Key> &out, std::string &err)
{
	std::map<std::string, Key> keys;
	auto fail = [&](std::size_t line, const std::string &why) {
		for (auto &[n, k] : keys)
			cleanse(k.secret);
		err = "line " + std::to_string(line) + ": " + why;
		return false;
	};
	std::size_t line_no = 0;
	while (!text.empty()) {
		line_no++;
		std::size_t nl = text.find('\n');
		std::string_view line = text.substr(0, nl);
		text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
		std::vector<std::string_view> words;
		std::size_t i = 0;
		while (i < line.size()) {
			while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r'))
				i++;
			std::size_t start = i;
			while (i < line.size() && line[i] != ' ' && line[i] != '\t' && line[i] != '\r')
				i++;
			if (i > start)
				words.push_back(line.substr(start, i - start));
		}
		if (words.empty() || words[0][0] == '#')
			continue;
		if (words.size() < 2 || words.size() > 3)
			return fail(line_no, "expected NAME SECRET [admin]");
		if (!valid_identity(words[0]))
			return fail(line_no, "a name is 1.." + std::to_string(kNameMax) +
					     " printable ASCII characters without spaces");
		const std::string_view secret = words[1];
		if (secret.size() < kKeyMin || secret.size() > kKeyMax)
			return fail(line_no, "the secret must be " + std::to_string(kKeyMin) + ".." +
					     std::to_string(kKeyMax) + " bytes long (it is " +
					     std::to_string(secret.size()) + ")");
		if (words.size() == 3 && words[2] != "admin")
			return fail(line_no, "the third word may only be 'admin'");
		std::string name(words[0]);
		if (keys.contains(name))
			return fail(line_no, "a second key named '" + name + "'");
		Key &k = keys[name];
		k.secret.assign(secret);
		k.admin = words.size() == 3;
	}
	for (auto &[n, k] : out)
		cleanse(k.secret);
	out = std::move(keys);
	return true;
}

bool KeyStore::load(const std::string &path, std::string &err)
{
	const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		err = path + ": " + std::strerror(errno);
		return false;
	}
	struct stat st;
	std::string text;
	bool ok = false;
	if (::fstat(fd, &st) != 0) {
		err = path + ": " + std::strerror(errno);
	} else if (!S_ISREG(st.st_mode)) {
		err = path + ": not a regular file";
	} else if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		char mode[8];
		std::snprintf(mode, sizeof(mode), "%04o", static_cast<unsigned>(st.st_mode & 07777));
		err = path + ": permissions " + mode +
		      " are too open: a key file must not be accessible by group or others "
		      "(chmod 600)";
	} else if (st.st_size > static_cast<off_t>(kMaxKeyFile)) {
		err = path + ": larger than 1 MiB";
	} else {
		text.resize(static_cast<std::size_t>(st.st_size));
		std::size_t got = 0;
		while (got < text.size()) {
			ssize_t n = ::read(fd, text.data() + got, text.size() - got);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			got += static_cast<std::size_t>(n);
		}
		if (got != text.size())
			err = path + ": short read";
		else
			ok = true;
	}
	::close(fd);
	if (!ok) {
		cleanse(text);
		return false;
	}
	ok = load_text(text, err);
	cleanse(text);
	if (!ok) {
		err = path + ": " + err;
		return false;
	}
	path_ = path;
	return true;
}

bool KeyStore::load_text(std::string_view text, std::string &err)
{
	std::map<std::string, Key> keys;
	if (!parse(text, keys, err))
		return false;
	if (keys.empty()) {
		err = "no keys";
		return false;
	}
	wipe();
	for (auto &[n, k] : keys) {
		keys_[n] = std::move(k);
		cleanse(k.secret);
	}
	return true;
}

const Key *KeyStore::find(std::string_view identity) const
{
	auto it = keys_.find(identity);
	return it == keys_.end() ? nullptr : &it->second;
}

bool load_secret(const std::string &path, const std::string &identity, std::string &secret,
		 std::string &err)
{
	KeyStore ks;
	if (!ks.load(path, err))
		return false;
	const Key *k = ks.find(identity);
	if (!k) {
		err = path + ": no key named '" + identity + "'";
		return false;
	}
	secret = k->secret;
	return true;
}

}  // namespace disagg::auth
