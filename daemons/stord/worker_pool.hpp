// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// Threads that do the file syscalls, so a slow fsync or a large read never
// holds up the event loop or other clients.
//
// Jobs queue per connection; workers take them round-robin across
// connections, and one connection has at most max_running jobs running at
// once (threads - 1 by default), so a client with a pile of fsyncs leaves
// a thread to everybody else. A job's result (the reply frame) goes back to
// the event-loop thread through an eventfd: done() is called there, never
// on a worker, and is the only place replies reach the transport.
#pragma once

#include "event_loop.hpp"
#include "transport.hpp"
#include "proto.hpp"

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

namespace disagg::stord {

// A finished job: the reply frame and what its header says, so nobody
// decodes the frame again.
struct JobResult {
	proto::Bytes frame;
	std::uint16_t opcode = 0;	// reply bit included
	std::uint32_t status = 0;
	std::uint64_t req_id = 0;
	// A READ or WRITE with segments: its staging slot (-1: none) and,
	// for a READ, the bytes read into it.
	int slot = -1;
	std::uint32_t io_bytes = 0;
};

class WorkerPool {
public:
	// Runs on a worker; returns what done() gets.
	using Job = std::function<JobResult()>;
	// Runs on the event-loop thread with a finished job's result.
	using Done = std::function<void(ConnId c, JobResult result)>;

	WorkerPool(EventLoop &loop, unsigned threads, unsigned max_running, Done done);
	~WorkerPool();	// waits for running jobs; queued ones are dropped
	WorkerPool(const WorkerPool &) = delete;
	WorkerPool &operator=(const WorkerPool &) = delete;

	bool ok() const { return efd_ >= 0; }
	void submit(ConnId c, Job job);
	// Drop @c's queued jobs (running ones finish; done() still sees them).
	void forget(ConnId c);
	unsigned threads() const { return static_cast<unsigned>(workers_.size()); }

private:
	struct Queue {
		std::deque<Job> jobs;
		unsigned running = 0;
		bool ready = false;	// in ready_
	};
	void work();
	void drain();		// on the loop: hand results to done()
	void make_ready(ConnId c, Queue &q);	// lock held

	EventLoop &loop_;
	const unsigned max_running_;
	const Done done_;
	int efd_ = -1;
	std::mutex lock_;
	std::condition_variable cv_;
	bool stop_ = false;
	std::map<ConnId, Queue> queues_;
	std::deque<ConnId> ready_;	// connections with a job they may start
	std::vector<std::pair<ConnId, JobResult>> results_;
	std::vector<std::thread> workers_;
};

}  // namespace disagg::stord
