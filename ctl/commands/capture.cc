// SPDX-License-Identifier: MIT
// vxctl capture PORT: the frames a port receives, sends and drops, as pcapng, to a file or
// to stdout (`-w -`, for `tcpdump -r -`). The daemon copies them in its workers
// (observe/capture.hh); vxctl asks for them a few times a second and writes them out.

#include <fmt/format.h>

#include <fstream>
#include <iostream>
#include <memory>

#include "ctl/commands/commands.hh"
#include "ctl/pcapng.hh"

namespace vx::ctl {

namespace {

using nlohmann::json;

std::vector<uint8_t> bytes_of_hex(const std::string& hex) {
    std::vector<uint8_t> out(hex.size() / 2);
    const auto nibble = [](char c) { return static_cast<uint8_t>(c <= '9' ? c - '0' : c - 'a' + 10); };
    for (size_t i = 0; i < out.size(); ++i) {
        out[i] = static_cast<uint8_t>(nibble(hex[2 * i]) << 4 | nibble(hex[2 * i + 1]));
    }
    return out;
}

struct capture_options {
    std::string port;
    bool rx = false;
    bool tx = false;
    bool both = false;
    bool drops = false;
    int64_t count = 0;
    std::string file;
};

// Writes the frames of one capture.read result; returns how many.
size_t write_frames(const json& r, pcapng_writer& out) {
    for (const auto& f : r["frames"]) {
        const bool dropped = f["point"] == "dropped";
        out.frame(f["port"].get<std::string>(), f["time_ns"].get<uint64_t>(),
                  f["direction"] == "rx" ? pcapng_writer::direction::inbound : pcapng_writer::direction::outbound,
                  bytes_of_hex(f["data"].get<std::string>()),
                  dropped ? fmt::format("dropped: {}", f["reason"].get<std::string>()) : std::string());
    }
    return r["frames"].size();
}

void run_capture(context& ctx, const capture_options& o) {
    json args = {{"port", o.port}, {"drops", o.drops}};
    if (o.rx != o.tx) {
        args["direction"] = o.rx ? "rx" : "tx";
    }
    if (o.count > 0) {
        args["count"] = o.count;
    }
    std::ofstream file;
    if (o.file != "-") {
        file.open(o.file, std::ios::binary | std::ios::trunc);
        if (!file) {
            std::cerr << fmt::format("vxctl: cannot write {}\n", o.file);
            ctx.status = exit_refused;
            return;
        }
    }
    std::ostream& out = o.file == "-" ? std::cout : file;
    const auto started = ctx.call("capture.start", args);
    if (!started) {
        return;
    }
    const auto session = (*started)["session"].get<uint32_t>();
    std::cerr << fmt::format("vxctl: capturing on port {} ({}{}){}; Ctrl-C stops\n", o.port,
                             (*started)["direction"].get<std::string>(), o.drops ? ", drops" : "",
                             o.count > 0 ? fmt::format(", {} frames", o.count) : "");
    pcapng_writer writer(out);
    size_t written = 0;
    auto totals = follow_session(ctx, "capture", session, [&](const json& r) {
        const size_t n = write_frames(r, writer);
        written += n;
        return n;
    });
    if (!totals) {
        return;
    }
    (*totals)["written"] = written;
    if (ctx.json && o.file != "-") {
        ctx.printed_as_json(*totals);
        return;
    }
    std::cerr << fmt::format("vxctl: {} frame{} captured, {} lost\n", written, written == 1 ? "" : "s",
                             totals->value("lost", json(0)).dump());
}

} // namespace

void add_capture_commands(CLI::App& app, context& ctx) {
    const auto o = std::make_shared<capture_options>();
    auto* c = app.add_subcommand("capture", "copy a port's frames (and drops, with their reason) to a pcapng file");
    c->add_option("port", o->port, "the port, by name")->required();
    auto* rx = c->add_flag("--rx", o->rx, "frames the port receives");
    auto* tx = c->add_flag("--tx", o->tx, "frames the port sends");
    c->add_flag("--both", o->both, "both (the default)")->excludes(rx)->excludes(tx);
    c->add_flag("--drops", o->drops, "also frames dropped on the way in (--rx) or out (--tx), with their reason");
    c->add_option("-c,--count", o->count, "stop after this many frames")->check(CLI::PositiveNumber);
    c->add_option("-w,--write", o->file, "pcapng file to write, - for stdout")->required();
    c->callback([&ctx, o] { run_capture(ctx, *o); });
}

} // namespace vx::ctl
