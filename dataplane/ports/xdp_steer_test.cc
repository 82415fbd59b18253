// SPDX-License-Identifier: MIT
// bpf/steer.bpf.c as a function: loaded through the skeleton (so the kernel's verifier passes
// it here, in CI), its maps found and written by xdp_steer as the daemon does, then driven with
// BPF_PROG_RUN on crafted frames, one case per decision, checking the verdict and that exactly
// the expected counters moved. Root only (loading BPF programs); skipped otherwise.

#include "ports/xdp_steer.hh"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <linux/if_xdp.h>
#include <net/if.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstring>
#include <memory>
#include <optional>
#include <vector>

namespace vx {
namespace {

using bytes = std::vector<uint8_t>;

// ---- frame builders: Ethernet, tags, IPv4/IPv6 + UDP

struct frame_spec {
    uint64_t dst_mac = 0x02cc00000001;
    uint64_t src_mac = 0x02cc00000002;
    std::vector<std::pair<uint16_t, uint16_t>> tags; // (TPID, VID), outer first
    uint16_t type = 0x0806;
    bytes body = bytes(46, 0);

    frame_spec& dst(uint64_t mac) { dst_mac = mac; return *this; }
    frame_spec& src(uint64_t mac) { src_mac = mac; return *this; }
    frame_spec& tag(uint16_t vid, uint16_t tpid = 0x8100) { tags.emplace_back(tpid, vid); return *this; }
    frame_spec& ethertype(uint16_t t) { type = t; return *this; }
    frame_spec& payload(uint16_t t, bytes b) { type = t; body = std::move(b); return *this; }
};

void put16(bytes& b, uint16_t v) {
    b.push_back(static_cast<uint8_t>(v >> 8));
    b.push_back(static_cast<uint8_t>(v));
}

void put_mac(bytes& b, uint64_t mac) {
    for (int i = 5; i >= 0; --i) {
        b.push_back(static_cast<uint8_t>(mac >> (8 * i)));
    }
}

bytes frame(const frame_spec& f) {
    bytes b;
    put_mac(b, f.dst_mac);
    put_mac(b, f.src_mac);
    for (const auto& [tpid, vid] : f.tags) {
        put16(b, tpid);
        put16(b, vid);
    }
    put16(b, f.type);
    b.insert(b.end(), f.body.begin(), f.body.end());
    return b;
}

bytes udp_header(uint16_t dport) {
    bytes u;
    put16(u, 40000);
    put16(u, dport);
    put16(u, 8 + 16);
    put16(u, 0);
    u.resize(u.size() + 16, 0xab);
    return u;
}

bytes ipv4_udp(const char* daddr, uint16_t dport, uint16_t frag_off = 0) {
    bytes ip = {0x45, 0, 0, 0, 0, 1};
    put16(ip, frag_off);
    ip.insert(ip.end(), {64, 17, 0, 0, 10, 0, 0, 9});
    in_addr a{};
    inet_pton(AF_INET, daddr, &a);
    const auto* d = reinterpret_cast<const uint8_t*>(&a);
    ip.insert(ip.end(), d, d + 4);
    const bytes u = udp_header(dport);
    ip.insert(ip.end(), u.begin(), u.end());
    return ip;
}

bytes ipv6_udp(const char* daddr, uint16_t dport) {
    bytes ip = {0x60, 0, 0, 0, 0, 24, 17, 64};
    ip.resize(ip.size() + 16, 0); // source ::
    in6_addr a{};
    inet_pton(AF_INET6, daddr, &a);
    ip.insert(ip.end(), a.s6_addr, a.s6_addr + 16);
    const bytes u = udp_header(dport);
    ip.insert(ip.end(), u.begin(), u.end());
    return ip;
}

frame_spec udp4(const char* daddr, uint16_t dport) {
    return frame_spec{}.payload(0x0800, ipv4_udp(daddr, dport));
}

frame_spec udp6(const char* daddr, uint16_t dport) {
    return frame_spec{}.payload(0x86dd, ipv6_udp(daddr, dport));
}

// ARP for IPv4 (request 1, reply 2) whose target protocol address is `tpa`.
frame_spec arp(uint16_t oper, const char* tpa) {
    bytes a;
    put16(a, 1);
    put16(a, 0x0800);
    a.insert(a.end(), {6, 4});
    put16(a, oper);
    put_mac(a, 0x02cc00000002);
    a.insert(a.end(), {10, 0, 0, 9});
    put_mac(a, oper == 2 ? 0x02cc00000001 : 0);
    in_addr t{};
    inet_pton(AF_INET, tpa, &t);
    const auto* p = reinterpret_cast<const uint8_t*>(&t);
    a.insert(a.end(), p, p + 4);
    a.resize(46, 0); // Ethernet padding
    return frame_spec{}.payload(0x0806, a);
}

// An ICMPv6 message of `type` to `daddr`, with `target` where a neighbour solicitation (135)
// or advertisement (136) has its target (checksums are not read by the program).
frame_spec icmp6(uint8_t type, const char* daddr, const char* target) {
    bytes ip = {0x60, 0, 0, 0, 0, 24, 58, 255};
    ip.resize(ip.size() + 16, 0); // source ::
    in6_addr a{};
    inet_pton(AF_INET6, daddr, &a);
    ip.insert(ip.end(), a.s6_addr, a.s6_addr + 16);
    ip.insert(ip.end(), {type, 0, 0, 0, 0, 0, 0, 0});
    inet_pton(AF_INET6, target, &a);
    ip.insert(ip.end(), a.s6_addr, a.s6_addr + 16);
    return frame_spec{}.payload(0x86dd, ip);
}

frame_spec tagged(uint16_t vid, uint16_t tpid = 0x8100) {
    return frame_spec{}.tag(vid, tpid);
}

// ---- an AF_XDP socket to put in xsks_map, so that a redirect succeeds

// Bound to lo, queue 0, copy mode, in a network namespace of this process's own: nothing is
// ever redirected to it (BPF_PROG_RUN only runs the program), but the map accepts only a
// bound socket.
class xsk_on_lo {
public:
    xsk_on_lo() {
        if (unshare(CLONE_NEWNET) != 0) {
            return;
        }
        _fd = unique_fd(socket(AF_XDP, SOCK_RAW, 0));
        _umem.resize(16 * 4096 + 4096);
        auto base = reinterpret_cast<uintptr_t>(_umem.data());
        xdp_umem_reg reg{};
        reg.addr = (base + 4095) & ~uintptr_t{4095};
        reg.len = 16 * 4096;
        reg.chunk_size = 4096;
        const int ring = 64;
        sockaddr_xdp addr{};
        addr.sxdp_family = AF_XDP;
        addr.sxdp_ifindex = if_nametoindex("lo");
        addr.sxdp_queue_id = 0;
        addr.sxdp_flags = XDP_COPY;
        _bound = _fd.get() >= 0 && setsockopt(_fd.get(), SOL_XDP, XDP_UMEM_REG, &reg, sizeof(reg)) == 0 &&
                 setsockopt(_fd.get(), SOL_XDP, XDP_UMEM_FILL_RING, &ring, sizeof(ring)) == 0 &&
                 setsockopt(_fd.get(), SOL_XDP, XDP_UMEM_COMPLETION_RING, &ring, sizeof(ring)) == 0 &&
                 setsockopt(_fd.get(), SOL_XDP, XDP_RX_RING, &ring, sizeof(ring)) == 0 &&
                 bind(_fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
        if (!_bound) {
            _error = std::strerror(errno);
        }
    }
    bool bound() const { return _bound; }
    int fd() const { return _fd.get(); }
    const std::string& error() const { return _error; }

private:
    unique_fd _fd;
    std::vector<uint8_t> _umem;
    bool _bound = false;
    std::string _error = "unshare(CLONE_NEWNET) failed";
};

// ---- the fixture: one loaded program, its maps through xdp_steer

class steer_test : public ::testing::Test {
protected:
    void SetUp() override {
        if (geteuid() != 0) {
            GTEST_SKIP() << "loading BPF programs needs root";
        }
        _prog = std::make_unique<steer_program>();
        _steer = xdp_steer::of_program(_prog->prog_fd());
    }

