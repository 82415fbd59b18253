// SPDX-License-Identifier: MIT
#pragma once

// Plain text tables for vxctl: a header row in capitals, columns two spaces apart, numbers
// right-aligned so that their digits line up.

#include <iosfwd>
#include <string>
#include <vector>

namespace vx::ctl {

struct column {
    std::string title;
    bool right = false; // right-aligned (numbers)
};

class table {
public:
    explicit table(std::vector<column> columns) : _columns(std::move(columns)) {}
    void row(std::vector<std::string> cells) { _rows.push_back(std::move(cells)); }
    bool empty() const { return _rows.empty(); }
    void print(std::ostream& out) const;

private:
    std::vector<column> _columns;
    std::vector<std::vector<std::string>> _rows;
};

// "3d 4h 5m 6s", "42s".
std::string duration_text(int64_t seconds);

} // namespace vx::ctl
