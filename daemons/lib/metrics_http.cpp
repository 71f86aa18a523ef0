// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "metrics_http.hpp"

#include <microhttpd.h>
#include <netdb.h>
#include <sys/socket.h>

#include <cstring>
#include <string_view>

namespace disagg {

struct MetricsHandler {
	static MHD_Result answer(void *cls, MHD_Connection *conn, const char *url,
				 const char *method, const char *version,
				 const char *upload_data, std::size_t *upload_data_size,
				 void **req_cls)
	{
		(void)version;
		(void)upload_data;
		auto *self = static_cast<MetricsServer *>(cls);
		// The first call is for the headers only; answer on the second,
		// once the (empty) body has been read.
		if (*req_cls == nullptr) {
			*req_cls = self;
			return MHD_YES;
		}
		if (*upload_data_size != 0) {
			*upload_data_size = 0;	// a body we do not want
			return MHD_YES;
		}
		const std::string_view m = method;
		if (m != MHD_HTTP_METHOD_GET && m != MHD_HTTP_METHOD_HEAD)
			return text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET\n", "text/plain");
		if (std::string_view(url) != "/metrics")
			return text(conn, MHD_HTTP_NOT_FOUND, "see /metrics\n", "text/plain");
		std::optional<std::string> body = self->render_();
		if (!body)
			return text(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "the daemon is busy\n",
				    "text/plain");
		return text(conn, MHD_HTTP_OK, *body, MetricsServer::kContentType);
	}

	static MHD_Result text(MHD_Connection *conn, unsigned code, std::string_view body,
			       const char *type)
	{
		MHD_Response *r = MHD_create_response_from_buffer(
			body.size(), const_cast<char *>(body.data()), MHD_RESPMEM_MUST_COPY);
		if (!r)
			return MHD_NO;
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
		if (code == MHD_HTTP_METHOD_NOT_ALLOWED)
			MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
		const MHD_Result ret = MHD_queue_response(conn, code, r);
		MHD_destroy_response(r);
		return ret;
	}
};

MetricsServer::~MetricsServer()
{
	if (daemon_)
		MHD_stop_daemon(daemon_);
}

bool MetricsServer::start(const std::string &host, std::uint16_t port, std::string &err)
{
	addrinfo hints{};
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	addrinfo *ai = nullptr;
	const std::string service = std::to_string(port);
	if (int e = getaddrinfo(host.c_str(), service.c_str(), &hints, &ai); e != 0) {
		err = "--metrics " + host + ": " + gai_strerror(e);
		return false;
	}
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL;
	if (ai->ai_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	sockaddr_storage sa{};
	std::memcpy(&sa, ai->ai_addr, ai->ai_addrlen);
	freeaddrinfo(ai);
	daemon_ = MHD_start_daemon(flags, port, nullptr, nullptr, &MetricsHandler::answer, this,
				   MHD_OPTION_SOCK_ADDR, reinterpret_cast<sockaddr *>(&sa),
				   // Scrapers are few; a slow or idle one is dropped.
				   MHD_OPTION_CONNECTION_LIMIT, 16u,
				   MHD_OPTION_PER_IP_CONNECTION_LIMIT, 4u,
				   MHD_OPTION_CONNECTION_TIMEOUT, 10u,
				   MHD_OPTION_CONNECTION_MEMORY_LIMIT, std::size_t{64 * 1024},
				   MHD_OPTION_END);
	if (!daemon_) {
		err = "--metrics: cannot listen on " + host + ":" + service + ": " +
		      std::strerror(errno);
		return false;
	}
	const MHD_DaemonInfo *info = MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_BIND_PORT);
	port_ = info ? info->port : port;
	return true;
}

}  // namespace disagg