    // Runs one frame; returns the verdict and checks that the counters moved by `moved` only.
    int run(const bytes& data, std::vector<vx_steer_counter> moved) {
        const auto before = _steer->counters();
        bytes in = data;
        bpf_test_run_opts opts{};
        opts.sz = sizeof(opts);
        opts.data_in = in.data();
        opts.data_size_in = static_cast<uint32_t>(in.size());
        opts.repeat = 1;
        EXPECT_EQ(bpf_prog_test_run_opts(_prog->prog_fd(), &opts), 0) << std::strerror(errno);
        const auto after = _steer->counters();
        steer_counter_values expected = before;
        for (auto c : moved) {
            expected[c] += 1;
        }
        for (size_t k = 0; k < VX_CNT_COUNT; ++k) {
            EXPECT_EQ(after[k], expected[k]) << "counter " << steer_counters[k].name;
        }
        return static_cast<int>(opts.retval);
    }

    // A steered frame without a socket on its queue: to the kernel, counted as steered and no_socket.
    void expect_steered(const frame_spec& f, vx_steer_counter why) {
        EXPECT_EQ(run(frame(f), {why, VX_CNT_NO_SOCKET}), XDP_PASS);
    }
    void expect_passed(const frame_spec& f) { EXPECT_EQ(run(frame(f), {VX_CNT_PASS}), XDP_PASS); }
    void expect_dropped(const frame_spec& f, vx_steer_counter why) { EXPECT_EQ(run(frame(f), {why}), XDP_DROP); }

