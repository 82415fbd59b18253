// SPDX-License-Identifier: MIT
// vxgen: a DPDK traffic generator and sink for vxbench's zero-loss search.
//
//   vxgen [EAL options, one --vdev per port] -- --pcap FILE [--rate PPS] [--duration S]
//         [--tx-port N] [--copies N] [--queues N] [--learn-pcap FILE] [--trials-from-stdin]
//
// Port --tx-port (default 0, ports numbered in --vdev order) sends the frames of FILE round
// and round; every other port receives (the DUT's egress ports). A trial sends for
// --duration seconds at --rate frames/s (TSC-paced bursts; 0: as fast as the port takes
// them), then keeps receiving for --drain seconds or until every frame is back. Each frame
// carries a stamp (frame_stamp.hh: sequence number and TSC) in its last bytes; what comes
// back is matched by the stamp and its latency (TSC at receive - TSC at send, same clock)
// goes into a log-linear histogram. One JSON line per trial on stdout: frames offered, sent
// (taken by the port), received, lost, the rates achieved and latency percentiles in ns.
//
// --trials-from-stdin keeps the ports up between trials: each input line "RATE DURATION"
// runs a trial, EOF ends. vxbench drives its search that way. A frame the port refuses (its
// ring full: the DUT did not keep up) counts as lost, as a NIC's missed frame would.
// --queues: receive queues per port (memif rings towards vxgen), for a DUT that sends on a
// queue other than 0. Sequence numbers are 32 bits: a run of vxgen sends at most 2^32 frames.
// Nothing is allocated per frame: mbufs come from the pool in bursts, frames are copied from
// templates loaded at start, and the histogram is a fixed array.
//
// Any DPDK port will do (memif, net_af_xdp on a veth, a PCI NIC). With a net_af_xdp port the
// pool is the one vxswitchd makes for such ports (vx::create_packet_pool: one page per buffer,
// as net_af_xdp's UMEM needs): a default pool's buffers partly lie outside the UMEM, and the
// kernel drops what is sent from them without a counter moving.

#include <pcap/pcap.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_memcpy.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <span>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "config/model.hh"
#include "frame_stamp.hh"
#include "latency_histogram.hh"
#include "ports/dpdk_port.hh"

