// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// A userspace client of disagg-memd, over TCP or RDMA: the handshake
// (HELLO, and AUTH when it holds a key; then, over RDMA, queues 1.. join
// queue 0's session with the join token),
// synchronous calls (one outstanding request), and page access to slabs:
// RDMA READ/WRITE into the slab's own memory region on RDMA, MEM_READ/
// MEM_WRITE messages on TCP. Server-initiated HEARTBEATs are answered
// while waiting; a BYE from the server is remembered; a MEM_EVICT is
// answered with what evict_answer says (EOPNOTSUPP when unset) and its
// slab id queued in evictions(). Used by dg-memclient and by the daemon's
// integration tests.
#pragma once

#include "auth.hpp"
#include "proto.hpp"

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace disagg::client {

struct Options {
	bool rdma = true;
	std::string host = "127.0.0.1";
	std::uint16_t port = proto::kMemdPort;
	std::string bind;	// local address to connect from; empty: any
	std::uint64_t client_id = 0;
	std::string name = "dg-memclient";
	proto::Role role = proto::Role::kSwap;
	int timeout_ms = 10000;	// per call and for connecting
	std::size_t data_buffer = 1u << 20;	// registered bytes for page I/O (RDMA)
	// RDMA queue pairs, each its own rdma_cm connection announced with a
	// struct dg_cm_private; frames go on queue 0, page I/O round-robin.
	unsigned queues = 1;
	// Largest frame either way over RDMA (receive buffer size): memd's
	// 4096, or DG_FS_MSG_MAX for a storage node.
	std::size_t max_frame = 4096;
	// Authenticate as @identity with @secret (see auth.hpp); empty
	// secret: no key, the server must be open. A client with a key
	// refuses a server that does not offer DG_FEAT_AUTH (EACCES).
	std::string identity;
	std::string secret;
	// Offer DG_FEAT_RDMA_FS (one-sided file data, storage nodes over
	// RDMA); off: the client behaves like one that does not know it.
	bool rdma_fs = false;
};

// A reply, owning its bytes.
struct Reply {
	int err = 0;		// local failure (errno), the call did not complete
	std::uint32_t status = 0;	// the server's status
	proto::Bytes frame;

	bool ok() const { return err == 0 && status == 0; }
	// The decoded message; frame must outlive it.
	proto::Result<proto::Message> message() const;
};

// One page-aligned piece of a slab: @buf lies in data_buffer().
struct Io {
	std::uint64_t offset = 0;
	std::span<std::byte> buf;
};

class Conn {
public:
	virtual ~Conn() = default;

	// Connect, say hello (and authenticate), then connect the other
	// queues. nullptr and @err on failure.
	static std::unique_ptr<Conn> open(const Options &opt, std::string &err);
	// Connect (queue 0 only) without the handshake (for tests of the
	// handshake itself).
	static std::unique_ptr<Conn> connect(const Options &opt, std::string &err);

	virtual bool rdma() const = 0;
	// Send raw bytes as one message (tests). False when the link failed.
	virtual bool send_raw(proto::ByteSpan frame) = 0;
	// Next frame from the server that is not a server request; empty on
	// timeout or a closed connection (err says which).
	virtual proto::Bytes recv_frame(int timeout_ms, int &err) = 0;

	// Request and its reply.
	Reply call(proto::Op op, const proto::Body &body = proto::Empty{});
	// HELLO, and AUTH when Options::secret is set (checking the server's
	// proof). @status: the server's refusal (EACCES, EKEYREJECTED...) or
	// a local errno, 0 on success.
	bool hello(std::string &err);
	bool hello(std::string &err, std::uint32_t &status);
	// RDMA: connect queues 1.. with the join token; nothing on TCP.
	virtual bool join_queues(std::string &err)
	{
		(void)err;
		return true;
	}
	std::optional<proto::MemInfo> info(std::string &err);
	// The slab, or nullopt with @status (server errno) or @err.
	std::optional<proto::MemSlab> alloc(std::uint64_t size, std::uint64_t tag,
					    std::uint32_t &status);
	std::uint32_t free(std::uint64_t slab_id);	// server status, or EIO
	std::optional<std::string> status(std::string &err);
	void bye();

	// Registered memory for Io buffers (RDMA); a plain buffer on TCP.
	virtual std::span<std::byte> data_buffer() = 0;
	// Write or read every Io of @slab. 0, or an errno / server status;
	// error() says more.
	virtual int write(const proto::MemSlab &slab, std::span<const Io> ios) = 0;
	virtual int read(const proto::MemSlab &slab, std::span<const Io> ios) = 0;
	// One RDMA READ of @len bytes at (@addr, @rkey) into data_buffer():
	// returns the work completion status (IBV_WC_SUCCESS = 0), or -errno
	// when it could not be posted. A failed READ breaks the connection.
	virtual int raw_read(std::uint64_t addr, std::uint32_t rkey, std::uint32_t len) = 0;
	// RDMA: register @buf (inside data_buffer()) for the server's own
	// access to it, for one-sided file data: REMOTE_WRITE when
	// @server_writes (a READ's data lands there), else REMOTE_READ (a
	// WRITE's data is fetched). A fresh memory region each time, the
	// previous one deregistered. The rkey, or nullopt (error() says why).
	virtual std::optional<std::uint32_t> reg_remote(std::span<std::byte> buf, bool server_writes)
	{
		(void)buf;
		(void)server_writes;
		error_ = "one-sided file data needs RDMA";
		return std::nullopt;
	}

	const proto::HelloReply &server() const { return server_; }
	const proto::Token &token() const { return token_; }
	const proto::Negotiated &negotiated() const { return neg_; }
	bool got_bye() const { return got_bye_; }
	const std::string &error() const { return error_; }

	// MEM_EVICT {slab_id} from the node: the status of the reply, sent at
	// once (0: the slab will be freed, ENOENT: not ours). Unset: every
	// MEM_EVICT is answered EOPNOTSUPP, like an old client.
	std::function<std::uint32_t(std::uint64_t slab_id)> evict_answer;
	// Slab ids of the MEM_EVICTs answered 0 so far, oldest first.
	std::deque<std::uint64_t> &evictions() { return evictions_; }
	// With no call outstanding: wait up to @timeout_ms until evictions()
	// is not empty (true), or a timeout or a broken connection (false,
	// @err set: ETIMEDOUT, ECONNRESET...).
	bool wait_evict(int timeout_ms, int &err);

protected:
	explicit Conn(const Options &opt) : opt_(opt) {}
	// A request from the server (heartbeat, bye) found while waiting.
	void on_server_request(const proto::Message &m);
	virtual bool send_frame(const proto::Bytes &frame) = 0;

	Options opt_;
	proto::HelloReply server_;
	proto::Negotiated neg_;
	proto::Token token_{};		// the session's join token
	std::uint64_t next_req_ = 1;
	bool got_bye_ = false;
	std::deque<std::uint64_t> evictions_;
	bool wake_on_evict_ = false;	// in wait_evict()
	// recv_frame() returns (empty, err 0) on a MEM_EVICT in wait_evict().
	bool woken() const { return wake_on_evict_ && !evictions_.empty(); }
	std::string error_;
};

// --key-file FILE --identity NAME of the tools: @identity's secret from
// @file (the daemons' key-file format) into @o. "" or why not; both empty
// is fine (no key).
std::string use_key_file(Options &o, const std::string &file, const std::string &identity);

std::unique_ptr<Conn> open_tcp(const Options &opt, std::string &err);
std::unique_ptr<Conn> open_rdma(const Options &opt, std::string &err);

}  // namespace disagg::client
