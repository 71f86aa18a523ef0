// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// An in-process transport for tests: the test plays the network. It
// connects, delivers frames and drops connections by hand, and reads what
// the service sent. Like a real transport it never calls back from inside
// a call the service made: closes take effect at settle(), which deliver()
// runs after each frame. Extra queues of a multi-queue (RDMA-like)
// connection join as the RDMA transport lets them: join() with the token
// the service handed over (JoinTable).
#pragma once

#include "join_table.hpp"
#include "transport.hpp"

#include <cstdint>
#include <cstring>
#include <deque>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace disagg {

class FakeTransport final : public Transport {
public:
	explicit FakeTransport(bool one_sided = false,
			       std::size_t max_frame = proto::kHdrSize + proto::kMaxPayload)
		: one_sided_(one_sided), max_frame_(max_frame) {}

	const char *name() const override { return "fake"; }
	bool one_sided() const override { return one_sided_; }
	std::size_t max_frame() const override { return max_frame_; }
	bool listen(const std::string &, std::uint16_t, TransportEvents *events,
		    std::string &) override
	{
		events_ = events;
		return true;
	}
	void stop_listening() override { listening_ = false; }
	std::string local_address() const override { return "fake:0"; }
	std::uint16_t local_port() const override { return 0; }

	bool send(ConnId c, proto::Bytes frame) override
	{
		auto it = conns_.find(c);
		if (it == conns_.end() || it->second.closing)
			return false;
		if (frame.size() > max_frame_) {
			close(c);
			return false;
		}
		outbox_[c].push_back(std::move(frame));
		return true;
	}
	void close(ConnId c) override
	{
		if (auto it = conns_.find(c); it != conns_.end())
			it->second.closing = true;	// queued frames stay in sent()
	}
	std::size_t connections() const override { return conns_.size(); }
	void close_all_now() override
	{
		for (auto &[c, conn] : conns_)
			conn.closing = true;
		settle();
	}

	int expose(ConnId c, std::span<std::byte> mem, RemoteKey &key) override
	{
		auto it = conns_.find(c);
		if (it == conns_.end())
			return ENOTCONN;
		if (expose_error)
			return expose_error;
		key = RemoteKey{};
		key.handle = next_key_++;
		if (one_sided_) {
			key.addr = reinterpret_cast<std::uintptr_t>(mem.data());
			key.rkey = static_cast<std::uint32_t>(key.handle);
		}
		it->second.exposed.insert(key.handle);
		return 0;
	}
	void unexpose(ConnId c, const RemoteKey &key) override
	{
		if (auto it = conns_.find(c); it != conns_.end())
			it->second.exposed.erase(key.handle);
		unexposed++;
	}
	void set_join_token(ConnId c, const proto::Token &token) override
	{
		auto it = conns_.find(c);
		if (it == conns_.end() || it->second.closing)
			return;
		tokens[c] = token;
		if (it->second.joined + 1 < it->second.nr_queues)
			joins_.add(token, c, it->second.client_id, it->second.nr_queues);
	}
	void handshake_done(ConnId c) override
	{
		if (conns_.contains(c))
			handshakes++;
	}
	void enable_mq(ConnId c) override
	{
		if (conns_.contains(c))
			mq.insert(c);
	}

