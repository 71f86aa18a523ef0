// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// A private etcd for the tests: /usr/bin/etcd on 127.0.0.1, free ports, a
// temp --data-dir, killed and removed at the end. Tests skip
// (GTEST_SKIP) when /usr/bin/etcd is missing.
#pragma once

#include "etcd_client.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

namespace disagg::test {

inline constexpr const char *kEtcdBinary = "/usr/bin/etcd";

// A TCP port nobody listens on right now (bound and released).
inline std::uint16_t free_port()
{
	const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	sockaddr_in a{};
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t len = sizeof(a);
	std::uint16_t port = 0;
	if (bind(fd, reinterpret_cast<sockaddr *>(&a), sizeof(a)) == 0 &&
	    getsockname(fd, reinterpret_cast<sockaddr *>(&a), &len) == 0)
		port = ntohs(a.sin_port);
	close(fd);
	return port;
}

class EtcdProcess {
public:
	EtcdProcess()
	{
		char tmpl[] = "/tmp/dg-etcd-XXXXXX";
		if (mkdtemp(tmpl))
			dir_ = tmpl;
	}
	~EtcdProcess()
	{
		stop();
		if (!dir_.empty()) {
			std::error_code ec;
			std::filesystem::remove_all(dir_, ec);
		}
	}
	EtcdProcess(const EtcdProcess &) = delete;
	EtcdProcess &operator=(const EtcdProcess &) = delete;

	static bool available() { return access(kEtcdBinary, X_OK) == 0; }

	// Start (again, on the same ports; @wipe: without the data of the
	// last run) and wait until it answers. False on failure.
	bool start(bool wipe = false)
	{
		if (dir_.empty() || pid_ > 0)
			return false;
		if (!client_port_) {
			client_port_ = free_port();
			peer_port_ = free_port();
		}
		if (wipe) {
			std::error_code ec;
			std::filesystem::remove_all(dir_ + "/data", ec);
		}
		const std::string client = "http://127.0.0.1:" + std::to_string(client_port_);
		const std::string peer = "http://127.0.0.1:" + std::to_string(peer_port_);
		std::vector<std::string> args = {
			kEtcdBinary, "--name", "t", "--data-dir", dir_ + "/data",
			"--listen-client-urls", client, "--advertise-client-urls", client,
			"--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
			"--initial-cluster", "t=" + peer, "--log-level", "error",
			"--logger", "zap"};
		pid_ = fork();
		if (pid_ < 0)
			return false;
		if (pid_ == 0) {
			const int fd = open((dir_ + "/log").c_str(),
					    O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
			if (fd >= 0) {
				dup2(fd, 1);
				dup2(fd, 2);
			}
			std::vector<char *> argv;
			for (std::string &a : args)
				argv.push_back(a.data());
			argv.push_back(nullptr);
			execv(kEtcdBinary, argv.data());
			_exit(127);
		}
		const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
		etcd::Client c({endpoint()}, std::chrono::milliseconds(500));
		while (std::chrono::steady_clock::now() < deadline) {
			try {
				c.get_prefix("/");
				return true;
			} catch (const etcd::Error &) {
				std::this_thread::sleep_for(std::chrono::milliseconds(50));
			}
		}
		return false;
	}

	// Kill it (SIGKILL: no goodbye) and reap it.
	void stop()
	{
		if (pid_ <= 0)
			return;
		kill(pid_, SIGKILL);
		waitpid(pid_, nullptr, 0);
		pid_ = -1;
	}

	std::string endpoint() const
	{
		return "http://127.0.0.1:" + std::to_string(client_port_);
	}
	std::uint16_t port() const { return client_port_; }

private:
	std::string dir_;
	pid_t pid_ = -1;
	std::uint16_t client_port_ = 0, peer_port_ = 0;
};

// A test suite sharing one private etcd (starting one takes over a
// second); each test gets its own key prefix, "/t/TESTNAME/". Tests skip
// when /usr/bin/etcd is missing.
class EtcdSuite : public ::testing::Test {
protected:
	static void SetUpTestSuite()
	{
		if (!EtcdProcess::available())
			return;
		etcd_ = new EtcdProcess;
		if (!etcd_->start()) {
			delete etcd_;
			etcd_ = nullptr;
		}
	}
	static void TearDownTestSuite()
	{
		delete etcd_;
		etcd_ = nullptr;
	}
	void SetUp() override
	{
		if (!EtcdProcess::available())
			GTEST_SKIP() << kEtcdBinary << " not installed";
		ASSERT_TRUE(etcd_) << "etcd did not start";
		prefix_ = std::string("/t/") +
			  ::testing::UnitTest::GetInstance()->current_test_info()->name() + "/";
	}

	static inline EtcdProcess *etcd_ = nullptr;
	std::string prefix_;
};

// Wait up to @timeout for @pred(), polling every 50 ms.
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds timeout)
{
	const auto deadline = std::chrono::steady_clock::now() + timeout;
	for (;;) {
		if (pred())
			return true;
		if (std::chrono::steady_clock::now() >= deadline)
			return false;
		std::this_thread::sleep_for(std::chrono::milliseconds(50));
	}
}

}  // namespace disagg::test

// In a test: skip when there is no etcd, else start @var (an EtcdProcess).
#define START_ETCD_OR_SKIP(var)                                          \
	if (!disagg::test::EtcdProcess::available())                     \
		GTEST_SKIP() << disagg::test::kEtcdBinary << " not installed"; \
	disagg::test::EtcdProcess var;                                   \
	ASSERT_TRUE(var.start()) << "etcd did not start"
