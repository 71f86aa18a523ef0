// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// The etcd client (daemons/lib/etcd_client.cpp) against a private etcd
// (one for the whole binary, each test under its own prefix), against
// endpoints nobody answers on, and against a fake server that answers
// garbage.
#include "etcd_client.hpp"
#include "etcd_test_util.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace disagg::etcd {
namespace {

using namespace std::chrono_literals;
using disagg::test::EtcdProcess;
using disagg::test::eventually;

// ---- helpers without a server ----

TEST(EtcdBase64, RoundTrip)
{
	EXPECT_EQ(base64_encode(""), "");
	EXPECT_EQ(base64_encode("f"), "Zg==");
	EXPECT_EQ(base64_encode("fo"), "Zm8=");
	EXPECT_EQ(base64_encode("foo"), "Zm9v");
	EXPECT_EQ(base64_encode("foob"), "Zm9vYg==");
	std::string all;
	for (int i = 0; i < 256; i++)
		all += static_cast<char>(i);
	for (std::size_t n = 0; n <= all.size(); n += 37) {
		const std::string s = all.substr(0, n);
		EXPECT_EQ(base64_decode(base64_encode(s)), s);
	}
	EXPECT_EQ(base64_decode(base64_encode(all)), all);
}

TEST(EtcdBase64, RejectsWhatIsNotStrictBase64)
{
	for (const char *bad : {"Z", "Zg", "Zg=", "Zg===", "Z===", "====", "Zm9v\n", " Zm9v",
				"Zm9-", "Zm9_", "Zm=v", "Zh==", "Zm9=Zm9v", "Zm!v", "\xff\xff\xff\xff",
				"Zm8=Zg=="})
		EXPECT_FALSE(base64_decode(bad)) << bad;
	EXPECT_FALSE(base64_decode(std::string("Zm9\0", 4)));
	EXPECT_EQ(base64_decode("Zm8="), "fo");
}

TEST(EtcdPrefixEnd, Increments)
{
	EXPECT_EQ(prefix_end("/a/"), "/a0");
	EXPECT_EQ(prefix_end("a"), "b");
	EXPECT_EQ(prefix_end(std::string("a\xff", 2)), "b");
	EXPECT_EQ(prefix_end(std::string("\xff\xff", 2)), std::string(1, '\0'));
	EXPECT_EQ(prefix_end(""), std::string(1, '\0'));
}

TEST(EtcdClient, NoEndpointIsAnError)
{
	EXPECT_THROW(Client({}, 100ms), Error);
}

// ---- endpoints nobody answers on ----

TEST(EtcdClient, RefusedEndpointFailsFast)
{
	const std::uint16_t port = disagg::test::free_port();
	Client c({"http://127.0.0.1:" + std::to_string(port)}, 500ms);
	const auto t0 = std::chrono::steady_clock::now();
	EXPECT_THROW(c.put("/k", "v"), Error);
	EXPECT_THROW(c.get_prefix("/"), Error);
	EXPECT_THROW(c.grant(5), Error);
	EXPECT_LT(std::chrono::steady_clock::now() - t0, 1500ms);
}

// A listener that accepts (the kernel does, backlog) and never answers.
TEST(EtcdClient, SilentEndpointFailsWithinTheTimeout)
{
	const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT_GE(fd, 0);
	sockaddr_in a{};
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t len = sizeof(a);
	ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr *>(&a), sizeof(a)), 0);
	ASSERT_EQ(listen(fd, 16), 0);
	ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr *>(&a), &len), 0);
	Client c({"http://127.0.0.1:" + std::to_string(ntohs(a.sin_port))}, 300ms);
	auto t0 = std::chrono::steady_clock::now();
	EXPECT_THROW(c.put("/k", "v"), Error);
	auto took = std::chrono::steady_clock::now() - t0;
	EXPECT_GE(took, 250ms);
	EXPECT_LT(took, 1000ms);
	// A watch that is never created gives up in the timeout too.
	t0 = std::chrono::steady_clock::now();
	EXPECT_THROW(c.watch_prefix("/", 0, [](const std::vector<Event> &, std::int64_t) {},
				    [] { return false; }),
		     Error);
	took = std::chrono::steady_clock::now() - t0;
	EXPECT_LT(took, 1000ms);
	close(fd);
}

