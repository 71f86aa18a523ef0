// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "tcp_transport.hpp"

#include "log.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

namespace disagg {

using namespace proto;

struct TcpTransport::Conn {
	ConnId id = 0;
	int fd = -1;
	std::string peer;
	std::string addr;	// peer without the port: its per-address count
	// Received bytes in [rstart, rend) of rbuf.
	Bytes rbuf;
	std::size_t rstart = 0, rend = 0;
	bool read_stopped = false;	// framing error or closing: read no more
	std::deque<Bytes> out;
	std::size_t out_off = 0;	// sent bytes of out.front()
	std::size_t out_bytes = 0;
	bool closing = false;
	bool dead = false;		// destroy() scheduled
	std::chrono::steady_clock::time_point close_deadline{};
	std::uint32_t events = 0;	// registered with the loop
};

std::string sockaddr_str(const sockaddr *sa)
{
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;
	if (sa->sa_family == AF_INET) {
		auto *in = reinterpret_cast<const sockaddr_in *>(sa);
		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		port = ntohs(in->sin_port);
		return std::string(host) + ":" + std::to_string(port);
	}
	if (sa->sa_family == AF_INET6) {
		auto *in6 = reinterpret_cast<const sockaddr_in6 *>(sa);
		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		port = ntohs(in6->sin6_port);
		return "[" + std::string(host) + "]:" + std::to_string(port);
	}
	return "?";
}

bool resolve_listen(const std::string &host, std::uint16_t port, addrinfo **res,
		    std::string &err)
{
	addrinfo hints{};
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	const std::string service = std::to_string(port);
	if (int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, res); rc != 0) {
		err = "cannot resolve '" + host + "': " + ::gai_strerror(rc);
		return false;
	}
	return true;
}

TcpTransport::TcpTransport(EventLoop &loop, unsigned max_conns)
	: loop_(loop), max_conns_(max_conns)
{
}

TcpTransport::TcpTransport(EventLoop &loop, const TransportLimits &limits)
	: loop_(loop), max_conns_(limits.max_conns), per_addr_(limits.max_conns_per_addr)
{
}

TcpTransport::~TcpTransport()
{
	stop_listening();
	for (auto &[id, c] : conns_) {
		loop_.remove(c->fd);
		::close(c->fd);
	}
}

std::size_t TcpTransport::max_frame() const
{
	return kHdrSize + kMaxPayload;
}

bool TcpTransport::listen(const std::string &host, std::uint16_t port,
			  TransportEvents *events, std::string &err)
{
	events_ = events;
	addrinfo *res = nullptr;
	if (!resolve_listen(host, port, &res, err))
		return false;
	const std::string service = std::to_string(port);
	int fd = -1;
	for (addrinfo *ai = res; ai; ai = ai->ai_next) {
		fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0)
			continue;
		int one = 1;
		(void)::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (::bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && ::listen(fd, 128) == 0)
			break;
		err = "cannot listen on " + host + ":" + service + ": " + std::strerror(errno);
		::close(fd);
		fd = -1;
	}
	::freeaddrinfo(res);
	if (fd < 0) {
		if (err.empty())
			err = "cannot listen on " + host + ":" + service;
		return false;
	}
	sockaddr_storage ss{};
	socklen_t len = sizeof(ss);
	(void)::getsockname(fd, reinterpret_cast<sockaddr *>(&ss), &len);
	local_ = sockaddr_str(reinterpret_cast<sockaddr *>(&ss));
	port_ = ntohs(ss.ss_family == AF_INET6
			      ? reinterpret_cast<sockaddr_in6 *>(&ss)->sin6_port
			      : reinterpret_cast<sockaddr_in *>(&ss)->sin_port);
	// Made now: when accept4() runs out of descriptors, so would this.
	timer_fd_ = ::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (timer_fd_ < 0 ||
	    !loop_.add(timer_fd_, EPOLLIN, [this](std::uint32_t) { resume_accept(); }) ||
	    !loop_.add(fd, EPOLLIN, [this](std::uint32_t) { on_accept(); })) {
		if (timer_fd_ >= 0) {
			loop_.remove(timer_fd_);
			::close(timer_fd_);
			timer_fd_ = -1;
		}
		::close(fd);
		err = "event loop failure";
		return false;
	}
	lfd_ = fd;
	return true;
}

void TcpTransport::stop_listening()
{
	if (timer_fd_ >= 0) {
		loop_.remove(timer_fd_);
		::close(timer_fd_);
		timer_fd_ = -1;
	}
	accept_paused_ = false;
	if (lfd_ < 0)
		return;
	loop_.remove(lfd_);
	::close(lfd_);
	lfd_ = -1;
}

