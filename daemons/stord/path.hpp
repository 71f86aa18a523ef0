// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// Protocol paths: relative to the exported root, "." for the root itself,
// components separated by single '/', no leading or trailing '/', no empty,
// "." or ".." component, no NUL, at most DG_FS_PATH_MAX bytes.
#pragma once

#include <string_view>

namespace disagg::stord {

// 0 for a well-formed path, else EINVAL.
int check_path(std::string_view path);

// The parent of a well-formed path and its last component: "a/b/c" is
// ("a/b", "c"), "c" is (".", "c"), "." is (".", ".").
struct Split {
	std::string_view parent;
	std::string_view name;
};
Split split_path(std::string_view path);

// @path is @prefix or lies beneath it ("." is above everything).
bool path_within(std::string_view path, std::string_view prefix);

}  // namespace disagg::stord
