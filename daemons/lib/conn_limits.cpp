// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "conn_limits.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

namespace disagg {

std::string sockaddr_host(const sockaddr *sa)
{
	char host[INET6_ADDRSTRLEN] = "?";
	if (sa->sa_family == AF_INET) {
		auto *in = reinterpret_cast<const sockaddr_in *>(sa);
		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
	} else if (sa->sa_family == AF_INET6) {
		auto *in6 = reinterpret_cast<const sockaddr_in6 *>(sa);
		// An IPv4 peer of a dual-stack socket counts as that IPv4 address.
		if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr))
			inet_ntop(AF_INET, &in6->sin6_addr.s6_addr[12], host, sizeof(host));
		else
			inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
	}
	return host;
}

}  // namespace disagg