	int bulk_register(ConnId c, std::span<std::byte> mem, std::uint64_t &handle) override
	{
		auto it = conns_.find(c);
		if (!one_sided_)
			return EOPNOTSUPP;
		if (it == conns_.end() || it->second.closing)
			return ENOTCONN;
		if (bulk_register_error)
			return bulk_register_error;
		handle = next_key_++;
		it->second.staging[handle] = mem;
		return 0;
	}
	bool bulk(ConnId c, std::uint64_t req_id, std::uint64_t handle, std::span<std::byte> mem,
		  BulkDir dir, std::span<const RemoteSeg> segs, std::function<void()> done) override
	{
		auto it = conns_.find(c);
		if (!one_sided_ || it == conns_.end() || it->second.closing)
			return false;
		BulkOp op{c, req_id, dir, mem, {segs.begin(), segs.end()}, std::move(done), false};
		// Our own buffer must be one we registered: a service bug
		// otherwise, which the test sees as a failed transfer.
		auto st = it->second.staging.find(handle);
		op.bad = st == it->second.staging.end() || mem.data() < st->second.data() ||
			 mem.data() + mem.size() > st->second.data() + st->second.size();
		bulk_ops_.push_back(std::move(op));
		return true;
	}
	bool send_invalidate(ConnId c, proto::Bytes frame, std::uint32_t rkey) override
	{
		if (!send(c, std::move(frame)))
			return false;
		invalidated[c].push_back(rkey);
		return true;
	}

	// ---- the test's side of the wire

	// Memory of @c's peer that bulk() may reach with the returned rkey,
	// at its own address.
	std::uint32_t add_peer_region(ConnId c, std::span<std::byte> mem)
	{
		const auto rkey = static_cast<std::uint32_t>(next_key_++);
		peer_regions_[c][rkey] = mem;
		return rkey;
	}
	// Carry out the bulk transfers posted so far (unless hold_bulk), in
	// order: a transfer with a segment outside the peer's regions (wrong
	// rkey, address or length) closes its connection, as a remote access
	// error does; the others copy and call their done(). Returns how
	// many ran.
	std::size_t run_bulk()
	{
		std::size_t n = 0;
		while (!hold_bulk && !bulk_ops_.empty()) {
			BulkOp op = std::move(bulk_ops_.front());
			bulk_ops_.pop_front();
			n++;
			if (!is_open(op.c))
				continue;
			if (op.bad || !copy(op)) {
				bulk_failures++;
				conns_[op.c].closing = true;
				continue;
			}
			(op.dir == BulkDir::kToPeer ? bulk_to_peer : bulk_from_peer) += op.mem.size();
			op.done();
		}
		settle();
		return n;
	}
	std::size_t bulk_pending() const { return bulk_ops_.size(); }

	// Queue 0 of a client; @nr_queues and @client_id as its dg_cm_private
	// would say.
	ConnId connect(const std::string &peer = "fake-peer:1", unsigned nr_queues = 1,
		       std::uint64_t client_id = 0)
	{
		ConnId c = next_conn_++;
		Conn &conn = conns_[c];
		conn.nr_queues = nr_queues;
		conn.client_id = client_id;
		events_->on_connect(c, peer);
		return c;
	}
	// Queue @qid (> 0) presents @token: the connection it joined, or 0
	// when the transport would reject it.
	ConnId join(const proto::Token &token, std::uint64_t client_id, unsigned nr_queues,
		    unsigned qid)
	{
		ConnId c = joins_.find(token, client_id, nr_queues);
		auto it = conns_.find(c);
		if (!c || it == conns_.end() || it->second.closing || qid == 0 ||
		    qid >= it->second.nr_queues || it->second.queues.contains(qid))
			return 0;
		it->second.queues.insert(qid);
		if (++it->second.joined + 1 >= it->second.nr_queues)
			joins_.erase(c);
		return c;
	}
	std::size_t join_tokens() const { return joins_.size(); }
	void deliver(ConnId c, proto::ByteSpan frame)
	{
		if (auto it = conns_.find(c); it != conns_.end() && !it->second.closing)
			events_->on_message(c, frame);
		settle();
	}
	// The peer vanished (cable pulled, process killed).
	void drop(ConnId c)
	{
		if (auto it = conns_.find(c); it != conns_.end())
			it->second.closing = true;
		settle();
	}
	// Finish pending closes: keys withdrawn, on_close() called.
	void settle()
	{
		for (auto it = conns_.begin(); it != conns_.end();) {
			auto next = std::next(it);
			if (it->second.closing) {
				ConnId c = it->first;
				joins_.erase(c);
				conns_.erase(it);
				events_->on_close(c);
			}
			it = next;
		}
	}
	bool is_open(ConnId c) const
	{
		auto it = conns_.find(c);
		return it != conns_.end() && !it->second.closing;
	}
	// Frames sent to @c, oldest first.
	std::deque<proto::Bytes> &sent(ConnId c) { return outbox_[c]; }
	// Done with closed connection @c: drop what it was sent (long runs).
	void forget(ConnId c)
	{
		if (!conns_.count(c))
			outbox_.erase(c);
	}
	std::size_t exposed(ConnId c) const
	{
		auto it = conns_.find(c);
		return it == conns_.end() ? 0 : it->second.exposed.size();
	}

