// SPDX-License-Identifier: MIT
#include "ports/xdp_steer.hh"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <sys/mman.h>
#include <unistd.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <optional>
#include <cerrno>
#include <cstring>
#include <map>
#include <stdexcept>
#include <vector>

// bpftool's skeleton: the program's ELF object as bytes, and typed handles on its maps. Only
// this file includes it (it defines a non-inline C++ member).
#include "steer.skel.h"

namespace vx {

namespace {

std::runtime_error os_error(const std::string& what, int err) {
    return std::runtime_error(fmt::format("{}: {}", what, std::strerror(err < 0 ? -err : err)));
}

// Map entries as byte strings, so one function keeps any map in step.
using entries = std::map<std::string, uint32_t>;

template <class K>
std::string key_bytes(const K& key) {
    return {reinterpret_cast<const char*>(&key), sizeof(key)};
}

vx_udp_key udp_key(const config::udp_dest& d) {
    vx_udp_key k{};
    k.family = d.family;
    k.port = htons(d.port);
    std::memcpy(k.addr, d.addr.data(), sizeof(k.addr));
    return k;
}

template <class T, class Key>
void add_entries(entries& out, const std::vector<T>& items, uint32_t action, Key key_of) {
    for (const auto& i : items) {
        out[key_bytes(key_of(i))] = action;
    }
}

// Writes to map `fd` what `now` has and `before` had not, then deletes what `now` no longer
// has: an entry that changes action is updated in place, never absent in between.
void sync_map(int fd, const char* map, const entries& before, const entries& now, bool array) {
    for (const auto& [key, action] : now) {
        const auto old = before.find(key);
        if (old != before.end() && old->second == action) {
            continue;
        }
        if (bpf_map_update_elem(fd, key.data(), &action, BPF_ANY) != 0) {
            throw os_error(fmt::format("cannot write a rule into map {}", map), errno);
        }
    }
    const uint32_t none = VX_ACT_NONE;
    for (const auto& [key, action] : before) {
        if (now.contains(key)) {
            continue;
        }
        const int rc = array ? bpf_map_update_elem(fd, key.data(), &none, BPF_ANY) : bpf_map_delete_elem(fd, key.data());
        if (rc != 0 && errno != ENOENT) {
            throw os_error(fmt::format("cannot remove a rule from map {}", map), errno);
        }
    }
}

entries vlan_entries(const config::steer_rules& r) {
    entries e;
    auto vid = [](uint16_t v) { return uint32_t{v}; };
    add_entries(e, r.vlans, VX_ACT_STEER, vid);
    add_entries(e, r.drop_vlans, VX_ACT_DROP, vid);
    return e;
}

entries udp_entries(const config::steer_rules& r) {
    entries e;
    add_entries(e, r.udp, VX_ACT_STEER, udp_key);
    add_entries(e, r.drop_udp, VX_ACT_DROP, udp_key);
    return e;
}

// The switch's own addresses: those of its exact-address UDP destinations (a VTEP's). ARP and
// neighbour discovery for them go to the switch (it answers and resolves for its VTEP itself);
// a wildcard destination names no address, so the kernel keeps ARP for all of its own.
entries address_entries(const config::steer_rules& r) {
    entries e;
    for (const auto& d : r.udp) {
        if (!d.any_address()) {
            vx_addr_key k{};
            k.family = d.family;
            std::memcpy(k.addr, d.addr.data(), sizeof(k.addr));
            e[key_bytes(k)] = VX_ACT_STEER;
        }
    }
    return e;
}

entries ethertype_entries(const config::steer_rules& r) {
    entries e;
    add_entries(e, r.drop_ethertypes, VX_ACT_DROP, [](uint16_t t) { return uint32_t{t}; });
    return e;
}

entries src_mac_entries(const config::steer_rules& r) {
    entries e;
    add_entries(e, r.drop_src_macs, VX_ACT_DROP, [](uint64_t m) { return m; });
    return e;
}

void write_cfg(int fd, const config::steer_rules& r) {
    vx_cfg cfg{};
    cfg.mode = r.own ? VX_MODE_OWN : VX_MODE_STEER;
    cfg.n_mac_ranges = static_cast<uint32_t>(r.macs.size());
    cfg.tpid = htons(r.tpid);
    const uint32_t zero = 0;
    if (bpf_map_update_elem(fd, &zero, &cfg, BPF_ANY) != 0) {
        throw os_error("cannot write the steering configuration (map vx_cfg)", errno);
    }
}

void write_mac_ranges(int fd, const std::vector<config::mac_range>& macs) {
    for (uint32_t i = 0; i < macs.size(); ++i) {
        const vx_mac_range range{macs[i].lo, macs[i].hi};
        if (bpf_map_update_elem(fd, &i, &range, BPF_ANY) != 0) {
            throw os_error("cannot write a MAC range (map vx_mac_ranges)", errno);
        }
    }
}

struct bpf_ids {
    std::vector<uint32_t> map_ids;
};

bpf_ids maps_of_program(int prog_fd) {
    bpf_prog_info info{};
    uint32_t len = sizeof(info);
    if (bpf_obj_get_info_by_fd(prog_fd, &info, &len) != 0) {
        throw os_error("cannot read the XDP program's information", errno);
    }
    bpf_ids ids;
    ids.map_ids.resize(info.nr_map_ids);
    const uint32_t n = info.nr_map_ids;
    info = bpf_prog_info{};
    info.nr_map_ids = n;
    info.map_ids = reinterpret_cast<uint64_t>(ids.map_ids.data());
    len = sizeof(info);
    if (bpf_obj_get_info_by_fd(prog_fd, &info, &len) != 0) {
        throw os_error("cannot list the XDP program's maps", errno);
    }
    ids.map_ids.resize(std::min(n, info.nr_map_ids));
    return ids;
}

std::string program_name(uint32_t prog_id) {
    const unique_fd fd(bpf_prog_get_fd_by_id(prog_id));
    if (fd.get() < 0) {
        return "?";
    }
    bpf_prog_info info{};
    uint32_t len = sizeof(info);
    return bpf_obj_get_info_by_fd(fd.get(), &info, &len) == 0 ? std::string(info.name) : "?";
}

// The object the daemon was built with, as a file net_af_xdp can open (xdp_prog=PATH): a
// memfd, so no installed path can hold another version of the program.
class object_file {
public:
    object_file() : _fd(memfd_create("vx_steer.bpf.o", MFD_CLOEXEC)) {
        if (_fd.get() < 0) {
            throw os_error("cannot create a memfd for the XDP program", errno);
        }
        size_t size = 0;
        const auto* bytes = static_cast<const char*>(vx_steer_bpf::elf_bytes(&size));
        while (size > 0) {
            const ssize_t n = write(_fd.get(), bytes, size);
            if (n <= 0) {
                throw os_error("cannot write the XDP program into its memfd", errno);
            }
            bytes += n;
            size -= static_cast<size_t>(n);
        }
    }
    std::string path() const { return fmt::format("/proc/self/fd/{}", _fd.get()); }

private:
    unique_fd _fd;
};

constexpr std::string_view program_name_in_kernel = "vx_steer"; // SEC("xdp") int vx_steer(...)

} // namespace

unique_fd& unique_fd::operator=(unique_fd&& o) noexcept {
    if (this != &o) {
        if (_fd >= 0) {
            close(_fd);
        }
        _fd = std::exchange(o._fd, -1);
    }
    return *this;
}

unique_fd::~unique_fd() {
    if (_fd >= 0) {
        close(_fd);
    }
}

std::string_view xdp_mode_name(xdp_mode m) {
    switch (m) {
    case xdp_mode::none:
        return "none";
    case xdp_mode::native:
        return "native";
    case xdp_mode::generic:
        return "generic";
    case xdp_mode::offload:
        return "offload";
    case xdp_mode::multi:
        return "multi";
    }
    return "?";
}

xdp_attachment xdp_attached(const std::string& iface) {
    const unsigned ifindex = if_nametoindex(iface.c_str());
    if (ifindex == 0) {
        throw os_error(fmt::format("interface '{}'", iface), errno);
    }
    bpf_xdp_query_opts opts{};
    opts.sz = sizeof(opts);
    if (const int rc = bpf_xdp_query(static_cast<int>(ifindex), 0, &opts); rc != 0) {
        throw os_error(fmt::format("cannot query the XDP program of '{}'", iface), rc);
    }
    xdp_attachment a;
    switch (opts.attach_mode) {
    case XDP_ATTACHED_DRV:
        a.mode = xdp_mode::native;
        break;
    case XDP_ATTACHED_SKB:
        a.mode = xdp_mode::generic;
        break;
    case XDP_ATTACHED_HW:
        a.mode = xdp_mode::offload;
        break;
    case XDP_ATTACHED_MULTI:
        a.mode = xdp_mode::multi;
        break;
    default:
        return a;
    }
    a.prog_id = opts.prog_id != 0 ? opts.prog_id : (opts.drv_prog_id != 0 ? opts.drv_prog_id : opts.skb_prog_id);
    a.prog_name = program_name(a.prog_id);
    return a;
}

std::unique_ptr<xdp_steer> xdp_steer::of_program(int prog_fd) {
    std::map<std::string, unique_fd> by_name;
    for (const uint32_t id : maps_of_program(prog_fd).map_ids) {
        unique_fd fd(bpf_map_get_fd_by_id(id));
        if (fd.get() < 0) {
            throw os_error(fmt::format("cannot open map id {} of the XDP program", id), errno);
        }
        bpf_map_info info{};
        uint32_t len = sizeof(info);
        if (bpf_obj_get_info_by_fd(fd.get(), &info, &len) != 0) {
            throw os_error(fmt::format("cannot read map id {} of the XDP program", id), errno);
        }
        by_name.emplace(info.name, std::move(fd));
    }
    auto take = [&](const char* name) {
        const auto it = by_name.find(name);
        if (it == by_name.end()) {
            throw std::runtime_error(
                fmt::format("the XDP program has no map '{}': it is not vxswitch's steering program", name));
        }
        return std::move(it->second);
    };
    maps m{take("vx_cfg"),        take("vx_vlans"),      take("vx_udp"),      take("vx_addrs"),
           take("vx_mac_ranges"), take("vx_ethertypes"), take("vx_src_macs"), take("vx_counters")};
    return std::unique_ptr<xdp_steer>(new xdp_steer(std::move(m)));
}

void xdp_steer::apply(const config::steer_rules& rules) {
    const config::steer_rules before = _written ? _rules : config::steer_rules{};
    // Ranges beyond the new count are unread once vx_cfg says the new count: shrink the count
    // first, grow it last.
    if (_written && rules.macs.size() < before.macs.size()) {
        write_cfg(_maps.cfg.get(), rules);
    }
    sync_map(_maps.vlans.get(), "vx_vlans", vlan_entries(before), vlan_entries(rules), true);
    sync_map(_maps.udp.get(), "vx_udp", udp_entries(before), udp_entries(rules), false);
    sync_map(_maps.addrs.get(), "vx_addrs", address_entries(before), address_entries(rules), false);
    sync_map(_maps.ethertypes.get(), "vx_ethertypes", ethertype_entries(before), ethertype_entries(rules), false);
    sync_map(_maps.src_macs.get(), "vx_src_macs", src_mac_entries(before), src_mac_entries(rules), false);
    write_mac_ranges(_maps.mac_ranges.get(), rules.macs);
    write_cfg(_maps.cfg.get(), rules);
    _rules = rules;
    _written = true;
}

steer_counter_values xdp_steer::counters() const {
    const int cpus = libbpf_num_possible_cpus();
    steer_counter_values sums{};
    if (cpus <= 0) {
        return sums;
    }
    std::vector<uint64_t> per_cpu(static_cast<size_t>(cpus));
    for (uint32_t k = 0; k < VX_CNT_COUNT; ++k) {
        if (bpf_map_lookup_elem(_maps.counters.get(), &k, per_cpu.data()) == 0) {
            for (uint64_t n : per_cpu) {
                sums[k] += n;
            }
        }
    }
    return sums;
}

nlohmann::json xdp_steer::state() const {
    return {{"iface", _iface},
            {"xdp_mode", xdp_mode_name(_attachment.mode)},
            {"prog_id", _attachment.prog_id},
            {"af_xdp_sockets",
             {{"count", _sockets.size()},
              {"zero_copy", std::count_if(_sockets.begin(), _sockets.end(), [](const auto& x) { return x.zero_copy; })},
              {"mode", xsk_mode(_sockets)}}},
            {"rules", config::describe_steering(_rules)},
            {"counters", steer_counters_json(counters())["decisions"]}};
}

namespace {

enum class steer_path : uint8_t { to_switch, to_kernel, dropped, extra };

// Where a decision sends the frame (NO_SOCKET counts in addition to a redirect decision).
constexpr steer_path path_of(vx_steer_counter c) {
    switch (c) {
    case VX_CNT_REDIRECT_OWN:
    case VX_CNT_REDIRECT_VLAN:
    case VX_CNT_REDIRECT_UDP:
    case VX_CNT_REDIRECT_ARP_ND:
    case VX_CNT_REDIRECT_MAC:
        return steer_path::to_switch;
    case VX_CNT_PASS:
    case VX_CNT_PASS_UNCONFIGURED:
    case VX_CNT_PASS_TRUNCATED:
        return steer_path::to_kernel;
    case VX_CNT_DROP_VLAN:
    case VX_CNT_DROP_ETHERTYPE:
    case VX_CNT_DROP_SRC_MAC:
    case VX_CNT_DROP_UDP:
        return steer_path::dropped;
    case VX_CNT_NO_SOCKET:
    case VX_CNT_COUNT:
        break;
    }
    return steer_path::extra;
}

} // namespace

steer_paths paths_of(const steer_counter_values& c) {
    std::array<uint64_t, 4> by_path{};
    for (uint32_t k = 0; k < VX_CNT_COUNT; ++k) {
        by_path[static_cast<size_t>(path_of(static_cast<vx_steer_counter>(k)))] += c[k];
    }
    auto total = [&](steer_path p) { return by_path[static_cast<size_t>(p)]; };
    const uint64_t no_socket = c[VX_CNT_NO_SOCKET];
    return {total(steer_path::to_switch) - no_socket, total(steer_path::to_kernel) + no_socket,
            total(steer_path::dropped)};
}

nlohmann::json steer_counters_json(const steer_counter_values& c) {
    nlohmann::json decisions = nlohmann::json::object();
    for (size_t k = 0; k < VX_CNT_COUNT; ++k) {
        decisions[std::string(steer_counters[k].name)] = c[k];
    }
    const auto p = paths_of(c);
    return {{"decisions", decisions}, {"to_switch", p.to_switch}, {"to_kernel", p.to_kernel}, {"dropped", p.dropped}};
}

std::string xdp_steer::summary() const {
    const auto p = paths_of(counters());
    return fmt::format("xdp switch {} kernel {} drop {}", p.to_switch, p.to_kernel, p.dropped);
}

steer_program::steer_program() : _skel(vx_steer_bpf::open_and_load()) {
    if (_skel == nullptr) {
        throw os_error("the kernel refused vxswitch's XDP steering program (see libbpf's verifier log above)",
                       errno);
    }
}

steer_program::~steer_program() {
    vx_steer_bpf::destroy(_skel);
}

int steer_program::prog_fd() const {
    return bpf_program__fd(_skel->progs.vx_steer);
}

int steer_program::xsks_map_fd() const {
    return bpf_map__fd(_skel->maps.xsks_map);
}

uint32_t steer_program::instructions() const {
    bpf_prog_info info{};
    uint32_t len = sizeof(info);
    if (bpf_obj_get_info_by_fd(prog_fd(), &info, &len) != 0) {
        return 0;
    }
    return info.xlated_prog_len / sizeof(bpf_insn);
}

namespace {

// What descriptor `fd` is, as an identity that a reused number would not have: an AF_XDP
// socket by its inode ("socket:[N]"), a BPF program, map or BTF object by its kernel id;
// nullopt for any other descriptor.
std::optional<std::string> held_identity(int fd) {
    std::array<char, 64> link{};
    const auto path = fmt::format("/proc/self/fd/{}", fd);
    const ssize_t n = readlink(path.c_str(), link.data(), link.size() - 1);
    const std::string kind(link.data(), n > 0 ? static_cast<size_t>(n) : 0);
    if (kind.starts_with("socket:")) {
        return is_af_xdp_socket(fd) ? std::optional{kind} : std::nullopt;
    }
    auto with_id = [&](auto info) -> std::optional<std::string> {
        uint32_t len = sizeof(info);
        return bpf_obj_get_info_by_fd(fd, &info, &len) == 0 ? std::optional{fmt::format("{} {}", kind, info.id)}
                                                             : std::nullopt;
    };
    if (kind == "anon_inode:bpf-prog") {
        return with_id(bpf_prog_info{});
    }
    if (kind == "anon_inode:bpf-map") {
        return with_id(bpf_map_info{});
    }
    if (kind == "anon_inode:btf") {
        return with_id(bpf_btf_info{});
    }
    return std::nullopt;
}

// The AF_XDP sockets and BPF objects this process has open.
std::vector<xdp_steer::held_object> held_objects() {
    std::vector<xdp_steer::held_object> out;
    for (const int fd : open_fds()) {
        if (auto identity = held_identity(fd)) {
            out.push_back({fd, std::move(*identity)});
        }
    }
    return out;
}

// Those of `after` that `before` has not, by identity: a descriptor number closed and reused
// in between is told apart.
std::vector<xdp_steer::held_object> new_held_objects(const std::vector<xdp_steer::held_object>& before,
                                                     const std::vector<xdp_steer::held_object>& after) {
    std::vector<xdp_steer::held_object> out;
    for (const auto& h : after) {
        if (std::none_of(before.begin(), before.end(),
                         [&](const auto& b) { return b.fd == h.fd && b.identity == h.identity; })) {
            out.push_back(h);
        }
    }
    return out;
}

} // namespace

xdp_steer::~xdp_steer() {
    for (const auto& h : _held_by_dpdk) {
        if (held_identity(h.fd) == h.identity) {
            close(h.fd);
        }
    }
}

steered_port open_af_xdp_port(const config::port& cfg, uint16_t tx_queues, rte_mempool* pool) {
    const std::string& iface = cfg.xdp->iface;
    auto fail = [&](const std::string& what) {
        return std::runtime_error(fmt::format("port '{}' (af_xdp, iface {}): {}", cfg.name, iface, what));
    };
    xdp_attachment before;
    try {
        before = xdp_attached(iface);
    } catch (const std::runtime_error& e) {
        throw fail(e.what());
    }
    if (before.mode != xdp_mode::none) {
        // DPDK 22.11 attaches with XDP_FLAGS_UPDATE_IF_NOEXIST and has no libxdp dispatcher for
        // a program of its own: say here what it would only say as "Failed to set prog fd".
        throw fail(fmt::format(
            "the interface already has an XDP program ('{}', id {}, {} mode){}; remove it first "
            "(ip link set dev {} xdp off)",
            before.prog_name, before.prog_id, xdp_mode_name(before.mode),
            before.prog_name == program_name_in_kernel ? ": another vxswitchd uses it, or one was killed" : "",
            iface));
    }
    const object_file object;
    config::port device_cfg = cfg;
    device_cfg.device += ",xdp_prog=" + object.path();

    steered_port out;
    const auto sockets_before = open_xsk_sockets();
    const auto held_before = held_objects();
    out.port = std::make_unique<dpdk_port>(device_cfg, tx_queues, pool);
    const auto sockets = new_xsk_sockets(sockets_before, open_xsk_sockets());
    const auto held = new_held_objects(held_before, held_objects());
    xdp_attachment attached;
    try {
        attached = xdp_attached(iface);
        if (attached.prog_name != program_name_in_kernel) {
            throw std::runtime_error(
                fmt::format("net_af_xdp attached '{}' (id {}), not vx_steer", attached.prog_name, attached.prog_id));
        }
        const unique_fd prog(bpf_prog_get_fd_by_id(attached.prog_id));
        if (prog.get() < 0) {
            throw os_error(fmt::format("cannot open XDP program id {}", attached.prog_id), errno);
        }
        out.steer = xdp_steer::of_program(prog.get());
        out.steer->set_attachment(iface, attached);
        out.steer->set_sockets(sockets);
        out.steer->set_held_by_dpdk(held);
        out.steer->apply(config::steer_rules_of(cfg));
    } catch (const std::runtime_error& e) {
        throw fail(e.what());
    }
    if (attached.mode == xdp_mode::native) {
        spdlog::info("port '{}': vx_steer (id {}) runs on {} in native XDP mode", cfg.name, attached.prog_id, iface);
    } else {
        // The kernel falls back by itself when the driver has no XDP of its own; say so.
        spdlog::warn("port '{}': vx_steer (id {}) runs on {} in {} XDP mode: the driver has no native XDP, so every "
                     "frame gets an skb first (slower, but complete)",
                     cfg.name, attached.prog_id, iface, xdp_mode_name(attached.mode));
    }
    // Zero-copy is the kernel's choice (DPDK binds without asking for either): say which it made.
    const std::string sockets_text = describe_xsk_modes(iface, cfg.queues, sockets);
    if (xsk_mode(sockets) == "zero-copy") {
        spdlog::info("port '{}': {}", cfg.name, sockets_text);
    } else {
        spdlog::warn("port '{}': {}", cfg.name, sockets_text);
    }
    spdlog::info("port '{}': {}", cfg.name, config::describe_steering(out.steer->rules()));
    return out;
}

} // namespace vx