// ---- a fake etcd that answers whatever the test says ----

class FakeServer {
public:
	FakeServer()
	{
		fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		sockaddr_in a{};
		a.sin_family = AF_INET;
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		socklen_t len = sizeof(a);
		bind(fd_, reinterpret_cast<sockaddr *>(&a), sizeof(a));
		listen(fd_, 16);
		getsockname(fd_, reinterpret_cast<sockaddr *>(&a), &len);
		port_ = ntohs(a.sin_port);
		thread_ = std::thread([this] { serve(); });
	}
	~FakeServer()
	{
		stop_ = true;
		shutdown(fd_, SHUT_RDWR);
		thread_.join();
		close(fd_);
	}
	// What the next requests get: the body of a 200 (or @status) answer.
	void answer(std::string body, int status = 200, bool chunked = false)
	{
		std::lock_guard<std::mutex> g(lock_);
		body_ = std::move(body);
		status_ = status;
		chunked_ = chunked;
	}
	std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

private:
	void serve()
	{
		while (!stop_) {
			const int c = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
			if (c < 0)
				return;
			// Read the request: headers, then Content-Length bytes.
			std::string req;
			char buf[4096];
			std::size_t need = std::string::npos;
			while (need == std::string::npos || req.size() < need) {
				const ssize_t n = read(c, buf, sizeof(buf));
				if (n <= 0)
					break;
				req.append(buf, n);
				const std::size_t end = req.find("\r\n\r\n");
				if (need == std::string::npos && end != std::string::npos) {
					std::size_t cl = 0;
					if (auto p = req.find("Content-Length: "); p != std::string::npos)
						cl = std::stoul(req.substr(p + 16));
					need = end + 4 + cl;
				}
			}
			std::string body;
			int status;
			bool chunked;
			{
				std::lock_guard<std::mutex> g(lock_);
				body = body_;
				status = status_;
				chunked = chunked_;
			}
			std::string head = "HTTP/1.1 " + std::to_string(status) +
					   " X\r\nContent-Type: application/json\r\nConnection: close\r\n";
			head += chunked ? "Transfer-Encoding: chunked\r\n\r\n"
					: "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
			std::string out = head;
			if (chunked) {
				char len[32];
				std::snprintf(len, sizeof(len), "%zx\r\n", body.size());
				out += len + body + "\r\n0\r\n\r\n";
			} else {
				out += body;
			}
			for (std::size_t off = 0; off < out.size();) {
				const ssize_t n = write(c, out.data() + off, out.size() - off);
				if (n <= 0)
					break;
				off += n;
			}
			close(c);
		}
	}

	int fd_ = -1;
	std::uint16_t port_ = 0;
	std::atomic<bool> stop_{false};
	std::thread thread_;
	std::mutex lock_;	// protects the answer below
	std::string body_ = "{}";
	int status_ = 200;
	bool chunked_ = false;
};