	int expose_error = 0;	// make expose() fail with this errno
	int bulk_register_error = 0;	// make bulk_register() fail with this errno
	bool hold_bulk = false;		// run_bulk() does nothing while set
	// Peer memory every connection reaches with @any_peer_rkey, at remote
	// addresses from @any_peer_addr (fuzzing: addresses an input can name).
	std::span<std::byte> any_peer;
	std::uint64_t any_peer_addr = 0;
	std::uint32_t any_peer_rkey = 0;
	std::size_t bulk_failures = 0;	// transfers that closed their connection
	std::uint64_t bulk_to_peer = 0, bulk_from_peer = 0;	// bytes moved
	std::map<ConnId, std::vector<std::uint32_t>> invalidated;	// send_invalidate() rkeys
	std::size_t unexposed = 0;
	std::map<ConnId, proto::Token> tokens;	// what set_join_token() got
	std::size_t handshakes = 0;	// handshake_done() calls
	std::set<ConnId> mq;		// enable_mq() got these

private:
	struct BulkOp {
		ConnId c;
		std::uint64_t req_id;
		BulkDir dir;
		std::span<std::byte> mem;
		std::vector<RemoteSeg> segs;
		std::function<void()> done;
		bool bad;
	};
	bool copy(const BulkOp &op)
	{
		auto &regions = peer_regions_[op.c];
		std::size_t pos = 0;
		for (const RemoteSeg &sg : op.segs) {
			auto r = regions.find(sg.rkey);
			std::uint64_t base = 0;
			std::span<std::byte> region;
			if (r != regions.end()) {
				region = r->second;
				base = reinterpret_cast<std::uintptr_t>(region.data());
			} else if (!any_peer.empty() && sg.rkey == any_peer_rkey) {
				region = any_peer;
				base = any_peer_addr;
			} else {
				return false;
			}
			if (sg.addr < base || sg.addr - base > region.size() ||
			    sg.len > region.size() - (sg.addr - base) ||
			    sg.len > op.mem.size() - pos)
				return false;
			std::byte *remote = region.data() + (sg.addr - base);
			if (op.dir == BulkDir::kToPeer)
				std::memcpy(remote, op.mem.data() + pos, sg.len);
			else
				std::memcpy(op.mem.data() + pos, remote, sg.len);
			pos += sg.len;
		}
		return pos == op.mem.size();
	}
	struct Conn {
		std::map<std::uint64_t, std::span<std::byte>> staging;	// bulk_register()
		bool closing = false;
		std::set<std::uint64_t> exposed;
		unsigned nr_queues = 1;
		std::uint64_t client_id = 0;
		unsigned joined = 0;	// queues past 0
		std::set<unsigned> queues;
	};
	const bool one_sided_;
	const std::size_t max_frame_;
	bool listening_ = true;
	TransportEvents *events_ = nullptr;
	ConnId next_conn_ = 1;
	std::uint64_t next_key_ = 0x100;
	std::map<ConnId, Conn> conns_;
	std::map<ConnId, std::deque<proto::Bytes>> outbox_;
	std::map<ConnId, std::map<std::uint32_t, std::span<std::byte>>> peer_regions_;
	std::deque<BulkOp> bulk_ops_;
	JoinTable joins_;
};

}  // namespace disagg
