// SPDX-License-Identifier: MIT
#include "ctl/table.hh"

#include <fmt/format.h>

#include <algorithm>
#include <ostream>

namespace vx::ctl {

void table::print(std::ostream& out) const {
    std::vector<size_t> width(_columns.size());
    for (size_t c = 0; c < _columns.size(); ++c) {
        width[c] = _columns[c].title.size();
        for (const auto& r : _rows) {
            width[c] = std::max(width[c], c < r.size() ? r[c].size() : 0);
        }
    }
    auto line = [&](auto cell) {
        std::string text;
        for (size_t c = 0; c < _columns.size(); ++c) {
            const std::string s = cell(c);
            const bool last = c + 1 == _columns.size();
            if (_columns[c].right) {
                text += fmt::format("{:>{}}", s, width[c]);
            } else {
                text += last ? s : fmt::format("{:<{}}", s, width[c]);
            }
            text += last ? "" : "  ";
        }
        out << text << '\n';
    };
    line([&](size_t c) { return _columns[c].title; });
    for (const auto& r : _rows) {
        line([&](size_t c) { return c < r.size() ? r[c] : std::string(); });
    }
}

std::string duration_text(int64_t seconds) {
    const int64_t d = seconds / 86400;
    const int64_t h = seconds / 3600 % 24;
    const int64_t m = seconds / 60 % 60;
    const int64_t s = seconds % 60;
    if (d > 0) {
        return fmt::format("{}d {}h {}m {}s", d, h, m, s);
    }
    if (h > 0) {
        return fmt::format("{}h {}m {}s", h, m, s);
    }
    return m > 0 ? fmt::format("{}m {}s", m, s) : fmt::format("{}s", s);
}

} // namespace vx::ctl
