// SPDX-License-Identifier: MIT
#pragma once

// Loading and validating the configuration.
//
// load_* read YAML into a config::model and report every problem at once, each message
// naming the source, line, column and key path ("sw.yaml:12:11: ports[1].vlan: ..."), so a
// wrong file is fixed in one pass. validate() holds the semantic rules that do not depend on
// YAML (unique names, VLANs a port carries, ...), so a model built another way (vxctl) is
// checked by the same code.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/model.hh"

namespace vx::config {

struct load_result {
    std::optional<model> value;      // set only when errors is empty
    std::vector<std::string> errors; // every problem found, each a full message
};

load_result load_file(const std::string& path);
load_result load_string(std::string_view yaml_text, std::string_view source_name);

std::vector<std::string> validate(const model& m);

} // namespace vx::config
