// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "metrics.hpp"

#include "proto.hpp"

#include <chrono>
#include <cstdio>

namespace disagg {

const char *op_name(std::uint16_t opcode)
{
	using proto::Op;
	switch (static_cast<Op>(opcode & ~proto::kReplyBit)) {
	case Op::kHello: return "hello";
	case Op::kAuth: return "auth";
	case Op::kHeartbeat: return "heartbeat";
	case Op::kBye: return "bye";
	case Op::kStatus: return "status";
	case Op::kMemInfo: return "mem_info";
	case Op::kMemAlloc: return "mem_alloc";
	case Op::kMemFree: return "mem_free";
	case Op::kMemRead: return "mem_read";
	case Op::kMemWrite: return "mem_write";
	case Op::kMemEvict: return "mem_evict";
	case Op::kMemResize: return "mem_resize";
	case Op::kFsGetattr: return "fs_getattr";
	case Op::kFsSetattr: return "fs_setattr";
	case Op::kFsRead: return "fs_read";
	case Op::kFsWrite: return "fs_write";
	case Op::kFsCreate: return "fs_create";
	case Op::kFsMkdir: return "fs_mkdir";
	case Op::kFsMknod: return "fs_mknod";
	case Op::kFsSymlink: return "fs_symlink";
	case Op::kFsLink: return "fs_link";
	case Op::kFsUnlink: return "fs_unlink";
	case Op::kFsRmdir: return "fs_rmdir";
	case Op::kFsRename: return "fs_rename";
	case Op::kFsReadlink: return "fs_readlink";
	case Op::kFsReaddir: return "fs_readdir";
	case Op::kFsReaddirplus: return "fs_readdirplus";
	case Op::kFsStatfs: return "fs_statfs";
	case Op::kFsFsync: return "fs_fsync";
	case Op::kFsGetxattr: return "fs_getxattr";
	case Op::kFsSetxattr: return "fs_setxattr";
	case Op::kFsListxattr: return "fs_listxattr";
	case Op::kFsRemovexattr: return "fs_removexattr";
	}
	return "unknown";
}

void MetricsText::family(std::string_view name, std::string_view type, std::string_view help,
			 std::string_view unit)
{
	const std::string n = prefix_ + std::string(name);
	out_ += "# TYPE " + n + " " + std::string(type) + "\n";
	if (!unit.empty())
		out_ += "# UNIT " + n + " " + std::string(unit) + "\n";
	out_ += "# HELP " + n + " " + std::string(help) + "\n";
}

void MetricsText::sample(std::string_view name, std::string_view suffix,
			 std::string_view labels, std::string_view value)
{
	out_ += prefix_;
	out_ += name;
	out_ += suffix;
	if (!labels.empty()) {
		out_ += '{';
		out_ += labels;
		out_ += '}';
	}
	out_ += ' ';
	out_ += value;
	out_ += '\n';
}

void MetricsText::sample(std::string_view name, std::string_view suffix,
			 std::string_view labels, std::uint64_t value)
{
	sample(name, suffix, labels, std::to_string(value));
}

void MetricsText::gauge(std::string_view name, std::string_view help, std::uint64_t value,
			std::string_view unit)
{
	family(name, "gauge", help, unit);
	sample(name, "", "", value);
}

void MetricsText::counter(std::string_view name, std::string_view help, std::uint64_t value)
{
	family(name, "counter", help);
	sample(name, "_total", "", value);
}

std::string MetricsText::finish()
{
	out_ += "# EOF\n";
	return std::move(out_);
}

void RequestMetrics::started(ConnId c, std::uint64_t req_id, std::uint16_t opcode,
			     TimePoint now)
{
	(void)opcode;
	pending_[{c, req_id}] = now;
}

void RequestMetrics::answered(ConnId c, std::uint64_t req_id, std::uint16_t opcode,
			      std::uint32_t status, TimePoint now)
{
	double secs = 0;
	if (auto it = pending_.find({c, req_id}); it != pending_.end()) {
		secs = std::chrono::duration<double>(now - it->second).count();
		pending_.erase(it);
	}
	PerOp &o = ops_[static_cast<std::uint16_t>(opcode & ~proto::kReplyBit)];
	o.requests++;
	o.errors += status != 0;
	o.sum += secs;
	for (std::size_t i = 0; i < kBuckets.size(); i++) {
		if (secs <= kBuckets[i]) {
			o.buckets[i]++;
			break;
		}
	}
}

void RequestMetrics::forget(ConnId c)
{
	pending_.erase(pending_.lower_bound({c, 0}), pending_.upper_bound({c, UINT64_MAX}));
}

std::uint64_t RequestMetrics::requests(std::uint16_t opcode) const
{
	auto it = ops_.find(opcode);
	return it == ops_.end() ? 0 : it->second.requests;
}

std::uint64_t RequestMetrics::errors(std::uint16_t opcode) const
{
	auto it = ops_.find(opcode);
	return it == ops_.end() ? 0 : it->second.errors;
}

void RequestMetrics::write(MetricsText &t) const
{
	auto label = [](std::uint16_t op) { return std::string("op=\"") + op_name(op) + "\""; };
	t.family("requests", "counter", "Requests answered, by opcode.");
	for (const auto &[op, o] : ops_)
		t.sample("requests", "_total", label(op), o.requests);
	t.family("request_errors", "counter",
		 "Requests answered with an error (a nonzero status), by opcode.");
	for (const auto &[op, o] : ops_)
		t.sample("request_errors", "_total", label(op), o.errors);
	t.family("request_duration_seconds", "histogram",
		 "Time from a request's arrival to its answer, by opcode.", "seconds");
	for (const auto &[op, o] : ops_) {
		const std::string l = label(op);
		std::uint64_t cum = 0;
		char le[32];
		for (std::size_t i = 0; i < kBuckets.size(); i++) {
			cum += o.buckets[i];
			std::snprintf(le, sizeof(le), "%g", kBuckets[i]);
			t.sample("request_duration_seconds", "_bucket",
				 l + ",le=\"" + le + "\"", cum);
		}
		t.sample("request_duration_seconds", "_bucket", l + ",le=\"+Inf\"", o.requests);
		t.sample("request_duration_seconds", "_count", l, o.requests);
		char sum[32];
		std::snprintf(sum, sizeof(sum), "%.9g", o.sum);
		t.sample("request_duration_seconds", "_sum", l, sum);
	}
}

}  // namespace disagg