    static config::steer_rules fabric_rules() {
        config::steer_rules r;
        r.vlans = {10, 11};
        r.udp = {*config::parse_udp_dest("192.0.2.1:4789"), *config::parse_udp_dest("[2001:db8::1]:4789")};
        // "*:4790", as steer_rules_of spells it: one wildcard per family.
        auto any4 = *config::parse_udp_dest("*:4790");
        auto any6 = any4;
        any6.family = 6;
        r.udp.push_back(any4);
        r.udp.push_back(any6);
        r.macs = {*config::parse_mac_range("02:aa:00:00:00:00-02:aa:00:00:00:ff")};
        r.drop_vlans = {30};
        r.drop_ethertypes = {0x88cc};
        r.drop_src_macs = {0x02bb00000001};
        r.drop_udp = {*config::parse_udp_dest("*:9999")};
        return r;
    }

    std::unique_ptr<steer_program> _prog;
    std::unique_ptr<xdp_steer> _steer;
};

TEST_F(steer_test, passes_the_verifier_within_budget) {
    // docs/af-xdp.md records the figure; a jump means the program grew a path to review.
    EXPECT_GT(_prog->instructions(), 0u);
    EXPECT_LT(_prog->instructions(), 1000u);
}

TEST_F(steer_test, unconfigured_program_passes_everything) {
    EXPECT_EQ(run(frame(tagged(10)), {VX_CNT_PASS_UNCONFIGURED}), XDP_PASS);
    EXPECT_EQ(run(frame(udp4("192.0.2.1", 4789)), {VX_CNT_PASS_UNCONFIGURED}), XDP_PASS);
}

TEST_F(steer_test, steers_the_configured_vlans) {
    _steer->apply(fabric_rules());
    expect_steered(tagged(10), VX_CNT_REDIRECT_VLAN);
    expect_steered(tagged(11), VX_CNT_REDIRECT_VLAN);
    expect_passed(tagged(20));
    expect_passed(frame_spec{}); // untagged ARP: the host's
    // The VLAN rules read the port's TPID only: an S-tag on a C-tag port is not VLAN 10.
    expect_passed(tagged(10, 0x88a8));
}

TEST_F(steer_test, steers_udp_to_the_vtep) {
    _steer->apply(fabric_rules());
    expect_steered(udp4("192.0.2.1", 4789), VX_CNT_REDIRECT_UDP);
    expect_passed(udp4("192.0.2.2", 4789)); // another address of the host
    expect_passed(udp4("192.0.2.1", 4788)); // another port
    expect_steered(udp4("10.1.2.3", 4790), VX_CNT_REDIRECT_UDP); // *:4790
    expect_steered(udp6("2001:db8::1", 4789), VX_CNT_REDIRECT_UDP);
    expect_steered(udp6("2001:db8::77", 4790), VX_CNT_REDIRECT_UDP);
    expect_passed(udp6("2001:db8::2", 4789));
    // Behind a tag the switch does not steer, and behind two tags.
    expect_steered(udp4("192.0.2.1", 4789).tag(20), VX_CNT_REDIRECT_UDP);
    expect_steered(udp4("192.0.2.1", 4789).tag(20).tag(5),
                   VX_CNT_REDIRECT_UDP);
    // A later fragment carries no UDP header: the kernel reassembles.
    expect_passed(frame_spec{}.payload(0x0800, ipv4_udp("192.0.2.1", 4789, 0x0010)));
}

// The VTEP answers ARP and neighbour solicitations for its address and resolves its next hops
// itself, on an interface where the kernel does the same for its own addresses.
TEST_F(steer_test, steers_arp_and_neighbour_discovery_for_the_vteps_addresses) {
    _steer->apply(fabric_rules());
    expect_steered(arp(1, "192.0.2.1"), VX_CNT_REDIRECT_ARP_ND); // who has the VTEP's address
    expect_steered(arp(2, "192.0.2.1"), VX_CNT_REDIRECT_ARP_ND); // an answer to the VTEP's request
    expect_passed(arp(1, "192.0.2.2"));                          // the kernel's address
    expect_passed(arp(2, "10.0.0.9"));
    expect_passed(arp(1, "10.1.2.3")); // *:4790 names no address: the kernel keeps its ARP
    expect_steered(arp(1, "192.0.2.1").tag(20), VX_CNT_REDIRECT_ARP_ND);
    expect_steered(icmp6(135, "ff02::1:ff00:1", "2001:db8::1"), VX_CNT_REDIRECT_ARP_ND);
    expect_steered(icmp6(136, "2001:db8::1", "2001:db8::2"), VX_CNT_REDIRECT_ARP_ND);
    expect_passed(icmp6(135, "ff02::1:ff00:2", "2001:db8::2"));
    expect_passed(icmp6(136, "2001:db8::2", "2001:db8::1")); // an answer to the kernel
    expect_passed(icmp6(136, "ff02::1", "2001:db8::1"));     // unsolicited, to everyone
    expect_passed(icmp6(128, "2001:db8::1", "::"));          // an echo request is not ND
    bytes cut = frame(arp(1, "192.0.2.1"));
    cut.resize(14 + 20); // before the target address
    EXPECT_EQ(run(cut, {VX_CNT_PASS_TRUNCATED}), XDP_PASS);
    auto r = fabric_rules();
    r.udp.erase(r.udp.begin()); // 192.0.2.1:4789: no longer a VTEP address
    _steer->apply(r);
    expect_passed(arp(1, "192.0.2.1"));
    expect_steered(icmp6(135, "ff02::1:ff00:1", "2001:db8::1"), VX_CNT_REDIRECT_ARP_ND);
}

TEST_F(steer_test, steers_destination_mac_ranges) {
    _steer->apply(fabric_rules());
    expect_steered(frame_spec{}.dst(0x02aa00000000), VX_CNT_REDIRECT_MAC);
    expect_steered(frame_spec{}.dst(0x02aa000000ff), VX_CNT_REDIRECT_MAC);
    expect_passed(frame_spec{}.dst(0x02aa00000100));
}

TEST_F(steer_test, drops_what_the_early_filters_name) {
    _steer->apply(fabric_rules());
    expect_dropped(tagged(30), VX_CNT_DROP_VLAN);
    expect_dropped(frame_spec{}.ethertype(0x88cc), VX_CNT_DROP_ETHERTYPE);
    expect_dropped(tagged(20).ethertype(0x88cc), VX_CNT_DROP_ETHERTYPE);
    // Filters come first: a steered VLAN from a dropped source is dropped.
    expect_dropped(tagged(10).src(0x02bb00000001), VX_CNT_DROP_SRC_MAC);
    expect_dropped(udp4("192.0.2.99", 9999), VX_CNT_DROP_UDP);
}

TEST_F(steer_test, passes_frames_cut_short) {
    _steer->apply(fabric_rules());
    bytes cut_tag = frame(tagged(10));
    cut_tag.resize(16); // the tag's TCI, no EtherType behind it
    EXPECT_EQ(run(cut_tag, {VX_CNT_PASS_TRUNCATED}), XDP_PASS);
    bytes cut_ip = frame(udp4("192.0.2.1", 4789));
    cut_ip.resize(14 + 12);
    EXPECT_EQ(run(cut_ip, {VX_CNT_PASS_TRUNCATED}), XDP_PASS);
}

TEST_F(steer_test, own_mode_takes_everything_but_filtered_frames) {
    config::steer_rules r;
    r.own = true;
    r.drop_ethertypes = {0x88cc};
    _steer->apply(r);
    expect_steered(frame_spec{}, VX_CNT_REDIRECT_OWN);
    expect_steered(tagged(4094), VX_CNT_REDIRECT_OWN);
    expect_steered(udp4("192.0.2.200", 22), VX_CNT_REDIRECT_OWN);
    expect_dropped(frame_spec{}.ethertype(0x88cc), VX_CNT_DROP_ETHERTYPE);
}

TEST_F(steer_test, s_trunk_rules_read_s_tags) {
    config::steer_rules r;
    r.tpid = 0x88a8;
    r.vlans = {100};
    _steer->apply(r);
    expect_steered(tagged(100, 0x88a8).tag(10), VX_CNT_REDIRECT_VLAN);
    expect_passed(tagged(100, 0x8100));
}

TEST_F(steer_test, runtime_changes_move_traffic_between_the_paths) {
    auto r = fabric_rules();
    _steer->apply(r);
    expect_steered(tagged(10), VX_CNT_REDIRECT_VLAN);
    expect_passed(tagged(20));
    r.vlans = {20};
    r.macs.clear();
    r.drop_udp.clear();
    r.udp.erase(r.udp.begin()); // 192.0.2.1:4789 no longer steered
    _steer->apply(r);
    expect_passed(tagged(10));
    expect_steered(tagged(20), VX_CNT_REDIRECT_VLAN);
    expect_passed(frame_spec{}.dst(0x02aa00000001));
    expect_passed(udp4("192.0.2.99", 9999));
    expect_passed(udp4("192.0.2.1", 4789));
    expect_steered(udp6("2001:db8::1", 4789), VX_CNT_REDIRECT_UDP);
    EXPECT_EQ(_steer->rules(), r);
}

TEST_F(steer_test, redirects_to_the_socket_bound_to_the_queue) {
    const xsk_on_lo xsk;
    if (!xsk.bound()) {
        GTEST_SKIP() << "cannot bind an AF_XDP socket to lo: " << xsk.error();
    }
    const uint32_t queue = 0;
    const int fd = xsk.fd();
    ASSERT_EQ(bpf_map_update_elem(_prog->xsks_map_fd(), &queue, &fd, BPF_ANY), 0) << std::strerror(errno);
    _steer->apply(fabric_rules());
    EXPECT_EQ(run(frame(tagged(10)), {VX_CNT_REDIRECT_VLAN}), XDP_REDIRECT);
    EXPECT_EQ(run(frame(udp4("192.0.2.1", 4789)), {VX_CNT_REDIRECT_UDP}), XDP_REDIRECT);
    expect_passed(tagged(20));
}

TEST_F(steer_test, summary_and_state_sum_the_decisions_by_path) {
    _steer->apply(fabric_rules());
    expect_steered(tagged(10), VX_CNT_REDIRECT_VLAN); // no socket: the kernel's after all
    expect_passed(tagged(20));
    expect_dropped(tagged(30), VX_CNT_DROP_VLAN);
    EXPECT_EQ(_steer->summary(), "xdp switch 0 kernel 2 drop 1");
    const auto state = _steer->state();
    EXPECT_EQ(state["counters"]["redirect_vlan"], 1u);
    EXPECT_EQ(state["counters"]["no_socket"], 1u);
    EXPECT_EQ(state["rules"], "steer vlans 10,11 udp 192.0.2.1:4789,[2001:db8::1]:4789,*:4790,[::]:4790 macs "
                              "02:aa:00:00:00:00-02:aa:00:00:00:ff; drop vlans 30 ethertypes 0x88cc src_macs "
                              "02:bb:00:00:00:01 udp *:9999");
}

// The daemon tells an af_xdp port's sockets by when they appeared, and their mode by
// XDP_OPTIONS: a socket bound in copy mode is found, as copy, and a plain socket is not.
TEST(xsk_sockets, a_new_socket_is_found_with_its_mode) {
    if (geteuid() != 0) {
        GTEST_SKIP() << "AF_XDP sockets need root";
    }
    const auto before = open_xsk_sockets();
    const unique_fd udp(socket(AF_INET, SOCK_DGRAM, 0));
    const xsk_on_lo xsk;
    if (!xsk.bound()) {
        GTEST_SKIP() << "cannot bind an AF_XDP socket to lo: " << xsk.error();
    }
    const auto found = new_xsk_sockets(before, open_xsk_sockets());
    ASSERT_EQ(found.size(), 1u);
    EXPECT_EQ(found[0].fd, xsk.fd());
    EXPECT_FALSE(found[0].zero_copy);
    EXPECT_EQ(xsk_mode(found), "copy");
    EXPECT_EQ(describe_xsk_modes("lo", 1, found).rfind("AF_XDP socket on lo queue 0 in copy mode (", 0), 0u);
}

TEST(xsk_sockets, modes_are_summed_up_per_port) {
    const std::vector<xsk_socket_mode> zc = {{3, true}, {4, true}};
    EXPECT_EQ(describe_xsk_modes("eth0", 2, zc), "AF_XDP sockets on eth0 queues 0-1 in zero-copy mode");
    EXPECT_EQ(describe_xsk_modes("eth0", 2, {{3, true}, {4, false}}),
              "AF_XDP sockets on eth0 queues 0-1: 1 in zero-copy mode, 1 in copy mode");
    EXPECT_EQ(xsk_mode({}), "unknown");
    EXPECT_NE(describe_xsk_modes("eth0", 1, {}).find("its mode (zero-copy or copy) is unknown"), std::string::npos);
}

TEST(xdp_steer_maps, a_program_without_the_maps_is_refused) {
    if (geteuid() != 0) {
        GTEST_SKIP() << "loading BPF programs needs root";
    }
    // A minimal XDP program (return XDP_PASS) has none of vx_steer's maps.
    const bpf_insn insns[] = {
        {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .src_reg = 0, .off = 0, .imm = XDP_PASS},
        {.code = BPF_JMP | BPF_EXIT, .dst_reg = 0, .src_reg = 0, .off = 0, .imm = 0},
    };
    const unique_fd prog(bpf_prog_load(BPF_PROG_TYPE_XDP, "not_vx", "MIT", insns, 2, nullptr));
    ASSERT_GE(prog.get(), 0) << std::strerror(errno);
    try {
        xdp_steer::of_program(prog.get());
        FAIL() << "a program without vx_cfg was accepted";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("no map 'vx_cfg'"), std::string::npos) << e.what();
    }
}

} // namespace
} // namespace vx
