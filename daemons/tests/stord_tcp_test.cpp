// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// disagg-stord over real TCP on 127.0.0.1: the server in-process with the
// client library, hostile frames on the socket, and the binaries
// (disagg-stord, dg-fsclient) end to end.
#include "memclient.hpp"
#include "server.hpp"
#include "stord_test_util.hpp"

#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cerrno>
#include <cstdio>
#include <thread>

namespace disagg::stord::test {
namespace {

using namespace std::chrono_literals;

class StordTcp : public ::testing::Test {
protected:
	void SetUp() override
	{
		log::set_level(log::Level::kError);
		Config cfg;
		cfg.listen_host = "127.0.0.1";
		cfg.listen_port = 0;
		cfg.root = tree.root;
		cfg.threads = 3;
		cfg.exp.squash = Squash::kNone;	// the tests act as root
		server = std::make_unique<Server>(cfg);
		std::string err;
		ASSERT_TRUE(server->start(err)) << err;
		thread = std::thread([this] { server->run(); });
	}
	void TearDown() override
	{
		server->request_stop();
		thread.join();
		server.reset();
		tree.expect_outside_untouched();
	}
	client::Options opts(Role role = Role::kFs)
	{
		client::Options o;
		o.rdma = false;
		o.host = "127.0.0.1";
		o.port = server->port();
		o.role = role;
		o.timeout_ms = 5000;
		o.max_frame = kFsMsgMax;
		return o;
	}
	std::unique_ptr<client::Conn> open(Role role = Role::kFs)
	{
		std::string err;
		auto c = client::Conn::open(opts(role), err);
		EXPECT_TRUE(c) << err;
		return c;
	}