namespace {

using vx::bench::frame_stamp;
using vx::bench::latency_histogram;

constexpr uint16_t burst_size = 32;
constexpr uint16_t ring_size = 1024;

std::atomic<bool> stop_requested{false};

struct options {
    std::string pcap;
    std::string learn_pcap;
    double rate_pps = 0;
    double duration_s = 1;
    double drain_s = 0.2;
    uint16_t tx_port = 0;
    unsigned copies = 1;
    uint16_t queues = 1;
    unsigned max_late_bursts = 4;
    double link_timeout_s = 10;
    bool trials_from_stdin = false;
};

// ---------------------------------------------------------------------------------------
// Frames: the pcap's frames, loaded once (libpcap), each long enough to carry the stamp.

using frame_bytes = std::vector<uint8_t>;

std::vector<frame_bytes> load_frames(const std::string& path) {
    std::array<char, PCAP_ERRBUF_SIZE> err{};
    pcap_t* p = pcap_open_offline(path.c_str(), err.data());
    if (p == nullptr) {
        throw std::runtime_error(fmt::format("{}: {}", path, err.data()));
    }
    std::vector<frame_bytes> frames;
    pcap_pkthdr* h = nullptr;
    const u_char* data = nullptr;
    while (pcap_next_ex(p, &h, &data) == 1) {
        if (h->caplen != h->len || h->caplen < 14 + frame_stamp::size) {
            pcap_close(p);
            throw std::runtime_error(fmt::format("{}: frame {} is {} bytes ({} captured): needs at least {}, whole",
                                                 path, frames.size() + 1, h->len, h->caplen, 14 + frame_stamp::size));
        }
        frames.emplace_back(data, data + h->caplen);
    }
    pcap_close(p);
    if (frames.empty()) {
        throw std::runtime_error(path + ": no frames");
    }
    return frames;
}

size_t longest(const std::vector<frame_bytes>& frames) {
    size_t n = 0;
    for (const auto& f : frames) {
        n = std::max(n, f.size());
    }
    return n;
}

// ---------------------------------------------------------------------------------------
// Ports: every ethdev the EAL made (from --vdev, or PCI devices from -a), one queue each,
// started, links up.

// The pool every port receives into and sends from: room for the longest frame, laid out
// for net_af_xdp when a port is one (see the top of the file).
rte_mempool* create_pool(uint16_t ports, uint32_t buffers, size_t longest_frame) {
    std::vector<vx::config::port> devices(ports);
    for (uint16_t p = 0; p < ports; ++p) {
        std::array<char, RTE_ETH_NAME_MAX_LEN> name{};
        rte_eth_dev_get_name_by_port(p, name.data());
        devices[p].device = name.data();
    }
    const bool af_xdp = std::any_of(devices.begin(), devices.end(),
                                    [](const auto& d) { return d.device.starts_with("net_af_xdp"); });
    rte_mempool* pool = nullptr;
    if (af_xdp) {
        pool = vx::create_packet_pool(devices, buffers, 256);
    } else {
        const size_t room = std::max<size_t>(RTE_MBUF_DEFAULT_DATAROOM, longest_frame + 64);
        pool = rte_pktmbuf_pool_create("vxgen", buffers, 256, 0, static_cast<uint16_t>(room + RTE_PKTMBUF_HEADROOM),
                                       static_cast<int>(rte_socket_id()));
        if (pool == nullptr) {
            throw std::runtime_error(std::string("mbuf pool: ") + rte_strerror(rte_errno));
        }
    }
    const size_t room = rte_pktmbuf_data_room_size(pool) - RTE_PKTMBUF_HEADROOM;
    if (longest_frame > room) {
        throw std::runtime_error(fmt::format("frames of {} bytes do not fit the {}-byte buffers of the pool{}",
                                             longest_frame, room, af_xdp ? " (net_af_xdp: one page each)" : ""));
    }
    return pool;
}

// `rx_queues` receive queues and one transmit queue: over memif the client's queues are the
// rings of the connection, a DUT may send on a queue other than 0 (OVS: one queue per PMD
// thread plus one), and a server refuses more rings towards it than it has receive queues.
void start_port(uint16_t port, rte_mempool* pool, uint16_t rx_queues) {
    rte_eth_conf conf{};
    const auto socket = static_cast<unsigned>(rte_eth_dev_socket_id(port));
    int rc = rte_eth_dev_configure(port, rx_queues, 1, &conf);
    for (uint16_t q = 0; q < rx_queues && rc == 0; ++q) {
        rc = rte_eth_rx_queue_setup(port, q, ring_size, socket, nullptr, pool);
    }
    if (rc == 0) {
        rc = rte_eth_tx_queue_setup(port, 0, ring_size, socket, nullptr);
    }
    if (rc == 0) {
        rc = rte_eth_dev_start(port);
    }
    if (rc != 0) {
        throw std::runtime_error(fmt::format("port {}: {}", port, rte_strerror(-rc)));
    }
}

void wait_links_up(uint16_t ports, double timeout_s) {
    const uint64_t deadline = rte_rdtsc() + static_cast<uint64_t>(timeout_s * static_cast<double>(rte_get_tsc_hz()));
    for (uint16_t p = 0; p < ports; ++p) {
        rte_eth_link link{};
        while (rte_eth_link_get_nowait(p, &link) == 0 && link.link_status != RTE_ETH_LINK_UP) {
            if (rte_rdtsc() > deadline || stop_requested) {
                throw std::runtime_error(fmt::format("port {}: link still down after {} s", p, timeout_s));
            }
            rte_delay_ms(10);
        }
    }
}

// ---------------------------------------------------------------------------------------
// One trial.

struct trial_spec {
    double rate_pps = 0; // 0: unthrottled
    double duration_s = 1;
};

struct trial_result {
    trial_spec spec;
    uint64_t offered = 0;  // frames the generator tried to send (sent + refused)
    uint64_t sent = 0;     // taken by the port
    uint64_t refused = 0;  // the port's ring was full: counted lost
    uint64_t late = 0;     // never offered: the generator fell behind its schedule (descheduled)
    uint64_t received = 0; // stamped frames of this trial back on a receive port
    uint64_t stale = 0;    // stamped frames of an earlier trial
    uint64_t foreign = 0;  // frames without a stamp
    uint64_t reordered = 0;
    uint64_t send_tsc = 0; // TSC ticks from the first to the last send
    std::vector<uint64_t> rx_per_port;
    latency_histogram latency;
};

class generator {
public:
    generator(const options& o, std::vector<frame_bytes> frames, rte_mempool* pool, uint16_t ports)
        : opt_(o), frames_(std::move(frames)), pool_(pool), ports_(ports), hz_(rte_get_tsc_hz()),
          last_seq_(ports, 0) {}

