// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// disagg-memd over real TCP on 127.0.0.1: the daemon in-process on an
// ephemeral port with the client library, raw sockets for hostile
// streams, and the binary itself as a subprocess for its command line and
// SIGTERM.
#include "memclient.hpp"
#include "memd_child.hpp"
#include "memd_test_util.hpp"
#include "server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <regex>
#include <thread>

extern char **environ;

namespace disagg::memd::test {
namespace {

using namespace std::chrono_literals;
using client::Conn;
using client::Io;

class TcpServer {
public:
	explicit TcpServer(unsigned grace = 2, unsigned max_clients = 8)
	{
		Config c;
		c.listen_host = "127.0.0.1";
		c.listen_port = 0;
		c.transport = TransportKind::kTcp;
		c.capacity = 64 * kMiB;
		c.slab_size = 4 * kMiB;
		c.grace_sec = grace;
		c.max_clients = max_clients;
		log::set_level(log::Level::kWarn);
		server_ = std::make_unique<Server>(c);
		std::string err;
		ok_ = server_->start(err);
		EXPECT_TRUE(ok_) << err;
		if (ok_)
			thread_ = std::thread([this] { server_->run(); });
	}
	~TcpServer()
	{
		if (ok_) {
			server_->request_stop();
			thread_.join();
		}
	}
	std::uint16_t port() const { return server_->port(); }