TEST(EtcdClient, GarbageFromTheServerIsAnError)
{
	FakeServer s;
	Client c({s.endpoint()}, 2000ms);
	const std::string kv = R"({"key":"YQ==","value":"Yg==","mod_revision":"3"})";
	// Sanity: a good answer parses.
	s.answer(R"({"header":{"revision":"7"},"kvs":[)" + kv + "]}");
	Range r = c.get_prefix("a");
	ASSERT_EQ(r.kvs.size(), 1u);
	EXPECT_EQ(r.revision, 7);
	EXPECT_EQ(r.kvs[0].key, "a");
	EXPECT_EQ(r.kvs[0].value, "b");
	EXPECT_EQ(r.kvs[0].mod_revision, 3);

	for (const std::string &bad : std::vector<std::string>{
		     "", "not json", "[]", "\"x\"", "42", "{", R"({"kvs":"x"})",
		     R"({"kvs":[1]})", R"({"kvs":[{"key":"!!"}]})", R"({"kvs":[{"key":"YQ="}]})",
		     R"({"kvs":[{"key":5}]})", R"({"kvs":[{"key":"YQ==","value":"Y"}]})",
		     R"({"kvs":[{"key":"YQ==","mod_revision":"12x"}]})",
		     R"({"kvs":[{"key":"YQ==","mod_revision":"99999999999999999999"}]})",
		     R"({"kvs":[{"key":"YQ==","mod_revision":1.5}]})",
		     R"({"kvs":[{"key":"YQ==","mod_revision":18446744073709551615}]})",
		     R"({"kvs":[{"key":"YQ==","mod_revision":"+1"}]})",
		     R"({"kvs":[{"key":"YQ==","mod_revision":" 1"}]})",
		     R"({"kvs":[{"key":"YQ==","lease":true}]})", R"({"header":{"revision":"-"}})",
		     R"({"header":[]})", R"({"header":{"revision":""}})", R"({"more":true})",
		     R"({"more":"yes"})", R"({"error":"boom","message":"boom","code":2})",
		     std::string(200000, '['), "{\"kvs\":[" + std::string(100000, '{') + "]}"}) {
		s.answer(bad);
		EXPECT_THROW(c.get_prefix("a"), Error) << bad.substr(0, 80);
	}
	// Larger than kMaxResponse, announced or chunked.
	const std::string huge = "{\"x\":\"" + std::string(kMaxResponse, 'a') + "\"}";
	s.answer(huge);
	EXPECT_THROW(c.get_prefix("a"), Error);
	s.answer(huge, 200, true);
	EXPECT_THROW(c.get_prefix("a"), Error);
	// HTTP errors, with and without etcd's JSON.
	s.answer("oops", 500);
	EXPECT_THROW(c.put("a", "b"), Error);
	s.answer(R"({"error":"etcdserver: requested lease not found","code":5})", 404);
	EXPECT_THROW(c.put("a", "b", 5), LeaseGone);
	EXPECT_THROW(c.revoke(5), LeaseGone);

	// Leases.
	s.answer(R"({"ID":"0","TTL":"5"})");
	EXPECT_THROW(c.grant(5), Error);
	s.answer(R"({"TTL":"5"})");
	EXPECT_THROW(c.grant(5), Error);
	s.answer(R"({"ID":"-4","TTL":"5"})");
	EXPECT_THROW(c.grant(5), Error);
	s.answer(R"({"ID":"12","TTL":"5"})");
	EXPECT_EQ(c.grant(5), 12);
	s.answer(R"({"result":{"ID":"12","TTL":"5"}})");
	EXPECT_EQ(c.keepalive(12), 5);
	s.answer(R"({"result":{"ID":"12"}})");
	EXPECT_THROW(c.keepalive(12), LeaseGone);
	s.answer(R"({"result":{"ID":"12","TTL":"-1"}})");
	EXPECT_THROW(c.keepalive(12), LeaseGone);
	for (const char *bad : {R"({})", R"({"result":5})", R"({"result":{"TTL":"x"}})",
				"{\"result\":{\"TTL\":\"5\"}}\n{\"result\":{\"TTL\":\"5\"}}",
				R"({"error":{"grpc_code":14,"message":"unavailable"}})"}) {
		s.answer(bad);
		EXPECT_THROW(c.keepalive(12), Error) << bad;
	}
}

