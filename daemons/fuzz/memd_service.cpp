// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// libFuzzer harness: disagg-memd's request handling. The input is a script
// (fuzz_util.hpp, script.hpp) of connections opened, frames delivered,
// connections dropped and clock ticks, played against a fresh MemService
// on the fake transport. Flags: bit 0 a one-sided transport, bit 1 keyed
// (the service has script.hpp's keys: alice, bob and the admin ops; its
// connects may log in). Checked, besides ASan/UBSan and script.hpp's
// checks (handshake, STATUS of non-admins):
//   - the pool holds more than its capacity only while slabs are being
//     evicted (after a MEM_RESIZE down), and a new slab is handed out only
//     when that leaves it within capacity; MEM_RESIZE succeeds for admins
//     only;
//   - a slab handed out (MEM_ALLOC) belongs to the session's own (identity,
//     client id), one-sided at its own address, and no slab id ever goes
//     to two identities; MEM_READ and MEM_WRITE succeed only on a slab of
//     the session's own;
//   - once every connection is gone and the grace period is over, every
//     slab is freed and no session is left.
#include "clock.hpp"
#include "fake_transport.hpp"
#include "fuzz_util.hpp"
#include "log.hpp"
#include "script.hpp"
#include "service.hpp"
#include "slab_pool.hpp"

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>

using namespace disagg;
using namespace disagg::proto;

namespace {

constexpr std::uint64_t kCapacity = 8ull << 20;
constexpr std::uint64_t kSlabSize = 1ull << 20;
constexpr unsigned kGraceSec = 30;
constexpr std::size_t kMaxConns = 16;

auth::KeyStore *g_keys;

class Hooks final : public fuzz::ScriptRunner::Hooks {
public:
	Hooks(FakeTransport &t, FakeClock &clock, memd::SlabPool &pool, memd::MemService &service,
	      bool one_sided)
		: t_(t), clock_(clock), pool_(pool), service_(service), one_sided_(one_sided)
	{
	}

	void deliver(ConnId c, const Bytes &frame) override { t_.deliver(c, frame); }
	void tick(unsigned seconds) override
	{
		clock_.advance(std::chrono::seconds(seconds));
		service_.tick();
		t_.settle();
	}
	void on_reply(ConnId c, const fuzz::ConnState &st, const Message *req,
		      const Message &rep) override
	{
		const std::uint16_t op = rep.hdr.opcode & ~kReplyBit;
		if (op == DG_OP_MEM_RESIZE)
			FUZZ_CHECK(st.admin, c);
		if (op == DG_OP_MEM_ALLOC) {
			const MemSlab &m = std::get<MemSlab>(rep.body);
			if (!(m.flags & kSlabResumed))
				FUZZ_CHECK(pool_.used() <= pool_.capacity(), pool_.used());
			const memd::Slab *slab = own_slab(st, m.slab_id);
			FUZZ_CHECK(slab != nullptr, m.slab_id);
			FUZZ_CHECK(m.size == slab->size, m.size);
			if (one_sided_)
				FUZZ_CHECK(m.addr == reinterpret_cast<std::uintptr_t>(slab->mem), m.addr);
			auto [it, fresh] = slab_identity_.try_emplace(m.slab_id, st.identity);
			FUZZ_CHECK(it->second == st.identity, m.slab_id);	// cross-identity
		} else if (op == DG_OP_MEM_READ || op == DG_OP_MEM_WRITE) {
			FUZZ_CHECK(req != nullptr, c);
			const std::uint64_t id = op == DG_OP_MEM_READ
							 ? std::get<MemRw>(req->body).slab_id
							 : std::get<MemWrite>(req->body).rw.slab_id;
			FUZZ_CHECK(own_slab(st, id) != nullptr, id);
			auto it = slab_identity_.find(id);
			FUZZ_CHECK(it != slab_identity_.end() && it->second == st.identity, id);
		}
	}
	void step() override
	{
		FUZZ_CHECK(pool_.used() <= pool_.capacity() || service_.evicting() > 0,
			   pool_.used());
		FUZZ_CHECK(service_.nr_sessions() == t_.connections(), service_.nr_sessions());
	}

private:
	const memd::Slab *own_slab(const fuzz::ConnState &st, std::uint64_t id)
	{
		const std::uint64_t owner = service_.owner_id(st.identity, st.client_id);
		return owner ? pool_.find(owner, id) : nullptr;
	}

	FakeTransport &t_;
	FakeClock &clock_;
	memd::SlabPool &pool_;
	memd::MemService &service_;
	const bool one_sided_;
	std::map<std::uint64_t, std::string> slab_identity_;	// slab ids are never reused
};

}  // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***)
{
	// DG_FUZZ_LOG=debug formats every log line too (run with
	// -close_fd_mask=2 to keep them off the terminal).
	const char *lvl = std::getenv("DG_FUZZ_LOG");
	auto l = log::parse_level(lvl ? lvl : "error");
	log::set_level(l ? *l : log::Level::kError);
	g_keys = new auth::KeyStore;	// never freed, like the keys of a daemon
	std::string err;
	if (!g_keys->load_text(fuzz::test_key_file(), err))
		fuzz::fail("cannot load the test keys");
	return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
	fuzz::Reader in(data, size);
	const std::uint8_t flags = in.u8();
	const bool one_sided = flags & fuzz::kFlagOneSided;
	const bool keyed = flags & fuzz::kFlagKeyed;

	FakeClock clock;
	FakeTransport transport(one_sided);
	memd::SlabPool pool(kCapacity, kSlabSize, clock, std::chrono::seconds(kGraceSec));
	ServiceOptions opt;
	opt.server_id = 1;
	opt.keys = keyed ? g_keys : nullptr;
	auto service = std::make_unique<memd::MemService>(transport, pool, opt);
	std::string err;
	transport.listen("fake", 0, service.get(), err);

	Hooks hooks(transport, clock, pool, *service, one_sided);
	fuzz::ScriptRunner runner(transport, hooks, keyed, kMaxConns);
	runner.run(in);

	// Everybody leaves; after the grace period nothing may be held.
	service->shutdown();
	transport.settle();
	runner.drain();
	clock.advance(std::chrono::seconds(kGraceSec + 1));
	service->tick();
	FUZZ_CHECK(service->nr_sessions() == 0, service->nr_sessions());
	FUZZ_CHECK(pool.used() == 0, pool.used());
	FUZZ_CHECK(pool.slab_count() == 0, pool.slab_count());
	return 0;
}
