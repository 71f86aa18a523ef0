// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// Authentication and identity-bound authorisation (issue 8): the HMAC
// proofs against a known-answer vector, key files, the handshake on the
// memory node over the fake transport (both kinds), the RDMA join tokens,
// and the attacks the issue lists, each shown to fail:
//   STATUS leak          MemdAuthz.StatusShowsOthersNothing
//   HELLO takeover       MemdAuthz.SameClientIdOfAnotherIdentityTakesNothing
//   MEM_ALLOC by tag     MemdAuthz.AllocByTagNeverReturnsAnotherIdentitysSlab
//   RDMA QP joining      MemdJoin.QueuesJoinOnlyWithTheSessionsToken
#include "auth.hpp"
#include "join_table.hpp"
#include "memd_test_util.hpp"
#include "rdma_transport.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>

namespace disagg::memd::test {
namespace {

using disagg::test::auth_body;
using disagg::test::kTestKeys;
using disagg::test::test_secret;
using disagg::test::transcript;

std::string hex(std::span<const std::uint8_t> b)
{
	std::string s;
	char buf[3];
	for (std::uint8_t x : b) {
		std::snprintf(buf, sizeof(buf), "%02x", x);
		s += buf;
	}
	return s;
}

std::string hex(const Bytes &b)
{
	return hex(std::span(reinterpret_cast<const std::uint8_t *>(b.data()), b.size()));
}

// ---------------------------------------------------------------- proofs

// The vector in notes/auth_vector.md, computed with printf and
// `openssl dgst -sha256 -mac HMAC` independently of this code.
auth::Transcript vector_transcript()
{
	auth::Transcript t;
	for (std::size_t i = 0; i < kNonceLen; i++) {
		t.client_nonce[i] = static_cast<std::uint8_t>(i);
		t.server_nonce[i] = static_cast<std::uint8_t>(0x20 + i);
	}
	t.server_id = 0x1122334455667788ull;
	t.client_id = 0x0102030405060708ull;
	t.role = 1;
	t.identity = "client";
	return t;
}

TEST(AuthProof, KnownAnswerVector)
{
	const std::string secret = "0123456789abcdef0123456789abcdef";
	const auth::Transcript t = vector_transcript();
	const std::string body =
		"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
		"202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
		"88776655443322110807060504030201010000000600636c69656e74";
	EXPECT_EQ(hex(auth::proof_message(auth::Side::kClient, t)),
		  "4447415554484332" + body);	// "DGAUTHC2"
	EXPECT_EQ(hex(auth::proof_message(auth::Side::kServer, t)),
		  "4447415554485332" + body);	// "DGAUTHS2"
	EXPECT_EQ(hex(auth::proof(secret, auth::Side::kClient, t)),
		  "09c4b1652293a3030db0e03600f3a8e44ebe05607b264d78c6f49d4c94fbc730");
	EXPECT_EQ(hex(auth::proof(secret, auth::Side::kServer, t)),
		  "64fcc98189ea97552dc200170e66ad39e44bbbc17aa23d4a0582cb9db287933d");
}

TEST(AuthProof, EveryInputMatters)
{
	const std::string secret = "0123456789abcdef0123456789abcdef";
	const auth::Transcript t = vector_transcript();
	const Mac base = auth::proof(secret, auth::Side::kClient, t);
	auto differs = [&](auth::Transcript u) {
		return !auth::same_mac(base, auth::proof(secret, auth::Side::kClient, u));
	};
	auth::Transcript u = t;
	u.client_nonce[31] ^= 1;
	EXPECT_TRUE(differs(u));
	u = t;
	u.server_nonce[0] ^= 1;
	EXPECT_TRUE(differs(u));
	u = t;
	u.server_id++;
	EXPECT_TRUE(differs(u));
	u = t;
	u.client_id++;
	EXPECT_TRUE(differs(u));
	u = t;
	u.role = 3;
	EXPECT_TRUE(differs(u));
	u = t;
	u.identity = "clienu";
	EXPECT_TRUE(differs(u));
	EXPECT_FALSE(auth::same_mac(base, auth::proof(secret + "x", auth::Side::kClient, t)));
	EXPECT_FALSE(auth::same_mac(base, auth::proof(secret, auth::Side::kServer, t)));
	EXPECT_TRUE(auth::same_mac(base, auth::proof(secret, auth::Side::kClient, t)));
}

TEST(AuthProof, RandomBytesAreRandom)
{
	Token a{}, b{};
	ASSERT_TRUE(auth::random_bytes(a));
	ASSERT_TRUE(auth::random_bytes(b));
	EXPECT_NE(a, b);
	EXPECT_NE(a, Token{});
}

// ---------------------------------------------------------------- key files

TEST(KeyFile, Parses)
{
	std::map<std::string, auth::Key> keys;
	std::string err;
	ASSERT_TRUE(auth::KeyStore::parse(kTestKeys, keys, err)) << err;
	ASSERT_EQ(keys.size(), 3u);
	EXPECT_EQ(keys["client"].secret, test_secret("client"));
	EXPECT_FALSE(keys["client"].admin);
	EXPECT_TRUE(keys["admin"].admin);
	// CRLF, tabs, no final newline.
	ASSERT_TRUE(auth::KeyStore::parse("\ta\t0123456789abcdef\r\n#x\r\nb 0123456789abcdefX admin",
					  keys, err)) << err;
	EXPECT_EQ(keys.size(), 2u);
	EXPECT_EQ(keys["a"].secret, "0123456789abcdef");
	EXPECT_TRUE(keys["b"].admin);
}

TEST(KeyFile, RejectsBadLinesWithoutShowingSecrets)
{
	const std::string sixteen = "0123456789abcdef";
	const std::vector<std::string> bads = {
		"onlyname\n", "a " + sixteen + " admin extra\n", "a " + sixteen + " root\n",
		"a short\n", "a " + std::string(kKeyMax + 1, 'k') + "\n",
		std::string(kNameMax + 1, 'n') + " " + sixteen + "\n",
		"caf\xc3\xa9 " + sixteen + "\n", "a " + sixteen + "\na " + sixteen + "x\n"};
	for (const std::string &bad : bads) {
		std::map<std::string, auth::Key> keys{{"old", {}}};
		std::string err;
		EXPECT_FALSE(auth::KeyStore::parse(bad, keys, err)) << bad;
		EXPECT_EQ(keys.size(), 1u);	// unchanged
		EXPECT_NE(err.find("line "), std::string::npos) << err;
		EXPECT_EQ(err.find(sixteen), std::string::npos) << err;
	}
	std::map<std::string, auth::Key> keys;
	std::string err;
	EXPECT_TRUE(auth::KeyStore::parse("a " + std::string(kKeyMax, 'k') + "\n", keys, err));
	auth::KeyStore ks;
	EXPECT_FALSE(ks.load_text("# nothing\n\n", err));
	EXPECT_EQ(err, "no keys");
}

class KeyFileOnDisk : public testing::Test {
protected:
	void SetUp() override
	{
		char tmpl[] = "/tmp/dg-keys-test.XXXXXX";
		dir_ = ::mkdtemp(tmpl);
		ASSERT_FALSE(dir_.empty());
		path = dir_ + "/keys";
	}
	void TearDown() override
	{
		::unlink(path.c_str());
		::rmdir((dir_ + "/d").c_str());
		::rmdir(dir_.c_str());
	}
	void write(const std::string &text, mode_t mode)
	{
		::unlink(path.c_str());
		std::ofstream(path) << text;
		ASSERT_EQ(::chmod(path.c_str(), mode), 0);
	}