    // Frames sent in on the receive ports before any trial, so that a learning switch knows
    // where the destinations are; whatever comes back within the drain time is dropped.
    void send_learning(const std::vector<frame_bytes>& learn) {
        for (uint16_t p = 0; p < ports_; ++p) {
            if (p == opt_.tx_port) {
                continue;
            }
            for (size_t i = 0; i < learn.size(); i += burst_size) {
                std::array<rte_mbuf*, burst_size> b;
                const auto n = static_cast<uint16_t>(std::min<size_t>(burst_size, learn.size() - i));
                if (rte_pktmbuf_alloc_bulk(pool_, b.data(), n) != 0) {
                    throw std::runtime_error("mbuf pool empty while sending the learning frames");
                }
                for (uint16_t k = 0; k < n; ++k) {
                    fill(b[k], learn[i + k]);
                }
                uint16_t done = 0;
                while (done < n && !stop_requested) {
                    done += rte_eth_tx_burst(p, 0, b.data() + done, n - done);
                    discard_received();
                }
            }
        }
        const uint64_t end = rte_rdtsc() + seconds(opt_.drain_s);
        while (rte_rdtsc() < end) {
            discard_received();
        }
    }

    trial_result run(const trial_spec& spec) {
        trial_result r;
        r.spec = spec;
        r.rx_per_port.assign(ports_, 0);
        trial_base_ = next_seq_;
        const uint64_t start = rte_rdtsc();
        const uint64_t end = start + seconds(spec.duration_s);
        uint64_t now = start;
        uint64_t last_send = start;
        while (now < end && !stop_requested) {
            const uint64_t due = frames_due(spec, start, now, r);
            if (due > 0) {
                send_burst(static_cast<uint16_t>(std::min<uint64_t>(due, burst_size)), now, r);
                last_send = now;
            }
            receive_bursts(r);
            now = rte_rdtsc();
        }
        r.send_tsc = last_send - start;
        const uint64_t drain_end = rte_rdtsc() + seconds(spec.duration_s > 0 ? opt_.drain_s : 0);
        while (r.received < r.sent * opt_.copies && rte_rdtsc() < drain_end && !stop_requested) {
            receive_bursts(r);
        }
        return r;
    }

    uint64_t hz() const { return hz_; }

private:
    uint64_t seconds(double s) const { return static_cast<uint64_t>(s * static_cast<double>(hz_)); }

    // How many frames the schedule wants sent by `now`. A generator that fell more than
    // max_late_bursts behind (its thread descheduled on a shared machine) does not catch up
    // in one back-to-back blast, which would test the DUT's rings rather than its rate: the
    // frames it missed are counted as late and the schedule moves on.
    uint64_t frames_due(const trial_spec& spec, uint64_t start, uint64_t now, trial_result& r) const {
        if (spec.rate_pps <= 0) {
            return burst_size;
        }
        const auto scheduled = static_cast<uint64_t>(static_cast<double>(now - start) * spec.rate_pps /
                                                     static_cast<double>(hz_));
        const uint64_t done = r.offered + r.late;
        if (scheduled <= done) {
            return 0;
        }
        const uint64_t due = scheduled - done;
        const uint64_t most = uint64_t{burst_size} * opt_.max_late_bursts;
        if (due > most) {
            r.late += due - most;
            return most;
        }
        return due;
    }

    void fill(rte_mbuf* m, const frame_bytes& f) const {
        rte_memcpy(rte_pktmbuf_mtod(m, uint8_t*), f.data(), f.size());
        m->data_len = static_cast<uint16_t>(f.size());
        m->pkt_len = static_cast<uint32_t>(f.size());
    }