TEST(EtcdClient, GarbageInAWatchStreamIsAnError)
{
	FakeServer s;
	Client c({s.endpoint()}, 1000ms);
	auto watch = [&c] {
		c.watch_prefix("a", 0, [](const std::vector<Event> &, std::int64_t) {},
			       [] { return false; });
	};
	const std::string created = R"({"result":{"header":{"revision":"3"},"created":true}})";
	for (const std::string &bad : std::vector<std::string>{
		     "", "garbage\n", R"({"result":{"header":{"revision":"3"}}})" "\n",
		     created + "\n" + R"({"result":{"events":[{"type":"EXPLODE","kv":{"key":"YQ=="}}]}})" "\n",
		     created + "\n" + R"({"result":{"events":[{"kv":{"key":"!"}}]}})" "\n",
		     created + "\n" + R"({"result":{"events":[{}]}})" "\n",
		     created + "\n" + R"({"result":{"events":{}}})" "\n",
		     created + "\n" + R"({"error":{"grpc_code":14,"message":"x"}})" "\n",
		     created + "\n" + R"({"result":{"canceled":true,"cancel_reason":"no"}})" "\n",
		     created + "\n" + std::string(kMaxResponse + 10, ' '),
		     created + "\n"	// then the stream ends
	     }) {
		s.answer(bad, 200, true);
		EXPECT_THROW(watch(), Error) << bad.substr(0, 100);
	}
	s.answer(created + "\n" +
			 R"({"result":{"canceled":true,"compact_revision":"9"}})" "\n",
		 200, true);
	try {
		watch();
		ADD_FAILURE() << "no Compacted";
	} catch (const Compacted &e) {
		EXPECT_EQ(e.compact_revision, 9);
	}
}

// ---- against a real etcd ----

class EtcdTest : public disagg::test::EtcdSuite {
protected:
	Client client(std::chrono::milliseconds timeout = 2000ms)
	{
		return Client({etcd_->endpoint()}, timeout);
	}

};

TEST_F(EtcdTest, PutGetDelete)
{
	Client c = client();
	c.put(prefix_ + "b", "2");
	c.put(prefix_ + "a", "1");
	c.put(prefix_ + "a", "one");
	c.put(prefix_ + "c/d", "");
	c.put(prefix_.substr(0, prefix_.size() - 1), "not under the prefix");
	Range r = c.get_prefix(prefix_);
	ASSERT_EQ(r.kvs.size(), 3u);
	EXPECT_EQ(r.kvs[0].key, prefix_ + "a");
	EXPECT_EQ(r.kvs[0].value, "one");
	EXPECT_EQ(r.kvs[1].key, prefix_ + "b");
	EXPECT_EQ(r.kvs[1].value, "2");
	EXPECT_EQ(r.kvs[2].key, prefix_ + "c/d");
	EXPECT_EQ(r.kvs[2].value, "");
	EXPECT_EQ(r.kvs[0].lease, 0);
	EXPECT_GT(r.kvs[0].mod_revision, r.kvs[1].mod_revision);
	EXPECT_GE(r.revision, r.kvs[2].mod_revision);
	c.del(prefix_ + "a");
	c.del(prefix_ + "nothing");
	r = c.get_prefix(prefix_);
	ASSERT_EQ(r.kvs.size(), 2u);
	EXPECT_EQ(r.kvs[0].key, prefix_ + "b");
	EXPECT_TRUE(c.get_prefix(prefix_ + "zzz").kvs.empty());
}

TEST_F(EtcdTest, BinaryKeysAndValues)
{
	Client c = client();
	std::string all;
	for (int i = 0; i < 256; i++)
		all += static_cast<char>(i);
	c.put(prefix_ + all, all);
	c.put(prefix_ + "\xff\xff", "ff");
	Range r = c.get_prefix(prefix_);
	ASSERT_EQ(r.kvs.size(), 2u);
	EXPECT_EQ(r.kvs[0].key, prefix_ + all);
	EXPECT_EQ(r.kvs[0].value, all);
	EXPECT_EQ(r.kvs[1].value, "ff");
}

