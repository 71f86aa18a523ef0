// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// The daemons' shared limits: rate-limited logging, counting connections
// per address, and the TCP transport over 127.0.0.x: the per-address limit
// at accept, and accept4() failing with EMFILE (a low RLIMIT_NOFILE) backs
// off instead of spinning, logs once, and recovers.
#include "conn_limits.hpp"
#include "event_loop.hpp"
#include "log.hpp"
#include "tcp_transport.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace disagg::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Everything written to stderr while it lives, readable as lines.
class StderrCapture {
public:
	StderrCapture()
	{
		if (::pipe2(pipe_, O_NONBLOCK | O_CLOEXEC) != 0)
			return;
		saved_ = ::dup(STDERR_FILENO);
		::dup2(pipe_[1], STDERR_FILENO);
	}
	~StderrCapture()
	{
		restore();
		for (int fd : pipe_)
			if (fd >= 0)
				::close(fd);
	}
	void restore()
	{
		if (saved_ >= 0) {
			::dup2(saved_, STDERR_FILENO);
			::close(saved_);
			saved_ = -1;
		}
	}
	std::vector<std::string> lines()
	{
		char buf[4096];
		ssize_t n;
		while ((n = ::read(pipe_[0], buf, sizeof(buf))) > 0)
			text_.append(buf, static_cast<std::size_t>(n));
		std::vector<std::string> out;
		std::size_t start = 0, nl;
		while ((nl = text_.find('\n', start)) != std::string::npos) {
			out.push_back(text_.substr(start, nl - start));
			start = nl + 1;
		}
		return out;
	}

private:
	int pipe_[2] = {-1, -1};
	int saved_ = -1;
	std::string text_;
};

// ---------------------------------------------------------------- logging

TEST(RateLimit, BurstThenSuppressedThenCount)
{
	log::RateLimit rl(3, 1000ms);
	const auto t0 = Clock::now();
	std::uint64_t sup = 99;
	for (int i = 0; i < 3; i++) {
		EXPECT_TRUE(rl.allow(t0 + i * 1ms, &sup));
		EXPECT_EQ(sup, 0u);
	}
	for (int i = 0; i < 7; i++)
		EXPECT_FALSE(rl.allow(t0 + 500ms, &sup));
	EXPECT_TRUE(rl.allow(t0 + 1000ms, &sup));
	EXPECT_EQ(sup, 7u);
	EXPECT_TRUE(rl.allow(t0 + 1001ms, &sup));
	EXPECT_EQ(sup, 0u);
}

TEST(RateLimit, MacroLogsAtMostTheBurstPerSite)
{
	log::set_level(log::Level::kInfo);
	StderrCapture cap;
	for (int i = 0; i < 1000; i++)
		LOG_WARN_RL("peer %d misbehaves", i);
	for (int i = 0; i < 1000; i++)
		LOG_INFO_RL("another site %d", i);
	LOG_DBG("below the level");
	cap.restore();
	auto lines = cap.lines();
	ASSERT_EQ(lines.size(), 2 * log::RateLimit::kBurst);
	EXPECT_NE(lines[0].find("warn: peer 0 misbehaves"), std::string::npos) << lines[0];
	EXPECT_NE(lines.back().find("info: another site 9"), std::string::npos) << lines.back();
}

TEST(RateLimit, SuppressedCountIsLogged)
{
	log::set_level(log::Level::kInfo);
	log::RateLimit rl(2, 50ms);
	StderrCapture cap;
	for (int i = 0; i < 10; i++)
		DG_LOG_LIMITED(rl, kWarn, "line %d", i);
	std::this_thread::sleep_for(60ms);
	DG_LOG_LIMITED(rl, kWarn, "after");
	cap.restore();
	auto lines = cap.lines();
	ASSERT_EQ(lines.size(), 4u);
	EXPECT_NE(lines[2].find("limits_test.cpp:"), std::string::npos) << lines[2];
	EXPECT_NE(lines[2].find(": 8 messages suppressed"), std::string::npos) << lines[2];
	EXPECT_NE(lines[3].find("after"), std::string::npos);
}

