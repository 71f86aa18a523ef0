// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// Frames over RDMA (librdmacm + libibverbs), with one-sided access to
// exposed memory.
//
// A client connects one or more RC queue pairs, each its own rdma_cm
// connection whose connect request carries a struct dg_cm_private (client
// id, queue index, number of queues, join token). Queue 0 (all-zero token)
// always starts a new connection with a protection domain of its own; the
// client says HELLO (and AUTH) on it, and the service hands the session's
// join token to set_join_token(). Queues 1.. are accepted only when they
// present that token with the same client id and number of queues, for a
// queue index not taken yet (JoinTable); anything else is rejected at CM
// level. The queues of one client form one
// transport connection (one ConnId for the service) with one protection
// domain: every queue pair of the client is created in it, and expose()
// registers memory as a memory region of its own in it with
// LOCAL_WRITE|REMOTE_READ|REMOTE_WRITE. So a key works on that client's
// queues only, covers that memory only, and dies with the connection or
// with unexpose(). A request without private data is a one-queue client.
//
// Frames travel as SEND/RECV, one frame per message, at most max_frame
// bytes: kRdmaMaxFrame (the kernel's DG_CALL_MAX) for memd, DG_FS_MSG_MAX
// for stord; receive buffers are that size, so the peer must never send a
// bigger frame. Frames are taken from every queue that has receive
// buffers. A reply goes on the queue its request came on: the transport
// notes the req_id of every request that came on a queue other than 0
// (at most kRdmaMaxReplyRoutes per connection; beyond, and for a queue
// without send slots, the reply goes on queue 0, where a client always
// takes messages) and sends the reply with that req_id there, whenever the
// service sends it (stord answers from its workers, out of order). Our own
// requests (HEARTBEAT, MEM_EVICT, BYE) go on queue 0. Each queue has its
// own backlog of frames waiting for a send slot (kRdmaMaxBacklog for the
// connection). Frames received and sent are counted by queue index
// (write_metrics(): rdma_queue_received_total, rdma_queue_sent_total).
//
// What a connection pins. Every buffer slot is max_frame bytes, registered
// with the device. Queue 0 starts with a small ring (kRdmaFirstRecvDepth
// receive and kRdmaFirstSendDepth send slots) and gets the full one
// (kRdmaRecvDepth, kRdmaSendDepth) once the service calls handshake_done()
// (the peer authenticated, or said hello to a daemon without keys). Queues
// 1.. of a client without DG_FEAT_MQ (which uses them for one-sided RDMA
// only) get kRdmaRecvDepthOther/kRdmaSendDepthOther slots. With it (the
// service calls enable_mq() in the handshake, before the others join), its
// message queues 1..dg_mq_queues(nr_queues) - 1 get dg_mq_credits() + 1
// receive and dg_mq_credits() send slots (the client keeps at most
// dg_mq_credits() requests unanswered on each), and the other queues
// none: for stord and a kernel with 8 synchronous queues, 7 x 5 slots
// (2.7 MiB) where 15 x 4 (4.7 MiB) were. A client has at most
// kRdmaMaxQueues queue pairs. Every ring counts against
// TransportLimits::max_pinned, for the whole daemon: a connection whose
// first ring does not fit is rejected, a handshake whose full ring does not
// fit keeps the small one. For stord (80 KiB frames) that is 640 KiB before
// the handshake, 5 MiB for queue 0 after it and 320 KiB for each further
// queue; memd's 4 KiB frames make it 32 KiB, 256 KiB and 16 KiB. (Before,
// every queue had 32 send and 32 or 4 receive slots: 182 MiB for a stord
// client with 64 queues, before it said anything.)
//
// Connection limits count clients, not queue pairs: at most
// TransportLimits::max_conns, and max_conns_per_addr from one address,
// both checked at the connect request of a client's first queue pair,
// which is rejected before anything is allocated for it. A client's queue
// pairs are bounded by kRdmaMaxQueues, and each one's ring by max_pinned.
// Queues 1.. join only with the join token, which the service hands out
// once the handshake is complete: before that a peer pins nothing but
// queue 0's small ring.
//
// Bulk transfers (stord's one-sided file data): bulk_register() registers
// a staging buffer of the service in the client's protection domain with
// LOCAL_WRITE only (the peer never gets a key to it), counted in
// max_pinned with the rings. bulk() posts one RDMA WRITE or RDMA READ per
// segment, each signaled, on the queue the request's reply will take
// (send_queue()'s choice, looked up without consuming the route), so the
// reply SEND that follows is ordered behind the data on that QP (RC). Its
// done() runs when the last one completes. At most kRdmaMaxBulkWrs are
// posted per connection. RDMA READ needs an initiator depth: the accept
// offers min(the client's responder resources, the device's
// max_qp_init_rd_atom); a client that offers none cannot have WRITEs with
// segments. A bulk completion error (remote access, bad rkey) is counted
// (rdma_bulk_errors_total) and ends the connection like any other.
// send_invalidate() posts IBV_WR_SEND_WITH_INV with the rkey.
//
// Completions arrive on one completion channel per device and QP errors
// on the device's async event fd, all on the event loop. A completion
// error, a fatal QP event, a CM disconnect on any queue, a queue that does
// not connect in time, or a peer that floods us with requests without
// taking replies (more than kRdmaMaxBacklog queued) ends the whole
// connection: QPs destroyed first (nothing reaches memory any more), then
// the MRs deregistered, then on_close().
#pragma once