TEST_F(EtcdTest, LeaseGrantKeepaliveRevoke)
{
	Client c = client();
	const std::int64_t lease = c.grant(30);
	ASSERT_GT(lease, 0);
	EXPECT_EQ(c.keepalive(lease), 30);
	c.put(prefix_ + "k", "v", lease);
	Range r = c.get_prefix(prefix_);
	ASSERT_EQ(r.kvs.size(), 1u);
	EXPECT_EQ(r.kvs[0].lease, lease);
	c.revoke(lease);
	EXPECT_TRUE(c.get_prefix(prefix_).kvs.empty());
	EXPECT_THROW(c.keepalive(lease), LeaseGone);
	EXPECT_THROW(c.revoke(lease), LeaseGone);
	EXPECT_THROW(c.put(prefix_ + "k", "v", lease), LeaseGone);
	EXPECT_THROW(c.put(prefix_ + "k", "v", 424242), LeaseGone);
	EXPECT_TRUE(c.get_prefix(prefix_).kvs.empty());
}

// Put, delete, and a lease running out, as a watcher sees them; kept
// alive, a lease outlives its TTL.
TEST_F(EtcdTest, WatchSeesPutsDeletesAndExpiry)
{
	Client c = client();
	const std::int64_t start = c.get_prefix(prefix_).revision + 1;
	std::mutex lock;
	std::vector<Event> seen;	// protected by lock
	std::int64_t last_rev = 0;
	std::atomic<bool> stop{false}, failed{false};
	std::thread watcher([&] {
		try {
			Client w = client();
			w.watch_prefix(
				prefix_, start,
				[&](const std::vector<Event> &ev, std::int64_t rev) {
					std::lock_guard<std::mutex> g(lock);
					seen.insert(seen.end(), ev.begin(), ev.end());
					last_rev = rev;
				},
				[&] { return stop.load(); });
		} catch (const Error &e) {
			ADD_FAILURE() << e.what();
			failed = true;
		}
	});
	const std::int64_t kept = c.grant(2), lapsing = c.grant(2);
	c.put(prefix_ + "a", "1");
	c.put(prefix_ + "kept", "k", kept);
	c.put(prefix_ + "lapsing", "l", lapsing);
	c.put("/elsewhere", "not seen");
	c.del(prefix_ + "a");
	// 3.5 s: the lapsing lease (2 s) expires, the kept one stays.
	const auto t0 = std::chrono::steady_clock::now();
	while (std::chrono::steady_clock::now() - t0 < 3500ms) {
		EXPECT_EQ(c.keepalive(kept), 2);
		std::this_thread::sleep_for(500ms);
	}
	EXPECT_THROW(c.keepalive(lapsing), LeaseGone);
	Range r = c.get_prefix(prefix_);
	ASSERT_EQ(r.kvs.size(), 1u);
	EXPECT_EQ(r.kvs[0].key, prefix_ + "kept");
	ASSERT_TRUE(eventually(
		[&] {
			std::lock_guard<std::mutex> g(lock);
			return seen.size() >= 5;
		},
		2000ms));
	const auto t1 = std::chrono::steady_clock::now();
	stop = true;
	watcher.join();
	EXPECT_LT(std::chrono::steady_clock::now() - t1, 500ms) << "stop() not honoured";
	EXPECT_FALSE(failed);
	ASSERT_EQ(seen.size(), 5u);
	EXPECT_EQ(seen[0].type, Event::Type::kPut);
	EXPECT_EQ(seen[0].kv.key, prefix_ + "a");
	EXPECT_EQ(seen[0].kv.value, "1");
	EXPECT_EQ(seen[1].type, Event::Type::kPut);
	EXPECT_EQ(seen[1].kv.key, prefix_ + "kept");
	EXPECT_EQ(seen[1].kv.lease, kept);
	EXPECT_EQ(seen[2].kv.key, prefix_ + "lapsing");
	EXPECT_EQ(seen[3].type, Event::Type::kDelete);
	EXPECT_EQ(seen[3].kv.key, prefix_ + "a");
	EXPECT_EQ(seen[4].type, Event::Type::kDelete);
	EXPECT_EQ(seen[4].kv.key, prefix_ + "lapsing");
	EXPECT_GE(last_rev, seen[4].kv.mod_revision);
	c.revoke(kept);
}

