// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// libFuzzer harness: disagg-stord's request handling, down to the file
// syscalls. The input is a script (fuzz_util.hpp, script.hpp) played
// against a StorService on the fake transport, with a real event loop and
// one worker thread, exporting <tmp>/root, emptied before each input.
// Beside it, <tmp>/outside/secret must come through every input unchanged.
// Flags: bit 1 keyed (the service has script.hpp's keys; its connects may
// log in). The fake transport is one-sided (RDMA-like), so fs clients may
// get DG_FEAT_RDMA_FS: READs and WRITEs with segments reach World::peer
// through rkey kPeerRkey at kPeerAddr (any other key or address drops the
// connection, as a remote access error does). Checked, besides ASan/UBSan
// and script.hpp's checks:
//   - a request handed to the workers is answered within 10 s (a request
//     that blocks a worker forever is a denial of service);
//   - nothing outside the root is touched.
//
// The export is --squash none and the root mode 01777 (like /tmp), so the
// credentials each fs request carries (from the fuzz input) are taken as
// they come and the permission checks for all kinds of callers run. Run
// as root the workers really switch to those ids (creds.hpp); the harness
// first drops CAP_MKNOD (no device node appears on this host, even in a
// temp directory), and device nodes and set-user-ID bits stay refused by the
// export options' defaults. Whatever ids it acts as, the service only
// reaches beneath the temp root, which check_outside() watches.
//
// Two services (open and keyed, see World) are made once and reused;
// what a script leaves in them is cleared at its end, so libFuzzer's leak
// check after each input still works.
// Requests run one at a time: after each frame the harness waits for the
// answer of any request the service handed to its workers, so a run is
// reproducible. Concurrency is the unit tests' business.
#include "clock.hpp"
#include "event_loop.hpp"
#include "fake_transport.hpp"
#include "fd_cache.hpp"
#include "fs_ops.hpp"
#include "fs_root.hpp"
#include "fuzz_util.hpp"
#include "log.hpp"
#include "script.hpp"
#include "service.hpp"

#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

using namespace disagg;
using namespace disagg::proto;
namespace stdfs = std::filesystem;

namespace {

constexpr std::size_t kMaxConns = 8;
constexpr auto kReplyTimeout = std::chrono::seconds(10);
const char kSecret[] = "nothing may read or change this\n";
constexpr mode_t kRootMode = 01777;
// Client memory that one-sided READs and WRITEs may name (corpus_gen's).
constexpr std::uint64_t kPeerAddr = 0x10000;
constexpr std::size_t kPeerLen = 256 * 1024;
constexpr std::uint32_t kPeerRkey = 0x5000;

std::string g_base, g_root, g_secret;
struct stat g_secret_st;

void drop_mknod()
{
	if (::geteuid() != 0)
		return;
	(void)::prctl(PR_CAPBSET_DROP, CAP_MKNOD, 0, 0, 0);
	__user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
	__user_cap_data_struct caps[2]{};
	if (::syscall(SYS_capget, &hdr, caps) != 0)
		fuzz::fail("capget");
	caps[0].effective &= ~(1u << CAP_MKNOD);
	caps[0].permitted &= ~(1u << CAP_MKNOD);
	caps[0].inheritable &= ~(1u << CAP_MKNOD);
	if (::syscall(SYS_capset, &hdr, caps) != 0)
		fuzz::fail("capset");
}

std::string slurp(const std::string &p)
{
	std::ifstream in(p, std::ios::binary);
	std::stringstream ss;
	ss << in.rdbuf();
	return ss.str();
}

// Make every directory beneath @dir ours to enter and empty again, so
// remove_all() works as a non-root user after a chmod 0 from the fuzzer.
void open_up(const std::string &dir)
{
	::chmod(dir.c_str(), 0700);
	std::error_code ec;
	for (const auto &e : stdfs::directory_iterator(dir, ec))
		if (e.is_directory(ec) && !e.is_symlink(ec))
			open_up(e.path());
}

// Empty the root for the next input (the directory itself stays: the
// service holds it open) and undo what SETATTR may have done to it.
void wipe_root()
{
	std::error_code ec;
	for (const auto &e : stdfs::directory_iterator(g_root, ec)) {
		std::error_code ec2;
		if (stdfs::remove_all(e.path(), ec2) == static_cast<std::uintmax_t>(-1) || ec2) {
			open_up(e.path());
			stdfs::remove_all(e.path(), ec2);
		}
	}
	if (ec || !stdfs::is_empty(g_root, ec))
		fuzz::fail("cannot empty the exported root");
	if (::chmod(g_root.c_str(), kRootMode) != 0 ||
	    ::chown(g_root.c_str(), ::geteuid(), ::getegid()) != 0)
		fuzz::fail("cannot reset the exported root", errno);
}

void check_outside()
{
	struct stat st;
	FUZZ_CHECK(::lstat(g_secret.c_str(), &st) == 0, errno);
	FUZZ_CHECK(st.st_mode == g_secret_st.st_mode && st.st_uid == g_secret_st.st_uid &&
			   st.st_gid == g_secret_st.st_gid && st.st_nlink == 1 &&
			   st.st_size == g_secret_st.st_size &&
			   st.st_mtim.tv_sec == g_secret_st.st_mtim.tv_sec &&
			   st.st_mtim.tv_nsec == g_secret_st.st_mtim.tv_nsec,
		   st.st_ino);
	FUZZ_CHECK(slurp(g_secret) == kSecret, st.st_size);
	std::size_t n = 0;
	for (const auto &e : stdfs::directory_iterator(g_base + "/outside")) {
		(void)e;
		n++;
	}
	FUZZ_CHECK(n == 1, n);
}

void cleanup() { stdfs::remove_all(g_base); }

// What lives across inputs: starting a worker thread and an event loop per
// input would cost more than most inputs do. Nothing a script does
// outlives it: its connections are closed at its end, the fd caches are
// emptied and the root wiped before the next one. One World is open, the
// other has keys.
struct World {
	stord::FsRoot root;
	stord::FdCache cache{16};
	std::unique_ptr<stord::FsOps> ops;
	EventLoop loop;
	FakeClock clock;
	FakeTransport transport;
	std::unique_ptr<stord::StorService> service;
	// The clients' memory for one-sided file data: every connection
	// reaches it with kPeerRkey at kPeerAddr.. (other keys fail).
	std::vector<std::byte> peer = std::vector<std::byte>(kPeerLen);

