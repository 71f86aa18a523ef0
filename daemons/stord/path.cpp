// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "path.hpp"

#include "proto.hpp"

#include <cerrno>

namespace disagg::stord {

int check_path(std::string_view path)
{
	if (path.empty() || path.size() > proto::kFsPathMax)
		return EINVAL;
	if (path == ".")
		return 0;
	std::size_t start = 0;
	for (;;) {
		const std::size_t slash = path.find('/', start);
		const std::string_view c = path.substr(start, slash == std::string_view::npos
							   ? std::string_view::npos
							   : slash - start);
		if (c.empty() || c == "." || c == ".." || c.find('\0') != std::string_view::npos)
			return EINVAL;
		if (slash == std::string_view::npos)
			return 0;
		start = slash + 1;
	}
}

Split split_path(std::string_view path)
{
	const std::size_t slash = path.rfind('/');
	if (slash == std::string_view::npos)
		return {".", path};
	return {path.substr(0, slash), path.substr(slash + 1)};
}

bool path_within(std::string_view path, std::string_view prefix)
{
	if (prefix == ".")
		return true;
	if (path.size() < prefix.size() || path.substr(0, prefix.size()) != prefix)
		return false;
	return path.size() == prefix.size() || path[prefix.size()] == '/';
}

}  // namespace disagg::stord
