// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// disagg-stord test helpers: a temporary tree with an exported root and a
// directory outside it holding planted files, and the service on a fake
// transport with a real event loop and worker threads.
#pragma once

#include "event_loop.hpp"
#include "fake_transport.hpp"
#include "fd_cache.hpp"
#include "frame_util.hpp"
#include "fs_ops.hpp"
#include "fs_root.hpp"
#include "log.hpp"
#include "service.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>

namespace disagg::stord::test {

using namespace proto;
using disagg::test::Got;
using disagg::test::hello_body;
using disagg::test::request;

namespace fs = std::filesystem;

// <tmp>/root is exported; <tmp>/outside holds "secret" files that no
// request may read or change.
class TempTree {
public:
	TempTree()
	{
		char tmpl[] = "/tmp/stord-test-XXXXXX";
		const char *d = ::mkdtemp(tmpl);
		EXPECT_NE(d, nullptr);
		base = d ? d : "/nonexistent";
		root = base + "/root";
		outside = base + "/outside";
		fs::create_directories(root);
		fs::create_directories(outside + "/dir");
		write(outside + "/secret", "secret data\n");
		write(outside + "/dir/secret2", "more secret\n");
		// Access times older than the modification times: any read
		// (relatime) moves them, so the snapshot shows reads too.
		for (const char *f : {"/secret", "/dir/secret2"}) {
			const timespec ts[2] = {{1000, 0}, {0, UTIME_OMIT}};
			EXPECT_EQ(::utimensat(AT_FDCWD, (outside + f).c_str(), ts, 0), 0);
		}
		snapshot_ = snapshot(outside);
	}
	~TempTree()
	{
		std::error_code ec;
		fs::remove_all(base, ec);
	}

	static void write(const std::string &p, const std::string &data)
	{
		std::ofstream(p, std::ios::binary) << data;
	}
	// Without touching the access time.
	static std::string read_noatime(const std::string &p)
	{
		int fd = ::open(p.c_str(), O_RDONLY | O_NOATIME | O_CLOEXEC);
		std::string out;
		char buf[4096];
		ssize_t n;
		while (fd >= 0 && (n = ::read(fd, buf, sizeof(buf))) > 0)
			out.append(buf, static_cast<std::size_t>(n));
		if (fd >= 0)
			::close(fd);
		return out;
	}
	static std::string read(const std::string &p)
	{
		std::ifstream in(p, std::ios::binary);
		std::stringstream ss;
		ss << in.rdbuf();
		return ss.str();
	}
	std::string in_root(const std::string &rel) const { return root + "/" + rel; }

	// Names, contents, modes, owners and times of everything beneath @dir
	// (access times of files only: listing a directory moves its own).
	static std::map<std::string, std::string> snapshot(const std::string &dir)
	{
		std::map<std::string, std::string> out;
		for (const auto &e : fs::recursive_directory_iterator(dir)) {
			struct stat st;
			if (::lstat(e.path().c_str(), &st) != 0)
				continue;
			std::ostringstream v;
			v << st.st_mode << ' ' << st.st_uid << ':' << st.st_gid << ' ' << st.st_size
			  << ' ' << st.st_mtim.tv_sec << '.' << st.st_mtim.tv_nsec << ' '
			  << st.st_nlink;
			if (S_ISREG(st.st_mode))
				v << ' ' << st.st_atim.tv_sec << '.' << st.st_atim.tv_nsec << ' '
				  << read_noatime(e.path());
			out[e.path()] = v.str();
		}
		return out;
	}
	// Nothing outside the root was read, written or changed.
	void expect_outside_untouched() const { EXPECT_EQ(snapshot(outside), snapshot_); }

