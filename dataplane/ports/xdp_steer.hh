// SPDX-License-Identifier: MIT
#pragma once

// The daemon side of the XDP steering program (bpf/steer.bpf.c) of `type: af_xdp` ports.
//
// DPDK's net_af_xdp loads and attaches the program itself (its xdp_prog= option) and fills
// its XSKMAP with its sockets; see docs/af-xdp.md for why. open_af_xdp_port() hands it the
// object this daemon was built with, then finds the program on the interface, says in which
// XDP mode the kernel attached it, and writes the port's rules. From then on, xdp_steer is
// the port's handle on the program:
//
//   - apply(rules) changes the steered set at runtime (vxctl): it writes only the map entries
//     that differ, each update atomic, so no frame is lost and nothing is reloaded;
//   - counters() sums the per-CPU decision counters.
//
// Threads: the control thread only (map updates are syscalls). The workers never see it.

#include <array>
#include <cstdint>
#include <utility>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "steer_common.h" // bpf/: the maps and counters the program and this loader share
#include "config/model.hh"
#include "counters/counters.hh"
#include "config/xdp_steering.hh"
#include "ports/dpdk_port.hh"
#include "ports/xsk_sockets.hh"

struct rte_mempool;
struct vx_steer_bpf;

namespace vx {

// The decision counters, in vx_steer_counter order (names: counters.hh's steer_counters).
using steer_counter_values = std::array<uint64_t, VX_CNT_COUNT>;

// Decisions summed by where the frames went (a steered frame with no socket on its queue went
// to the kernel after all).
struct steer_paths {
    uint64_t to_switch = 0;
    uint64_t to_kernel = 0;
    uint64_t dropped = 0;
};
steer_paths paths_of(const steer_counter_values& c);
// {"decisions": {name: n, ...}, "to_switch": N, "to_kernel": M, "dropped": D}: for vxctl.
nlohmann::json steer_counters_json(const steer_counter_values& c);

// A file descriptor that closes itself.
class unique_fd {
public:
    unique_fd() = default;
    explicit unique_fd(int fd) : _fd(fd) {}
    unique_fd(unique_fd&& o) noexcept : _fd(std::exchange(o._fd, -1)) {}
    unique_fd& operator=(unique_fd&& o) noexcept;
    ~unique_fd();
    int get() const { return _fd; }

private:
    int _fd = -1;
};

// How the kernel runs an XDP program on an interface.
enum class xdp_mode : uint8_t { none, native, generic, offload, multi };
std::string_view xdp_mode_name(xdp_mode m);

struct xdp_attachment {
    uint32_t prog_id = 0;
    xdp_mode mode = xdp_mode::none;
    std::string prog_name;
};
// The XDP program on `iface` (mode none when there is none). Throws if there is no such interface.
xdp_attachment xdp_attached(const std::string& iface);

// The rule maps and counters of one loaded vx_steer program.
class xdp_steer {
public:
    // The maps of program `prog_fd`, found by their names. Throws std::runtime_error naming
    // a map that is missing (a program that is not vx_steer).
    static std::unique_ptr<xdp_steer> of_program(int prog_fd);

    // Makes the maps say `rules`, writing only what differs from the last apply(); the
    // configuration (mode) is written last on the first call, so rules are in before frames
    // leave pass-everything. Throws std::runtime_error on a failed map update.
    void apply(const config::steer_rules& rules);
    const config::steer_rules& rules() const { return _rules; }
    steer_counter_values counters() const;

    // Where the program runs (set by open_af_xdp_port; empty for a program loaded otherwise).
    const xdp_attachment& attachment() const { return _attachment; }
    void set_attachment(std::string iface, xdp_attachment a) {
        _iface = std::move(iface);
        _attachment = std::move(a);
    }
    // The port's AF_XDP sockets and their modes (set by open_af_xdp_port).
    void set_sockets(std::vector<xsk_socket_mode> s) { _sockets = std::move(s); }
    // A descriptor net_af_xdp opened for the port and does not close with it.
    struct held_object {
        int fd = -1;
        std::string identity; // "socket:[inode]", "anon_inode:bpf-map 42", ...
    };
    // DPDK 22.11's net_af_xdp (with libxdp 1.3) leaves descriptors open after the device is
    // closed: the bpf_object it loaded the program from (program, maps, BTF), so they stay in
    // the kernel, and its AF_XDP socket, which keeps the interface's queue bound (the same
    // interface added again fails to bind: EBUSY). Seen in /proc/PID/fd after a removal. The
    // destructor closes those still open and still the same objects (a descriptor number may
    // have been reused). Destroy it after the port's device.
    void set_held_by_dpdk(std::vector<held_object> h) { _held_by_dpdk = std::move(h); }
    ~xdp_steer();
    // For the state file and vxctl: interface, XDP mode, program id, the AF_XDP sockets' mode
    // (af_xdp_sockets: count, zero_copy, mode), rules, counters by name.
    nlohmann::json state() const;
    // For the statistics line: "xdp switch N kernel M drop D" (decisions summed by path).
    std::string summary() const;

private:
    struct maps {
        unique_fd cfg, vlans, udp, addrs, mac_ranges, ethertypes, src_macs, counters;
    };
    explicit xdp_steer(maps m) : _maps(std::move(m)) {}

    maps _maps;
    std::string _iface;
    xdp_attachment _attachment;
    std::vector<xsk_socket_mode> _sockets;
    std::vector<held_object> _held_by_dpdk;
    config::steer_rules _rules;
    bool _written = false;
};

// The program loaded from the embedded object by libbpf, not attached anywhere: for the unit
// test (BPF_PROG_RUN) and the verifier check. Throws std::runtime_error if the kernel refuses it.
class steer_program {
public:
    steer_program();
    ~steer_program();
    steer_program(const steer_program&) = delete;
    steer_program& operator=(const steer_program&) = delete;

    int prog_fd() const;
    int xsks_map_fd() const;
    // Instructions after the verifier's rewrite (xlated), for docs/af-xdp.md's budget.
    uint32_t instructions() const;

private:
    vx_steer_bpf* _skel = nullptr;
};

// An af_xdp port: the net_af_xdp device with vx_steer attached and the port's rules written.
struct steered_port {
    std::unique_ptr<dpdk_port> port;
    std::unique_ptr<xdp_steer> steer;
};

// Opens an af_xdp port (cfg.xdp set): refuses an interface that already has an XDP program,
// has net_af_xdp load vx_steer, logs the XDP mode the kernel chose (native, or generic when the
// driver has no XDP of its own) and the mode its AF_XDP sockets got (zero-copy, or copy with a
// warning), writes the rules. Throws std::runtime_error naming the port.
steered_port open_af_xdp_port(const config::port& cfg, uint16_t tx_queues, rte_mempool* pool);

} // namespace vx
