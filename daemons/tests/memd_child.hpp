// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// The disagg-memd binary (MEMD_BINARY, set by CMake) as a child process of a
// test: spawn() starts it with its stderr on a pipe, wait_for() reads that
// until a regex matches, wait_exit() reaps it.
#pragma once

#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <regex>
#include <string>
#include <vector>

#ifndef MEMD_BINARY
#error "MEMD_BINARY must name the disagg-memd binary"
#endif

namespace disagg::memd::test {

struct Child {
	pid_t pid = -1;
	int err_fd = -1;	// its stderr
	std::string stderr_text;

	// Read stderr until @re matches (or @t passes); returns the match.
	std::string wait_for(const std::regex &re, std::chrono::milliseconds t = std::chrono::milliseconds(5000))
	{
		const auto deadline = std::chrono::steady_clock::now() + t;
		std::smatch m;
		while (!std::regex_search(stderr_text, m, re)) {
			auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
				deadline - std::chrono::steady_clock::now()).count();
			if (left <= 0)
				return {};
			pollfd p{err_fd, POLLIN, 0};
			if (::poll(&p, 1, static_cast<int>(left)) <= 0)
				return {};
			char buf[4096];
			ssize_t n = ::read(err_fd, buf, sizeof(buf));
			if (n <= 0)
				return {};
			stderr_text.append(buf, static_cast<std::size_t>(n));
		}
		return m.size() > 1 ? m[1].str() : m[0].str();
	}
	int wait_exit()
	{
		int st = 0;
		::waitpid(pid, &st, 0);
		char buf[4096];
		ssize_t n;
		while ((n = ::read(err_fd, buf, sizeof(buf))) > 0)
			stderr_text.append(buf, static_cast<std::size_t>(n));
		::close(err_fd);
		return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	}
};

inline Child spawn(const std::vector<std::string> &args)
{
	Child c;
	int p[2];
	EXPECT_EQ(::pipe2(p, O_CLOEXEC), 0);
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p[1], 2);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	std::vector<std::string> all = {MEMD_BINARY};
	all.insert(all.end(), args.begin(), args.end());
	std::vector<char *> argv;
	for (auto &a : all)
		argv.push_back(a.data());
	argv.push_back(nullptr);
	EXPECT_EQ(::posix_spawn(&c.pid, MEMD_BINARY, &fa, nullptr, argv.data(), environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	::close(p[1]);
	c.err_fd = p[0];
	return c;
}

}  // namespace disagg::memd::test
