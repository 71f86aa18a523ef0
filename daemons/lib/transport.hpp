// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// What the protocol logic needs from a network: accept connections, deliver
// each received frame, send frames, close, and (for one-sided transports)
// let a connection's peer reach a piece of memory directly.
//
// Implementations: TcpTransport (stream sockets), RdmaTransport (rdma_cm, an
// RC QP per connection, SEND/RECV for frames, one memory region per exposed
// slab in the connection's own protection domain) and FakeTransport (in
// process, for tests). All callbacks run on the daemon's one event-loop
// thread, never from inside a Transport call the handler made: close() and
// send() failures are reported later, through on_close().
#pragma once

#include "proto.hpp"

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>

namespace disagg {

using ConnId = std::uint64_t;
class MetricsText;

// How the peer of one connection reaches exposed memory.
struct RemoteKey {
	std::uint64_t addr = 0;	// remote address of the first byte (RDMA)
	std::uint32_t rkey = 0;	// 0 on transports without one-sided access
	std::uint64_t handle = 0;	// the transport's, for unexpose()
};

// A piece of a peer's memory that the peer named for a bulk transfer
// (RDMA: an address and the rkey of a region the peer registered).
struct RemoteSeg {
	std::uint64_t addr = 0;
	std::uint32_t len = 0;
	std::uint32_t rkey = 0;
};

// Which way a bulk transfer goes: into the peer's memory (RDMA WRITE) or
// out of it (RDMA READ).
enum class BulkDir { kToPeer, kFromPeer };

// What a transport lets peers hold, checked before a connection is
// announced with on_connect() (so before anything much is allocated for
// it): TCP at accept, RDMA at the CM connect request of a client's first
// queue pair. A connection over a limit is closed (TCP) or rejected (RDMA)
// at once and never reaches the service.
struct TransportLimits {
	unsigned max_conns = 64;	// connections (RDMA: clients, any queue count)
	// Connections from one source address (port ignored); 0: no limit.
	unsigned max_conns_per_addr = 0;
	// RDMA: bytes of message buffers registered with the device (pinned)
	// for all connections together; 0: no limit. A connection that would
	// pass it is rejected; one that passed the handshake keeps its small
	// first ring when the full one would pass it.
	std::uint64_t max_pinned = 0;
};

class TransportEvents {
public:
	virtual ~TransportEvents() = default;
	// A new connection; @peer is "addr:port" for logs.
	virtual void on_connect(ConnId c, const std::string &peer) = 0;
	// One received frame as the transport found it: a stream transport
	// cuts it by the header's length (a header that does not decode is
	// delivered alone, and nothing more is read), a message transport
	// delivers each message whole. Not validated: the handler decodes it.
	virtual void on_message(ConnId c, proto::ByteSpan frame) = 0;
	// The connection is gone (peer left, error, or close() finished).
	// Its exposed memory is no longer reachable. Called once per
	// on_connect(); the id is never used again.
	virtual void on_close(ConnId c) = 0;
};

class Transport {
public:
	virtual ~Transport() = default;

	virtual const char *name() const = 0;
	// Peers read and write exposed memory themselves (RDMA).
	virtual bool one_sided() const = 0;
	// Largest frame send() takes.
	virtual std::size_t max_frame() const = 0;

	// Start accepting connections on host:port (port 0: any) and report
	// them to @events. False and @err on failure.
	virtual bool listen(const std::string &host, std::uint16_t port,
			    TransportEvents *events, std::string &err) = 0;
	// Stop accepting; existing connections stay.
	virtual void stop_listening() = 0;
	// "addr:port" actually bound.
	virtual std::string local_address() const = 0;
	virtual std::uint16_t local_port() const = 0;

	// Queue a frame. A connection that cannot take it (closing, gone,
	// too far behind) is closed; returns false then.
	virtual bool send(ConnId c, proto::Bytes frame) = 0;
	// Close after queued frames are sent (bounded by a timeout).
	virtual void close(ConnId c) = 0;
	// Open connections, closing ones included.
	virtual std::size_t connections() const = 0;
	// Give up on every connection now (shutdown's last step).
	virtual void close_all_now() = 0;
	// Called about once a second: enforce close timeouts.
	virtual void tick() {}
	// @c's peer passed the handshake (authenticated when the daemon has
	// keys): it may now have what a client needs to run at full speed
	// (RDMA: the full receive ring on queue 0, not the small one every
	// connection starts with). Best effort; nothing is reported.
	virtual void handshake_done(ConnId) {}
	// @c's peer agreed to DG_FEAT_MQ (before the join token is issued):
	// its further queues carry messages too (RDMA: receive and send
	// buffers on its message queues, none on the others; see struct
	// dg_cm_private and DG_MQ_WINDOW). Transports with one queue per
	// connection ignore it.
	virtual void enable_mq(ConnId) {}
	// The transport's own metric families (--metrics), if any.
	virtual void write_metrics(MetricsText &) const {}

	// Let @c's peer read and write @mem. Returns 0 and the key, or a
	// positive errno. Transports without one-sided access return a zero
	// key. Everything exposed on a connection is withdrawn when it closes.
	virtual int expose(ConnId c, std::span<std::byte> mem, RemoteKey &key) = 0;
	virtual void unexpose(ConnId c, const RemoteKey &key) = 0;

	// ---- Bulk transfers: we move data to or from the peer's memory
	// ourselves (stord's one-sided file data, DG_FEAT_RDMA_FS). Only on
	// one-sided transports; the others answer EOPNOTSUPP / false.
	//
	// Register @mem (the caller's, which must stay mapped until on_close()
	// of @c has been called) as a staging buffer for bulk() on @c. It
	// counts against TransportLimits::max_pinned (ENOMEM beyond) and is
	// deregistered when the connection closes, before on_close(). 0 and
	// @handle, or a positive errno.
	virtual int bulk_register(ConnId c, std::span<std::byte> mem, std::uint64_t &handle)
	{
		(void)c;
		(void)mem;
		(void)handle;
		return EOPNOTSUPP;
	}
	// Move @mem.size() bytes between @mem (inside the staging buffer
	// @handle) and @segs, in order (@segs' lengths sum to @mem.size()):
	// kToPeer writes @mem into them, kFromPeer reads them into @mem.
	// Posted on the queue the reply to request @req_id will take, so a
	// reply sent from @done arrives after the data. @done runs on the
	// event loop once every piece has completed. A transfer that fails
	// (the peer's key or address is wrong) ends the connection: @done is
	// never called, on_close() follows. False when @c cannot take it
	// (closing, gone); nothing is called then.
	virtual bool bulk(ConnId c, std::uint64_t req_id, std::uint64_t handle,
			  std::span<std::byte> mem, BulkDir dir, std::span<const RemoteSeg> segs,
			  std::function<void()> done)
	{
		(void)c;
		(void)req_id;
		(void)handle;
		(void)mem;
		(void)dir;
		(void)segs;
		(void)done;
		return false;
	}
	// send(), and the peer's key @rkey is invalidated by the message's
	// arrival (RDMA SEND with invalidate). Others: a plain send().
	virtual bool send_invalidate(ConnId c, proto::Bytes frame, std::uint32_t rkey)
	{
		(void)rkey;
		return send(c, std::move(frame));
	}

	// @c's session is established (authenticated, or HELLO done on an
	// open daemon): further queue pairs of its client may join it by
	// presenting @token (RDMA, see struct dg_cm_private). Transports with
	// one queue per connection ignore it.
	virtual void set_join_token(ConnId c, const proto::Token &token)
	{
		(void)c;
		(void)token;
	}
};

}  // namespace disagg
