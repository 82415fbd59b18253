// SPDX-License-Identifier: MIT
// vxctl config dump: the running configuration, in the configuration file's format.

#include <iostream>

#include "ctl/commands/commands.hh"

namespace vx::ctl {

void add_config_commands(CLI::App& app, context& ctx) {
    auto* config = app.add_subcommand("config", "the running configuration");
    config->require_subcommand(1);
    auto* dump = config->add_subcommand("dump", "print it as YAML; vxswitchd -c loads it back");
    dump->callback([&ctx] {
        if (const auto r = ctx.call("config.dump"); r && !ctx.printed_as_json(*r)) {
            std::cout << (*r)["yaml"].get<std::string>();
        }
    });
}

} // namespace vx::ctl
