// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// Frames over TCP stream sockets. Non-blocking sockets on the event loop;
// each connection reads into a buffer that grows only up to one frame
// (header + DG_MAX_PAYLOAD) and cuts frames by the header's length. Replies
// are queued; a connection whose queue passes kOutHigh stops being read
// until it drains below kOutLow (a client that sends requests but does not
// read its replies only stalls itself). At most max_conns connections, and
// max_conns_per_addr from one address; more are accepted and closed at
// once. When accept4() fails for want of file descriptors or memory
// (EMFILE, ENFILE, ENOBUFS, ENOMEM) the listening socket is left alone for
// kAcceptBackoffMin, doubling up to kAcceptBackoffMax while it keeps
// failing (a timerfd made at listen() brings it back), with one log line
// per kAcceptLogInterval at most; waiting peers stay in the backlog.
#pragma once

#include "conn_limits.hpp"
#include "event_loop.hpp"
#include "log.hpp"
#include "transport.hpp"

#include <netdb.h>
#include <sys/socket.h>

#include <chrono>
#include <deque>
#include <map>
#include <memory>

namespace disagg {

class TcpTransport final : public Transport {
public:
	static constexpr std::size_t kReadChunk = 64 * 1024;
	static constexpr std::size_t kOutHigh = 4u << 20;
	static constexpr std::size_t kOutLow = 1u << 20;
	// A close() waits this long for queued frames to go out.
	static constexpr std::chrono::seconds kCloseTimeout{5};
	static constexpr std::chrono::milliseconds kAcceptBackoffMin{100};
	static constexpr std::chrono::milliseconds kAcceptBackoffMax{1000};
	static constexpr std::chrono::milliseconds kAcceptLogInterval{10000};

	TcpTransport(EventLoop &loop, unsigned max_conns);
	TcpTransport(EventLoop &loop, const TransportLimits &limits);
	~TcpTransport() override;

	const char *name() const override { return "tcp"; }
	bool one_sided() const override { return false; }
	std::size_t max_frame() const override;
	bool listen(const std::string &host, std::uint16_t port, TransportEvents *events,
		    std::string &err) override;
	void stop_listening() override;
	std::string local_address() const override { return local_; }
	std::uint16_t local_port() const override { return port_; }
	bool send(ConnId c, proto::Bytes frame) override;
	void close(ConnId c) override;
	std::size_t connections() const override { return conns_.size(); }
	void close_all_now() override;
	void tick() override;
	int expose(ConnId c, std::span<std::byte> mem, RemoteKey &key) override;
	void unexpose(ConnId, const RemoteKey &) override {}

	// accept4() calls so far, and whether accepting is paused (backing off).
	std::uint64_t accept_calls() const { return accept_calls_; }
	bool accept_paused() const { return accept_paused_; }

private:
	struct Conn;
	void on_accept();
	void pause_accept(int err);	// out of fds or memory: back off
	void resume_accept();		// the backoff timer fired
	void on_event(ConnId c, std::uint32_t events);
	void pump(Conn &c);	// parse buffered frames, read more
	void defer_pump(ConnId c);	// pump() from the loop, if @c lives then
	bool fill(Conn &c);	// one read(); false: EOF or error
	void flush(Conn &c);
	void update_events(Conn &c);
	void destroy(ConnId c, const char *why);	// deferred teardown

	EventLoop &loop_;
	const unsigned max_conns_;
	AddrCount per_addr_;
	TransportEvents *events_ = nullptr;
	int lfd_ = -1;
	int timer_fd_ = -1;	// ends an accept backoff
	bool accept_paused_ = false;
	std::chrono::milliseconds backoff_{0};	// 0: the last accept worked
	std::uint64_t accept_calls_ = 0;
	log::RateLimit accept_log_{1, kAcceptLogInterval};
	std::string local_;
	std::uint16_t port_ = 0;
	ConnId next_id_ = 1;
	std::map<ConnId, std::unique_ptr<Conn>> conns_;
};

// "addr:port" of a socket address.
std::string sockaddr_str(const ::sockaddr *sa);

// getaddrinfo() of @host and @port for a listening stream socket. False
// and @err when it does not resolve; else the caller frees *@res.
bool resolve_listen(const std::string &host, std::uint16_t port, ::addrinfo **res,
		    std::string &err);

}  // namespace disagg
