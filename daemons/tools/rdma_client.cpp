// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// The client over RDMA: rdma_cm to connect, an RC QP with SEND/RECV for
// frames and one-sided RDMA READ/WRITE for pages, completions waited for on
// a completion channel with poll(2) deadlines. Queue 0 connects first and
// carries the handshake; queues 1.. connect after it with the session's
// join token in their struct dg_cm_private (join_queues()).
#include "memclient.hpp"

#include <infiniband/verbs.h>
#include <netdb.h>
#include <poll.h>
#include <rdma/rdma_cma.h>
#include <sys/mman.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>
#include <optional>
#include <vector>

namespace disagg::client {

using namespace proto;

namespace {

constexpr unsigned kRecvDepth = 16;
constexpr unsigned kSendDepth = 8;
constexpr unsigned kIoDepth = 16;	// RDMA READ/WRITE in flight
constexpr std::uint64_t kKindShift = 56;
enum Kind : std::uint64_t { kRecv = 1, kSend = 2, kIo = 3 };

using Clock = std::chrono::steady_clock;

class RdmaConn final : public Conn {
public:
	explicit RdmaConn(const Options &opt) : Conn(opt) {}
	~RdmaConn() override;

	bool setup(std::string &err);

	bool rdma() const override { return true; }
	bool send_raw(ByteSpan frame) override;
	Bytes recv_frame(int timeout_ms, int &err) override;
	std::span<std::byte> data_buffer() override { return {data_, opt_.data_buffer}; }
	int write(const MemSlab &slab, std::span<const Io> ios) override
	{
		return io(slab, ios, IBV_WR_RDMA_WRITE);
	}
	int read(const MemSlab &slab, std::span<const Io> ios) override
	{
		return io(slab, ios, IBV_WR_RDMA_READ);
	}
	int raw_read(std::uint64_t addr, std::uint32_t rkey, std::uint32_t len) override;
	bool join_queues(std::string &err) override;
	std::optional<std::uint32_t> reg_remote(std::span<std::byte> buf, bool server_writes) override;

protected:
	bool send_frame(const Bytes &frame) override { return send_raw(frame); }

private:
	bool wait_cm(rdma_cm_event_type want, std::string &err);
	// Handle completions until @done or the deadline; false on timeout or
	// a broken connection.
	template <class Pred>
	bool wait(Pred done, Clock::time_point deadline);
	void handle(const ibv_wc &wc);
	int io(const MemSlab &slab, std::span<const Io> ios, ibv_wr_opcode op);
	bool post_recv(unsigned slot);
	std::byte *recv_slot(unsigned i) { return msgs_ + i * opt_.max_frame; }
	std::byte *send_slot(unsigned i) { return msgs_ + (kRecvDepth + i) * opt_.max_frame; }

	bool connect_queue(unsigned qid, std::string &err);
	ibv_qp *qp0() const { return ids_[0]->qp; }