// ---------------------------------------------------------------- per address

TEST(AddrCount, CountsAndReleases)
{
	AddrCount n(2);
	EXPECT_TRUE(n.acquire("a"));
	EXPECT_TRUE(n.acquire("a"));
	EXPECT_FALSE(n.acquire("a"));
	EXPECT_TRUE(n.acquire("b"));
	EXPECT_EQ(n.count("a"), 2u);
	n.release("a");
	EXPECT_TRUE(n.acquire("a"));
	n.release("a");
	n.release("a");
	n.release("b");
	EXPECT_EQ(n.addresses(), 0u);
	AddrCount unlimited(0);
	for (int i = 0; i < 1000; i++)
		EXPECT_TRUE(unlimited.acquire("a"));
}

TEST(AddrCount, HostOfV4AndMappedV6IsTheSame)
{
	sockaddr_in in{};
	in.sin_family = AF_INET;
	in.sin_port = htons(1234);
	inet_pton(AF_INET, "198.18.0.7", &in.sin_addr);
	EXPECT_EQ(sockaddr_host(reinterpret_cast<sockaddr *>(&in)), "198.18.0.7");
	sockaddr_in6 in6{};
	in6.sin6_family = AF_INET6;
	in6.sin6_port = htons(99);
	inet_pton(AF_INET6, "::ffff:198.18.0.7", &in6.sin6_addr);
	EXPECT_EQ(sockaddr_host(reinterpret_cast<sockaddr *>(&in6)), "198.18.0.7");
	inet_pton(AF_INET6, "fd00::1", &in6.sin6_addr);
	EXPECT_EQ(sockaddr_host(reinterpret_cast<sockaddr *>(&in6)), "fd00::1");
}

// ---------------------------------------------------------------- TCP

// Records what the transport reports.
class Events : public TransportEvents {
public:
	void on_connect(ConnId c, const std::string &) override { open.insert(c); connects++; }
	void on_message(ConnId, proto::ByteSpan) override {}
	void on_close(ConnId c) override { open.erase(c); }
	std::set<ConnId> open;
	unsigned connects = 0;
};

struct TcpFixture {
	explicit TcpFixture(TransportLimits limits) : transport(loop, limits)
	{
		std::string err;
		ok = transport.listen("127.0.0.1", 0, &events, err);
		EXPECT_TRUE(ok) << err;
	}
	// A connection from @src to the transport (non-blocking; the
	// handshake completes in the kernel's backlog).
	int dial(const char *src = "127.0.0.1")
	{
		int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		sockaddr_in a{};
		a.sin_family = AF_INET;
		inet_pton(AF_INET, src, &a.sin_addr);
		EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr *>(&a), sizeof(a)), 0);
		a.sin_port = htons(transport.local_port());
		inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
		EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr *>(&a), sizeof(a)), 0);
		return fd;
	}
	void run_for(std::chrono::milliseconds d)
	{
		const auto end = Clock::now() + d;
		while (Clock::now() < end)
			loop.run_once(10);
	}
	// The peer saw its connection closed (EOF or reset).
	static bool closed_by_server(int fd)
	{
		char b;
		for (int i = 0; i < 100; i++) {
			ssize_t n = ::recv(fd, &b, 1, MSG_DONTWAIT);
			if (n == 0 || (n < 0 && errno != EAGAIN))
				return true;
			std::this_thread::sleep_for(5ms);
		}
		return false;
	}

	EventLoop loop;
	Events events;
	TcpTransport transport;
	bool ok = false;
};

TransportLimits limits(unsigned max_conns, unsigned per_addr)
{
	TransportLimits l;
	l.max_conns = max_conns;
	l.max_conns_per_addr = per_addr;
	return l;
}

