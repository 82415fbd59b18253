// SPDX-License-Identifier: MIT
// vxctl vni [show] | add | set | remove: the VXLAN segments (VNIs and vxvde networks) of a
// running VTEP. The flags are the configuration file's keys of a `vnis:` item
// (docs/configuration.md); the daemon validates the whole configuration they make and applies
// it as a diff (config/diff.hh), as port set does.

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <iostream>
#include <memory>
#include <optional>

#include "ctl/commands/commands.hh"
#include "ctl/table.hh"

namespace vx::ctl {

namespace {

using nlohmann::json;

struct vni_options {
    uint32_t vni = 0;
    std::optional<int64_t> vlan;
    std::optional<std::string> group;        // "none" removes it
    std::vector<std::string> remotes;         // --remote, repeated
    bool no_remotes = false;                  // --no-remotes
    std::optional<std::string> protocol;
    std::optional<int64_t> port;              // vxvde: the network's UDP port
    std::optional<int64_t> udp_port;          // set, remove: which segment, when VXLAN and vxvde share the VNI
    bool dry_run = false;

    json keys() const {
        json set = json::object();
        if (vlan) {
            set["vlan"] = *vlan;
        }
        if (group) {
            set["group"] = *group == "none" ? json(nullptr) : json(*group);
        }
        if (!remotes.empty()) {
            set["remotes"] = remotes;
        } else if (no_remotes) {
            set["remotes"] = nullptr;
        }
        if (protocol) {
            set["protocol"] = *protocol;
        }
        if (port) {
            set["port"] = *port;
        }
        return set;
    }
    json selector() const {
        json args = {{"vni", vni}, {"dry_run", dry_run}};
        if (udp_port) {
            args["udp_port"] = *udp_port;
        }
        return args;
    }
};

std::string remote_text(const json& r) {
    const std::string address = r.contains("port") ? fmt::format("{}:{}", r["address"].get<std::string>(), r["port"].dump())
                                                   : r["address"].get<std::string>();
    return r["resolved"].get<bool>() ? fmt::format("{} at {}", address, r["next_hop"].get<std::string>())
                                     : fmt::format("{} (unresolved)", address);
}

void print_vnis(const json& r) {
    table t({{"VNI", true}, {"VLAN", true}, {"PROTOCOL"}, {"PORT", true}, {"GROUP"}, {"REMOTES"}});
    for (const auto& s : r["vnis"]) {
        std::vector<std::string> remotes;
        for (const auto& remote : s["remotes"]) {
            remotes.push_back(remote_text(remote));
        }
        t.row({s["vni"].dump(), s["vlan"].dump(), s["protocol"].get<std::string>(), s["port"].dump(),
               s["group"].is_null() ? "-" : s["group"].get<std::string>(),
               remotes.empty() ? "-" : fmt::format("{}", fmt::join(remotes, ", "))});
    }
    std::cout << fmt::format("VTEP on underlay port '{}'\n", r["underlay"].get<std::string>());
    if (t.empty()) {
        std::cout << "no VNIs\n";
    } else {
        t.print(std::cout);
    }
    if (!r["discovered"].empty()) {
        std::vector<std::string> found;
        for (const auto& remote : r["discovered"]) {
            found.push_back(remote_text(remote));
        }
        std::cout << fmt::format("discovered remotes: {}\n", fmt::join(found, ", "));
    }
}

// The segment keys vni add and vni set take.
void add_key_options(CLI::App* cmd, vni_options& o) {
    cmd->add_option("--vlan", o.vlan, "the VLAN (bridge domain) the VNI extends");
    cmd->add_option("--group", o.group, "multicast group to flood to and receive from (none: no group)");
    cmd->add_option("--remote", o.remotes, "a head-end replication remote VTEP (repeat for more)");
    cmd->add_option("--protocol", o.protocol, "vxlan (the default) or vxvde");
    cmd->add_option("--port", o.port, "vxvde: the network's UDP port (default 14789)");
    cmd->add_flag("--dry-run", o.dry_run, "validate and say what would change; change nothing");
}

} // namespace

void add_vni_commands(CLI::App& app, context& ctx) {
    auto* vni = app.add_subcommand("vni", "VXLAN VNIs and vxvde networks: show, add, set, remove (hitless)");
    vni->require_subcommand(0, 1);
    const auto show = [&ctx] {
        if (const auto r = ctx.call("vni.show"); r && !ctx.printed_as_json(*r)) {
            print_vnis(*r);
        }
    };
    vni->callback([vni, show] {
        if (vni->get_subcommands().empty()) {
            show();
        }
    });
    vni->add_subcommand("show", "the VNIs, their VLAN, group, remotes and next hops; the remotes discovered")
        ->callback(show);

    const auto a = std::make_shared<vni_options>();
    auto* add = vni->add_subcommand("add", "add a VNI (or a vxvde network) extending a VLAN");
    add->add_option("vni", a->vni, "the VNI")->required()->check(CLI::Range(1, (1 << 24) - 1));
    add_key_options(add, *a);
    add->callback([&ctx, a] {
        json args = a->selector();
        args["set"] = a->keys();
        send_change(ctx, "vni.add", args);
    });

    const auto s = std::make_shared<vni_options>();
    auto* set = vni->add_subcommand("set", "change a VNI's VLAN, group, remotes (the list replaces the old one)");
    set->add_option("vni", s->vni, "the VNI")->required()->check(CLI::Range(1, (1 << 24) - 1));
    add_key_options(set, *s);
    set->add_flag("--no-remotes", s->no_remotes, "drop the VNI's remotes");
    set->add_option("--udp-port", s->udp_port, "which segment, when VXLAN and a vxvde network share the VNI");
    set->callback([&ctx, s] {
        json args = s->selector();
        args["set"] = s->keys();
        if (args["set"].empty()) {
            throw CLI::ValidationError("vni set", "nothing to set: give at least one of --vlan, --group, --remote, ...");
        }
        send_change(ctx, "vni.set", args);
    });

    const auto r = std::make_shared<vni_options>();
    auto* remove = vni->add_subcommand("remove", "remove a VNI: its VLAN leaves the overlay");
    remove->add_option("vni", r->vni, "the VNI")->required()->check(CLI::Range(1, (1 << 24) - 1));
    remove->add_option("--udp-port", r->udp_port, "which segment, when VXLAN and a vxvde network share the VNI");
    remove->add_flag("--dry-run", r->dry_run, "validate and say what would change; change nothing");
    remove->callback([&ctx, r] { send_change(ctx, "vni.remove", r->selector()); });
}

} // namespace vx::ctl
