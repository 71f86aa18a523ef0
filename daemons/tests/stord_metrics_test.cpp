// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// disagg-stord's --metrics: the daemon over TCP on 127.0.0.1 with its
// endpoint on an ephemeral port, scraped with a plain socket after a known
// set of requests.
#include "http_get.hpp"
#include "memclient.hpp"
#include "server.hpp"
#include "stord_test_util.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace disagg::stord::test {
namespace {

using disagg::test::http_get;
using disagg::test::HttpAnswer;
using disagg::test::samples;

TEST(StordMetrics, ScrapeAfterKnownRequests)
{
	log::set_level(log::Level::kError);
	TempTree tree;
	Config cfg;
	cfg.listen_host = "127.0.0.1";
	cfg.listen_port = 0;
	cfg.root = tree.root;
	cfg.threads = 2;
	cfg.fd_cache = 16;
	cfg.exp.squash = Squash::kNone;	// the test acts as root
	cfg.metrics_host = "127.0.0.1";
	cfg.metrics_port = 0;
	Server server(cfg);
	std::string err;
	ASSERT_TRUE(server.start(err)) << err;
	std::thread thread([&server] { server.run(); });

	client::Options o;
	o.rdma = false;
	o.host = "127.0.0.1";
	o.port = server.port();
	o.role = Role::kFs;
	o.timeout_ms = 5000;
	o.max_frame = kFsMsgMax;
	auto c = client::Conn::open(o, err);
	ASSERT_TRUE(c) << err;
	EXPECT_EQ(c->call(Op::kFsCreate, req("f")).status, 0u);
	Bytes data(4096, std::byte{0x5a});
	FsReq w = req("f");
	w.data = data;
	for (int i = 0; i < 3; i++)
		EXPECT_EQ(c->call(Op::kFsWrite, w).status, 0u);
	FsReq r = req("f");
	r.count = 4096;
	EXPECT_EQ(c->call(Op::kFsRead, r).status, 0u);
	EXPECT_EQ(c->call(Op::kFsGetattr, req("missing")).status, unsigned{ENOENT});
	EXPECT_EQ(c->call(Op::kFsGetattr, req("/etc/passwd")).status, unsigned{EINVAL});
	EXPECT_EQ(c->call(Op::kFsGetattr, req("f")).status, 0u);

	const std::uint16_t port = server.metrics_port();
	HttpAnswer h = http_get(port, "/metrics");
	ASSERT_EQ(h.code, 200) << h.headers;
	auto s = samples(h.body);
	EXPECT_EQ(s["disagg_stord_clients"], "1");
	EXPECT_EQ(s["disagg_stord_threads"], "2");
	EXPECT_EQ(s["disagg_stord_fd_cache_capacity"], "16");
	EXPECT_EQ(s["disagg_stord_fd_cache_size"], "1");
	// The first WRITE opens f; the others and the READ find it open.
	EXPECT_EQ(s["disagg_stord_fd_cache_misses_total"], "1");
	EXPECT_EQ(s["disagg_stord_fd_cache_hits_total"], "3");
	EXPECT_EQ(s["disagg_stord_busy_replies_total"], "0");
	EXPECT_EQ(s["disagg_stord_requests_total{op=\"hello\"}"], "1");
	EXPECT_EQ(s["disagg_stord_requests_total{op=\"fs_create\"}"], "1");
	EXPECT_EQ(s["disagg_stord_requests_total{op=\"fs_write\"}"], "3");
	EXPECT_EQ(s["disagg_stord_requests_total{op=\"fs_read\"}"], "1");
	EXPECT_EQ(s["disagg_stord_requests_total{op=\"fs_getattr\"}"], "3");
	EXPECT_EQ(s["disagg_stord_request_errors_total{op=\"fs_getattr\"}"], "2");
	EXPECT_EQ(s["disagg_stord_request_errors_total{op=\"fs_write\"}"], "0");
	EXPECT_EQ(s["disagg_stord_request_duration_seconds_count{op=\"fs_write\"}"], "3");
	EXPECT_EQ(s["disagg_stord_request_duration_seconds_bucket{op=\"fs_write\",le=\"+Inf\"}"],
		  "3");
	EXPECT_TRUE(h.body.ends_with("# EOF\n"));

	c->bye();
	c.reset();
	server.request_stop();
	thread.join();
	// Stopped with the daemon.
	EXPECT_EQ(server.metrics_port(), 0);
	EXPECT_EQ(http_get(port, "/metrics").code, 0);
}

}  // namespace
}  // namespace disagg::stord::test
