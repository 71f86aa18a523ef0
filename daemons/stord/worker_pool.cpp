// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "worker_pool.hpp"

#include "log.hpp"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace disagg::stord {

WorkerPool::WorkerPool(EventLoop &loop, unsigned threads, unsigned max_running, Done done)
	: loop_(loop), max_running_(max_running ? max_running : 1), done_(std::move(done))
{
	efd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (efd_ < 0) {
		LOG_ERR("worker pool: eventfd: %s", std::strerror(errno));
		return;
	}
	if (!loop_.add(efd_, EPOLLIN, [this](std::uint32_t) { drain(); })) {
		::close(efd_);
		efd_ = -1;
		return;
	}
	for (unsigned i = 0; i < threads; i++)
		workers_.emplace_back([this] { work(); });
}

WorkerPool::~WorkerPool()
{
	{
		std::lock_guard<std::mutex> g(lock_);
		stop_ = true;
	}
	cv_.notify_all();
	for (std::thread &t : workers_)
		t.join();
	if (efd_ >= 0) {
		loop_.remove(efd_);
		::close(efd_);
	}
}

void WorkerPool::make_ready(ConnId c, Queue &q)
{
	if (!q.ready && !q.jobs.empty() && q.running < max_running_) {
		q.ready = true;
		ready_.push_back(c);
		cv_.notify_one();
	}
}

void WorkerPool::submit(ConnId c, Job job)
{
	std::lock_guard<std::mutex> g(lock_);
	Queue &q = queues_[c];
	q.jobs.push_back(std::move(job));
	make_ready(c, q);
}

void WorkerPool::forget(ConnId c)
{
	std::lock_guard<std::mutex> g(lock_);
	auto it = queues_.find(c);
	if (it == queues_.end())
		return;
	it->second.jobs.clear();
	if (it->second.running == 0 && !it->second.ready)
		queues_.erase(it);
}

void WorkerPool::work()
{
	std::unique_lock<std::mutex> g(lock_);
	for (;;) {
		cv_.wait(g, [this] { return stop_ || !ready_.empty(); });
		if (stop_)
			return;
		const ConnId c = ready_.front();
		ready_.pop_front();
		Queue &q = queues_[c];
		q.ready = false;
		if (q.jobs.empty()) {	// forgotten meanwhile
			if (q.running == 0)
				queues_.erase(c);
			continue;
		}
		Job job = std::move(q.jobs.front());
		q.jobs.pop_front();
		q.running++;
		make_ready(c, q);	// its next job, behind everybody else's
		g.unlock();
		JobResult result = job();
		g.lock();
		results_.emplace_back(c, std::move(result));
		Queue &after = queues_[c];
		after.running--;
		if (after.jobs.empty() && after.running == 0 && !after.ready)
			queues_.erase(c);
		else
			make_ready(c, after);
		const std::uint64_t one = 1;
		ssize_t r = ::write(efd_, &one, sizeof(one));
		(void)r;
	}
}

void WorkerPool::drain()
{
	std::uint64_t v;
	while (::read(efd_, &v, sizeof(v)) == sizeof(v))
		;
	std::vector<std::pair<ConnId, JobResult>> done;
	{
		std::lock_guard<std::mutex> g(lock_);
		done.swap(results_);
	}
	for (auto &[c, result] : done)
		done_(c, std::move(result));
}

}  // namespace disagg::stord