#include "event_loop.hpp"
#include "transport.hpp"

#include <memory>

namespace disagg {

inline constexpr std::size_t kRdmaMaxFrame = 4096;	// memd's, header included
inline constexpr unsigned kRdmaRecvDepth = 32;	// queue 0, after the handshake
inline constexpr unsigned kRdmaSendDepth = 32;
inline constexpr unsigned kRdmaFirstRecvDepth = 4;	// queue 0, before it
inline constexpr unsigned kRdmaFirstSendDepth = 4;
inline constexpr unsigned kRdmaRecvDepthOther = 2;	// queues 1..
inline constexpr unsigned kRdmaSendDepthOther = 2;
// Queue pairs per client: twice the kernel's most (DG_MAX_QUEUES
// synchronous queues and as many asynchronous ones).
inline constexpr unsigned kRdmaMaxQueues = 32;
inline constexpr std::size_t kRdmaMaxBacklog = 256;
// RDMA READ/WRITE work requests of bulk() a connection may have posted at
// once (stord: 4 staging slots x 4 segments); every queue pair's send
// queue has room for them on top of its send slots.
inline constexpr unsigned kRdmaMaxBulkWrs = 16;
// Requests on queues 1.. whose reply queue is remembered, per connection.
inline constexpr std::size_t kRdmaMaxReplyRoutes = 1024;

// @max_frame: largest frame either way, header included (receive buffers
// are this size).
std::unique_ptr<Transport> make_rdma_transport(EventLoop &loop, unsigned max_conns,
					       std::size_t max_frame = kRdmaMaxFrame);
std::unique_ptr<Transport> make_rdma_transport(EventLoop &loop, const TransportLimits &limits,
					       std::size_t max_frame = kRdmaMaxFrame);

// struct dg_cm_private from a connect request, decoded.
struct CmPrivate {
	bool present = false;	// false: a one-queue client that sent none
	std::uint8_t major = 0;
	std::uint8_t minor = 0;
	std::uint16_t qid = 0;
	std::uint16_t nr_queues = 1;
	std::uint64_t client_id = 0;
	proto::Token token{};	// zero on queue 0
};

// Decode @len bytes of connect private data (rdma_cm pads it with zeros;
// all zeros means none). False: malformed (bad magic, major, reserved
// bytes, queue numbers, a token on queue 0), and the connection is refused.
bool parse_cm_private(const void *data, std::size_t len, CmPrivate &out);

}  // namespace disagg