	std::string base, root, outside;

private:
	std::map<std::string, std::string> snapshot_;
};

inline FsReq req(std::string_view path)
{
	FsReq r;
	r.path = path;
	return r;
}

// Export options of the tests that expect root's rights: no squashing
// (requests carry uid 0 unless they say otherwise).
inline ExportOptions no_squash()
{
	ExportOptions o;
	o.squash = Squash::kNone;
	return o;
}

// FsOps on a TempTree, called directly.
class OpsHarness {
public:
	explicit OpsHarness(std::size_t fd_cache = 16, const ExportOptions &opt = no_squash())
		: cache(fd_cache)
	{
		log::set_level(log::Level::kError);
		std::string err;
		EXPECT_TRUE(root.open(tree.root, err)) << err;
		root.set_cross_mounts(opt.cross_mounts);
		ops = std::make_unique<FsOps>(root, cache, opt);
	}
	std::unique_ptr<Got> run(Op op, const FsReq &r)
	{
		Hdr h;
		h.opcode = static_cast<std::uint16_t>(op);
		h.req_id = ++req_;
		FsDone d = ops->run(h, kMinor, r, features);
		auto g = disagg::test::got(std::move(d.frame));
		EXPECT_EQ(g->status(), d.status);
		EXPECT_EQ(g->hdr.req_id, req_);
		return g;
	}
	std::uint32_t status(Op op, const FsReq &r) { return run(op, r)->status(); }

	TempTree tree;
	FsRoot root;
	FdCache cache;
	std::unique_ptr<FsOps> ops;
	std::uint32_t features = 0;	// the session's DG_FEAT_* bits

private:
	std::uint64_t req_ = 0;
};

// StorService on a FakeTransport, a real loop and worker threads.
class ServiceHarness {
public:
	// @with_keys: clients must authenticate (disagg::test::kTestKeys).
	// @conns_per_identity: ServiceOptions::max_conns_per_identity.
	// @one_sided: an RDMA-like transport (DG_FEAT_RDMA_FS, bulk()).
	explicit ServiceHarness(unsigned threads = 2, bool with_keys = false,
				unsigned conns_per_identity = 64, bool one_sided = false)
		: transport(one_sided), cache(16)
	{
		log::set_level(log::Level::kError);
		std::string err;
		EXPECT_TRUE(root.open(tree.root, err)) << err;
		ops = std::make_unique<FsOps>(root, cache, no_squash());
		ServiceOptions opt;
		opt.max_conns_per_identity = conns_per_identity;
		if (with_keys) {
			EXPECT_TRUE(keys.load_text(disagg::test::kTestKeys, err)) << err;
			opt.keys = &keys;
		}
		service = std::make_unique<StorService>(transport, loop, clock, opt,
							*ops, cache, tree.root, threads);
		transport.listen("fake", 0, service.get(), err);
	}
	~ServiceHarness() { service.reset(); }

	// Run the loop until @c has a frame waiting (at most 5 s).
	std::unique_ptr<Got> next(ConnId c, int timeout_ms = 5000)
	{
		const auto deadline = std::chrono::steady_clock::now() +
				      std::chrono::milliseconds(timeout_ms);
		auto &q = transport.sent(c);
		// The network: bulk transfers complete as the loop runs.
		while (q.empty() && std::chrono::steady_clock::now() < deadline) {
			transport.run_bulk();
			loop.run_once(10);
			transport.run_bulk();
		}
		if (q.empty())
			return nullptr;
		Bytes b = std::move(q.front());
		q.pop_front();
		return disagg::test::got(std::move(b));
	}
	std::unique_ptr<Got> send(ConnId c, const Bytes &frame, int timeout_ms = 5000)
	{
		transport.deliver(c, frame);
		return next(c, timeout_ms);
	}
	std::unique_ptr<Got> call(ConnId c, Op op, const Body &body = Empty{})
	{
		auto g = send(c, request(op, ++req_, body));
		EXPECT_TRUE(g) << "no reply to opcode " << static_cast<unsigned>(op);
		if (g) {
			EXPECT_EQ(g->hdr.req_id, req_);
		}
		return g;
	}
	ConnId client(Role role = Role::kFs)
	{
		ConnId c = transport.connect();
		auto g = call(c, Op::kHello, hello_body(7, role));
		EXPECT_TRUE(g && g->status() == 0);
		return c;
	}
	std::uint64_t next_req() { return ++req_; }

	TempTree tree;
	EventLoop loop;
	FakeClock clock;
	FakeTransport transport;
	auth::KeyStore keys;
	FsRoot root;
	FdCache cache;
	std::unique_ptr<FsOps> ops;
	std::unique_ptr<StorService> service;

private:
	std::uint64_t req_ = 0;
};

}  // namespace disagg::stord::test