// A watch from an old revision replays what happened since.
TEST_F(EtcdTest, WatchFromARevisionReplays)
{
	Client c = client();
	c.put(prefix_ + "x", "1");
	const std::int64_t from = c.get_prefix(prefix_).revision;
	c.put(prefix_ + "x", "2");
	c.del(prefix_ + "x");
	std::vector<Event> seen;
	c.watch_prefix(
		prefix_, from,
		[&](const std::vector<Event> &ev, std::int64_t) {
			seen.insert(seen.end(), ev.begin(), ev.end());
		},
		[&] { return seen.size() >= 3; });
	ASSERT_EQ(seen.size(), 3u);
	EXPECT_EQ(seen[0].kv.value, "1");
	EXPECT_EQ(seen[1].kv.value, "2");
	EXPECT_EQ(seen[2].type, Event::Type::kDelete);
}

TEST_F(EtcdTest, WatchFromACompactedRevisionThrowsCompacted)
{
	Client c = client();
	c.put(prefix_ + "x", "1");
	const std::int64_t old = c.get_prefix(prefix_).revision;
	c.put(prefix_ + "x", "2");
	const std::int64_t now = c.get_prefix(prefix_).revision;
	c.compact(now);
	try {
		c.watch_prefix(prefix_, old, [](const std::vector<Event> &, std::int64_t) {},
			       [] { return false; });
		ADD_FAILURE() << "no Compacted";
	} catch (const Compacted &e) {
		EXPECT_EQ(e.compact_revision, now);
	}
}

// The first endpoint refuses: the second one serves, and is tried first
// from then on.
TEST_F(EtcdTest, FailsOverToTheNextEndpoint)
{
	const std::string dead = "http://127.0.0.1:" + std::to_string(disagg::test::free_port());
	Client c({dead, etcd_->endpoint()}, 1000ms);
	c.put(prefix_ + "k", "v");
	EXPECT_EQ(c.endpoint(), etcd_->endpoint());
	const Range r = c.get_prefix(prefix_);
	ASSERT_EQ(r.kvs.size(), 1u);
	Client w({dead, etcd_->endpoint()}, 1000ms);
	int calls = 0;
	w.watch_prefix(prefix_, r.kvs[0].mod_revision, [&](const std::vector<Event> &, std::int64_t) { calls++; },
		       [&] { return calls >= 2; });
	EXPECT_EQ(calls, 2);	// created, then the put
}

// etcd goes away under a watch: the watch throws instead of hanging.
TEST(EtcdRestart, WatchBreaksWhenEtcdDies)
{
	START_ETCD_OR_SKIP(etcd);
	Client c({etcd.endpoint()}, 1000ms);
	std::atomic<bool> created{false};
	std::thread killer([&] {
		eventually([&] { return created.load(); }, 3000ms);
		etcd.stop();
	});
	EXPECT_THROW(c.watch_prefix("/", 0,
				    [&](const std::vector<Event> &, std::int64_t) { created = true; },
				    [] { return false; }),
		     Error);
	killer.join();
	EXPECT_TRUE(created);
	EXPECT_THROW(c.put("/k", "v"), Error);
	// Back (with its data): the same client works again.
	ASSERT_TRUE(etcd.start());
	c.put("/k", "v");
	EXPECT_EQ(c.get_prefix("/k").kvs.size(), 1u);
}

}  // namespace
}  // namespace disagg::etcd
