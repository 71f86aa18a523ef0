// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// disagg-memd's --metrics: the counters and histograms by themselves
// (RequestMetrics, on a fake clock), then the daemon over TCP on
// 127.0.0.1 with its endpoint on an ephemeral port, scraped with a plain
// socket after a known set of requests.
#include "http_get.hpp"
#include "memclient.hpp"
#include "memd_test_util.hpp"
#include "metrics.hpp"
#include "metrics_http.hpp"
#include "server.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace disagg::memd::test {
namespace {

using namespace std::chrono_literals;
using disagg::test::HttpAnswer;
using disagg::test::http_get;
using disagg::test::samples;

TEST(RequestMetrics, CountsAndBuckets)
{
	RequestMetrics m;
	const TimePoint t0{};
	m.started(1, 10, DG_OP_MEM_ALLOC, t0);
	m.started(1, 11, DG_OP_MEM_ALLOC, t0);
	m.started(2, 10, DG_OP_MEM_FREE, t0);
	m.started(2, 12, DG_OP_MEM_FREE, t0);
	m.answered(1, 10, DG_OP_MEM_ALLOC | proto::kReplyBit, 0, t0 + 80us);	// le 0.0001
	m.answered(1, 11, DG_OP_MEM_ALLOC, ENOSPC, t0 + 3ms);			// le 0.005
	m.answered(2, 10, DG_OP_MEM_FREE, 0, t0 + 10s);				// +Inf only
	m.forget(2);	// 12 never answered: nothing counts
	m.answered(3, 99, 0x7777, EOPNOTSUPP, t0);	// never seen to start: latency 0
	MetricsText t("x_");
	m.write(t);
	const std::string text = t.finish();
	auto s = samples(text);
	EXPECT_EQ(s["x_requests_total{op=\"mem_alloc\"}"], "2");
	EXPECT_EQ(s["x_request_errors_total{op=\"mem_alloc\"}"], "1");
	EXPECT_EQ(s["x_requests_total{op=\"mem_free\"}"], "1");
	EXPECT_EQ(s["x_request_errors_total{op=\"mem_free\"}"], "0");
	EXPECT_EQ(s["x_requests_total{op=\"unknown\"}"], "1");
	EXPECT_EQ(s["x_request_duration_seconds_bucket{op=\"mem_alloc\",le=\"5e-05\"}"], "0");
	EXPECT_EQ(s["x_request_duration_seconds_bucket{op=\"mem_alloc\",le=\"0.0001\"}"], "1");
	EXPECT_EQ(s["x_request_duration_seconds_bucket{op=\"mem_alloc\",le=\"0.0025\"}"], "1");
	EXPECT_EQ(s["x_request_duration_seconds_bucket{op=\"mem_alloc\",le=\"0.005\"}"], "2");
	EXPECT_EQ(s["x_request_duration_seconds_bucket{op=\"mem_alloc\",le=\"+Inf\"}"], "2");
	EXPECT_EQ(s["x_request_duration_seconds_count{op=\"mem_alloc\"}"], "2");
	EXPECT_EQ(s["x_request_duration_seconds_sum{op=\"mem_alloc\"}"], "0.00308");
	EXPECT_EQ(s["x_request_duration_seconds_bucket{op=\"mem_free\",le=\"2.5\"}"], "0");
	EXPECT_EQ(s["x_request_duration_seconds_bucket{op=\"mem_free\",le=\"+Inf\"}"], "1");
	EXPECT_EQ(s["x_request_duration_seconds_sum{op=\"mem_free\"}"], "10");
	EXPECT_EQ(s["x_request_duration_seconds_bucket{op=\"unknown\",le=\"5e-05\"}"], "1");
	EXPECT_NE(text.find("# TYPE x_request_duration_seconds histogram\n"
			    "# UNIT x_request_duration_seconds seconds\n"),
		  std::string::npos)
		<< text;
	EXPECT_TRUE(text.ends_with("\n# EOF\n")) << text;
}

class MetricsServerTest : public ::testing::Test {
protected:
	void SetUp() override
	{
		log::set_level(log::Level::kError);
		Config c;
		c.listen_host = "127.0.0.1";
		c.listen_port = 0;
		c.transport = TransportKind::kTcp;
		c.capacity = 64 * kMiB;
		c.slab_size = 4 * kMiB;
		c.metrics_host = "127.0.0.1";
		c.metrics_port = 0;
		server = std::make_unique<Server>(c);
		std::string err;
		ASSERT_TRUE(server->start(err)) << err;
		ASSERT_NE(server->metrics_port(), 0);
		thread = std::thread([this] { server->run(); });
	}
	void TearDown() override
	{
		server->request_stop();
		thread.join();
	}
	std::unique_ptr<client::Conn> open(std::uint64_t id)
	{
		client::Options o;
		o.rdma = false;
		o.host = "127.0.0.1";
		o.port = server->port();
		o.client_id = id;
		o.role = Role::kSwap;
		o.timeout_ms = 5000;
		std::string err;
		auto c = client::Conn::open(o, err);
		EXPECT_TRUE(c) << err;
		return c;
	}

