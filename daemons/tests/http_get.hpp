// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// A scrape of a daemon's --metrics endpoint for tests: one HTTP/1.0
// request over a plain socket to 127.0.0.1, and the metric values of the
// answer by name (with labels, as written: 'x_total{op="read"}').
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <map>
#include <sstream>
#include <string>

namespace disagg::test {

struct HttpAnswer {
	int code = 0;		// 0: no answer
	std::string headers;	// the status line and headers
	std::string body;
};

inline HttpAnswer http_get(std::uint16_t port, const std::string &path,
			   const std::string &method = "GET")
{
	HttpAnswer a;
	const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return a;
	sockaddr_in sa{};
	sa.sin_family = AF_INET;
	sa.sin_port = htons(port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	timeval tv{5, 0};
	::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (::connect(fd, reinterpret_cast<sockaddr *>(&sa), sizeof(sa)) != 0) {
		::close(fd);
		return a;
	}
	const std::string req = method + " " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
	if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) {
		::close(fd);
		return a;
	}
	std::string all;
	char buf[4096];
	for (ssize_t n; (n = ::recv(fd, buf, sizeof(buf), 0)) > 0;)
		all.append(buf, static_cast<std::size_t>(n));
	::close(fd);
	const std::size_t end = all.find("\r\n\r\n");
	if (all.rfind("HTTP/1.", 0) != 0 || end == std::string::npos)
		return a;
	a.code = std::stoi(all.substr(9, 3));
	a.headers = all.substr(0, end);
	a.body = all.substr(end + 4);
	return a;
}

// Samples of OpenMetrics text: name{labels} -> value as written.
inline std::map<std::string, std::string> samples(const std::string &text)
{
	std::map<std::string, std::string> m;
	std::istringstream in(text);
	for (std::string line; std::getline(in, line);) {
		if (line.empty() || line[0] == '#')
			continue;
		const std::size_t sp = line.rfind(' ');
		m[line.substr(0, sp)] = line.substr(sp + 1);
	}
	return m;
}

}  // namespace disagg::test
