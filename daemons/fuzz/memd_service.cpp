// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// libFuzzer harness: disagg-memd's request handling. The input is a script
// (fuzz_util.hpp) of connections opened, frames delivered, connections
// dropped and clock ticks, played against a fresh MemService on the fake
// transport. Checked, besides ASan/UBSan:
//   - every frame the service sends decodes and fits the transport;
//   - the pool never holds more than its capacity;
//   - once every connection is gone and the grace period is over, every
//     slab is freed and no session is left.
//
// The service runs open (no --keys): every session may do everything.
// TODO(auth): a second mode (flags bit 1) with a key loaded, where the
// harness answers the challenge (HELLO, AUTH with the right MAC) before the
// script's frames, once the service has keys; and seeds for it.
#include "clock.hpp"
#include "fake_transport.hpp"
#include "fuzz_util.hpp"
#include "log.hpp"
#include "service.hpp"
#include "slab_pool.hpp"

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <vector>

using namespace disagg;
using namespace disagg::proto;

namespace {

constexpr std::uint64_t kCapacity = 8ull << 20;
constexpr std::uint64_t kSlabSize = 1ull << 20;
constexpr unsigned kGraceSec = 30;
constexpr std::size_t kMaxConns = 16;

void drain(FakeTransport &t, ConnId c)
{
	auto &q = t.sent(c);
	for (const Bytes &b : q)
		fuzz::check_sent(b, t.max_frame());
	q.clear();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***)
{
	// DG_FUZZ_LOG=debug formats every log line too (run with
	// -close_fd_mask=2 to keep them off the terminal).
	const char *lvl = std::getenv("DG_FUZZ_LOG");
	auto l = log::parse_level(lvl ? lvl : "error");
	log::set_level(l ? *l : log::Level::kError);
	return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
	fuzz::Reader in(data, size);
	const std::uint8_t flags = in.u8();

	FakeClock clock;
	FakeTransport transport(flags & 1);
	memd::SlabPool pool(kCapacity, kSlabSize, clock, std::chrono::seconds(kGraceSec));
	ServiceOptions opt;
	opt.server_id = 1;
	auto service = std::make_unique<memd::MemService>(transport, pool, opt);
	std::string err;
	transport.listen("fake", 0, service.get(), err);

	std::vector<ConnId> conns;	// ever connected, in order
	auto open_conns = [&] {
		std::vector<ConnId> open;
		for (ConnId c : conns)
			if (transport.is_open(c))
				open.push_back(c);
		return open;
	};

	while (!in.empty()) {
		const std::uint8_t cmd = in.u8();
		switch (static_cast<fuzz::Cmd>(cmd & 3)) {
		case fuzz::Cmd::kConnect:
			if (conns.size() < kMaxConns)
				conns.push_back(transport.connect());
			break;
		case fuzz::Cmd::kDeliver: {
			const std::size_t len = in.u16();
			Bytes frame;
			for (std::byte b : in.bytes(len))
				frame.push_back(b);
			if (cmd & fuzz::kFixLength && frame.size() >= kHdrSize) {
				const std::uint32_t n = static_cast<std::uint32_t>(frame.size() - kHdrSize);
				for (int i = 0; i < 4; i++)
					frame[8 + i] = static_cast<std::byte>(n >> (8 * i));
			}
			auto open = open_conns();
			if (open.empty()) {
				if (conns.size() >= kMaxConns)
					break;
				conns.push_back(transport.connect());
				open.push_back(conns.back());
			}
			transport.deliver(open[(cmd >> 3) % open.size()], frame);
			break;
		}
		case fuzz::Cmd::kDrop: {
			auto open = open_conns();
			if (!open.empty())
				transport.drop(open[(cmd >> 3) % open.size()]);
			break;
		}
		case fuzz::Cmd::kTick:
			clock.advance(std::chrono::seconds(in.u8()));
			service->tick();
			transport.settle();
			break;
		}
		for (ConnId c : conns)
			drain(transport, c);
		FUZZ_CHECK(pool.used() <= pool.capacity(), pool.used());
		FUZZ_CHECK(service->nr_sessions() == transport.connections(),
			   service->nr_sessions());
	}

	// Everybody leaves; after the grace period nothing may be held.
	service->shutdown();
	transport.settle();
	for (ConnId c : conns)
		drain(transport, c);
	clock.advance(std::chrono::seconds(kGraceSec + 1));
	service->tick();
	FUZZ_CHECK(service->nr_sessions() == 0, service->nr_sessions());
	FUZZ_CHECK(pool.used() == 0, pool.used());
	FUZZ_CHECK(pool.slab_count() == 0, pool.slab_count());
	return 0;
}