	std::string dir_;
	std::string path;
};

TEST_F(KeyFileOnDisk, RefusesFilesOthersCanReachOrThatAreNotRegular)
{
	auth::KeyStore ks;
	std::string err;
	for (mode_t m : {0644, 0640, 0604, 0620, 0602, 0610, 0601, 0666}) {
		write(kTestKeys, m);
		EXPECT_FALSE(ks.load(path, err)) << std::oct << m;
		EXPECT_NE(err.find("too open"), std::string::npos) << err;
	}
	EXPECT_TRUE(ks.empty());
	write(kTestKeys, 0600);
	ASSERT_TRUE(ks.load(path, err)) << err;
	EXPECT_EQ(ks.size(), 3u);
	write(kTestKeys, 0400);
	ASSERT_TRUE(ks.load(path, err)) << err;
	ASSERT_EQ(::mkdir((dir_ + "/d").c_str(), 0700), 0);
	EXPECT_FALSE(ks.load(dir_ + "/d", err));
	EXPECT_NE(err.find("not a regular file"), std::string::npos) << err;
	EXPECT_FALSE(ks.load(dir_ + "/missing", err));
	EXPECT_EQ(ks.size(), 3u);
}

// What SIGHUP does (ServerBase::reload_keys()): load the file again; a
// bad file keeps the keys in force.
TEST_F(KeyFileOnDisk, ReloadReplacesOnlyOnSuccess)
{
	auth::KeyStore ks;
	std::string err;
	write("client 0123456789abcdef0123456789abcdef\n", 0600);
	ASSERT_TRUE(ks.load(path, err)) << err;
	ASSERT_TRUE(ks.find("client"));
	EXPECT_FALSE(ks.find("new"));

	write("new 0123456789abcdef0123456789abcdef admin\n", 0600);
	ASSERT_TRUE(ks.load(ks.path(), err)) << err;
	EXPECT_FALSE(ks.find("client"));
	ASSERT_TRUE(ks.find("new"));
	EXPECT_TRUE(ks.find("new")->admin);

	write("broken\n", 0600);
	EXPECT_FALSE(ks.load(ks.path(), err));
	ASSERT_TRUE(ks.find("new"));
	write("client 0123456789abcdef0123456789abcdef\n", 0644);
	EXPECT_FALSE(ks.load(ks.path(), err));
	ASSERT_TRUE(ks.find("new"));
	::unlink(path.c_str());
	EXPECT_FALSE(ks.load(ks.path(), err));
	EXPECT_EQ(ks.size(), 1u);
}

TEST_F(KeyFileOnDisk, ToolsTakeTheirSecretFromTheFile)
{
	write(kTestKeys, 0600);
	std::string secret, err;
	ASSERT_TRUE(auth::load_secret(path, "other", secret, err)) << err;
	EXPECT_EQ(secret, test_secret("other"));
	EXPECT_FALSE(auth::load_secret(path, "nobody", secret, err));
	EXPECT_NE(err.find("no key named"), std::string::npos);
}

// ---------------------------------------------------------------- handshake

// A HELLO that offers AUTH, with a nonce of its own.
Hello auth_hello(std::uint64_t client_id, Role role = Role::kSwap, std::uint8_t seed = 1)
{
	Hello hello = hello_body(client_id, role, kFeatRdma | kFeatAuth);
	for (std::size_t i = 0; i < hello.nonce.size(); i++)
		hello.nonce[i] = static_cast<std::uint8_t>(seed + i);
	return hello;
}

class MemdAuth : public testing::TestWithParam<bool> {
protected:
	MemdAuth() : h(GetParam()) { h.with_keys(); }