	std::unique_ptr<Server> server;
	std::thread thread;
};

TEST_F(MetricsServerTest, ScrapeAfterKnownRequests)
{
	auto c = open(7);
	ASSERT_TRUE(c);
	std::string err;
	ASSERT_TRUE(c->info(err)) << err;
	std::uint32_t st = 0;
	auto a = c->alloc(4 * kMiB, 1, st);
	ASSERT_TRUE(a) << c->error() << " " << st;
	auto b = c->alloc(4 * kMiB, 2, st);
	ASSERT_TRUE(b) << c->error() << " " << st;
	EXPECT_FALSE(c->alloc(8 * kMiB, 3, st));	// over --slab-size: EINVAL
	EXPECT_EQ(c->free(a->slab_id), 0u);
	EXPECT_EQ(c->free(12345), unsigned{ENOENT});

	HttpAnswer h = http_get(server->metrics_port(), "/metrics");
	ASSERT_EQ(h.code, 200) << h.headers;
	EXPECT_NE(h.headers.find("Content-Type: application/openmetrics-text; version=1.0.0"),
		  std::string::npos)
		<< h.headers;
	auto s = samples(h.body);
	EXPECT_EQ(s["disagg_memd_capacity_bytes"], "67108864");
	EXPECT_EQ(s["disagg_memd_used_bytes"], std::to_string(4 * kMiB));
	EXPECT_EQ(s["disagg_memd_free_bytes"], std::to_string(60 * kMiB));
	EXPECT_EQ(s["disagg_memd_slabs"], "1");
	EXPECT_EQ(s["disagg_memd_clients"], "1");
	EXPECT_EQ(s["disagg_memd_connections"], "1");
	EXPECT_EQ(s["disagg_memd_requests_total{op=\"hello\"}"], "1");
	EXPECT_EQ(s["disagg_memd_requests_total{op=\"mem_info\"}"], "1");
	EXPECT_EQ(s["disagg_memd_requests_total{op=\"mem_alloc\"}"], "3");
	EXPECT_EQ(s["disagg_memd_request_errors_total{op=\"mem_alloc\"}"], "1");
	EXPECT_EQ(s["disagg_memd_requests_total{op=\"mem_free\"}"], "2");
	EXPECT_EQ(s["disagg_memd_request_errors_total{op=\"mem_free\"}"], "1");
	EXPECT_EQ(s["disagg_memd_request_errors_total{op=\"hello\"}"], "0");
	EXPECT_EQ(s["disagg_memd_request_duration_seconds_count{op=\"mem_alloc\"}"], "3");
	EXPECT_EQ(s["disagg_memd_request_duration_seconds_bucket{op=\"mem_alloc\",le=\"+Inf\"}"],
		  "3");
	EXPECT_FALSE(s.contains("disagg_memd_requests_total{op=\"mem_read\"}"));
	EXPECT_TRUE(h.body.ends_with("# EOF\n"));

	// Another client comes and goes; the counts move by exactly that.
	auto d = open(8);
	ASSERT_TRUE(d);
	d->bye();
	d.reset();
	c->bye();
	c.reset();
	bool gone = false;
	for (int i = 0; i < 250 && !gone; i++) {
		s = samples(http_get(server->metrics_port(), "/metrics").body);
		gone = s["disagg_memd_connections"] == "0";
		if (!gone)
			std::this_thread::sleep_for(20ms);
	}
	ASSERT_TRUE(gone);
	EXPECT_EQ(s["disagg_memd_requests_total{op=\"hello\"}"], "2");
	EXPECT_EQ(s["disagg_memd_clients"], "0");
	// c said BYE: its slab is freed at once.
	EXPECT_EQ(s["disagg_memd_used_bytes"], "0");
	EXPECT_EQ(s["disagg_memd_slabs"], "0");

	EXPECT_EQ(http_get(server->metrics_port(), "/").code, 404);
	EXPECT_EQ(http_get(server->metrics_port(), "/metrics", "POST").code, 405);
	HttpAnswer head = http_get(server->metrics_port(), "/metrics", "HEAD");
	EXPECT_EQ(head.code, 200);
	EXPECT_EQ(head.body, "");
}

TEST(MetricsServer, BadAddressAndBusyLoop)
{
	MetricsServer bad([] { return std::optional<std::string>("x"); });
	std::string err;
	EXPECT_FALSE(bad.start("no-such-host.invalid", 0, err));
	EXPECT_NE(err.find("--metrics"), std::string::npos) << err;
	// A render that has nothing (the loop not running) answers 503.
	MetricsServer busy([] { return std::optional<std::string>(); });
	ASSERT_TRUE(busy.start("127.0.0.1", 0, err)) << err;
	EXPECT_EQ(http_get(busy.port(), "/metrics").code, 503);
}

}  // namespace
}  // namespace disagg::memd::test
