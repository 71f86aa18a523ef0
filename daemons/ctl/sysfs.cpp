// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "sysfs.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace disagg::ctl {

std::string errno_text(int err)
{
	const char *name = ::strerrorname_np(err);
	std::string s = std::strerror(err);
	if (name)
		s += std::string(" (") + name + ")";
	return s;
}

Sysfs::Sysfs(std::string sys, std::string proc)
	: sys_(sys.empty() ? "/sys" : std::move(sys)), proc_(proc.empty() ? "/proc" : std::move(proc))
{
	while (sys_.size() > 1 && sys_.back() == '/')
		sys_.pop_back();
	while (proc_.size() > 1 && proc_.back() == '/')
		proc_.pop_back();
}

Sysfs Sysfs::from_env()
{
	const char *s = std::getenv("DISAGG_SYSFS_ROOT");
	const char *p = std::getenv("DISAGG_PROC_ROOT");
	return Sysfs(s ? s : "", p ? p : "");
}

std::string Sysfs::path(std::string_view rel) const
{
	return sys_ + "/" + std::string(rel);
}

std::string Sysfs::proc_path(std::string_view rel) const
{
	return proc_ + "/" + std::string(rel);
}

bool Sysfs::exists(std::string_view rel) const
{
	return ::access(path(rel).c_str(), F_OK) == 0;
}

namespace {

// The file's bytes, or the errno.
int slurp(const std::string &file, std::string &out)
{
	const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	out.clear();
	char buf[4096];
	for (;;) {
		const ssize_t n = ::read(fd, buf, sizeof(buf));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			const int e = errno;
			::close(fd);
			return e;
		}
		if (n == 0)
			break;
		out.append(buf, static_cast<std::size_t>(n));
	}
	::close(fd);
	return 0;
}

void chomp(std::string &s)
{
	while (!s.empty() && (s.back() == '\n' || s.back() == ' '))
		s.pop_back();
}

}  // namespace

std::string Sysfs::read(std::string_view rel) const
{
	std::string out;
	const std::string file = path(rel);
	if (int e = slurp(file, out))
		throw Error("cannot read " + file + ": " + errno_text(e), e);
	chomp(out);
	return out;
}

std::optional<std::string> Sysfs::read_opt(std::string_view rel) const
{
	std::string out;
	const std::string file = path(rel);
	if (int e = slurp(file, out)) {
		if (e == ENOENT)
			return std::nullopt;
		throw Error("cannot read " + file + ": " + errno_text(e), e);
	}
	chomp(out);
	return out;
}

std::string Sysfs::read_proc(std::string_view rel) const
{
	std::string out;
	if (slurp(proc_path(rel), out))
		return {};
	return out;
}

void Sysfs::write(std::string_view rel, std::string_view value) const
{
	const std::string file = path(rel);
	const std::string line = std::string(value) + "\n";
	auto fail = [&](int e) {
		throw Error("cannot write \"" + std::string(value) + "\" to " + file + ": " +
				    errno_text(e),
			    e);
	};
	// O_TRUNC so that a fake tree (a regular file) holds only this value.
	const int fd = ::open(file.c_str(), O_WRONLY | O_CLOEXEC | O_TRUNC);
	if (fd < 0)
		fail(errno);
	ssize_t n;
	do
		n = ::write(fd, line.data(), line.size());
	while (n < 0 && errno == EINTR);
	const int e = n < 0 ? errno : 0;
	if (::close(fd) < 0 && n >= 0)
		fail(errno);
	if (n < 0)
		fail(e);
	if (static_cast<std::size_t>(n) != line.size())
		fail(EIO);
}

std::vector<std::string> Sysfs::list(std::string_view rel, std::string_view prefix) const
{
	std::vector<std::string> out;
	DIR *d = ::opendir(path(rel).c_str());
	if (!d)
		return out;
	while (const dirent *e = ::readdir(d)) {
		std::string_view n = e->d_name;
		if (n == "." || n == "..")
			continue;
		if (n.substr(0, prefix.size()) == prefix)
			out.emplace_back(n);
	}
	::closedir(d);
	std::sort(out.begin(), out.end());
	return out;
}

std::vector<unsigned long long> parse_counters(const std::string &line, const std::string &file)
{
	std::vector<unsigned long long> out;
	std::istringstream in(line);
	std::string word;
	while (in >> word) {
		unsigned long long v = 0;
		auto [p, ec] = std::from_chars(word.data(), word.data() + word.size(), v);
		if (ec != std::errc() || p != word.data() + word.size())
			throw Error(file + ": \"" + word + "\" is not a number", EINVAL);
		out.push_back(v);
	}
	return out;
}

}  // namespace disagg::ctl