    void send_burst(uint16_t n, uint64_t now, trial_result& r) {
        std::array<rte_mbuf*, burst_size> b;
        if (rte_pktmbuf_alloc_bulk(pool_, b.data(), n) != 0) {
            return; // every mbuf is in flight: try again on the next turn
        }
        for (uint16_t k = 0; k < n; ++k) {
            const frame_bytes& f = frames_[next_frame_];
            next_frame_ = next_frame_ + 1 == frames_.size() ? 0 : next_frame_ + 1;
            fill(b[k], f);
            uint8_t* tail = rte_pktmbuf_mtod_offset(b[k], uint8_t*, f.size() - frame_stamp::size);
            frame_stamp{next_seq_++, now}.write(std::span<uint8_t, frame_stamp::size>(tail, frame_stamp::size));
        }
        const uint16_t sent = rte_eth_tx_burst(opt_.tx_port, 0, b.data(), n);
        if (sent < n) {
            rte_pktmbuf_free_bulk(b.data() + sent, n - sent);
        }
        r.offered += n;
        r.sent += sent;
        r.refused += n - sent;
    }

    void receive_bursts(trial_result& r) {
        for (uint16_t p = 0; p < ports_; ++p) {
            for (uint16_t q = 0; q < opt_.queues && p != opt_.tx_port; ++q) {
                std::array<rte_mbuf*, burst_size> b;
                const uint16_t n = rte_eth_rx_burst(p, q, b.data(), burst_size);
                if (n == 0) {
                    continue;
                }
                const uint64_t now = rte_rdtsc();
                for (uint16_t k = 0; k < n; ++k) {
                    account(p, b[k], now, r);
                }
                rte_pktmbuf_free_bulk(b.data(), n);
            }
        }
    }

    void account(uint16_t port, const rte_mbuf* m, uint64_t now, trial_result& r) {
        std::array<uint8_t, frame_stamp::size> copy;
        if (m->pkt_len < frame_stamp::size) {
            ++r.foreign;
            return;
        }
        const auto* tail = static_cast<const uint8_t*>(
            rte_pktmbuf_read(m, m->pkt_len - frame_stamp::size, frame_stamp::size, copy.data()));
        const auto st = frame_stamp::read(std::span<const uint8_t, frame_stamp::size>(tail, frame_stamp::size));
        if (!st) {
            ++r.foreign;
            return;
        }
        if (st->seq < trial_base_ || st->seq >= next_seq_) {
            ++r.stale;
            return;
        }
        ++r.received;
        ++r.rx_per_port[port];
        r.reordered += st->seq < last_seq_[port] ? 1 : 0;
        last_seq_[port] = st->seq;
        r.latency.record(now - st->tsc);
    }

    void discard_received() {
        for (uint16_t p = 0; p < ports_; ++p) {
            for (uint16_t q = 0; q < opt_.queues; ++q) {
                std::array<rte_mbuf*, burst_size> b;
                const uint16_t n = rte_eth_rx_burst(p, q, b.data(), burst_size);
                rte_pktmbuf_free_bulk(b.data(), n);
            }
        }
    }