	explicit World(const auth::KeyStore *keys) : transport(true)
	{
		transport.any_peer = peer;
		transport.any_peer_addr = kPeerAddr;
		transport.any_peer_rkey = kPeerRkey;
		std::string err;
		if (!root.open(g_root, err))
			fuzz::fail("cannot open the root");
		stord::ExportOptions exp;
		exp.squash = stord::Squash::kNone;
		ops = std::make_unique<stord::FsOps>(root, cache, exp);
		ServiceOptions opt;
		opt.server_id = 1;
		opt.keys = keys;
		service = std::make_unique<stord::StorService>(transport, loop, clock, opt, *ops,
								cache, g_root, 1);
		if (!service->ok())
			fuzz::fail("service");
		transport.listen("fake", 0, service.get(), err);
	}
	~World() { service.reset(); }
};
World *g_open, *g_keyed;

// Would the service have handed this frame to its workers? A request that
// decodes, is an fs opcode, and got no immediate answer on a connection
// still open.
bool is_fs_request(ByteSpan frame)
{
	Result<Frame> f = decode_frame(frame);
	if (!f || f->wire_size() != frame.size())
		return false;
	Result<Message> m = decode_message(*f);
	return m && !m->hdr.is_reply() && is_fs_op(m->hdr.opcode);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***)
{
	const char *lvl = std::getenv("DG_FUZZ_LOG");
	auto l = log::parse_level(lvl ? lvl : "error");
	log::set_level(l ? *l : log::Level::kError);
	drop_mknod();

	const char *tmp = std::getenv("TMPDIR");
	std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/dg-fuzz-stord-XXXXXX";
	if (!::mkdtemp(tmpl.data()))
		fuzz::fail("mkdtemp", errno);
	g_base = tmpl;
	g_root = g_base + "/root";
	g_secret = g_base + "/outside/secret";
	stdfs::create_directories(g_root);
	if (::chmod(g_root.c_str(), kRootMode) != 0)
		fuzz::fail("chmod root", errno);
	stdfs::create_directories(g_base + "/outside");
	std::ofstream(g_secret, std::ios::binary) << kSecret;
	if (::lstat(g_secret.c_str(), &g_secret_st) != 0)
		fuzz::fail("stat secret", errno);
	std::atexit(cleanup);
	// Never freed: workers may outlive exit().
	auto *keys = new auth::KeyStore;
	std::string err;
	if (!keys->load_text(fuzz::test_key_file(), err))
		fuzz::fail("cannot load the test keys");
	g_open = new World(nullptr);
	g_keyed = new World(keys);
	return 0;
}

namespace {

class Hooks final : public fuzz::ScriptRunner::Hooks {
public:
	explicit Hooks(World &w) : w_(w) {}

	void deliver(ConnId c, const Bytes &frame) override
	{
		const std::uint64_t before = w_.service->requests();
		w_.transport.deliver(c, frame);
		if (!w_.transport.sent(c).empty() || !w_.transport.is_open(c) ||
		    !is_fs_request(frame))
			return;
		const auto deadline = std::chrono::steady_clock::now() + kReplyTimeout;
		// One-sided transfers complete as the loop runs; one that fails
		// closes the connection, and no answer comes.
		while (w_.service->requests() == before && w_.transport.is_open(c)) {
			if (std::chrono::steady_clock::now() > deadline)
				fuzz::fail("an fs request got no answer in 10 s");
			w_.transport.run_bulk();
			w_.loop.run_once(100);
			w_.transport.run_bulk();
		}
	}
	void tick(unsigned seconds) override
	{
		w_.clock.advance(std::chrono::seconds(seconds));
		w_.service->tick();
		w_.transport.settle();
	}
	void step() override
	{
		FUZZ_CHECK(w_.service->nr_sessions() == w_.transport.connections(),
			   w_.service->nr_sessions());
	}

private:
	World &w_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
	fuzz::Reader in(data, size);
	const bool keyed = in.u8() & fuzz::kFlagKeyed;

	World &w = keyed ? *g_keyed : *g_open;
	wipe_root();
	g_open->cache.invalidate(".");
	g_keyed->cache.invalidate(".");
	FUZZ_CHECK(w.transport.connections() == 0, w.transport.connections());

	Hooks hooks(w);
	fuzz::ScriptRunner runner(w.transport, hooks, keyed, kMaxConns);
	runner.run(in);

	w.service->shutdown();
	w.transport.settle();
	runner.drain();
	runner.forget();
	w.transport.tokens.clear();	// else it grows: a leak check after every input
	FUZZ_CHECK(w.service->nr_sessions() == 0, w.service->nr_sessions());
	check_outside();
	return 0;
}
