// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// The --metrics endpoint: GET /metrics answered with OpenMetrics text over
// HTTP/1.1, served by libmicrohttpd on a thread of its own. The text comes
// from @render, called on that thread (it hands the work to the event
// loop and waits, see ServerBase); nullopt makes the answer 503. Anything
// but GET or HEAD is 405, any other path 404.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

struct MHD_Daemon;

namespace disagg {

class MetricsServer {
public:
	using Render = std::function<std::optional<std::string>()>;

	explicit MetricsServer(Render render) : render_(std::move(render)) {}
	~MetricsServer();	// stops serving; waits for a scrape under way
	MetricsServer(const MetricsServer &) = delete;
	MetricsServer &operator=(const MetricsServer &) = delete;

	// Listen on @host (a name or a numeric address) and @port (0: any
	// free one). False and @err on failure.
	bool start(const std::string &host, std::uint16_t port, std::string &err);
	std::uint16_t port() const { return port_; }

	// The content type of the answers.
	static constexpr const char *kContentType =
		"application/openmetrics-text; version=1.0.0; charset=utf-8";

private:
	Render render_;
	MHD_Daemon *daemon_ = nullptr;
	std::uint16_t port_ = 0;

	friend struct MetricsHandler;
};

}  // namespace disagg
