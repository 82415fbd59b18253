// SPDX-License-Identifier: MIT
#pragma once

// For tests that start from a configuration text: the model it loads to, and a test failure
// listing every error (with the text) when it does not load.

#include <gtest/gtest.h>

#include <string>

#include "config/load.hh"

namespace vx::testing {

inline config::model load_ok(const std::string& yaml) {
    auto r = config::load_string(yaml, "t.yaml");
    EXPECT_TRUE(r.errors.empty()) << ::testing::PrintToString(r.errors) << "\nin:\n" << yaml;
    return r.value.value_or(config::model{});
}

} // namespace vx::testing
