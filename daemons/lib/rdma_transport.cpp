// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "rdma_transport.hpp"

#include "conn_limits.hpp"
#include "join_table.hpp"
#include "log.hpp"
#include "metrics.hpp"
#include "tcp_transport.hpp"	// sockaddr_str()
#include "wire.hpp"

#include <fcntl.h>
#include <infiniband/verbs.h>
#include <netdb.h>
#include <rdma/rdma_cma.h>
#include <sys/epoll.h>
#include <sys/mman.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>
#include <map>
#include <unordered_map>
#include <vector>

namespace disagg {

using namespace proto;

namespace {

using SteadyTime = std::chrono::steady_clock::time_point;

constexpr std::chrono::seconds kDisconnectTimeout{3};
constexpr std::chrono::seconds kConnectTimeout{30};
constexpr std::uint64_t kRecvBit = 1ull << 32;	// in wr_id: a receive buffer
constexpr std::uint64_t kBulkBit = 1ull << 33;	// in wr_id: a bulk() piece

bool set_nonblock(int fd)
{
	int fl = ::fcntl(fd, F_GETFL);
	return fl >= 0 && ::fcntl(fd, F_SETFL, fl | O_NONBLOCK) == 0;
}

}  // namespace

// The queue numbers are the transport's to check: see parse_cm_private().
template <>
struct proto::wire::Wire<CmPrivate> {
	using H = CmPrivate;
	using C = dg_cm_private;
	using Fields = std::tuple<DG_CONST(magic, kMagic, Errc::kBadMagic), DG_LE(major),
				  DG_LE(minor), DG_LE(qid), DG_LE(nr_queues), DG_RESERVED(reserved),
				  DG_LE(client_id), DG_RAW(token)>;
};

bool parse_cm_private(const void *data, std::size_t len, CmPrivate &out)
{
	out = CmPrivate{};
	if (!data || len < kCmPrivateSize)
		return true;
	const ByteSpan p(static_cast<const std::byte *>(data), kCmPrivateSize);
	if (wire::all_zero(p))
		return true;	// rdma_cm pads absent private data with zeros
	Result<CmPrivate> r = wire::decode<CmPrivate>(p);
	if (!r)
		return false;	// bad magic or reserved bytes
	out = *r;
	out.present = true;
	const bool zero_token = std::all_of(out.token.begin(), out.token.end(),
					    [](std::uint8_t b) { return b == 0; });
	if (out.qid == 0 && !zero_token)
		return false;
	return out.major == kMajor && out.nr_queues >= 1 && out.nr_queues <= kRdmaMaxQueues &&
	       out.qid < out.nr_queues;
}

namespace {

class RdmaTransport final : public Transport {
public:
	RdmaTransport(EventLoop &loop, const TransportLimits &limits, std::size_t max_frame)
		: loop_(loop), max_conns_(limits.max_conns), max_pinned_(limits.max_pinned),
		  frame_(max_frame), per_addr_(limits.max_conns_per_addr) {}
	~RdmaTransport() override;

	const char *name() const override { return "rdma"; }
	bool one_sided() const override { return true; }
	std::size_t max_frame() const override { return frame_; }
	bool listen(const std::string &host, std::uint16_t port, TransportEvents *events,
		    std::string &err) override;
	void stop_listening() override;
	std::string local_address() const override { return local_; }
	std::uint16_t local_port() const override { return port_; }
	bool send(ConnId c, Bytes frame) override;
	void close(ConnId c) override;
	std::size_t connections() const override { return conns_.size(); }
	void close_all_now() override;
	void tick() override;
	int expose(ConnId c, std::span<std::byte> mem, RemoteKey &key) override;
	void unexpose(ConnId c, const RemoteKey &key) override;
	void set_join_token(ConnId c, const Token &token) override;
	void handshake_done(ConnId c) override;
	void enable_mq(ConnId c) override;
	void write_metrics(MetricsText &t) const override;
	int bulk_register(ConnId c, std::span<std::byte> mem, std::uint64_t &handle) override;
	bool bulk(ConnId c, std::uint64_t req_id, std::uint64_t handle, std::span<std::byte> mem,
		  BulkDir dir, std::span<const RemoteSeg> segs, std::function<void()> done) override;
	bool send_invalidate(ConnId c, Bytes frame, std::uint32_t rkey) override;

private:
	// A frame waiting for a send slot, and the peer's key its arrival
	// invalidates (SEND with invalidate) if any.
	struct Outgoing {
		Bytes frame;
		bool invalidate = false;
		std::uint32_t rkey = 0;
	};
	// A bulk() call: its pieces not completed yet, and what then.
	struct BulkOp {
		unsigned pending = 0;
		std::function<void()> done;
	};
	struct BulkMr {
		ibv_mr *mr = nullptr;
		std::size_t len = 0;
	};
	struct Device {
		ibv_context *ctx = nullptr;
		ibv_comp_channel *chan = nullptr;
		ibv_device_attr attr{};
	};
	// Message buffers: one mapping, registered, cut into frame-sized slots.
	struct Ring {
		std::byte *mem = nullptr;
		std::size_t len = 0;
		ibv_mr *mr = nullptr;
	};
	struct Slot {
		std::byte *p = nullptr;
		std::uint32_t lkey = 0;
	};
	// One RC queue pair of a connection.
	struct Queue {
		unsigned qid = 0;
		rdma_cm_id *cm = nullptr;
		ibv_cq *cq = nullptr;
		ibv_qp *qp = nullptr;
		unsigned max_recv = 0, max_send = 0;	// the QP's depths
		std::vector<Ring> rings;	// the first, and the rest of queue 0's
		std::vector<Slot> recv, send;	// all posted / usable
		std::vector<unsigned> free_send;
		std::deque<Outgoing> backlog;	// frames waiting for a send slot
		bool full = false;		// queue 0 has its full ring
		bool established = false;
		bool disconnect_sent = false;
	};
	enum class State { kOpen, kClosing, kDead };
	// One client: its queues and its protection domain.
	struct Conn {
		ConnId id = 0;
		State state = State::kOpen;
		std::uint64_t client_id = 0;	// from the private data, 0 if none
		unsigned nr_queues = 1;
		Device *dev = nullptr;
		ibv_pd *pd = nullptr;
		std::vector<std::unique_ptr<Queue>> queues;	// by qid; null until it connects
		bool mq = false;		// DG_FEAT_MQ agreed (enable_mq())
		// Requests that came on a queue other than 0, by req_id: the
		// queue their reply goes on (at most kRdmaMaxReplyRoutes).
		std::unordered_map<std::uint64_t, std::uint16_t> reply_to;
		std::size_t backlog = 0;	// frames in the queues' backlogs
		std::map<std::uint64_t, ibv_mr *> mrs;	// exposed memory by handle
		std::map<std::uint64_t, BulkMr> bulk_mrs;	// staging buffers by handle
		std::unordered_map<std::uint32_t, BulkOp> bulk_ops;	// by id (wr_id)
		std::uint32_t next_bulk = 1;
		unsigned bulk_wrs = 0;		// bulk pieces posted, not completed
		std::string peer;
		std::string addr;		// peer address: its per-address count
		bool announced = false;		// on_connect() was called
		SteadyTime deadline{};		// connect or disconnect deadline
	};