void TcpTransport::pause_accept(int err)
{
	backoff_ = backoff_.count() ? std::min(backoff_ * 2, kAcceptBackoffMax)
				    : kAcceptBackoffMin;
	DG_LOG_LIMITED(accept_log_, kWarn, "tcp: accept: %s; not accepting for %lld ms",
		       std::strerror(err), static_cast<long long>(backoff_.count()));
	itimerspec its{};
	its.it_value.tv_sec = backoff_.count() / 1000;
	its.it_value.tv_nsec = (backoff_.count() % 1000) * 1000000L;
	if (::timerfd_settime(timer_fd_, 0, &its, nullptr) != 0)
		return;	// cannot wait: try again at the next event
	accept_paused_ = true;
	loop_.modify(lfd_, 0);
}

void TcpTransport::resume_accept()
{
	std::uint64_t expirations;
	while (::read(timer_fd_, &expirations, sizeof(expirations)) > 0)
		;
	if (!accept_paused_ || lfd_ < 0)
		return;
	accept_paused_ = false;
	loop_.modify(lfd_, EPOLLIN);
	on_accept();
}

void TcpTransport::on_accept()
{
	for (int i = 0; i < 64 && !accept_paused_; i++) {
		sockaddr_storage ss{};
		socklen_t len = sizeof(ss);
		accept_calls_++;
		int fd = ::accept4(lfd_, reinterpret_cast<sockaddr *>(&ss), &len,
				   SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			const int err = errno;
			if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM)
				pause_accept(err);
			else if (err != EAGAIN && err != EWOULDBLOCK && err != EINTR &&
				 err != ECONNABORTED)
				LOG_WARN_RL("tcp: accept: %s", std::strerror(err));
			return;
		}
		backoff_ = std::chrono::milliseconds{0};
		const std::string peer = sockaddr_str(reinterpret_cast<sockaddr *>(&ss));
		if (conns_.size() >= max_conns_) {
			LOG_WARN_RL("tcp: %s refused: already %u connections", peer.c_str(),
				    max_conns_);
			::close(fd);
			continue;
		}
		std::string addr = sockaddr_host(reinterpret_cast<sockaddr *>(&ss));
		if (!per_addr_.acquire(addr)) {
			LOG_WARN_RL("tcp: %s refused: already %u connections from that address",
				    peer.c_str(), per_addr_.max());
			::close(fd);
			continue;
		}
		int one = 1;
		(void)::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		// A dead peer fails the connection within about half a minute:
		// keepalives when idle, a user timeout when data goes unacked
		// (memd's heartbeats make sure there is some).
		int idle = 20, intvl = 5, cnt = 3;
		unsigned user_ms = 30000;
		(void)::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
		(void)::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
		(void)::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
		(void)::setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
		(void)::setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_ms, sizeof(user_ms));
		auto c = std::make_unique<Conn>();
		c->id = next_id_++;
		c->fd = fd;
		c->peer = peer;
		c->addr = std::move(addr);
		c->events = EPOLLIN | EPOLLRDHUP;
		const ConnId id = c->id;
		if (!loop_.add(fd, c->events, [this, id](std::uint32_t ev) { on_event(id, ev); })) {
			per_addr_.release(c->addr);
			::close(fd);
			continue;
		}
		conns_[id] = std::move(c);
		events_->on_connect(id, peer);
	}
}

void TcpTransport::on_event(ConnId id, std::uint32_t ev)
{
	auto it = conns_.find(id);
	if (it == conns_.end() || it->second->dead)
		return;
	Conn &c = *it->second;
	if (ev & EPOLLERR) {
		destroy(id, "socket error");
		return;
	}
	if (ev & EPOLLOUT)
		flush(c);
	if (c.dead)
		return;
	if (ev & (EPOLLIN | EPOLLHUP | EPOLLRDHUP))
		pump(c);
}

bool TcpTransport::fill(Conn &c)
{
	if (c.rstart == c.rend)
		c.rstart = c.rend = 0;
	if (c.rbuf.size() - c.rend < kReadChunk / 4 && c.rstart > 0) {
		std::memmove(c.rbuf.data(), c.rbuf.data() + c.rstart, c.rend - c.rstart);
		c.rend -= c.rstart;
		c.rstart = 0;
	}
	if (c.rbuf.size() < c.rend + kReadChunk / 4)
		c.rbuf.resize(std::max<std::size_t>(c.rend + kReadChunk, kReadChunk));
	ssize_t n = ::recv(c.fd, c.rbuf.data() + c.rend, c.rbuf.size() - c.rend, 0);
	if (n > 0) {
		c.rend += static_cast<std::size_t>(n);
		return true;
	}
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
		errno = EAGAIN;
		return false;
	}
	errno = n == 0 ? 0 : errno;
	return false;
}