	rdma_event_channel *ch_ = nullptr;
	std::vector<rdma_cm_id *> ids_;	// one per queue
	std::vector<bool> has_qp_;
	unsigned next_q_ = 0;		// round-robin for page I/O
	ibv_pd *pd_ = nullptr;
	ibv_comp_channel *cc_ = nullptr;
	ibv_cq *cq_ = nullptr;
	std::byte *msgs_ = nullptr;
	ibv_mr *msgs_mr_ = nullptr;
	std::byte *data_ = nullptr;
	ibv_mr *data_mr_ = nullptr;
	ibv_mr *remote_mr_ = nullptr;	// reg_remote()'s
	bool connected_ = false;
	bool broken_ = false;
	int last_status_ = IBV_WC_SUCCESS;	// of the last failed completion
	std::vector<unsigned> free_send_;
	unsigned io_inflight_ = 0;
	std::deque<Bytes> frames_;	// received, not yet taken
};

RdmaConn::~RdmaConn()
{
	for (std::size_t i = 0; i < ids_.size(); i++) {
		if (connected_)
			rdma_disconnect(ids_[i]);
		if (has_qp_[i])
			rdma_destroy_qp(ids_[i]);
	}
	if (remote_mr_)
		ibv_dereg_mr(remote_mr_);
	if (data_mr_)
		ibv_dereg_mr(data_mr_);
	if (msgs_mr_)
		ibv_dereg_mr(msgs_mr_);
	if (cq_)
		ibv_destroy_cq(cq_);
	if (cc_)
		ibv_destroy_comp_channel(cc_);
	if (pd_)
		ibv_dealloc_pd(pd_);
	for (rdma_cm_id *id : ids_)
		rdma_destroy_id(id);
	if (ch_)
		rdma_destroy_event_channel(ch_);
	if (msgs_)
		::munmap(msgs_, (kRecvDepth + kSendDepth) * opt_.max_frame);
	if (data_)
		::munmap(data_, opt_.data_buffer);
}

bool RdmaConn::wait_cm(rdma_cm_event_type want, std::string &err)
{
	pollfd pfd{ch_->fd, POLLIN, 0};
	if (::poll(&pfd, 1, opt_.timeout_ms) <= 0) {
		err = std::string("timed out waiting for ") + rdma_event_str(want);
		return false;
	}
	rdma_cm_event *ev = nullptr;
	if (rdma_get_cm_event(ch_, &ev) != 0) {
		err = std::string("rdma_get_cm_event: ") + std::strerror(errno);
		return false;
	}
	const rdma_cm_event_type got = ev->event;
	const int status = ev->status;
	rdma_ack_cm_event(ev);
	if (got != want) {
		err = std::string("expected ") + rdma_event_str(want) + ", got " +
		      rdma_event_str(got) + " (status " + std::to_string(status) + ")";
		if (got == RDMA_CM_EVENT_REJECTED)
			err += ": the server refused the connection";
		return false;
	}
	return true;
}

bool RdmaConn::setup(std::string &err)
{
	ch_ = rdma_create_event_channel();
	if (!ch_) {
		err = std::string("rdma_create_event_channel (is rdma_ucm loaded?): ") +
		      std::strerror(errno);
		return false;
	}
	if (!connect_queue(0, err)) {
		if (opt_.queues > 1)
			err = "queue 0: " + err;
		return false;
	}
	connected_ = true;
	return true;
}

bool RdmaConn::join_queues(std::string &err)
{
	const unsigned n = std::max(1u, opt_.queues);
	for (unsigned i = static_cast<unsigned>(ids_.size()); i < n; i++)
		if (!connect_queue(i, err)) {
			err = "queue " + std::to_string(i) + ": " + err;
			return false;
		}
	return true;
}

bool RdmaConn::connect_queue(unsigned qid, std::string &err)
{
	auto fail = [&err](const std::string &what) {
		err = what + ": " + std::strerror(errno);
		return false;
	};
	rdma_cm_id *id = nullptr;
	if (rdma_create_id(ch_, &id, nullptr, RDMA_PS_TCP) != 0)
		return fail("rdma_create_id");
	ids_.push_back(id);
	has_qp_.push_back(false);

	addrinfo hints{}, *dst = nullptr, *src = nullptr;
	hints.ai_family = AF_INET;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	const std::string port = std::to_string(opt_.port);
	if (::getaddrinfo(opt_.host.c_str(), port.c_str(), &hints, &dst) != 0) {
		err = "cannot resolve " + opt_.host;
		return false;
	}
	if (!opt_.bind.empty() && ::getaddrinfo(opt_.bind.c_str(), "0", &hints, &src) != 0) {
		::freeaddrinfo(dst);
		err = "cannot resolve " + opt_.bind;
		return false;
	}
	int rc = rdma_resolve_addr(id, src ? src->ai_addr : nullptr, dst->ai_addr,
				   opt_.timeout_ms);
	::freeaddrinfo(dst);
	if (src)
		::freeaddrinfo(src);
	if (rc != 0)
		return fail("rdma_resolve_addr");
	if (!wait_cm(RDMA_CM_EVENT_ADDR_RESOLVED, err))
		return false;
	if (rdma_resolve_route(id, opt_.timeout_ms) != 0)
		return fail("rdma_resolve_route");
	if (!wait_cm(RDMA_CM_EVENT_ROUTE_RESOLVED, err))
		return false;

	ibv_device_attr attr{};
	if (ibv_query_device(id->verbs, &attr) != 0)
		return fail("ibv_query_device");
	const unsigned nq = static_cast<unsigned>(std::max(1u, opt_.queues));
	if (qid == 0) {
		// Shared by every queue: one PD, one CQ, the buffers.
		pd_ = ibv_alloc_pd(id->verbs);
		if (!pd_)
			return fail("ibv_alloc_pd");
		cc_ = ibv_create_comp_channel(id->verbs);
		if (!cc_)
			return fail("ibv_create_comp_channel");
		cq_ = ibv_create_cq(id->verbs,
				    static_cast<int>(kRecvDepth + nq * (kSendDepth + kIoDepth) + 8),
				    nullptr, cc_, 0);
		if (!cq_)
			return fail("ibv_create_cq");
		const std::size_t msgs_len = (kRecvDepth + kSendDepth) * opt_.max_frame;
		void *p = ::mmap(nullptr, msgs_len, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return fail("mmap");
		msgs_ = static_cast<std::byte *>(p);
		msgs_mr_ = ibv_reg_mr(pd_, msgs_, msgs_len, IBV_ACCESS_LOCAL_WRITE);
		if (!msgs_mr_)
			return fail("ibv_reg_mr");
		p = ::mmap(nullptr, opt_.data_buffer, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return fail("mmap");
		data_ = static_cast<std::byte *>(p);
		data_mr_ = ibv_reg_mr(pd_, data_, opt_.data_buffer, IBV_ACCESS_LOCAL_WRITE);
		if (!data_mr_)
			return fail("ibv_reg_mr");
		for (unsigned i = 0; i < kSendDepth; i++)
			free_send_.push_back(i);
	} else if (id->verbs != ids_[0]->verbs) {
		err = "queue resolved to another device than queue 0";
		return false;
	}
	ibv_qp_init_attr qa{};
	qa.send_cq = cq_;
	qa.recv_cq = cq_;
	qa.qp_type = IBV_QPT_RC;
	qa.cap.max_send_wr = kSendDepth + kIoDepth;
	qa.cap.max_recv_wr = kRecvDepth;
	qa.cap.max_send_sge = 1;
	qa.cap.max_recv_sge = 1;
	if (rdma_create_qp(id, pd_, &qa) != 0)
		return fail("rdma_create_qp");
	has_qp_.back() = true;
	if (qid == 0)
		for (unsigned i = 0; i < kRecvDepth; i++)
			if (!post_recv(i))
				return fail("ibv_post_recv");

	// struct dg_cm_private, little endian.
	std::uint8_t priv[sizeof(dg_cm_private)] = {};
	auto put = [&priv](std::size_t off, std::uint64_t v, std::size_t n) {
		for (std::size_t i = 0; i < n; i++)
			priv[off + i] = static_cast<std::uint8_t>(v >> (8 * i));
	};
	put(offsetof(dg_cm_private, magic), kMagic, 4);
	put(offsetof(dg_cm_private, major), kMajor, 1);
	put(offsetof(dg_cm_private, minor), kMinor, 1);
	put(offsetof(dg_cm_private, qid), qid, 2);
	put(offsetof(dg_cm_private, nr_queues), nq, 2);
	put(offsetof(dg_cm_private, client_id), opt_.client_id, 8);
	if (qid > 0)	// join queue 0's session
		std::memcpy(priv + offsetof(dg_cm_private, token), token_.data(), token_.size());
	rdma_conn_param cp{};
	cp.private_data = priv;
	cp.private_data_len = sizeof(priv);
	cp.initiator_depth = static_cast<std::uint8_t>(
		std::min<int>(kIoDepth, attr.max_qp_init_rd_atom));
	// The server reads our memory for WRITEs with segments (stord's
	// RDMA READ): as many as the device answers at once.
	cp.responder_resources = static_cast<std::uint8_t>(
		std::min<int>(kIoDepth, attr.max_qp_rd_atom));
	cp.retry_count = 7;
	cp.rnr_retry_count = 7;
	if (rdma_connect(id, &cp) != 0)
		return fail("rdma_connect");
	return wait_cm(RDMA_CM_EVENT_ESTABLISHED, err);
}

bool RdmaConn::post_recv(unsigned slot)
{
	ibv_sge sge{reinterpret_cast<std::uintptr_t>(recv_slot(slot)),
		    static_cast<std::uint32_t>(opt_.max_frame), msgs_mr_->lkey};
	ibv_recv_wr wr{}, *bad = nullptr;
	wr.wr_id = (kRecv << kKindShift) | slot;
	wr.sg_list = &sge;
	wr.num_sge = 1;
	return ibv_post_recv(qp0(), &wr, &bad) == 0;
}

void RdmaConn::handle(const ibv_wc &wc)
{
	const auto kind = wc.wr_id >> kKindShift;
	const auto slot = static_cast<unsigned>(wc.wr_id & 0xffffffffu);
	if (wc.status != IBV_WC_SUCCESS) {
		if (!broken_) {
			last_status_ = wc.status;
			error_ = std::string("completion error: ") + ibv_wc_status_str(wc.status);
		}
		broken_ = true;
		if (kind == kIo && io_inflight_)
			io_inflight_--;
		return;
	}
	if (kind == kSend) {
		free_send_.push_back(slot);
	} else if (kind == kIo) {
		io_inflight_--;
	} else if (kind == kRecv) {
		Bytes f(recv_slot(slot), recv_slot(slot) + wc.byte_len);
		if (!post_recv(slot))
			broken_ = true;
		Result<Frame> fr = decode_frame(f);
		if (fr && !fr->hdr.is_reply()) {
			Result<Message> m = decode_message(*fr);
			if (m)
				on_server_request(*m);
			return;
		}
		frames_.push_back(std::move(f));
	}
}

template <class Pred>
bool RdmaConn::wait(Pred done, Clock::time_point deadline)
{
	ibv_wc wc[16];
	for (;;) {
		int n;
		while ((n = ibv_poll_cq(cq_, 16, wc)) > 0)
			for (int i = 0; i < n; i++)
				handle(wc[i]);
		if (done())
			return true;
		if (broken_)
			return false;
		if (ibv_req_notify_cq(cq_, 0) != 0)
			return false;
		if ((n = ibv_poll_cq(cq_, 16, wc)) > 0) {
			for (int i = 0; i < n; i++)
				handle(wc[i]);
			continue;
		}
		auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
			deadline - Clock::now()).count();
		if (left <= 0) {
			error_ = "timed out";
			return false;
		}
		pollfd pfd{cc_->fd, POLLIN, 0};
		if (::poll(&pfd, 1, static_cast<int>(std::min<long long>(left, 1000))) > 0) {
			ibv_cq *cq;
			void *ctx;
			if (ibv_get_cq_event(cc_, &cq, &ctx) == 0)
				ibv_ack_cq_events(cq, 1);
		}
	}
}

bool RdmaConn::send_raw(ByteSpan frame)
{
	if (broken_ || frame.size() > opt_.max_frame) {
		error_ = broken_ ? error_ : "frame too large for RDMA";
		return false;
	}
	const auto deadline = Clock::now() + std::chrono::milliseconds(opt_.timeout_ms);
	if (!wait([this] { return !free_send_.empty(); }, deadline))
		return false;
	unsigned slot = free_send_.back();
	free_send_.pop_back();
	std::memcpy(send_slot(slot), frame.data(), frame.size());
	ibv_sge sge{reinterpret_cast<std::uintptr_t>(send_slot(slot)),
		    static_cast<std::uint32_t>(frame.size()), msgs_mr_->lkey};
	ibv_send_wr wr{}, *bad = nullptr;
	wr.wr_id = (kSend << kKindShift) | slot;
	wr.sg_list = &sge;
	wr.num_sge = 1;
	wr.opcode = IBV_WR_SEND;
	wr.send_flags = IBV_SEND_SIGNALED;
	if (ibv_post_send(qp0(), &wr, &bad) != 0) {
		error_ = std::string("ibv_post_send: ") + std::strerror(errno);
		return false;
	}
	return true;
}

Bytes RdmaConn::recv_frame(int timeout_ms, int &err)
{
	const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
	if (!wait([this] { return !frames_.empty() || got_bye_ || woken(); }, deadline) ||
	    frames_.empty()) {
		if (woken() && !got_bye_) {
			err = 0;
			return {};
		}
		err = got_bye_ ? ECONNRESET : broken_ ? EIO : ETIMEDOUT;
		if (got_bye_)
			error_ = "server said bye";
		return {};
	}
	Bytes f = std::move(frames_.front());
	frames_.pop_front();
	return f;
}

int RdmaConn::io(const MemSlab &slab, std::span<const Io> ios, ibv_wr_opcode op)
{
	const auto deadline = Clock::now() + std::chrono::milliseconds(opt_.timeout_ms);
	for (std::size_t i = 0; i < ios.size(); i++) {
		const Io &io = ios[i];
		if (io.buf.data() < data_ || io.buf.data() + io.buf.size() > data_ + opt_.data_buffer) {
			error_ = "Io buffer outside the registered data buffer";
			return EINVAL;
		}
		if (!wait([this] { return io_inflight_ < kIoDepth; }, deadline))
			return broken_ ? EIO : ETIMEDOUT;
		ibv_sge sge{reinterpret_cast<std::uintptr_t>(io.buf.data()),
			    static_cast<std::uint32_t>(io.buf.size()), data_mr_->lkey};
		ibv_send_wr wr{}, *bad = nullptr;
		wr.wr_id = (kIo << kKindShift) | i;
		wr.sg_list = &sge;
		wr.num_sge = 1;
		wr.opcode = op;
		wr.send_flags = IBV_SEND_SIGNALED;
		wr.wr.rdma.remote_addr = slab.addr + io.offset;
		wr.wr.rdma.rkey = slab.rkey;
		ibv_qp *qp = ids_[next_q_++ % ids_.size()]->qp;
		if (ibv_post_send(qp, &wr, &bad) != 0) {
			error_ = std::string("ibv_post_send: ") + std::strerror(errno);
			return EIO;
		}
		io_inflight_++;
	}
	if (!wait([this] { return io_inflight_ == 0; }, deadline))
		return broken_ ? EIO : ETIMEDOUT;
	return broken_ ? EIO : 0;
}

int RdmaConn::raw_read(std::uint64_t addr, std::uint32_t rkey, std::uint32_t len)
{
	if (len > opt_.data_buffer)
		return -EINVAL;
	MemSlab fake;
	fake.addr = addr;
	fake.rkey = rkey;
	Io one{0, {data_, len}};
	int rc = io(fake, {&one, 1}, IBV_WR_RDMA_READ);
	if (rc == 0)
		return IBV_WC_SUCCESS;
	if (broken_ && last_status_ != IBV_WC_SUCCESS)
		return last_status_;
	return -rc;
}

std::optional<std::uint32_t> RdmaConn::reg_remote(std::span<std::byte> buf, bool server_writes)
{
	if (buf.data() < data_ || buf.data() + buf.size() > data_ + opt_.data_buffer) {
		error_ = "buffer outside the registered data buffer";
		return std::nullopt;
	}
	if (remote_mr_ && ibv_dereg_mr(remote_mr_) != 0) {
		error_ = std::string("ibv_dereg_mr: ") + std::strerror(errno);
		return std::nullopt;
	}
	remote_mr_ = ibv_reg_mr(pd_, buf.data(), buf.size(),
				IBV_ACCESS_LOCAL_WRITE |
					(server_writes ? IBV_ACCESS_REMOTE_WRITE
						       : IBV_ACCESS_REMOTE_READ));
	if (!remote_mr_) {
		error_ = std::string("ibv_reg_mr: ") + std::strerror(errno);
		return std::nullopt;
	}
	return remote_mr_->rkey;
}

}  // namespace

std::unique_ptr<Conn> open_rdma(const Options &opt, std::string &err)
{
	auto c = std::make_unique<RdmaConn>(opt);
	if (!c->setup(err))
		return nullptr;
	return c;
}

}  // namespace disagg::client
