// SPDX-License-Identifier: MIT
// vxctl config dump|apply: the running configuration, in the configuration file's format;
// a changed file applied as a diff, validated whole first.

#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

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
    struct apply_options {
        std::string file;
        bool dry_run = false;
    };
    const auto o = std::make_shared<apply_options>();
    auto* apply = config->add_subcommand("apply", "change the running configuration to FILE's, as a diff");
    apply->add_option("file", o->file, "a configuration file, as vxswitchd -c takes")->required()->check(CLI::ExistingFile);
    apply->add_flag("--dry-run", o->dry_run, "validate and say what would change; change nothing");
    apply->callback([&ctx, o] {
        std::ifstream in(o->file);
        std::ostringstream text;
        text << in.rdbuf();
        send_change(ctx, "config.apply", {{"yaml", text.str()}, {"source", o->file}, {"dry_run", o->dry_run}});
    });
}

void send_change(context& ctx, const std::string& cmd, const nlohmann::json& args) {
    const auto r = ctx.call(cmd, args);
    if (r && !ctx.printed_as_json(*r)) {
        print_change(*r);
    }
}

} // namespace vx::ctl