void TcpTransport::pump(Conn &c)
{
	// Reads per wake-up, so one busy client cannot starve the others;
	// what the last read brought is handled in a deferred round.
	bool more = false;
	for (int rounds = 0; rounds < 16; rounds++) {
		// Hand over every complete frame already buffered.
		while (!c.read_stopped && !c.dead && c.out_bytes < kOutHigh) {
			ByteSpan have(c.rbuf.data() + c.rstart, c.rend - c.rstart);
			if (have.size() < kHdrSize)
				break;
			Result<Hdr> h = decode_hdr(have);
			if (!h) {
				// Framing is lost: the handler sees the header,
				// answers if it can and closes.
				c.read_stopped = true;
				events_->on_message(c.id, have.first(kHdrSize));
				break;
			}
			const std::size_t need = kHdrSize + h->length;
			if (have.size() < need) {
				// Make room for the whole frame (bounded by
				// decode_hdr's length check).
				if (c.rbuf.size() - c.rstart < need) {
					std::memmove(c.rbuf.data(), c.rbuf.data() + c.rstart,
						     have.size());
					c.rend -= c.rstart;
					c.rstart = 0;
					c.rbuf.resize(need);
				}
				break;
			}
			c.rstart += need;
			events_->on_message(c.id, have.first(need));
		}
		if (c.dead || c.read_stopped || c.out_bytes >= kOutHigh)
			break;
		if (!fill(c)) {
			if (errno == EAGAIN)
				break;
			destroy(c.id, errno ? std::strerror(errno) : "closed by peer");
			return;
		}
		more = rounds == 15;
	}
	if (more)
		defer_pump(c.id);
	update_events(c);
}

void TcpTransport::defer_pump(ConnId id)
{
	loop_.defer([this, id] {
		auto it = conns_.find(id);
		if (it != conns_.end() && !it->second->dead)
			pump(*it->second);
	});
}

bool TcpTransport::send(ConnId id, Bytes frame)
{
	auto it = conns_.find(id);
	if (it == conns_.end() || it->second->dead || it->second->closing)
		return false;
	Conn &c = *it->second;
	c.out_bytes += frame.size();
	c.out.push_back(std::move(frame));
	if (c.out.size() == 1)
		flush(c);	// usually all of it goes out now
	if (!c.dead)
		update_events(c);
	return !c.dead;
}

void TcpTransport::flush(Conn &c)
{
	while (!c.out.empty()) {
		const Bytes &f = c.out.front();
		ssize_t n = ::send(c.fd, f.data() + c.out_off, f.size() - c.out_off,
				   MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				break;
			destroy(c.id, std::strerror(errno));
			return;
		}
		c.out_off += static_cast<std::size_t>(n);
		c.out_bytes -= static_cast<std::size_t>(n);
		if (c.out_off == f.size()) {
			c.out.pop_front();
			c.out_off = 0;
		}
	}
	if (c.closing && c.out.empty()) {
		destroy(c.id, nullptr);
		return;
	}
	// Reading was paused for a full queue: resume (buffered frames
	// first) once it has drained enough.
	if (!c.closing && !c.read_stopped && c.out_bytes < kOutLow &&
	    c.rend > c.rstart)
		defer_pump(c.id);
	update_events(c);
}

void TcpTransport::update_events(Conn &c)
{
	if (c.dead)
		return;
	std::uint32_t ev = EPOLLRDHUP;
	if (!c.read_stopped && !c.closing && c.out_bytes < kOutHigh)
		ev |= EPOLLIN;
	if (!c.out.empty())
		ev |= EPOLLOUT;
	if (ev != c.events) {
		c.events = ev;
		loop_.modify(c.fd, ev);
	}
}

void TcpTransport::close(ConnId id)
{
	auto it = conns_.find(id);
	if (it == conns_.end() || it->second->dead || it->second->closing)
		return;
	Conn &c = *it->second;
	c.closing = true;
	c.close_deadline = std::chrono::steady_clock::now() + kCloseTimeout;
	if (c.out.empty()) {
		destroy(id, nullptr);
		return;
	}
	update_events(c);
}

void TcpTransport::tick()
{
	// Give up on peers that do not take their last frames.
	const auto now = std::chrono::steady_clock::now();
	std::vector<ConnId> late;
	for (auto &[id, c] : conns_)
		if (c->closing && !c->dead && now >= c->close_deadline)
			late.push_back(id);
	for (ConnId id : late)
		destroy(id, "close timed out");
}

void TcpTransport::destroy(ConnId id, const char *why)
{
	auto it = conns_.find(id);
	if (it == conns_.end() || it->second->dead)
		return;
	Conn &c = *it->second;
	c.dead = true;
	if (why)
		LOG_DBG("tcp: %s: %s", c.peer.c_str(), why);
	loop_.remove(c.fd);
	::shutdown(c.fd, SHUT_RDWR);
	::close(c.fd);
	c.fd = -1;
	per_addr_.release(c.addr);
	loop_.defer([this, id] {
		conns_.erase(id);
		events_->on_close(id);
	});
}

void TcpTransport::close_all_now()
{
	std::vector<ConnId> ids;
	for (auto &[id, c] : conns_)
		ids.push_back(id);
	for (ConnId id : ids)
		destroy(id, "shutting down");
}

int TcpTransport::expose(ConnId c, std::span<std::byte>, RemoteKey &key)
{
	key = RemoteKey{};
	return conns_.contains(c) ? 0 : ENOTCONN;
}

}  // namespace disagg
