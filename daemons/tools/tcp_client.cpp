// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// The client over TCP: blocking socket, deadlines through poll(2); page
// access with MEM_READ/MEM_WRITE messages.
#include "memclient.hpp"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

namespace disagg::client {

using namespace proto;

namespace {

class TcpConn final : public Conn {
public:
	TcpConn(const Options &opt, int fd) : Conn(opt), fd_(fd), buf_(opt.data_buffer) {}
	~TcpConn() override { ::close(fd_); }

	bool rdma() const override { return false; }
	bool send_raw(ByteSpan frame) override { return send_all(frame); }
	Bytes recv_frame(int timeout_ms, int &err) override;
	std::span<std::byte> data_buffer() override { return buf_; }
	int write(const MemSlab &slab, std::span<const Io> ios) override;
	int read(const MemSlab &slab, std::span<const Io> ios) override;
	int raw_read(std::uint64_t, std::uint32_t, std::uint32_t) override { return -EOPNOTSUPP; }

protected:
	bool send_frame(const Bytes &frame) override { return send_all(frame); }

private:
	bool send_all(ByteSpan b);
	// Exactly @n bytes before @deadline; err set on failure.
	bool recv_exact(std::byte *p, std::size_t n,
			std::chrono::steady_clock::time_point deadline, int &err);

	int fd_;
	Bytes buf_;
};

bool TcpConn::send_all(ByteSpan b)
{
	std::size_t off = 0;
	while (off < b.size()) {
		ssize_t n = ::send(fd_, b.data() + off, b.size() - off, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			error_ = std::string("send: ") + std::strerror(errno);
			return false;
		}
		off += static_cast<std::size_t>(n);
	}
	return true;
}

bool TcpConn::recv_exact(std::byte *p, std::size_t n,
			 std::chrono::steady_clock::time_point deadline, int &err)
{
	std::size_t got = 0;
	while (got < n) {
		auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
			deadline - std::chrono::steady_clock::now()).count();
		if (left <= 0) {
			err = ETIMEDOUT;
			return false;
		}
		pollfd pfd{fd_, POLLIN, 0};
		int pr = ::poll(&pfd, 1, static_cast<int>(left));
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr <= 0) {
			err = pr == 0 ? ETIMEDOUT : errno;
			return false;
		}
		ssize_t r = ::recv(fd_, p + got, n - got, 0);
		if (r == 0) {
			err = ECONNRESET;
			error_ = "connection closed by server";
			return false;
		}
		if (r < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			err = errno;
			error_ = std::string("recv: ") + std::strerror(errno);
			return false;
		}
		got += static_cast<std::size_t>(r);
	}
	return true;
}

Bytes TcpConn::recv_frame(int timeout_ms, int &err)
{
	const auto deadline = std::chrono::steady_clock::now() +
			      std::chrono::milliseconds(timeout_ms);
	for (;;) {
		Bytes f(kHdrSize);
		if (!recv_exact(f.data(), kHdrSize, deadline, err))
			return {};
		Result<Hdr> h = decode_hdr(f);
		if (!h) {
			err = EPROTO;
			error_ = std::string("bad header from server: ") + std::string(to_string(h.error()));
			return {};
		}
		f.resize(kHdrSize + h->length);
		if (!recv_exact(f.data() + kHdrSize, h->length, deadline, err))
			return {};
		if (h->is_reply())
			return f;
		Result<Frame> fr = decode_frame(f);
		Result<Message> m = fr ? decode_message(*fr) : Result<Message>(fr.error());
		if (m)
			on_server_request(*m);
		if (woken()) {
			err = 0;
			return {};
		}
		if (got_bye_) {
			err = ECONNRESET;
			error_ = "server said bye";
			return {};
		}
	}
}

int TcpConn::write(const MemSlab &slab, std::span<const Io> ios)
{
	for (const Io &io : ios) {
		Reply r = call(Op::kMemWrite,
			       MemWrite{MemRw{slab.slab_id, io.offset,
					      static_cast<std::uint32_t>(io.buf.size())},
					io.buf});
		if (r.err)
			return r.err;
		if (r.status) {
			error_ = std::string("MEM_WRITE: ") + std::strerror(static_cast<int>(r.status));
			return static_cast<int>(r.status);
		}
	}
	return 0;
}

int TcpConn::read(const MemSlab &slab, std::span<const Io> ios)
{
	for (const Io &io : ios) {
		Reply r = call(Op::kMemRead,
			       MemRw{slab.slab_id, io.offset, static_cast<std::uint32_t>(io.buf.size())});
		if (r.err)
			return r.err;
		if (r.status) {
			error_ = std::string("MEM_READ: ") + std::strerror(static_cast<int>(r.status));
			return static_cast<int>(r.status);
		}
		if (r.frame.size() != kHdrSize + io.buf.size()) {
			error_ = "MEM_READ: reply of the wrong size";
			return EPROTO;
		}
		std::memcpy(io.buf.data(), r.frame.data() + kHdrSize, io.buf.size());
	}
	return 0;
}

}  // namespace

std::unique_ptr<Conn> open_tcp(const Options &opt, std::string &err)
{
	addrinfo hints{}, *res = nullptr;
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	const std::string service = std::to_string(opt.port);
	if (int rc = ::getaddrinfo(opt.host.c_str(), service.c_str(), &hints, &res); rc != 0) {
		err = "cannot resolve '" + opt.host + "': " + ::gai_strerror(rc);
		return nullptr;
	}
	int fd = ::socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err = std::string("socket: ") + std::strerror(errno);
		::freeaddrinfo(res);
		return nullptr;
	}
	if (!opt.bind.empty()) {
		addrinfo *b = nullptr;
		hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
		if (::getaddrinfo(opt.bind.c_str(), "0", &hints, &b) != 0 ||
		    ::bind(fd, b->ai_addr, b->ai_addrlen) != 0) {
			err = "cannot bind to " + opt.bind + ": " + std::strerror(errno);
			if (b)
				::freeaddrinfo(b);
			::freeaddrinfo(res);
			::close(fd);
			return nullptr;
		}
		::freeaddrinfo(b);
	}
	timeval tv{opt.timeout_ms / 1000, (opt.timeout_ms % 1000) * 1000};
	(void)::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (::connect(fd, res->ai_addr, res->ai_addrlen) != 0) {
		err = "cannot connect to " + opt.host + ":" + service + ": " + std::strerror(errno);
		::freeaddrinfo(res);
		::close(fd);
		return nullptr;
	}
	::freeaddrinfo(res);
	int one = 1;
	(void)::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return std::make_unique<TcpConn>(opt, fd);
}

}  // namespace disagg::client
