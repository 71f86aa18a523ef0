// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// What a daemon serves on --metrics: OpenMetrics text (the format
// Prometheus scrapes). MetricsText writes it; RequestMetrics counts a
// service's requests by opcode (answered, answered with an error) and
// their latency from arrival to answer as a histogram. Both are used on
// the event-loop thread only; metrics_http.hpp serves the text.
#pragma once

#include "clock.hpp"
#include "transport.hpp"

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>

namespace disagg {

// "mem_alloc", "fs_read", ... for a request opcode (reply bit ignored);
// "unknown" for one the protocol does not have.
const char *op_name(std::uint16_t opcode);

class MetricsText {
public:
	// @prefix starts every metric's name ("disagg_memd_").
	explicit MetricsText(std::string prefix) : prefix_(std::move(prefix)) {}

	// A family's TYPE, UNIT (when given) and HELP lines.
	void family(std::string_view name, std::string_view type, std::string_view help,
		    std::string_view unit = {});
	// One sample: @suffix ("_total", "_bucket", "") after the family's
	// name, @labels ("op=\"read\"") in braces when not empty.
	void sample(std::string_view name, std::string_view suffix, std::string_view labels,
		    std::string_view value);
	void sample(std::string_view name, std::string_view suffix, std::string_view labels,
		    std::uint64_t value);

	// A family of one sample.
	void gauge(std::string_view name, std::string_view help, std::uint64_t value,
		   std::string_view unit = {});
	void counter(std::string_view name, std::string_view help, std::uint64_t value);

	// The text, with the closing "# EOF".
	std::string finish();

private:
	std::string prefix_;
	std::string out_;
};

class RequestMetrics {
public:
	// Upper bounds of the latency histogram's buckets, in seconds (the
	// last, +Inf, is implied).
	static constexpr std::array<double, 12> kBuckets = {
		0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025,
		0.005,   0.01,   0.025,   0.1,    0.5,   2.5};

	// A request (not a reply) arrived on @c.
	void started(ConnId c, std::uint64_t req_id, std::uint16_t opcode, TimePoint now);
	// The answer to it went out with @status (0 or an errno). One that
	// was never seen to start (answered before it decoded) counts with a
	// latency of 0.
	void answered(ConnId c, std::uint64_t req_id, std::uint16_t opcode, std::uint32_t status,
		      TimePoint now);
	// @c closed: its unanswered requests are not waited for.
	void forget(ConnId c);

	// requests_total, request_errors_total and request_duration_seconds,
	// by op.
	void write(MetricsText &t) const;

	std::uint64_t requests(std::uint16_t opcode) const;
	std::uint64_t errors(std::uint16_t opcode) const;

private:
	struct PerOp {
		std::uint64_t requests = 0;
		std::uint64_t errors = 0;
		std::array<std::uint64_t, kBuckets.size()> buckets{};	// not cumulative
		double sum = 0;	// seconds
	};
	std::map<std::uint16_t, PerOp> ops_;	// by opcode, reply bit clear
	std::map<std::pair<ConnId, std::uint64_t>, TimePoint> pending_;	// arrivals
};

}  // namespace disagg