	// HELLO on a new connection; the reply.
	HelloReply hello(ConnId c, const Hello &hello)
	{
		auto g = h.call(c, Op::kHello, hello);
		EXPECT_TRUE(g && g->status() == 0);
		return g ? g->body<HelloReply>() : HelloReply{};
	}
	void expect_refused(ConnId c, std::unique_ptr<disagg::test::Got> g, std::uint32_t err)
	{
		ASSERT_TRUE(g);
		EXPECT_EQ(g->status(), err);
		EXPECT_FALSE(h.transport.is_open(c));
		EXPECT_EQ(h.service->nr_clients(), 0u);
	}

	Harness h;
};

TEST_P(MemdAuth, Succeeds)
{
	ConnId c = h.transport.connect();
	const Hello hi = auth_hello(0xabc);
	const HelloReply r = hello(c, hi);
	EXPECT_EQ(r.features, GetParam() ? kFeatRdma | kFeatAuth : kFeatAuth);
	EXPECT_EQ(r.token, Token{});	// the token comes with AUTH
	EXPECT_NE(r.nonce, Nonce{});
	EXPECT_EQ(h.service->nr_clients(), 0u);	// not yet

	auto g = h.call(c, Op::kAuth, auth_body(hi, r, "client", test_secret("client")));
	ASSERT_TRUE(g && g->status() == 0) << (g ? g->status() : 0);
	const AuthReply a = g->body<AuthReply>();
	EXPECT_TRUE(auth::same_mac(a.mac, auth::proof(test_secret("client"), auth::Side::kServer,
						      transcript(hi, r, "client"))));
	EXPECT_NE(a.token, Token{});
	EXPECT_EQ(h.transport.tokens[c], a.token);	// handed to the transport
	EXPECT_EQ(h.service->nr_clients(), 1u);
	h.alloc_ok(c, kMiB, 1);
	EXPECT_NE(h.service->owner_id("client", 0xabc), 0u);
	EXPECT_EQ(h.service->owner_id("", 0xabc), 0u);
	// A second AUTH is a protocol error, the session stays.
	g = h.call(c, Op::kAuth, auth_body(hi, r, "client", test_secret("client")));
	ASSERT_TRUE(g);
	EXPECT_EQ(g->status(), static_cast<std::uint32_t>(EPROTO));
	EXPECT_TRUE(h.transport.is_open(c));
	std::string j = h.service->status_json();
	EXPECT_NE(j.find("\"auth\":\"on\""), std::string::npos) << j;
	EXPECT_NE(j.find("\"identity\":\"client\""), std::string::npos) << j;
}

TEST_P(MemdAuth, WrongKeyIsRejected)
{
	ConnId c = h.transport.connect();
	const Hello hi = auth_hello(0xabc);
	const HelloReply r = hello(c, hi);
	expect_refused(c, h.call(c, Op::kAuth, auth_body(hi, r, "client", test_secret("other"))),
		       EKEYREJECTED);
}

TEST_P(MemdAuth, UnknownIdentityIsRejected)
{
	ConnId c = h.transport.connect();
	const Hello hi = auth_hello(0xabc);
	const HelloReply r = hello(c, hi);
	expect_refused(c, h.call(c, Op::kAuth, auth_body(hi, r, "nobody", test_secret("nobody"))),
		       EKEYREJECTED);
}

TEST_P(MemdAuth, ProofForAnotherIdentityIsRejected)
{
	// other's valid proof, presented under client's name.
	ConnId c = h.transport.connect();
	const Hello hi = auth_hello(0xabc);
	const HelloReply r = hello(c, hi);
	Auth a = auth_body(hi, r, "other", test_secret("other"));
	a.id = "client";
	expect_refused(c, h.call(c, Op::kAuth, a), EKEYREJECTED);
}

TEST_P(MemdAuth, ReplayedAuthFromAnEarlierConnectionFails)
{
	ConnId c = h.transport.connect();
	const Hello hi = auth_hello(0xabc);
	const HelloReply r = hello(c, hi);
	const Bytes recorded = request(Op::kAuth, 2, auth_body(hi, r, "client", test_secret("client")));
	auto g = h.send(c, recorded);
	ASSERT_TRUE(g && g->status() == 0);
	h.transport.drop(c);

	// The same HELLO (same client nonce) and the recorded AUTH, byte for
	// byte: the server's nonce is new, so the proof is worth nothing.
	ConnId x = h.transport.connect();
	const HelloReply r2 = hello(x, hi);
	EXPECT_NE(r2.nonce, r.nonce);
	expect_refused(x, h.send(x, recorded), EKEYREJECTED);
}

TEST_P(MemdAuth, ReflectedServerProofFails)
{
	// A proof made with the right key over the right transcript, but the
	// server's (label "DGAUTHS2"), sent as the client's.
	ConnId c = h.transport.connect();
	const Hello hi = auth_hello(0xabc);
	const HelloReply r = hello(c, hi);
	Auth a;
	a.id = "client";
	a.mac = auth::proof(test_secret("client"), auth::Side::kServer, transcript(hi, r, "client"));
	expect_refused(c, h.call(c, Op::kAuth, a), EKEYREJECTED);
}

TEST_P(MemdAuth, ProofBoundToTheHelloFields)
{
	// A proof for another client id or role than the HELLO said.
	for (int field = 0; field < 2; field++) {
		ConnId c = h.transport.connect();
		const Hello hi = auth_hello(0xabc);
		const HelloReply r = hello(c, hi);
		Hello lie = hi;
		if (field == 0)
			lie.client_id = 0xdef;
		else
			lie.role = Role::kCtl;
		expect_refused(c, h.call(c, Op::kAuth,
					 auth_body(lie, r, "client", test_secret("client"))),
			       EKEYREJECTED);
	}
}

TEST_P(MemdAuth, NothingButAuthOrByeBeforeAuth)
{
	const std::vector<std::pair<Op, Body>> before = {
		{Op::kMemInfo, Empty{}}, {Op::kStatus, Empty{}}, {Op::kMemAlloc, MemAlloc{kMiB, 1}},
		{Op::kMemRead, MemRw{1, 0, kPageSize}}, {Op::kHeartbeat, Empty{}},
		{Op::kMemFree, MemFree{1}}, {Op::kHello, auth_hello(0xabc)},
	};
	for (const auto &[op, body] : before) {
		ConnId c = h.transport.connect();
		hello(c, auth_hello(0xabc));
		expect_refused(c, h.call(c, op, body), EACCES);
		EXPECT_EQ(h.pool.used(), 0u);
	}
	// A malformed AUTH fails like a wrong one.
	ConnId c = h.transport.connect();
	hello(c, auth_hello(0xabc));
	Bytes f = request(Op::kAuth, 9, Auth{{}, "client"});
	f[kHdrSize + offsetof(dg_auth, reserved)] = std::byte{1};
	expect_refused(c, h.send(c, f), EINVAL);
	// BYE just closes.
	c = h.transport.connect();
	hello(c, auth_hello(0xabc));
	h.transport.deliver(c, request(Op::kBye, 3));
	EXPECT_FALSE(h.next(c));
	EXPECT_FALSE(h.transport.is_open(c));
	// And no session came to be on the way.
	EXPECT_EQ(h.transport.tokens.size(), 0u);
}

TEST_P(MemdAuth, HelloWithoutTheAuthFeatureIsRefused)
{
	for (Role role : {Role::kSwap, Role::kCtl}) {
		ConnId c = h.transport.connect();
		expect_refused(c, h.call(c, Op::kHello, hello_body(0xabc, role, kFeatRdma)), EACCES);
	}
}

TEST_P(MemdAuth, TheHandshakeTimeoutCoversAuth)
{
	ConnId c = h.transport.connect();
	h.clock.advance(std::chrono::seconds(20));
	hello(c, auth_hello(0xabc));
	h.clock.advance(std::chrono::seconds(9));
	h.service->tick();
	EXPECT_TRUE(h.transport.is_open(c));
	h.clock.advance(std::chrono::seconds(1));
	h.service->tick();
	h.transport.settle();
	EXPECT_FALSE(h.transport.is_open(c));
}

TEST_P(MemdAuth, ExistingSessionsSurviveAReloadNewOnesUseTheNewKeys)
{
	ConnId c = h.client(0xabc);
	std::string err;
	ASSERT_TRUE(h.keys.load_text("other fedcba9876543210fedcba9876543210\n", err)) << err;
	EXPECT_TRUE(h.transport.is_open(c));
	h.alloc_ok(c, kMiB, 1);
	ConnId x = h.transport.connect();
	const Hello hi = auth_hello(0xabc);
	const HelloReply r = hello(x, hi);
	auto g = h.call(x, Op::kAuth, auth_body(hi, r, "client", test_secret("client")));
	ASSERT_TRUE(g);
	EXPECT_EQ(g->status(), static_cast<std::uint32_t>(EKEYREJECTED));
	EXPECT_FALSE(h.transport.is_open(x));
	h.client(0xdef, Role::kSwap, "other");
	EXPECT_EQ(h.service->nr_clients(), 2u);
}

INSTANTIATE_TEST_SUITE_P(Transports, MemdAuth, testing::Bool(),
			 [](const testing::TestParamInfo<bool> &i) {
				 return i.param ? "OneSided" : "Stream";
			 });

TEST(MemdOpen, HelloCarriesTheTokenAndAuthIsNeverNegotiated)
{
	Harness h(true);
	ConnId c = h.transport.connect();
	auto g = h.call(c, Op::kHello, auth_hello(0xabc));
	ASSERT_TRUE(g && g->status() == 0);
	const HelloReply r = g->body<HelloReply>();
	EXPECT_EQ(r.features, kFeatRdma);	// AUTH offered, not granted
	EXPECT_NE(r.token, Token{});
	EXPECT_EQ(h.transport.tokens[c], r.token);
	g = h.call(c, Op::kAuth, Auth{{}, "client"});
	ASSERT_TRUE(g);
	EXPECT_EQ(g->status(), static_cast<std::uint32_t>(EOPNOTSUPP));
	EXPECT_NE(h.service->status_json().find("\"auth\":\"off\""), std::string::npos);
	EXPECT_NE(h.service->owner_id("", 0xabc), 0u);
}

// ---------------------------------------------------------------- authorisation

TEST(MemdAuthz, SameClientIdOfAnotherIdentityTakesNothing)
{
	Harness h(true);
	h.with_keys();
	ConnId victim = h.client(0xabc, Role::kSwap, "client");
	MemSlab s = h.alloc_ok(victim, kMiB, 0);
	std::memset(h.pool.find(h.owner(0xabc, "client"), s.slab_id)->mem, 0x5a, kPageSize);

	// HELLO with the victim's id, authenticated as someone else.
	ConnId thief = h.client(0xabc, Role::kSwap, "other");
	EXPECT_TRUE(h.transport.is_open(victim));	// no takeover
	EXPECT_EQ(h.transport.exposed(victim), 1u);
	EXPECT_EQ(h.service->nr_clients(), 2u);
	// Its own namespace: the victim's slab id means nothing there.
	auto g = h.call(thief, Op::kMemFree, MemFree{s.slab_id});
	EXPECT_EQ(g->status(), static_cast<std::uint32_t>(ENOENT));
	g = h.call(thief, Op::kMemRead, MemRw{s.slab_id, 0, kPageSize});
	EXPECT_NE(g->status(), 0u);
	EXPECT_EQ(h.pool.find(h.owner(0xabc, "client"), s.slab_id)->mem[0], std::byte{0x5a});

	// Not even once the victim vanished: no resume for another identity.
	h.transport.drop(victim);
	ConnId thief2 = h.client(0xabc, Role::kSwap, "other");
	MemSlab t = h.alloc_ok(thief2, kMiB, 0);
	EXPECT_NE(t.slab_id, s.slab_id);
	EXPECT_EQ(t.flags, 0u);
	// The victim comes back within its grace period and resumes.
	ConnId back = h.client(0xabc, Role::kSwap, "client");
	EXPECT_TRUE(h.transport.is_open(thief2));
	MemSlab r = h.alloc_ok(back, kMiB, 0);
	EXPECT_EQ(r.slab_id, s.slab_id);
	EXPECT_EQ(r.flags, kSlabResumed);
}

TEST(MemdAuthz, AllocByTagNeverReturnsAnotherIdentitysSlab)
{
	Harness h(true);
	h.with_keys();
	ConnId victim = h.client(0x1, Role::kSwap, "client");
	MemSlab s = h.alloc_ok(victim, kMiB, 42);
	std::memset(h.pool.find(h.owner(0x1, "client"), s.slab_id)->mem, 0x77, kPageSize);
	// Same client id, same tag (predictable), another key.
	ConnId thief = h.client(0x1, Role::kSwap, "other");
	MemSlab t = h.alloc_ok(thief, kMiB, 42);
	EXPECT_NE(t.slab_id, s.slab_id);
	EXPECT_NE(t.addr, s.addr);
	EXPECT_EQ(t.flags, 0u);
	EXPECT_EQ(h.pool.find(h.owner(0x1, "other"), t.slab_id)->mem[0], std::byte{0});
	EXPECT_EQ(h.pool.used(), 2 * kMiB);
}

TEST(MemdAuthz, SameIdentityAndIdStillReplacesADeadConnection)
{
	Harness h(true);
	h.with_keys();
	ConnId c = h.client(0xabc, Role::kSwap, "client");
	MemSlab s = h.alloc_ok(c, kMiB, 0);
	ConnId c2 = h.client(0xabc, Role::kSwap, "client");
	EXPECT_FALSE(h.transport.is_open(c));
	MemSlab r = h.alloc_ok(c2, kMiB, 0);
	EXPECT_EQ(r.slab_id, s.slab_id);
	EXPECT_EQ(r.flags, kSlabResumed);
}

std::string status_of(Harness &h, ConnId c)
{
	auto g = h.call(c, Op::kStatus);
	EXPECT_TRUE(g && g->status() == 0);
	if (!g || g->status())
		return {};
	ByteSpan d = g->body<Data>().bytes;
	return std::string(reinterpret_cast<const char *>(d.data()), d.size());
}

TEST(MemdAuthz, StatusShowsOthersNothing)
{
	Harness h(false);
	h.with_keys();
	ConnId a = h.client(0x1111, Role::kSwap, "client");
	h.alloc_ok(a, 4 * kMiB, 0);
	ConnId b = h.client(0x2222, Role::kSwap, "client");
	h.alloc_ok(b, 4 * kMiB, 0);
	h.transport.drop(b);	// in its grace period
	ConnId o = h.client(0x3333, Role::kSwap, "other");

	for (ConnId viewer : {h.client(0x4444, Role::kCtl, "other"), o}) {
		std::string j = status_of(h, viewer);
		EXPECT_NE(j.find("\"capacity\":"), std::string::npos) << j;	// the summary
		EXPECT_NE(j.find("\"nr_clients\":"), std::string::npos) << j;
		EXPECT_EQ(j.find("\"client_id\":\"0000000000001111\""), std::string::npos) << j;
		EXPECT_EQ(j.find("\"client_id\":\"0000000000002222\""), std::string::npos) << j;
		EXPECT_EQ(j.find("\"identity\":\"client\""), std::string::npos) << j;
	}
	// Its own session only.
	std::string j = status_of(h, o);
	EXPECT_NE(j.find("\"client_id\":\"0000000000003333\""), std::string::npos) << j;
	EXPECT_EQ(j.find("\"client_id\":\"0000000000004444\""), std::string::npos) << j;
	j = status_of(h, a);
	EXPECT_NE(j.find("\"client_id\":\"0000000000001111\""), std::string::npos) << j;
	EXPECT_EQ(j.find("\"client_id\":\"0000000000002222\""), std::string::npos) << j;
	// An admin key sees everything, waiting slabs included.
	j = status_of(h, h.client(0x5555, Role::kCtl, "admin"));
	for (const char *want : {"\"client_id\":\"0000000000001111\"",
				 "\"client_id\":\"0000000000002222\",\"identity\":\"client\","
				 "\"connected\":false",
				 "\"client_id\":\"0000000000003333\"", "\"identity\":\"other\""})
		EXPECT_NE(j.find(want), std::string::npos) << want << " not in " << j;
}

TEST(MemdAuthz, OpenDaemonCtlIsAdminSwapIsNot)
{
	Harness h;
	ConnId a = h.client(0x1111);
	ConnId b = h.client(0x2222);
	std::string j = status_of(h, a);
	EXPECT_NE(j.find("\"client_id\":\"0000000000001111\""), std::string::npos) << j;
	EXPECT_EQ(j.find("\"client_id\":\"0000000000002222\""), std::string::npos) << j;
	j = status_of(h, h.client(0, Role::kCtl));
	EXPECT_NE(j.find("\"client_id\":\"0000000000001111\""), std::string::npos) << j;
	EXPECT_NE(j.find("\"client_id\":\"0000000000002222\""), std::string::npos) << j;
	(void)b;
}

// ---------------------------------------------------------------- RDMA join

TEST(JoinTable, MatchesTokenIdAndQueueCount)
{
	JoinTable t;
	Token tok{};
	tok[3] = 9;
	t.add(tok, 5, 0xabc, 4);
	EXPECT_EQ(t.find(tok, 0xabc, 4), 5u);
	EXPECT_EQ(t.find(tok, 0xabd, 4), 0u);
	EXPECT_EQ(t.find(tok, 0xabc, 3), 0u);
	Token other = tok;
	other[15] = 1;
	EXPECT_EQ(t.find(other, 0xabc, 4), 0u);
	EXPECT_EQ(t.find(Token{}, 0xabc, 4), 0u);
	t.add(Token{}, 6, 0xabc, 4);	// never registered
	EXPECT_EQ(t.find(Token{}, 0xabc, 4), 0u);
	EXPECT_FALSE(t.contains(6));
	t.erase(5);
	EXPECT_EQ(t.find(tok, 0xabc, 4), 0u);
	EXPECT_EQ(t.size(), 0u);
}

TEST(MemdJoin, QueuesJoinOnlyWithTheSessionsToken)
{
	Harness h(true);
	h.with_keys();
	// The victim's queue 0, then its handshake.
	ConnId victim = h.transport.connect("victim:1", 3, 0xabc);
	const Hello hi = auth_hello(0xabc);
	auto g = h.call(victim, Op::kHello, hi);
	const HelloReply r = g->body<HelloReply>();
	// Before AUTH there is nothing to join, whatever one presents.
	EXPECT_EQ(h.transport.join(Token{}, 0xabc, 3, 1), 0u);
	EXPECT_EQ(h.transport.join(r.token, 0xabc, 3, 1), 0u);
	g = h.call(victim, Op::kAuth, auth_body(hi, r, "client", test_secret("client")));
	ASSERT_TRUE(g && g->status() == 0);
	const Token token = g->body<AuthReply>().token;

	// An attacker (even one with a key of its own) knows the victim's
	// client id but not its token: a missing or wrong token, or its own
	// session's, joins nothing; it cannot put a queue in the victim's PD.
	ConnId thief = h.transport.connect("thief:1", 3, 0xabc);
	const Hello th = auth_hello(0xabc, Role::kSwap, 77);
	g = h.call(thief, Op::kHello, th);
	const HelloReply tr = g->body<HelloReply>();
	g = h.call(thief, Op::kAuth, auth_body(th, tr, "other", test_secret("other")));
	ASSERT_TRUE(g && g->status() == 0);
	const Token thief_token = g->body<AuthReply>().token;
	EXPECT_EQ(h.transport.join(Token{}, 0xabc, 3, 1), 0u);
	Token guess = token;
	guess[0] ^= 1;
	EXPECT_EQ(h.transport.join(guess, 0xabc, 3, 1), 0u);
	EXPECT_EQ(h.transport.join(thief_token, 0xabc, 3, 1), thief);	// its own only
	// The token with other fields than the session's.
	EXPECT_EQ(h.transport.join(token, 0xabd, 3, 1), 0u);
	EXPECT_EQ(h.transport.join(token, 0xabc, 4, 1), 0u);
	EXPECT_EQ(h.transport.join(token, 0xabc, 3, 3), 0u);	// no such queue
	// The victim's own queues join, each once.
	EXPECT_EQ(h.transport.join(token, 0xabc, 3, 1), victim);
	EXPECT_EQ(h.transport.join(token, 0xabc, 3, 1), 0u);
	EXPECT_EQ(h.transport.join(token, 0xabc, 3, 2), victim);
	// All joined: the token is spent.
	EXPECT_EQ(h.transport.join(token, 0xabc, 3, 2), 0u);
	EXPECT_EQ(h.transport.join_tokens(), 1u);	// the thief's, still waiting
	h.transport.drop(thief);
	EXPECT_EQ(h.transport.join_tokens(), 0u);
	EXPECT_TRUE(h.transport.is_open(victim));
}

TEST(MemdJoin, OpenDaemonTokenComesWithHello)
{
	Harness h(true);
	ConnId c = h.transport.connect("a:1", 2, 0x77);
	EXPECT_EQ(h.transport.join(Token{}, 0x77, 2, 1), 0u);
	auto g = h.call(c, Op::kHello, hello_body(0x77));
	const Token token = g->body<HelloReply>().token;
	EXPECT_EQ(h.transport.join(token, 0x77, 2, 1), c);
	EXPECT_EQ(h.transport.join_tokens(), 0u);
}

}  // namespace
}  // namespace disagg::memd::test