    const options& opt_;
    std::vector<frame_bytes> frames_;
    rte_mempool* pool_;
    uint16_t ports_;
    uint64_t hz_;
    size_t next_frame_ = 0;
    uint32_t next_seq_ = 0;
    uint32_t trial_base_ = 0;
    std::vector<uint32_t> last_seq_;
};

// ---------------------------------------------------------------------------------------
// Output: one JSON object per trial.

nlohmann::json to_json(const trial_result& r, uint64_t hz, unsigned copies) {
    const double tick_ns = 1e9 / static_cast<double>(hz);
    const auto ns = [&](uint64_t ticks) { return static_cast<double>(ticks) * tick_ns; };
    const double send_s = static_cast<double>(r.send_tsc) / static_cast<double>(hz);
    const uint64_t expected = r.offered * copies;
    const auto& h = r.latency;
    return {
        {"rate_requested_pps", r.spec.rate_pps},
        {"duration_s", r.spec.duration_s},
        {"send_s", send_s},
        {"offered", r.offered},
        {"sent", r.sent},
        {"refused", r.refused},
        {"late", r.late},
        {"expected", expected},
        {"received", r.received},
        {"lost", expected > r.received ? expected - r.received : 0},
        {"loss_ratio", expected ? static_cast<double>(expected - std::min(expected, r.received)) /
                                      static_cast<double>(expected)
                                : 0.0},
        {"offered_pps", send_s > 0 ? static_cast<double>(r.offered) / send_s : 0.0},
        {"sent_pps", send_s > 0 ? static_cast<double>(r.sent) / send_s : 0.0},
        {"stale", r.stale},
        {"foreign", r.foreign},
        {"reordered", r.reordered},
        {"rx_per_port", r.rx_per_port},
        {"latency_ns",
         {{"count", h.count()},
          {"min", ns(h.min())},
          {"p50", ns(h.percentile(0.50))},
          {"p90", ns(h.percentile(0.90))},
          {"p99", ns(h.percentile(0.99))},
          {"p99_9", ns(h.percentile(0.999))},
          {"max", ns(h.max())}}},
    };
}

bool next_trial(trial_spec& spec) {
    std::string line;
    while (std::getline(std::cin, line)) {
        std::istringstream in(line);
        if (in >> spec.rate_pps >> spec.duration_s && spec.rate_pps >= 0 && spec.duration_s > 0) {
            return true;
        }
        if (line.find_first_not_of(" \t\r") != std::string::npos) {
            std::cout << nlohmann::json{{"error", "expected 'RATE_PPS DURATION_S', got '" + line + "'"}}.dump()
                      << std::endl;
        }
    }
    return false;
}

int run(int argc, char** argv) {
    const int eal_args = rte_eal_init(argc, argv);
    if (eal_args < 0) {
        throw std::runtime_error(std::string("rte_eal_init: ") + rte_strerror(rte_errno));
    }
    options o;
    CLI::App app{"vxgen: paced, stamped traffic through a DUT; sent, received, lost and latency as JSON"};
    app.add_option("--pcap", o.pcap, "frames to send (round and round)")->required();
    app.add_option("--learn-pcap", o.learn_pcap, "frames sent in once on every receive port before the trials");
    app.add_option("--rate", o.rate_pps, "frames per second (0: as fast as the port takes them)");
    app.add_option("--duration", o.duration_s, "seconds of sending per trial");
    app.add_option("--drain", o.drain_s, "seconds of receiving after sending stops (at most)");
    app.add_option("--tx-port", o.tx_port, "the port that sends (the others receive)");
    app.add_option("--copies", o.copies, "copies of each frame expected back (a flood: one per receive port)");
    app.add_option("--queues", o.queues, "receive queues per port (one transmit queue)")->check(CLI::Range(1, 8));
    app.add_option("--max-late-bursts", o.max_late_bursts, "bursts a late generator may catch up at once");
    app.add_option("--link-timeout", o.link_timeout_s, "seconds to wait for the ports' links");
    app.add_flag("--trials-from-stdin", o.trials_from_stdin, "run a trial per input line 'RATE DURATION'");
    try {
        app.parse(argc - eal_args, argv + eal_args);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }

    const uint16_t ports = rte_eth_dev_count_avail();
    if (ports < 2 || o.tx_port >= ports) {
        throw std::runtime_error(fmt::format("{} ports (give one --vdev per port): need at least 2, and --tx-port {} "
                                             "among them",
                                             ports, o.tx_port));
    }
    auto frames = load_frames(o.pcap);
    const auto learn = o.learn_pcap.empty() ? std::vector<frame_bytes>{} : load_frames(o.learn_pcap);
    rte_mempool* pool =
        create_pool(ports, 4 * ring_size * ports * o.queues + 4096, std::max(longest(frames), longest(learn)));
    for (uint16_t p = 0; p < ports; ++p) {
        start_port(p, pool, o.queues);
    }
    wait_links_up(ports, o.link_timeout_s);

    generator gen(o, std::move(frames), pool, ports);
    if (!learn.empty()) {
        gen.send_learning(learn);
    }
    std::cout << nlohmann::json{{"ready", true}, {"ports", ports}, {"tsc_hz", gen.hz()}}.dump() << std::endl;
    trial_spec spec{o.rate_pps, o.duration_s};
    if (!o.trials_from_stdin) {
        std::cout << to_json(gen.run(spec), gen.hz(), o.copies).dump() << std::endl;
    } else {
        while (!stop_requested && next_trial(spec)) {
            std::cout << to_json(gen.run(spec), gen.hz(), o.copies).dump() << std::endl;
        }
    }
    for (uint16_t p = 0; p < ports; ++p) {
        rte_eth_dev_stop(p);
        rte_eth_dev_close(p);
    }
    rte_eal_cleanup();
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    std::signal(SIGINT, [](int) { stop_requested = true; });
    std::signal(SIGTERM, [](int) { stop_requested = true; });
    try {
        return run(argc, argv);
    } catch (const std::exception& e) {
        std::cerr << "vxgen: " << e.what() << "\n";
        return 1;
    }
}