	void on_cm_event();
	void on_connect_request(rdma_cm_id *id, const rdma_conn_param &req, const CmPrivate &priv);
	bool setup_queue(Conn &c, Queue &q, const rdma_conn_param &req, std::string &why);
	// Another ring of @nr_recv receive and @nr_send send slots for @q,
	// its receive slots posted. False and @why (pinned-memory limit,
	// mmap, registration, posting).
	bool add_ring(Conn &c, Queue &q, unsigned nr_recv, unsigned nr_send, std::string &why);
	std::size_t ring_bytes(unsigned slots) const { return slots * frame_; }
	Device *device_for(ibv_context *ctx);
	void on_cq_event(Device &d);
	void on_async_event(Device &d);
	void poll_cq(Conn &c, Queue &q);
	bool post_recv(Queue &q, unsigned slot);
	bool post_send(Queue &q, unsigned slot, const Outgoing &out);
	bool queue_frame(ConnId id, Outgoing out);
	// The queue @frame goes on: a reply on its request's, the rest on 0.
	Queue *send_queue(Conn &c, const Bytes &frame);
	// The queue the reply to @req_id will go on; @take: forget the route.
	Queue *reply_queue(Conn &c, std::uint64_t req_id, bool take);
	void bulk_completed(Conn &c, const ibv_wc &w);
	// A frame came on @q: where its reply is to go.
	void note_request(Conn &c, const Queue &q, ByteSpan frame);
	void drain_backlog(Conn &c, Queue &q);
	bool all_sent(const Conn &c) const;
	void maybe_disconnect(Conn &c);
	void fail(Conn &c, const char *why);	// abort now, teardown deferred
	void teardown(ConnId id, bool notify);
	void destroy_queue(Queue &q, bool reject);
	Conn *find(ConnId id);

	std::byte *recv_slot(Queue &q, unsigned i) const { return q.recv[i].p; }