	TempTree tree;
	std::unique_ptr<Server> server;
	std::thread thread;
};

TEST_F(StordTcp, FilesEndToEnd)
{
	auto c = open();
	ASSERT_TRUE(c);
	FsReq r = req("dir");
	r.mode = 0755;
	EXPECT_EQ(c->call(Op::kFsMkdir, r).status, 0u);
	EXPECT_EQ(c->call(Op::kFsCreate, req("dir/file")).status, 0u);
	Bytes data(kFsIoMax, std::byte{0x5a});
	r = req("dir/file");
	r.data = data;
	r.flags = DG_FS_WRITE_SYNC;
	client::Reply w = c->call(Op::kFsWrite, r);
	ASSERT_TRUE(w.ok()) << w.err << " " << w.status;
	r = req("dir/file");
	r.count = kFsIoMax;
	client::Reply rd = c->call(Op::kFsRead, r);
	ASSERT_TRUE(rd.ok());
	auto m = rd.message();
	ASSERT_TRUE(m.ok());
	EXPECT_TRUE(std::ranges::equal(std::get<Data>(m->body).bytes, data));
	r = req("dir");
	r.count = 4096;
	rd = c->call(Op::kFsReaddir, r);
	ASSERT_TRUE(rd.ok());
	m = rd.message();
	ASSERT_EQ(std::get<FsReaddir>(m->body).entries.size(), 1u);
	EXPECT_EQ(std::get<FsReaddir>(m->body).entries[0].name, "file");
	EXPECT_EQ(c->call(Op::kFsGetattr, req("../outside/secret")).status, unsigned{EINVAL});
	EXPECT_EQ(c->call(Op::kFsGetattr, req("/etc/passwd")).status, unsigned{EINVAL});
	ASSERT_EQ(::symlink("../outside/secret", tree.in_root("out").c_str()), 0);
	r = req("out");
	r.count = 10;
	EXPECT_EQ(c->call(Op::kFsRead, r).status, unsigned{EXDEV});
}

TEST_F(StordTcp, HostileFramesOnTheSocket)
{
	// A frame cut short, then the connection closed: nothing happens.
	{
		auto c = open();
		ASSERT_TRUE(c);
		Bytes f = request(Op::kFsGetattr, 1, req("x"));
		ASSERT_TRUE(c->send_raw(ByteSpan(f).first(f.size() - 1)));
	}
	// A length beyond any message: closed without a reply.
	{
		auto c = open();
		ASSERT_TRUE(c);
		Bytes f = request(Op::kFsGetattr, 1, req("x"));
		f[offsetof(dg_hdr, length) + 3] = std::byte{0x40};
		ASSERT_TRUE(c->send_raw(f));
		int err = 0;
		EXPECT_TRUE(c->recv_frame(2000, err).empty());
	}
	// Garbage instead of a header: closed.
	{
		auto c = open();
		ASSERT_TRUE(c);
		Bytes junk(64, std::byte{0xff});
		ASSERT_TRUE(c->send_raw(junk));
		int err = 0;
		EXPECT_TRUE(c->recv_frame(2000, err).empty());
	}
	// Lengths that overflow the payload: EINVAL, and the connection lives.
	auto c = open();
	ASSERT_TRUE(c);
	Bytes f = request(Op::kFsGetattr, 7, req("x"));
	for (int i = 0; i < 4; i++)
		f[kHdrSize + offsetof(dg_fs_req, name2_len) + i] = std::byte{0xff};
	ASSERT_TRUE(c->send_raw(f));
	int err = 0;
	Bytes reply = c->recv_frame(2000, err);
	ASSERT_FALSE(reply.empty());
	EXPECT_EQ(decode_hdr(reply)->status, unsigned{EINVAL});
	EXPECT_EQ(c->call(Op::kFsStatfs, req(".")).status, 0u);
	// Many clients at once.
	std::vector<std::thread> ts;
	std::atomic<int> ok{0};
	for (int i = 0; i < 8; i++)
		ts.emplace_back([&, i] {
			std::string e;
			auto x = client::Conn::open(opts(), e);
			if (!x)
				return;
			std::string name = "c" + std::to_string(i);
			bool good = x->call(Op::kFsCreate, req(name)).ok();
			for (int j = 0; j < 20 && good; j++)
				good = x->call(Op::kFsGetattr, req(name)).ok();
			ok += good;
		});
	for (auto &t : ts)
		t.join();
	EXPECT_EQ(ok.load(), 8);
}

// Run @cmd, return its exit status and output.
int run(const std::string &cmd, std::string &out)
{
	out.clear();
	FILE *p = ::popen((cmd + " 2>&1").c_str(), "r");
	if (!p)
		return -1;
	char buf[512];
	while (std::fgets(buf, sizeof(buf), p))
		out += buf;
	int st = ::pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

TEST_F(StordTcp, FsclientBinary)
{
	const std::string c = std::string(FSCLIENT_BINARY) + " --connect 127.0.0.1:" +
			      std::to_string(server->port()) + " ";
	std::string out;
	EXPECT_EQ(run(c + "create f --mode 600", out), 0) << out;
	EXPECT_EQ(run(c + "write f --data hello --expect 0", out), 0) << out;
	EXPECT_EQ(run(c + "read f --count 5", out), 0) << out;
	EXPECT_NE(out.find("\"hello\""), std::string::npos) << out;
	EXPECT_EQ(run(c + "getattr ../outside/secret --expect EINVAL", out), 0) << out;
	EXPECT_EQ(run(c + "getattr --path-hex 6600 --expect EINVAL", out), 0) << out;
	EXPECT_EQ(run(c + "getattr f --expect ENOENT", out), 1) << out;
	EXPECT_EQ(run(c + "status", out), 0) << out;
	EXPECT_NE(out.find("root"), std::string::npos) << out;
}

TEST(StordBinary, CommandLine)
{
	std::string out;
	EXPECT_EQ(run(std::string(STORD_BINARY) + " --help", out), 0);
	EXPECT_NE(out.find("--root DIR"), std::string::npos);
	EXPECT_EQ(run(std::string(STORD_BINARY), out), 2);
	EXPECT_EQ(run(std::string(STORD_BINARY) + " --root /nonexistent/dir", out), 2);
	EXPECT_NE(out.find("/nonexistent/dir"), std::string::npos) << out;
}

}  // namespace
}  // namespace disagg::stord::test