	client::Options opts(std::uint64_t id, proto::Role role = proto::Role::kSwap) const
	{
		client::Options o;
		o.rdma = false;
		o.host = "127.0.0.1";
		o.port = port();
		o.client_id = id;
		o.role = role;
		o.timeout_ms = 5000;
		return o;
	}
	std::unique_ptr<Conn> open(std::uint64_t id, proto::Role role = proto::Role::kSwap) const
	{
		std::string err;
		auto c = Conn::open(opts(id, role), err);
		EXPECT_TRUE(c) << err;
		return c;
	}
	MemInfo info() const
	{
		auto c = open(0, Role::kCtl);
		std::string err;
		std::optional<MemInfo> m = c ? c->info(err) : std::nullopt;
		EXPECT_TRUE(m) << err;
		return m.value_or(MemInfo{});
	}
	// Wait until the node has exactly @n clients besides the asking one.
	bool wait_clients(std::uint32_t n, std::chrono::milliseconds t = 5000ms) const
	{
		const auto deadline = std::chrono::steady_clock::now() + t;
		while (std::chrono::steady_clock::now() < deadline) {
			if (info().nr_clients == n + 1)
				return true;
			std::this_thread::sleep_for(20ms);
		}
		return false;
	}

private:
	std::unique_ptr<Server> server_;
	std::thread thread_;
	bool ok_ = false;
};

// Write @pages pages (several per MEM_WRITE) with a per-slab pattern.
void write_pattern(Conn &c, const MemSlab &s, unsigned seed)
{
	std::span<std::byte> buf = c.data_buffer();
	Bytes p = pattern(kMaxRwLen, seed);
	std::copy(p.begin(), p.end(), buf.begin());
	std::vector<Io> ios = {Io{0, buf.first(kMaxRwLen)},
			       Io{s.size - kPageSize, buf.subspan(kPageSize, kPageSize)},
			       Io{s.size / 2, buf.subspan(0, 4 * kPageSize)}};
	ASSERT_EQ(c.write(s, ios), 0) << c.error();
}

void check_pattern(Conn &c, const MemSlab &s, unsigned seed)
{
	Bytes p = pattern(kMaxRwLen, seed);
	std::span<std::byte> buf = c.data_buffer();
	std::fill(buf.begin(), buf.end(), std::byte{0xee});
	Io all{0, buf.first(kMaxRwLen)};
	ASSERT_EQ(c.read(s, {&all, 1}), 0) << c.error();
	EXPECT_TRUE(std::equal(p.begin(), p.end(), buf.begin())) << "slab " << s.slab_id;
	Io last{s.size - kPageSize, buf.first(kPageSize)};
	ASSERT_EQ(c.read(s, {&last, 1}), 0);
	EXPECT_TRUE(std::equal(p.begin() + kPageSize, p.begin() + 2 * kPageSize, buf.begin()));
	Io mid{s.size / 2, buf.first(4 * kPageSize)};
	ASSERT_EQ(c.read(s, {&mid, 1}), 0);
	EXPECT_TRUE(std::equal(p.begin(), p.begin() + 4 * kPageSize, buf.begin()));
}

bool reads_zero(Conn &c, const MemSlab &s)
{
	std::span<std::byte> buf = c.data_buffer();
	Io io{0, buf.first(kMaxRwLen)};
	if (c.read(s, {&io, 1}) != 0)
		return false;
	return std::all_of(buf.begin(), buf.begin() + kMaxRwLen,
			   [](std::byte b) { return b == std::byte{0}; });
}

TEST(MemdTcp, WriteReadReconnectWithinGraceThenExpire)
{
	TcpServer srv(/*grace=*/2);
	const std::uint64_t id = 0x5eed;
	std::vector<MemSlab> slabs;
	{
		auto c = srv.open(id);
		ASSERT_TRUE(c);
		EXPECT_EQ(c->negotiated().features, 0u);
		for (std::uint64_t t = 0; t < 3; t++) {
			std::uint32_t st = 0;
			auto s = c->alloc(4 * kMiB, t, st);
			ASSERT_TRUE(s) << st;
			EXPECT_EQ(s->flags, 0u);
			EXPECT_TRUE(reads_zero(*c, *s));
			write_pattern(*c, *s, static_cast<unsigned>(t));
			check_pattern(*c, *s, static_cast<unsigned>(t));
			slabs.push_back(*s);
		}
		EXPECT_EQ(srv.info().free, 64 * kMiB - 12 * kMiB);
	}	// gone without BYE
	ASSERT_TRUE(srv.wait_clients(0));
	EXPECT_EQ(srv.info().free, 52 * kMiB);	// kept for the grace

	{
		auto c = srv.open(id);
		ASSERT_TRUE(c);
		for (std::uint64_t t = 0; t < 3; t++) {
			std::uint32_t st = 0;
			auto s = c->alloc(4 * kMiB, t, st);
			ASSERT_TRUE(s) << st;
			EXPECT_EQ(s->flags, kSlabResumed);
			EXPECT_EQ(s->slab_id, slabs[t].slab_id);
			check_pattern(*c, *s, static_cast<unsigned>(t));
		}
	}
	ASSERT_TRUE(srv.wait_clients(0));
	// Past the grace the slabs go back.
	const auto deadline = std::chrono::steady_clock::now() + 6s;
	while (srv.info().free != 64 * kMiB && std::chrono::steady_clock::now() < deadline)
		std::this_thread::sleep_for(100ms);
	EXPECT_EQ(srv.info().free, 64 * kMiB);
	auto c = srv.open(id);
	ASSERT_TRUE(c);
	std::uint32_t st = 0;
	auto s = c->alloc(4 * kMiB, 0, st);
	ASSERT_TRUE(s);
	EXPECT_EQ(s->flags, 0u);
	EXPECT_NE(s->slab_id, slabs[0].slab_id);
	EXPECT_TRUE(reads_zero(*c, *s));
}

TEST(MemdTcp, ByeFreesAndCapacityIsEnforced)
{
	TcpServer srv;
	auto c = srv.open(1);
	ASSERT_TRUE(c);
	std::uint32_t st = 0;
	for (std::uint64_t t = 0; t < 16; t++)
		ASSERT_TRUE(c->alloc(4 * kMiB, t, st)) << t << " " << st;
	EXPECT_FALSE(c->alloc(4 * kMiB, 99, st));
	EXPECT_EQ(st, static_cast<std::uint32_t>(ENOSPC));
	c->bye();
	c.reset();
	ASSERT_TRUE(srv.wait_clients(0));
	EXPECT_EQ(srv.info().free, 64 * kMiB);
}

// The eviction handshake with the client library: MEM_RESIZE from a ctl
// client, MEM_EVICT to the holder, the data intact while it "moves" it,
// the memory back only after its MEM_FREE.
TEST(MemdTcp, EvictionHandshake)
{
	TcpServer srv;
	auto a = srv.open(0xe1);
	ASSERT_TRUE(a);
	std::vector<MemSlab> slabs;
	for (std::uint64_t t = 0; t < 3; t++) {
		std::uint32_t st = 0;
		auto s = a->alloc(4 * kMiB, t, st);
		ASSERT_TRUE(s) << st;
		write_pattern(*a, *s, static_cast<unsigned>(t));
		slabs.push_back(*s);
	}
	a->evict_answer = [&](std::uint64_t id) -> std::uint32_t {
		for (const MemSlab &s : slabs)
			if (s.slab_id == id)
				return 0;
		return ENOENT;
	};
	auto ctl = srv.open(0, Role::kCtl);
	ASSERT_TRUE(ctl);
	ASSERT_TRUE(ctl->call(Op::kMemResize, MemResize{4 * kMiB}).ok());
	std::vector<std::uint64_t> asked;
	for (int i = 0; i < 2; i++) {
		int err = 0;
		ASSERT_TRUE(a->wait_evict(5000, err)) << std::strerror(err);
		asked.push_back(a->evictions().front());
		a->evictions().pop_front();
	}
	std::sort(asked.begin(), asked.end());	// the newest two, asked in id order
	EXPECT_EQ(asked, (std::vector<std::uint64_t>{slabs[1].slab_id, slabs[2].slab_id}));
	// Nothing freed yet, nothing new handed out.
	MemInfo m = srv.info();
	EXPECT_EQ(m.capacity, 4 * kMiB);
	EXPECT_EQ(m.free, 0u);
	std::uint32_t st = 0;
	EXPECT_FALSE(a->alloc(kPageSize, 9, st));
	EXPECT_EQ(st, static_cast<std::uint32_t>(ENOSPC));
	for (unsigned i : {2u, 1u}) {
		check_pattern(*a, slabs[i], i);
		EXPECT_EQ(a->free(slabs[i].slab_id), 0u);
	}
	check_pattern(*a, slabs[0], 0);
	ASSERT_TRUE(ctl->call(Op::kMemResize, MemResize{8 * kMiB}).ok());
	EXPECT_EQ(srv.info().free, 4 * kMiB);	// only slab 0 is held
	EXPECT_TRUE(a->evictions().empty());
}

// A client that answers ENOENT keeps its slabs and its data; memd goes on.
TEST(MemdTcp, EvictionRefusedKeepsTheData)
{
	TcpServer srv;
	auto c = srv.open(0xe2);
	ASSERT_TRUE(c);
	std::vector<MemSlab> slabs;
	for (std::uint64_t t = 0; t < 2; t++) {
		std::uint32_t st = 0;
		auto s = c->alloc(4 * kMiB, t, st);
		ASSERT_TRUE(s) << st;
		write_pattern(*c, *s, static_cast<unsigned>(t) + 5);
		slabs.push_back(*s);
	}
	std::vector<std::uint64_t> refused;
	c->evict_answer = [&](std::uint64_t id) -> std::uint32_t {
		refused.push_back(id);
		return ENOENT;
	};
	auto ctl = srv.open(0, Role::kCtl);
	ASSERT_TRUE(ctl);
	ASSERT_TRUE(ctl->call(Op::kMemResize, MemResize{4 * kMiB}).ok());
	const auto deadline = std::chrono::steady_clock::now() + 5s;
	while (refused.size() < 2 && std::chrono::steady_clock::now() < deadline) {
		ASSERT_TRUE(c->call(Op::kHeartbeat).ok());	// takes the requests in
		std::this_thread::sleep_for(20ms);
	}
	// Both slabs asked for (the second in place of the first), both kept.
	EXPECT_EQ(refused, (std::vector<std::uint64_t>{slabs[1].slab_id, slabs[0].slab_id}));
	EXPECT_TRUE(c->evictions().empty());
	for (unsigned i = 0; i < 2; i++)
		check_pattern(*c, slabs[i], i + 5);
	EXPECT_EQ(srv.info().free, 0u);
	std::string err;
	std::optional<std::string> js = ctl->status(err);
	ASSERT_TRUE(js) << err;
	EXPECT_NE(js->find("\"evicting\":2,"), std::string::npos) << *js;
	EXPECT_NE(js->find("\"capacity\":" + std::to_string(4 * kMiB)), std::string::npos);
	EXPECT_NE(js->find("\"used\":" + std::to_string(8 * kMiB)), std::string::npos);
}

TEST(MemdTcp, IsolationBetweenClients)
{
	TcpServer srv;
	auto a = srv.open(1);
	auto b = srv.open(2);
	ASSERT_TRUE(a && b);
	std::uint32_t st = 0;
	auto s = a->alloc(4 * kMiB, 0, st);
	ASSERT_TRUE(s);
	write_pattern(*a, *s, 1);
	std::span<std::byte> buf = b->data_buffer();
	Io io{0, buf.first(kPageSize)};
	EXPECT_EQ(b->read(*s, {&io, 1}), ENOENT);
	EXPECT_EQ(b->write(*s, {&io, 1}), ENOENT);
	EXPECT_EQ(b->free(s->slab_id), static_cast<std::uint32_t>(ENOENT));
	Io past{s->size, a->data_buffer().first(kPageSize)};
	EXPECT_EQ(a->read(*s, {&past, 1}), EINVAL);
	check_pattern(*a, *s, 1);
}

TEST(MemdTcp, StatusJson)
{
	TcpServer srv;
	auto a = srv.open(0x77);
	std::uint32_t st = 0;
	ASSERT_TRUE(a->alloc(kMiB, 5, st));
	auto ctl = srv.open(0, Role::kCtl);
	std::string err;
	auto j = ctl->status(err);
	ASSERT_TRUE(j) << err;
	EXPECT_NE(j->find("\"transport\":\"tcp\""), std::string::npos) << *j;
	EXPECT_NE(j->find("\"client_id\":\"0000000000000077\""), std::string::npos) << *j;
	EXPECT_NE(j->find("\"bytes\":1048576"), std::string::npos) << *j;
}

// ---- raw sockets

int raw_connect(std::uint16_t port)
{
	int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	sockaddr_in a{};
	a.sin_family = AF_INET;
	a.sin_port = htons(port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr *>(&a), sizeof(a)), 0);
	timeval tv{5, 0};
	::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

// Read until EOF (true) or timeout/error (false); returns bytes read.
bool read_to_eof(int fd, Bytes &got)
{
	std::byte buf[4096];
	for (;;) {
		ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
		if (n == 0)
			return true;
		if (n < 0)
			return false;
		got.insert(got.end(), buf, buf + n);
	}
}

TEST(MemdTcpHostile, StreamsThatLoseFramingAreClosed)
{
	TcpServer srv;
	auto alive = srv.open(1);
	ASSERT_TRUE(alive);
	std::vector<Bytes> bad = {
		// length far beyond the maximum: closed before any allocation
		[] {
			Bytes f = request(Op::kMemInfo, 1);
			f[8] = f[9] = f[10] = f[11] = std::byte{0xff};
			return f;
		}(),
		Bytes(64, std::byte{0x41}),	// garbage
		[] {	// bad magic
			Bytes f = request(Op::kMemInfo, 1);
			f[1] = std::byte{0};
			return f;
		}(),
	};
	for (const Bytes &f : bad) {
		int fd = raw_connect(srv.port());
		ASSERT_EQ(::send(fd, f.data(), f.size(), MSG_NOSIGNAL), static_cast<ssize_t>(f.size()));
		Bytes got;
		EXPECT_TRUE(read_to_eof(fd, got));
		EXPECT_TRUE(got.empty());
		::close(fd);
	}
	// Wrong major: an EPROTONOSUPPORT reply, then EOF.
	{
		int fd = raw_connect(srv.port());
		Bytes f = request(Op::kHello, 9, hello_body(3));
		f[4] = std::byte{kMajor + 1};
		ASSERT_EQ(::send(fd, f.data(), f.size(), MSG_NOSIGNAL), static_cast<ssize_t>(f.size()));
		Bytes got;
		EXPECT_TRUE(read_to_eof(fd, got));
		ASSERT_EQ(got.size(), kHdrSize);
		Result<Hdr> h = decode_hdr(got);
		ASSERT_TRUE(h.ok());
		EXPECT_EQ(h->status, static_cast<std::uint32_t>(EPROTONOSUPPORT));
		EXPECT_EQ(h->req_id, 9u);
		::close(fd);
	}
	// Half a frame, then the peer vanishes; and a header promising a
	// megabyte that never comes, then vanishes.
	{
		int fd = raw_connect(srv.port());
		Bytes f = request(Op::kHello, 9, hello_body(3));
		::send(fd, f.data(), 30, MSG_NOSIGNAL);
		::close(fd);
		fd = raw_connect(srv.port());
		Bytes g = request(Op::kMemInfo, 1);
		g[8] = std::byte{0};
		g[9] = std::byte{0};
		g[10] = std::byte{0x10};	// length 1 MiB
		::send(fd, g.data(), g.size(), MSG_NOSIGNAL);
		::close(fd);
	}
	// The node still serves the well-behaved client.
	std::string err;
	EXPECT_TRUE(alive->info(err)) << err;
	std::uint32_t st = 0;
	EXPECT_TRUE(alive->alloc(kMiB, 0, st));
}

TEST(MemdTcpHostile, PipelinedRequestsAllAnswered)
{
	TcpServer srv;
	int fd = raw_connect(srv.port());
	Bytes all = request(Op::kHello, 1, hello_body(5));
	for (std::uint64_t i = 0; i < 2000; i++) {
		Bytes f = request(Op::kHeartbeat, 100 + i);
		all.insert(all.end(), f.begin(), f.end());
	}
	std::thread writer([&] { ::send(fd, all.data(), all.size(), MSG_NOSIGNAL); });
	std::size_t replies = 0;
	Bytes buf;
	std::byte chunk[65536];
	while (replies < 2001) {
		ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
		if (n <= 0)
			break;
		buf.insert(buf.end(), chunk, chunk + n);
		std::size_t off = 0;
		while (buf.size() - off >= kHdrSize) {
			Result<Frame> f = decode_frame(ByteSpan(buf).subspan(off));
			if (!f)
				break;
			replies++;
			off += f->wire_size();
		}
		buf.erase(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(off));
	}
	writer.join();
	EXPECT_EQ(replies, 2001u);
	::close(fd);
}

TEST(MemdTcpHostile, ConnectionsAreBounded)
{
	TcpServer srv(2, /*max_clients=*/2);
	auto a = srv.open(1);
	auto b = srv.open(2);
	ASSERT_TRUE(a && b);
	std::string err;
	auto c = Conn::open(srv.opts(3), err);
	EXPECT_FALSE(c);
	b.reset();
	// A slot frees up once the node has seen b go.
	std::unique_ptr<Conn> d;
	for (int i = 0; i < 50 && !d; i++) {
		std::this_thread::sleep_for(20ms);
		d = Conn::open(srv.opts(4), err);
	}
	EXPECT_TRUE(d) << err;
}

// ---- the binary


TEST(MemdBinary, BadArgumentsExit2)
{
	const std::vector<std::vector<std::string>> bad = {
		{},
		{"--capacity", "12x"},
		{"--capacity", "1G", "--transport", "ib"},
		{"--capacity", "1G", "--slab-size", "1000"},
		{"--capacity", "1G", "--grace", "x"},
		{"--capacity", "1G", "--listen", "1.2.3.4:70000"},
		{"--capacity", "1G", "--log-level", "chatty"},
		{"--frobnicate"},
	};
	for (const auto &args : bad) {
		Child c = spawn(args);
		EXPECT_EQ(c.wait_exit(), 2) << testing::PrintToString(args);
		EXPECT_NE(c.stderr_text.find("disagg-memd: "), std::string::npos) << c.stderr_text;
	}
	Child h = spawn({"--help"});
	EXPECT_EQ(h.wait_exit(), 0);
}

TEST(MemdBinary, SigtermSaysByeFreesAndExits0)
{
	Child d = spawn({"--transport", "tcp", "--listen", "127.0.0.1:0", "--capacity", "32M",
			 "--slab-size", "4M", "--grace", "60"});
	std::string port = d.wait_for(std::regex("listening on 127\\.0\\.0\\.1:([0-9]+)"));
	ASSERT_FALSE(port.empty()) << d.stderr_text;
	client::Options o;
	o.rdma = false;
	o.port = static_cast<std::uint16_t>(std::stoi(port));
	o.client_id = 0x51;
	std::string err;
	auto c = Conn::open(o, err);
	ASSERT_TRUE(c) << err;
	std::uint32_t st = 0;
	ASSERT_TRUE(c->alloc(4 * kMiB, 0, st));
	ASSERT_TRUE(c->alloc(4 * kMiB, 1, st));
	ASSERT_EQ(::kill(d.pid, SIGTERM), 0);
	int e = 0;
	Bytes f = c->recv_frame(5000, e);
	EXPECT_TRUE(c->got_bye()) << "no BYE from the daemon";
	EXPECT_EQ(d.wait_exit(), 0) << d.stderr_text;
	EXPECT_NE(d.stderr_text.find("freed 2 slabs (8 MiB); exiting"), std::string::npos)
		<< d.stderr_text;
	EXPECT_EQ(d.stderr_text.find(": error: "), std::string::npos) << d.stderr_text;
	// Started without --keys: said so loudly.
	EXPECT_NE(d.stderr_text.find("WARNING: started without --keys"), std::string::npos)
		<< d.stderr_text;
}

// A key file in a fresh directory, removed at the end.
class KeyDir {
public:
	KeyDir()
	{
		char tmpl[] = "/tmp/dg-memd-keys.XXXXXX";
		dir_ = ::mkdtemp(tmpl);
		path = dir_ + "/keys";
	}
	~KeyDir()
	{
		::unlink(path.c_str());
		::rmdir(dir_.c_str());
	}
	void write(const std::string &text, mode_t mode = 0600)
	{
		const std::string tmp = path + ".new";
		{
			std::ofstream f(tmp);
			f << text;
		}
		ASSERT_EQ(::chmod(tmp.c_str(), mode), 0);
		ASSERT_EQ(::rename(tmp.c_str(), path.c_str()), 0);
	}
	std::string path;

private:
	std::string dir_;
};

TEST(MemdBinary, RefusesAKeyFileOthersCanRead)
{
	KeyDir k;
	k.write(disagg::test::kTestKeys, 0644);
	Child d = spawn({"--transport", "tcp", "--listen", "127.0.0.1:0", "--capacity", "32M",
			 "--slab-size", "4M", "--keys", k.path});
	EXPECT_EQ(d.wait_exit(), 1);
	EXPECT_NE(d.stderr_text.find("too open"), std::string::npos) << d.stderr_text;
	Child e = spawn({"--transport", "tcp", "--listen", "127.0.0.1:0", "--capacity", "32M",
			 "--slab-size", "4M", "--keys", k.path + ".missing"});
	EXPECT_EQ(e.wait_exit(), 1);
	EXPECT_NE(e.stderr_text.find("--keys: "), std::string::npos) << e.stderr_text;
}

TEST(MemdBinary, AuthenticatesAndReloadsKeysOnSighup)
{
	KeyDir k;
	k.write(disagg::test::kTestKeys);
	Child d = spawn({"--transport", "tcp", "--listen", "127.0.0.1:0", "--capacity", "32M",
			 "--slab-size", "4M", "--keys", k.path});
	std::string port = d.wait_for(std::regex("listening on 127\\.0\\.0\\.1:([0-9]+)"));
	ASSERT_FALSE(port.empty()) << d.stderr_text;
	EXPECT_EQ(d.stderr_text.find("WARNING"), std::string::npos) << d.stderr_text;
	auto opts = [&](const std::string &identity, const std::string &secret) {
		client::Options o;
		o.rdma = false;
		o.port = static_cast<std::uint16_t>(std::stoi(port));
		o.client_id = 0x77;
		o.identity = identity;
		o.secret = secret;
		o.timeout_ms = 5000;
		return o;
	};
	auto status_of = [&](const std::string &identity, const std::string &secret) {
		std::string err;
		std::uint32_t st = 0;
		auto c = Conn::connect(opts(identity, secret), err);
		if (!c)
			return std::uint32_t{ENOTCONN};
		c->hello(err, st);
		return st;
	};
	using disagg::test::test_secret;
	EXPECT_EQ(status_of("client", test_secret("client")), 0u);
	EXPECT_EQ(status_of("client", test_secret("other")), static_cast<std::uint32_t>(EKEYREJECTED));
	EXPECT_EQ(status_of("nobody", test_secret("client")), static_cast<std::uint32_t>(EKEYREJECTED));
	EXPECT_EQ(status_of("", ""), static_cast<std::uint32_t>(EACCES));	// no key at all
	{
		std::string err;
		auto c = Conn::open(opts("client", test_secret("client")), err);
		ASSERT_TRUE(c) << err;
		std::uint32_t st = 0;
		EXPECT_TRUE(c->alloc(4 * kMiB, 0, st)) << st;
		c->bye();
	}

	k.write("new 0123456789abcdef0123456789abcdef\n");
	ASSERT_EQ(::kill(d.pid, SIGHUP), 0);
	EXPECT_FALSE(d.wait_for(std::regex("reloaded 1 keys")).empty()) << d.stderr_text;
	EXPECT_EQ(status_of("new", "0123456789abcdef0123456789abcdef"), 0u);
	EXPECT_EQ(status_of("client", test_secret("client")),
		  static_cast<std::uint32_t>(EKEYREJECTED));

	k.write(disagg::test::kTestKeys, 0640);	// refused: the old keys stay
	ASSERT_EQ(::kill(d.pid, SIGHUP), 0);
	EXPECT_FALSE(d.wait_for(std::regex("cannot reload keys")).empty()) << d.stderr_text;
	EXPECT_EQ(status_of("new", "0123456789abcdef0123456789abcdef"), 0u);
	EXPECT_EQ(status_of("client", test_secret("client")),
		  static_cast<std::uint32_t>(EKEYREJECTED));
	EXPECT_NE(d.stderr_text.find("authentication failed for identity \"nobody\""),
		  std::string::npos) << d.stderr_text;
	EXPECT_EQ(d.stderr_text.find(test_secret("client")), std::string::npos);

	ASSERT_EQ(::kill(d.pid, SIGTERM), 0);
	EXPECT_EQ(d.wait_exit(), 0) << d.stderr_text;
}

}  // namespace
}  // namespace disagg::memd::test
