// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// disaggctl's view of the kernel: files under a sysfs root (/sys, or
// $DISAGG_SYSFS_ROOT for tests against a fake tree) and a proc root
// (/proc, or $DISAGG_PROC_ROOT). Every failure is an Error whose text names
// the file and the errno, e.g.
//   cannot write "name=m1 ..." to /sys/kernel/disagg/memory_nodes/add:
//   Connection refused (ECONNREFUSED)
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace disagg::ctl {

// A failure with a message for the operator; err is the errno (0: none).
class Error : public std::runtime_error {
public:
	Error(const std::string &msg, int err = 0) : std::runtime_error(msg), err_(err) {}
	int err() const { return err_; }

private:
	int err_;
};

// "Connection refused (ECONNREFUSED)".
std::string errno_text(int err);

class Sysfs {
public:
	// @sys and @proc: the roots ("" means /sys and /proc).
	explicit Sysfs(std::string sys = "", std::string proc = "");
	// The roots from $DISAGG_SYSFS_ROOT and $DISAGG_PROC_ROOT.
	static Sysfs from_env();

	// @rel below the sysfs root ("block/dswap0/disksize").
	std::string path(std::string_view rel) const;
	std::string proc_path(std::string_view rel) const;
	bool exists(std::string_view rel) const;

	// The file's contents without the trailing newline; Error when it
	// cannot be read. read_opt: nullopt when the file does not exist.
	std::string read(std::string_view rel) const;
	std::optional<std::string> read_opt(std::string_view rel) const;
	// A whole file below the proc root ("swaps", "mounts"); "" if absent.
	std::string read_proc(std::string_view rel) const;
	// One write(2) of @value (a newline is added, as echo does); Error
	// naming the file, the value and the errno when the kernel refuses.
	void write(std::string_view rel, std::string_view value) const;
	// Names in directory @rel starting with @prefix, sorted; empty when
	// the directory does not exist.
	std::vector<std::string> list(std::string_view rel, std::string_view prefix = "") const;

private:
	std::string sys_;
	std::string proc_;
};

// Numbers from a sysfs line of space-separated unsigned integers; Error
// naming @file when a field is not a number.
std::vector<unsigned long long> parse_counters(const std::string &line, const std::string &file);

}  // namespace disagg::ctl