	EventLoop &loop_;
	const unsigned max_conns_;
	const std::uint64_t max_pinned_;	// 0: no limit
	const std::size_t frame_;	// largest frame, size of every buffer slot
	AddrCount per_addr_;		// connections (clients) per peer address
	std::uint64_t pinned_ = 0;	// bytes of all rings
	TransportEvents *events_ = nullptr;
	rdma_event_channel *cm_chan_ = nullptr;
	rdma_cm_id *listen_id_ = nullptr;
	std::string local_;
	std::uint16_t port_ = 0;
	ConnId next_id_ = 1;
	std::uint64_t next_key_ = 1;
	std::map<ConnId, std::unique_ptr<Conn>> conns_;
	// Lookups from verbs and CM objects to (connection, queue).
	std::map<ibv_cq *, std::pair<ConnId, unsigned>> by_cq_;
	std::map<ibv_qp *, ConnId> by_qp_;
	std::map<rdma_cm_id *, std::pair<ConnId, unsigned>> by_cm_;
	// Join tokens of connections still waiting for some of their queues.
	JoinTable joining_;
	std::map<ibv_context *, std::unique_ptr<Device>> devices_;
	// Frames received and sent, by queue index (all connections).
	std::array<std::uint64_t, kRdmaMaxQueues> rx_by_queue_{}, tx_by_queue_{};
	std::uint64_t bulk_errors_ = 0;	// bulk pieces that completed in error
};

RdmaTransport::~RdmaTransport()
{
	std::vector<ConnId> ids;
	for (auto &[id, c] : conns_)
		ids.push_back(id);
	for (ConnId id : ids)
		teardown(id, false);
	stop_listening();
	for (auto &[ctx, d] : devices_) {
		loop_.remove(ctx->async_fd);
		if (d->chan) {
			loop_.remove(d->chan->fd);
			ibv_destroy_comp_channel(d->chan);
		}
	}
	if (cm_chan_) {
		loop_.remove(cm_chan_->fd);
		rdma_destroy_event_channel(cm_chan_);
	}
}

bool RdmaTransport::listen(const std::string &host, std::uint16_t port,
			   TransportEvents *events, std::string &err)
{
	events_ = events;
	if (!cm_chan_) {
		cm_chan_ = rdma_create_event_channel();
		if (!cm_chan_) {
			err = std::string("rdma_create_event_channel: ") + std::strerror(errno) +
			      " (is rdma_ucm loaded and an RDMA device present?)";
			return false;
		}
		if (!set_nonblock(cm_chan_->fd) ||
		    !loop_.add(cm_chan_->fd, EPOLLIN, [this](std::uint32_t) { on_cm_event(); })) {
			err = "cannot watch the rdma_cm event channel";
			return false;
		}
	}
	addrinfo *res = nullptr;
	if (!resolve_listen(host, port, &res, err))
		return false;
	const std::string service = std::to_string(port);
	if (rdma_create_id(cm_chan_, &listen_id_, nullptr, RDMA_PS_TCP) != 0) {
		err = std::string("rdma_create_id: ") + std::strerror(errno);
		::freeaddrinfo(res);
		return false;
	}
	int rc = rdma_bind_addr(listen_id_, res->ai_addr);
	int saved = errno;
	::freeaddrinfo(res);
	if (rc == 0) {
		rc = rdma_listen(listen_id_, 64);
		saved = errno;
	}
	if (rc != 0) {
		err = "cannot listen for RDMA on " + host + ":" + service + ": " +
		      std::strerror(saved) +
		      (saved == ENODEV || saved == EADDRNOTAVAIL
			       ? " (no RDMA device has that address)" : "");
		rdma_destroy_id(listen_id_);
		listen_id_ = nullptr;
		return false;
	}
	local_ = sockaddr_str(rdma_get_local_addr(listen_id_));
	port_ = ntohs(rdma_get_src_port(listen_id_));
	return true;
}

void RdmaTransport::stop_listening()
{
	if (listen_id_) {
		rdma_destroy_id(listen_id_);
		listen_id_ = nullptr;
	}
}

RdmaTransport::Conn *RdmaTransport::find(ConnId id)
{
	auto it = conns_.find(id);
	return it == conns_.end() ? nullptr : it->second.get();
}

void RdmaTransport::on_cm_event()
{
	for (;;) {
		rdma_cm_event *ev = nullptr;
		if (rdma_get_cm_event(cm_chan_, &ev) != 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				LOG_ERR("rdma: rdma_get_cm_event: %s", std::strerror(errno));
			return;
		}
		// Copy what we need and acknowledge at once: rdma_destroy_id()
		// waits for every event of its id to be acknowledged.
		const rdma_cm_event_type type = ev->event;
		rdma_cm_id *id = ev->id;
		const int status = ev->status;
		rdma_conn_param req{};
		CmPrivate priv;
		bool priv_ok = true;
		if (type == RDMA_CM_EVENT_CONNECT_REQUEST) {
			req = ev->param.conn;
			priv_ok = parse_cm_private(req.private_data, req.private_data_len, priv);
			req.private_data = nullptr;
			req.private_data_len = 0;
		}
		rdma_ack_cm_event(ev);

		if (type == RDMA_CM_EVENT_CONNECT_REQUEST) {
			if (!priv_ok) {
				LOG_WARN_RL("rdma: %s refused: bad connect private data",
					 sockaddr_str(rdma_get_peer_addr(id)).c_str());
				rdma_reject(id, nullptr, 0);
				rdma_destroy_id(id);
				continue;
			}
			on_connect_request(id, req, priv);
			continue;
		}
		if (id == listen_id_) {
			if (type == RDMA_CM_EVENT_DEVICE_REMOVAL)
				LOG_ERR("rdma: the listening device was removed");
			continue;
		}
		auto where = by_cm_.find(id);
		if (where == by_cm_.end())
			continue;
		Conn *c = find(where->second.first);
		if (!c || c->state == State::kDead)
			continue;
		Queue *q = c->queues[where->second.second].get();
		switch (type) {
		case RDMA_CM_EVENT_ESTABLISHED:
			q->established = true;
			LOG_DBG("rdma: conn %llu (%s) queue %u established",
				static_cast<unsigned long long>(c->id), c->peer.c_str(), q->qid);
			break;
		case RDMA_CM_EVENT_DISCONNECTED:
			LOG_DBG("rdma: conn %llu (%s) queue %u disconnected",
				static_cast<unsigned long long>(c->id), c->peer.c_str(), q->qid);
			fail(*c, nullptr);
			break;
		case RDMA_CM_EVENT_CONNECT_ERROR:
		case RDMA_CM_EVENT_UNREACHABLE:
		case RDMA_CM_EVENT_REJECTED:
		case RDMA_CM_EVENT_DEVICE_REMOVAL:
			LOG_INFO_RL("rdma: conn %llu (%s) queue %u: %s (status %d)",
				 static_cast<unsigned long long>(c->id), c->peer.c_str(), q->qid,
				 rdma_event_str(type), status);
			fail(*c, nullptr);
			break;
		default:
			LOG_DBG("rdma: conn %llu queue %u: %s",
				static_cast<unsigned long long>(c->id), q->qid, rdma_event_str(type));
			break;
		}
	}
}

RdmaTransport::Device *RdmaTransport::device_for(ibv_context *ctx)
{
	auto it = devices_.find(ctx);
	if (it != devices_.end())
		return it->second.get();
	auto d = std::make_unique<Device>();
	d->ctx = ctx;
	if (ibv_query_device(ctx, &d->attr) != 0) {
		LOG_ERR_RL("rdma: ibv_query_device: %s", std::strerror(errno));
		return nullptr;
	}
	d->chan = ibv_create_comp_channel(ctx);
	if (!d->chan || !set_nonblock(d->chan->fd)) {
		LOG_ERR_RL("rdma: completion channel: %s", std::strerror(errno));
		if (d->chan)
			ibv_destroy_comp_channel(d->chan);
		return nullptr;
	}
	Device *dp = d.get();
	if (!loop_.add(d->chan->fd, EPOLLIN, [this, dp](std::uint32_t) { on_cq_event(*dp); })) {
		ibv_destroy_comp_channel(d->chan);
		return nullptr;
	}
	if (set_nonblock(ctx->async_fd))
		loop_.add(ctx->async_fd, EPOLLIN, [this, dp](std::uint32_t) { on_async_event(*dp); });
	LOG_INFO("rdma: using device %s", ibv_get_device_name(ctx->device));
	devices_[ctx] = std::move(d);
	return dp;
}

void RdmaTransport::on_connect_request(rdma_cm_id *id, const rdma_conn_param &req,
				       const CmPrivate &priv)
{
	const std::string peer = sockaddr_str(rdma_get_peer_addr(id));
	auto refuse = [id, &peer](const std::string &why) {
		LOG_WARN_RL("rdma: %s refused: %s", peer.c_str(), why.c_str());
		rdma_reject(id, nullptr, 0);
		rdma_destroy_id(id);
	};

	// A further queue joins the session whose token it presents; queue 0
	// always starts a connection of its own.
	Conn *c = nullptr;
	if (priv.qid > 0) {
		Conn *cand = find(joining_.find(priv.token, priv.client_id, priv.nr_queues));
		if (!cand || cand->state != State::kOpen || cand->nr_queues != priv.nr_queues ||
		    cand->queues[priv.qid] || !cand->dev || cand->dev->ctx != id->verbs)
			return refuse("queue " + std::to_string(priv.qid) +
				      " without a valid join token");
		c = cand;
	}
	bool fresh = false;
	if (!c) {
		if (conns_.size() >= max_conns_)
			return refuse("already " + std::to_string(max_conns_) + " connections");
		// Here priv.qid is 0 (others join above): its small first ring.
		const std::size_t first = ring_bytes(kRdmaFirstRecvDepth + kRdmaFirstSendDepth);
		if (max_pinned_ && pinned_ + first > max_pinned_)
			return refuse("pinned-memory limit reached (" + std::to_string(pinned_) +
				      " bytes)");
		std::string addr = sockaddr_host(rdma_get_peer_addr(id));
		if (!per_addr_.acquire(addr))
			return refuse("already " + std::to_string(per_addr_.max()) +
				      " connections from that address");
		auto owned = std::make_unique<Conn>();
		c = owned.get();
		c->id = next_id_++;
		c->client_id = priv.client_id;
		c->nr_queues = priv.nr_queues;
		c->queues.resize(c->nr_queues);
		c->peer = peer;
		c->addr = std::move(addr);
		c->deadline = std::chrono::steady_clock::now() + kConnectTimeout;
		c->dev = device_for(id->verbs);
		if (!c->dev) {
			per_addr_.release(c->addr);
			return refuse("device setup failed");
		}
		c->pd = ibv_alloc_pd(id->verbs);
		if (!c->pd) {
			per_addr_.release(c->addr);
			return refuse(std::string("ibv_alloc_pd: ") + std::strerror(errno));
		}
		conns_[c->id] = std::move(owned);
		fresh = true;
	}

	auto q = std::make_unique<Queue>();
	q->qid = priv.qid;
	q->cm = id;
	Queue &qr = *q;
	c->queues[priv.qid] = std::move(q);
	by_cm_[id] = {c->id, priv.qid};
	std::string why;
	if (!setup_queue(*c, qr, req, why)) {
		LOG_WARN_RL("rdma: %s queue %u refused: %s", peer.c_str(), priv.qid, why.c_str());
		rdma_reject(id, nullptr, 0);
		fail(*c, nullptr);
		return;
	}
	if (std::all_of(c->queues.begin(), c->queues.end(), [](auto &x) { return x != nullptr; }))
		joining_.erase(c->id);
	if (fresh) {
		c->announced = true;
		events_->on_connect(c->id, peer);
	}
}

bool RdmaTransport::setup_queue(Conn &c, Queue &q, const rdma_conn_param &req, std::string &why)
{
	auto fail_with = [&why](const char *what) {
		why = std::string(what) + ": " + std::strerror(errno);
		return false;
	};
	// The QP is made for the full depth; queue 0 starts with fewer
	// buffers (see handshake_done()). Queues 1.. of a client that agreed
	// to DG_FEAT_MQ (known before they join): a receive per credit and
	// one more, a send slot per credit, on its message queues; nothing
	// on the others, which carry one-sided RDMA only.
	unsigned nr_recv = kRdmaRecvDepthOther, nr_send = kRdmaSendDepthOther;
	if (q.qid > 0 && c.mq) {
		const bool msgs = q.qid < dg_mq_queues(c.nr_queues);
		nr_recv = msgs ? dg_mq_credits(c.nr_queues) + 1 : 0;
		nr_send = msgs ? dg_mq_credits(c.nr_queues) : 0;
	}
	q.max_recv = q.qid == 0 ? kRdmaRecvDepth : std::max(nr_recv, 1u);
	q.max_send = q.qid == 0 ? kRdmaSendDepth : std::max(nr_send, 1u);
	// Room for bulk() pieces too (work requests, no buffers).
	const unsigned sq_depth = q.max_send + kRdmaMaxBulkWrs;
	const int cqe = static_cast<int>(q.max_recv + sq_depth + 8);
	q.cq = ibv_create_cq(q.cm->verbs, cqe, nullptr, c.dev->chan, 0);
	if (!q.cq)
		return fail_with("ibv_create_cq");
	by_cq_[q.cq] = {c.id, q.qid};
	if (ibv_req_notify_cq(q.cq, 0) != 0)
		return fail_with("ibv_req_notify_cq");

	ibv_qp_init_attr qa{};
	qa.send_cq = q.cq;
	qa.recv_cq = q.cq;
	qa.qp_type = IBV_QPT_RC;
	qa.cap.max_send_wr = sq_depth;
	qa.cap.max_recv_wr = q.max_recv;
	qa.cap.max_send_sge = 1;
	qa.cap.max_recv_sge = 1;
	// In the client's PD: its keys work on all of its queues.
	if (rdma_create_qp(q.cm, c.pd, &qa) != 0)
		return fail_with("rdma_create_qp");
	q.qp = q.cm->qp;
	by_qp_[q.qp] = c.id;

	if (q.qid == 0 ? !add_ring(c, q, kRdmaFirstRecvDepth, kRdmaFirstSendDepth, why)
		       : !add_ring(c, q, nr_recv, nr_send, why))
		return false;

	rdma_conn_param cp{};
	// The client reads our memory: we answer its RDMA READs. In a connect
	// request the CM reports the peer's initiator depth as our
	// responder_resources (the fields are from the receiver's view).
	cp.responder_resources = static_cast<std::uint8_t>(
		std::min<int>(req.responder_resources, c.dev->attr.max_qp_rd_atom));
	// And we read the client's memory for stord's WRITEs with segments
	// (RDMA READ): as deep as the client lets us (its responder
	// resources, which the CM reports as our initiator depth).
	cp.initiator_depth = static_cast<std::uint8_t>(
		std::min<int>(req.initiator_depth, c.dev->attr.max_qp_init_rd_atom));
	cp.rnr_retry_count = 7;
	if (rdma_accept(q.cm, &cp) != 0)
		return fail_with("rdma_accept");
	return true;
}

bool RdmaTransport::add_ring(Conn &c, Queue &q, unsigned nr_recv, unsigned nr_send,
			     std::string &why)
{
	const std::size_t len = ring_bytes(nr_recv + nr_send);
	if (len == 0)
		return true;
	if (max_pinned_ && pinned_ + len > max_pinned_) {
		why = "pinned-memory limit reached (" + std::to_string(pinned_) + " bytes)";
		return false;
	}
	void *p = ::mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			 -1, 0);
	if (p == MAP_FAILED) {
		why = std::string("mmap: ") + std::strerror(errno);
		return false;
	}
	Ring r;
	r.mem = static_cast<std::byte *>(p);
	r.len = len;
	r.mr = ibv_reg_mr(c.pd, r.mem, len, IBV_ACCESS_LOCAL_WRITE);
	if (!r.mr) {
		why = std::string("ibv_reg_mr: ") + std::strerror(errno);
		::munmap(p, len);
		return false;
	}
	q.rings.push_back(r);	// freed with the queue from here on
	pinned_ += len;
	for (unsigned i = 0; i < nr_send; i++) {
		q.send.push_back({r.mem + (nr_recv + i) * frame_, r.mr->lkey});
		q.free_send.push_back(static_cast<unsigned>(q.send.size() - 1));
	}
	for (unsigned i = 0; i < nr_recv; i++) {
		q.recv.push_back({r.mem + i * frame_, r.mr->lkey});
		if (!post_recv(q, static_cast<unsigned>(q.recv.size() - 1))) {
			why = std::string("ibv_post_recv: ") + std::strerror(errno);
			return false;
		}
	}
	return true;
}

void RdmaTransport::handshake_done(ConnId id)
{
	Conn *c = find(id);
	if (!c || c->state != State::kOpen || c->queues.empty() || !c->queues[0])
		return;
	Queue &q = *c->queues[0];
	if (q.full)
		return;
	q.full = true;	// one try
	std::string why;
	if (!add_ring(*c, q, q.max_recv - static_cast<unsigned>(q.recv.size()),
		      q.max_send - static_cast<unsigned>(q.send.size()), why))
		LOG_INFO_RL("rdma: conn %llu (%s) keeps its small ring: %s",
			    static_cast<unsigned long long>(c->id), c->peer.c_str(), why.c_str());
}

bool RdmaTransport::post_recv(Queue &q, unsigned slot)
{
	ibv_sge sge{};
	sge.addr = reinterpret_cast<std::uintptr_t>(q.recv[slot].p);
	sge.length = static_cast<std::uint32_t>(frame_);
	sge.lkey = q.recv[slot].lkey;
	ibv_recv_wr wr{}, *bad = nullptr;
	wr.wr_id = kRecvBit | slot;
	wr.sg_list = &sge;
	wr.num_sge = 1;
	return ibv_post_recv(q.qp, &wr, &bad) == 0;
}

bool RdmaTransport::post_send(Queue &q, unsigned slot, const Outgoing &out)
{
	const Bytes &frame = out.frame;
	std::memcpy(q.send[slot].p, frame.data(), frame.size());
	ibv_sge sge{};
	sge.addr = reinterpret_cast<std::uintptr_t>(q.send[slot].p);
	sge.length = static_cast<std::uint32_t>(frame.size());
	sge.lkey = q.send[slot].lkey;
	ibv_send_wr wr{}, *bad = nullptr;
	wr.wr_id = slot;
	wr.sg_list = &sge;
	wr.num_sge = 1;
	wr.opcode = IBV_WR_SEND;
	if (out.invalidate) {
		wr.opcode = IBV_WR_SEND_WITH_INV;
		wr.invalidate_rkey = out.rkey;
	}
	wr.send_flags = IBV_SEND_SIGNALED;
	return ibv_post_send(q.qp, &wr, &bad) == 0;
}

RdmaTransport::Queue *RdmaTransport::reply_queue(Conn &c, std::uint64_t req_id, bool take)
{
	unsigned qid = 0;
	if (auto it = c.reply_to.find(req_id); it != c.reply_to.end()) {
		qid = it->second;
		if (take)
			c.reply_to.erase(it);
	}
	// A queue without send slots (none of its own) sends nothing.
	if (qid < c.queues.size() && c.queues[qid] && !c.queues[qid]->send.empty())
		return c.queues[qid].get();
	return c.queues[0].get();
}

RdmaTransport::Queue *RdmaTransport::send_queue(Conn &c, const Bytes &frame)
{
	if (!c.reply_to.empty()) {
		Result<Hdr> h = decode_hdr(frame);
		if (h && h->is_reply())
			return reply_queue(c, h->req_id, true);
	}
	return c.queues[0].get();
}

void RdmaTransport::note_request(Conn &c, const Queue &q, ByteSpan frame)
{
	Result<Hdr> h = decode_hdr(frame);
	if (!h || h->is_reply())
		return;	// the service deals with it
	if (q.qid == 0) {
		if (!c.reply_to.empty())
			c.reply_to.erase(h->req_id);	// a req_id used again
		return;
	}
	if (c.reply_to.size() >= kRdmaMaxReplyRoutes && !c.reply_to.contains(h->req_id)) {
		LOG_INFO_RL("rdma: conn %llu (%s): %zu requests unanswered on queues 1..; "
			    "this one is answered on queue 0",
			    static_cast<unsigned long long>(c.id), c.peer.c_str(),
			    c.reply_to.size());
		return;
	}
	c.reply_to[h->req_id] = static_cast<std::uint16_t>(q.qid);
}

bool RdmaTransport::send(ConnId id, Bytes frame)
{
	return queue_frame(id, Outgoing{std::move(frame)});
}

bool RdmaTransport::send_invalidate(ConnId id, Bytes frame, std::uint32_t rkey)
{
	return queue_frame(id, Outgoing{std::move(frame), true, rkey});
}

bool RdmaTransport::queue_frame(ConnId id, Outgoing out)
{
	Bytes &frame = out.frame;
	Conn *c = find(id);
	if (!c || c->state != State::kOpen)
		return false;
	if (frame.size() > frame_) {
		LOG_ERR_RL("rdma: conn %llu: %zu-byte frame exceeds %zu",
			   static_cast<unsigned long long>(id), frame.size(), frame_);
		fail(*c, nullptr);
		return false;
	}
	Queue *q = send_queue(*c, frame);
	if (!q)
		return false;	// cannot happen: queue 0 made the connection
	if (q->free_send.empty() || !q->backlog.empty()) {
		if (c->backlog >= kRdmaMaxBacklog) {
			fail(*c, "peer does not take its replies");
			return false;
		}
		q->backlog.push_back(std::move(out));
		c->backlog++;
		return true;
	}
	unsigned slot = q->free_send.back();
	q->free_send.pop_back();
	if (!post_send(*q, slot, out)) {
		fail(*c, "ibv_post_send failed");
		return false;
	}
	tx_by_queue_[q->qid]++;
	return true;
}

void RdmaTransport::drain_backlog(Conn &c, Queue &q)
{
	while (!q.backlog.empty() && !q.free_send.empty() && c.state != State::kDead) {
		unsigned s = q.free_send.back();
		q.free_send.pop_back();
		if (!post_send(q, s, q.backlog.front()))
			fail(c, "ibv_post_send failed");
		else
			tx_by_queue_[q.qid]++;
		q.backlog.pop_front();
		c.backlog--;
	}
}

void RdmaTransport::on_cq_event(Device &d)
{
	for (;;) {
		ibv_cq *cq = nullptr;
		void *ctx = nullptr;
		if (ibv_get_cq_event(d.chan, &cq, &ctx) != 0)
			return;	// EAGAIN: drained
		ibv_ack_cq_events(cq, 1);
		auto it = by_cq_.find(cq);
		if (it == by_cq_.end())
			continue;
		Conn *c = find(it->second.first);
		if (!c || c->state == State::kDead)
			continue;
		Queue &q = *c->queues[it->second.second];
		if (ibv_req_notify_cq(cq, 0) != 0) {
			fail(*c, "ibv_req_notify_cq failed");
			continue;
		}
		poll_cq(*c, q);
	}
}

void RdmaTransport::poll_cq(Conn &c, Queue &q)
{
	ibv_wc wc[16];
	for (;;) {
		if (c.state == State::kDead)
			return;
		int n = ibv_poll_cq(q.cq, 16, wc);
		if (n <= 0) {
			if (n < 0)
				fail(c, "ibv_poll_cq failed");
			return;
		}
		for (int i = 0; i < n && c.state != State::kDead; i++) {
			const ibv_wc &w = wc[i];
			if (w.status != IBV_WC_SUCCESS) {
				if ((w.wr_id & kBulkBit) && w.status != IBV_WC_WR_FLUSH_ERR)
					bulk_errors_++;
				fail(c, w.status == IBV_WC_WR_FLUSH_ERR ? nullptr
									 : ibv_wc_status_str(w.status));
				break;
			}
			if (w.wr_id & kBulkBit) {
				bulk_completed(c, w);
			} else if (w.wr_id & kRecvBit) {
				const auto slot = static_cast<unsigned>(w.wr_id & 0xffffffffu);
				if (slot >= q.recv.size()) {
					fail(c, "bad wr_id");
					break;
				}
				q.established = true;	// RECV may beat ESTABLISHED
				rx_by_queue_[q.qid]++;
				if (c.state == State::kOpen) {
					const ByteSpan frame(recv_slot(q, slot), w.byte_len);
					note_request(c, q, frame);
					events_->on_message(c.id, frame);
				}
				if (c.state != State::kDead && !post_recv(q, slot))
					fail(c, "ibv_post_recv failed");
			} else {
				const auto slot = static_cast<unsigned>(w.wr_id);
				if (slot >= q.send.size()) {
					fail(c, "bad wr_id");
					break;
				}
				q.free_send.push_back(slot);
				drain_backlog(c, q);
				maybe_disconnect(c);
			}
		}
	}
}

void RdmaTransport::on_async_event(Device &d)
{
	for (;;) {
		ibv_async_event ev;
		if (ibv_get_async_event(d.ctx, &ev) != 0)
			return;
		const ibv_event_type type = ev.event_type;
		Conn *c = nullptr;
		rdma_cm_id *cm = nullptr;
		switch (type) {
		case IBV_EVENT_QP_FATAL:
		case IBV_EVENT_QP_REQ_ERR:
		case IBV_EVENT_QP_ACCESS_ERR:
		case IBV_EVENT_COMM_EST:
		case IBV_EVENT_SQ_DRAINED:
		case IBV_EVENT_PATH_MIG:
		case IBV_EVENT_PATH_MIG_ERR:
		case IBV_EVENT_QP_LAST_WQE_REACHED:
			if (auto it = by_qp_.find(ev.element.qp); it != by_qp_.end()) {
				c = find(it->second);
				if (c)
					for (auto &q : c->queues)
						if (q && q->qp == ev.element.qp)
							cm = q->cm;
			}
			break;
		default:
			break;
		}
		ibv_ack_async_event(&ev);
		if (type == IBV_EVENT_COMM_EST) {
			// Data arrived before the CM's ESTABLISHED: tell the CM.
			if (c && cm && c->state != State::kDead)
				rdma_notify(cm, IBV_EVENT_COMM_EST);
		} else if (type == IBV_EVENT_QP_FATAL || type == IBV_EVENT_QP_REQ_ERR ||
			   type == IBV_EVENT_QP_ACCESS_ERR) {
			// E.g. a peer that used a key it does not hold.
			if (c && c->state != State::kDead) {
				LOG_INFO_RL("rdma: conn %llu (%s): %s",
					    static_cast<unsigned long long>(c->id), c->peer.c_str(),
					    ibv_event_type_str(type));
				fail(*c, nullptr);
			}
		} else if (type == IBV_EVENT_DEVICE_FATAL) {
			LOG_ERR("rdma: device %s failed", ibv_get_device_name(d.ctx->device));
		} else {
			LOG_DBG("rdma: async event %s", ibv_event_type_str(type));
		}
	}
}

bool RdmaTransport::all_sent(const Conn &c) const
{
	if (c.backlog)
		return false;
	for (const auto &q : c.queues)
		if (q && q->free_send.size() < q->send.size())
			return false;
	return true;
}

void RdmaTransport::maybe_disconnect(Conn &c)
{
	if (c.state != State::kClosing || !all_sent(c))
		return;
	for (auto &q : c.queues) {
		if (!q || q->disconnect_sent)
			continue;
		q->disconnect_sent = true;
		(void)rdma_disconnect(q->cm);
	}
	// DISCONNECTED follows; tick() gives up after the deadline.
}

void RdmaTransport::close(ConnId id)
{
	Conn *c = find(id);
	if (!c || c->state != State::kOpen)
		return;
	c->state = State::kClosing;
	c->deadline = std::chrono::steady_clock::now() + kDisconnectTimeout;
	maybe_disconnect(*c);
}

void RdmaTransport::fail(Conn &c, const char *why)
{
	if (c.state == State::kDead)
		return;
	if (why)
		LOG_INFO_RL("rdma: conn %llu (%s): %s; closing",
			    static_cast<unsigned long long>(c.id), c.peer.c_str(), why);
	c.state = State::kDead;
	ConnId id = c.id;
	loop_.defer([this, id] { teardown(id, true); });
}

void RdmaTransport::tick()
{
	const auto now = std::chrono::steady_clock::now();
	for (auto &[id, c] : conns_) {
		if (c->state == State::kDead || now < c->deadline)
			continue;
		if (c->state == State::kClosing) {
			fail(*c, "disconnect timed out");
			continue;
		}
		const bool complete = std::all_of(c->queues.begin(), c->queues.end(),
						  [](auto &q) { return q && q->established; });
		if (!complete)
			fail(*c, "its queues did not all connect in time");
		else
			c->deadline = SteadyTime::max();
	}
}

void RdmaTransport::close_all_now()
{
	for (auto &[id, c] : conns_)
		fail(*c, nullptr);
}

void RdmaTransport::destroy_queue(Queue &q, bool reject)
{
	if (reject)
		rdma_reject(q.cm, nullptr, 0);
	if (q.qp) {
		by_qp_.erase(q.qp);
		rdma_destroy_qp(q.cm);
		q.qp = nullptr;
	}
}

void RdmaTransport::teardown(ConnId id, bool notify)
{
	auto it = conns_.find(id);
	if (it == conns_.end())
		return;
	std::unique_ptr<Conn> owned = std::move(it->second);
	conns_.erase(it);
	Conn &c = *owned;
	joining_.erase(id);
	if (!c.addr.empty())
		per_addr_.release(c.addr);
	// Order matters: no QPs, then no remote access to anything; only then
	// may the memory behind the MRs be freed by the service.
	for (auto &q : c.queues)
		if (q)
			destroy_queue(*q, false);
	for (auto &[h, mr] : c.mrs)
		if (ibv_dereg_mr(mr) != 0)
			LOG_ERR_RL("rdma: ibv_dereg_mr: %s", std::strerror(errno));
	c.mrs.clear();
	for (auto &[h, b] : c.bulk_mrs) {
		if (ibv_dereg_mr(b.mr) != 0)
			LOG_ERR_RL("rdma: ibv_dereg_mr: %s", std::strerror(errno));
		pinned_ -= b.len;
	}
	c.bulk_mrs.clear();
	c.bulk_ops.clear();	// their done() is never called
	for (auto &q : c.queues) {
		if (!q)
			continue;
		for (Ring &r : q->rings) {
			ibv_dereg_mr(r.mr);
			::munmap(r.mem, r.len);
			pinned_ -= r.len;
		}
		q->rings.clear();
		if (q->cq) {
			by_cq_.erase(q->cq);
			if (ibv_destroy_cq(q->cq) != 0)
				LOG_ERR_RL("rdma: ibv_destroy_cq: %s", std::strerror(errno));
		}
		by_cm_.erase(q->cm);
		rdma_destroy_id(q->cm);
	}
	if (c.pd && ibv_dealloc_pd(c.pd) != 0)
		LOG_ERR_RL("rdma: ibv_dealloc_pd: %s", std::strerror(errno));
	if (notify && c.announced && events_)
		events_->on_close(id);
}

void RdmaTransport::enable_mq(ConnId id)
{
	if (Conn *c = find(id); c && c->state == State::kOpen)
		c->mq = true;
}

void RdmaTransport::write_metrics(MetricsText &t) const
{
	// Queue indices up to the highest one that carried anything.
	std::size_t n = 0;
	for (std::size_t i = 0; i < kRdmaMaxQueues; i++)
		if (rx_by_queue_[i] || tx_by_queue_[i])
			n = i + 1;
	n = std::max<std::size_t>(n, 1);
	t.family("rdma_queue_received", "counter",
		 "Messages received over RDMA, by queue pair index (all connections).");
	for (std::size_t i = 0; i < n; i++)
		t.sample("rdma_queue_received", "_total",
			 "queue=\"" + std::to_string(i) + "\"", rx_by_queue_[i]);
	t.counter("rdma_bulk_errors",
		  "RDMA READs and WRITEs of bulk transfers that completed in error (each ended "
		  "its connection).",
		  bulk_errors_);
	t.family("rdma_queue_sent", "counter",
		 "Messages sent over RDMA, by queue pair index (all connections).");
	for (std::size_t i = 0; i < n; i++)
		t.sample("rdma_queue_sent", "_total", "queue=\"" + std::to_string(i) + "\"",
			 tx_by_queue_[i]);
}

int RdmaTransport::bulk_register(ConnId id, std::span<std::byte> mem, std::uint64_t &handle)
{
	Conn *c = find(id);
	if (!c || c->state != State::kOpen)
		return ENOTCONN;
	if (max_pinned_ && pinned_ + mem.size() > max_pinned_) {
		LOG_INFO_RL("rdma: conn %llu (%s): no staging buffers: pinned-memory limit "
			    "reached (%llu bytes)",
			    static_cast<unsigned long long>(c->id), c->peer.c_str(),
			    static_cast<unsigned long long>(pinned_));
		return ENOMEM;
	}
	// Ours only: the peer gets no key to it.
	ibv_mr *mr = ibv_reg_mr(c->pd, mem.data(), mem.size(), IBV_ACCESS_LOCAL_WRITE);
	if (!mr)
		return errno ? errno : ENOMEM;
	handle = next_key_++;
	c->bulk_mrs[handle] = BulkMr{mr, mem.size()};
	pinned_ += mem.size();
	return 0;
}

bool RdmaTransport::bulk(ConnId id, std::uint64_t req_id, std::uint64_t handle,
			 std::span<std::byte> mem, BulkDir dir, std::span<const RemoteSeg> segs,
			 std::function<void()> done)
{
	Conn *c = find(id);
	if (!c || c->state != State::kOpen)
		return false;
	auto m = c->bulk_mrs.find(handle);
	const auto *base = m == c->bulk_mrs.end() ? nullptr
						   : static_cast<std::byte *>(m->second.mr->addr);
	std::size_t total = 0;
	for (const RemoteSeg &g : segs)
		total += g.len;
	// Our own mistakes, not the peer's: refuse loudly.
	if (!base || mem.data() < base || mem.data() + mem.size() > base + m->second.len ||
	    total != mem.size() || segs.empty()) {
		LOG_ERR_RL("rdma: conn %llu: bad bulk transfer (%zu bytes, %zu segments)",
			   static_cast<unsigned long long>(id), mem.size(), segs.size());
		fail(*c, "bad bulk transfer");
		return false;
	}
	if (c->bulk_wrs + segs.size() > kRdmaMaxBulkWrs) {
		fail(*c, "too many bulk transfers");
		return false;
	}
	Queue *q = reply_queue(*c, req_id, false);
	const std::uint32_t op_id = c->next_bulk++;
	std::size_t pos = 0;
	for (const RemoteSeg &g : segs) {
		ibv_sge sge{};
		sge.addr = reinterpret_cast<std::uintptr_t>(mem.data() + pos);
		sge.length = g.len;
		sge.lkey = m->second.mr->lkey;
		ibv_send_wr wr{}, *bad = nullptr;
		wr.wr_id = kBulkBit | op_id;
		wr.sg_list = &sge;
		wr.num_sge = 1;
		wr.opcode = dir == BulkDir::kToPeer ? IBV_WR_RDMA_WRITE : IBV_WR_RDMA_READ;
		wr.send_flags = IBV_SEND_SIGNALED;
		wr.wr.rdma.remote_addr = g.addr;
		wr.wr.rdma.rkey = g.rkey;
		if (ibv_post_send(q->qp, &wr, &bad) != 0) {
			fail(*c, "ibv_post_send (bulk) failed");
			return false;
		}
		c->bulk_wrs++;
		c->bulk_ops[op_id].pending++;
		pos += g.len;
	}
	c->bulk_ops[op_id].done = std::move(done);
	return true;
}

void RdmaTransport::bulk_completed(Conn &c, const ibv_wc &w)
{
	const auto op_id = static_cast<std::uint32_t>(w.wr_id & 0xffffffffu);
	auto it = c.bulk_ops.find(op_id);
	if (it == c.bulk_ops.end() || it->second.pending == 0) {
		fail(c, "bad wr_id");
		return;
	}
	c.bulk_wrs--;
	if (--it->second.pending)
		return;
	std::function<void()> done = std::move(it->second.done);
	c.bulk_ops.erase(it);
	if (done && c.state == State::kOpen)
		done();
}

void RdmaTransport::set_join_token(ConnId id, const Token &token)
{
	Conn *c = find(id);
	if (!c || c->state != State::kOpen)
		return;
	if (std::all_of(c->queues.begin(), c->queues.end(), [](auto &x) { return x != nullptr; }))
		return;	// nothing left to join
	joining_.add(token, id, c->client_id, c->nr_queues);
}

int RdmaTransport::expose(ConnId id, std::span<std::byte> mem, RemoteKey &key)
{
	Conn *c = find(id);
	if (!c || c->state != State::kOpen)
		return ENOTCONN;
	ibv_mr *mr = ibv_reg_mr(c->pd, mem.data(), mem.size(),
				IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_READ |
					IBV_ACCESS_REMOTE_WRITE);
	if (!mr)
		return errno ? errno : ENOMEM;
	key.addr = reinterpret_cast<std::uintptr_t>(mem.data());
	key.rkey = mr->rkey;
	key.handle = next_key_++;
	c->mrs[key.handle] = mr;
	return 0;
}

void RdmaTransport::unexpose(ConnId id, const RemoteKey &key)
{
	Conn *c = find(id);
	if (!c)
		return;
	auto it = c->mrs.find(key.handle);
	if (it == c->mrs.end())
		return;
	if (ibv_dereg_mr(it->second) != 0)
		LOG_ERR_RL("rdma: ibv_dereg_mr: %s", std::strerror(errno));
	c->mrs.erase(it);
}

}  // namespace

std::unique_ptr<Transport> make_rdma_transport(EventLoop &loop, const TransportLimits &limits,
					       std::size_t max_frame)
{
	return std::make_unique<RdmaTransport>(loop, limits, max_frame);
}

std::unique_ptr<Transport> make_rdma_transport(EventLoop &loop, unsigned max_conns,
					       std::size_t max_frame)
{
	TransportLimits limits;
	limits.max_conns = max_conns;
	return make_rdma_transport(loop, limits, max_frame);
}

}  // namespace disagg