TEST(TcpLimits, PerAddressLimitAtAccept)
{
	log::set_level(log::Level::kError);
	TcpFixture f(limits(8, 2));
	ASSERT_TRUE(f.ok);
	int a = f.dial(), b = f.dial();
	f.run_for(100ms);
	EXPECT_EQ(f.events.connects, 2u);
	int c = f.dial();
	f.run_for(100ms);
	EXPECT_EQ(f.events.connects, 2u);	// never reached the service
	EXPECT_TRUE(TcpFixture::closed_by_server(c));
	EXPECT_FALSE(TcpFixture::closed_by_server(a));
	// Another address is not affected.
	int d = f.dial("127.0.0.2");
	f.run_for(100ms);
	EXPECT_EQ(f.events.connects, 3u);
	// One from the full address goes: room for another.
	f.transport.close(*f.events.open.begin());
	f.run_for(100ms);
	int e = f.dial();
	f.run_for(100ms);
	EXPECT_EQ(f.events.connects, 4u);
	EXPECT_FALSE(TcpFixture::closed_by_server(e));
	for (int fd : {a, b, c, d, e})
		::close(fd);
}

TEST(TcpLimits, MaxConnsStillHolds)
{
	log::set_level(log::Level::kError);
	TcpFixture f(limits(2, 0));
	ASSERT_TRUE(f.ok);
	std::vector<int> fds;
	for (int i = 0; i < 5; i++)
		fds.push_back(f.dial());
	f.run_for(100ms);
	EXPECT_EQ(f.events.connects, 2u);
	for (int fd : fds)
		::close(fd);
}

// Lowers RLIMIT_NOFILE and fills the table; undoes both when it goes.
class FdExhaustion {
public:
	FdExhaustion()
	{
		::getrlimit(RLIMIT_NOFILE, &saved_);
		int probe = ::dup(0);
		rlimit low = saved_;
		low.rlim_cur = static_cast<rlim_t>(probe + 8);
		::close(probe);
		ok_ = ::setrlimit(RLIMIT_NOFILE, &low) == 0;
		for (;;) {
			int fd = ::dup(0);
			if (fd < 0)
				break;
			fds_.push_back(fd);
		}
		full_ = errno == EMFILE;
	}
	~FdExhaustion() { release(); }
	bool ok() const { return ok_ && full_; }
	void release()
	{
		for (int fd : fds_)
			::close(fd);
		fds_.clear();
		::setrlimit(RLIMIT_NOFILE, &saved_);
	}

private:
	rlimit saved_{};
	std::vector<int> fds_;
	bool ok_ = false, full_ = false;
};

TEST(TcpLimits, EmfileBacksOffInsteadOfSpinning)
{
	log::set_level(log::Level::kWarn);
	TcpFixture f(limits(8, 0));
	ASSERT_TRUE(f.ok);
	// One connection first, with descriptors to spare: UBSan's vptr
	// check of a type it meets for the first time needs a pipe, which it
	// cannot get below (and then reports a bogus "invalid vptr").
	::close(f.dial());
	f.run_for(50ms);
	ASSERT_EQ(f.events.connects, 1u);
	f.events.connects = 0;
	int client = f.dial();	// waits in the backlog
	StderrCapture cap;
	std::uint64_t calls = 0;
	{
		FdExhaustion ex;
		ASSERT_TRUE(ex.ok());
		const auto start = Clock::now();
		f.run_for(1000ms);
		const auto spent = Clock::now() - start;
		calls = f.transport.accept_calls();
		EXPECT_EQ(f.events.connects, 0u);
		EXPECT_TRUE(f.transport.accept_paused());
		ex.release();
		// Backing off: 100, 200, 400, 800 ms: a handful of tries, not
		// millions.
		EXPECT_GE(calls, 2u);
		EXPECT_LE(calls, 8u) << "accept4() called " << calls << " times in "
				     << std::chrono::duration_cast<std::chrono::milliseconds>(spent)
						.count()
				     << " ms";
	}
	// Descriptors again: the waiting peer gets in within the backoff.
	f.run_for(1200ms);
	cap.restore();
	EXPECT_EQ(f.events.connects, 1u);
	EXPECT_FALSE(f.transport.accept_paused());
	auto lines = cap.lines();
	unsigned warn = 0;
	for (const std::string &l : lines)
		warn += l.find("accept: Too many open files") != std::string::npos;
	EXPECT_EQ(warn, 1u) << "log lines: " << lines.size();
	::close(client);
}

}  // namespace
}  // namespace disagg::test
