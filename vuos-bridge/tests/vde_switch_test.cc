// SPDX-License-Identifier: MIT
// vxswitchd's VDE switch served to real libvdeplug clients: vde_open("vde:///dir[N]") in this
// process, answered by the bridge's I/O thread. A client is bound to the port it asks for or
// to a free default port, frames cross both ways, a second client for a busy port and a
// client sending garbage are refused, and a client that leaves frees its port. A port with a
// jumbo MTU takes and sends whole 9014-byte frames, in buffers longer than the switch's pool's.
extern "C" { // libvdeplug.h declares C functions without saying so
#include <libvdeplug.h>
}
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <thread>
#include <vector>

#include "config/model.hh"
#include "vde_ports.hh"
#include "vuos-bridge/vde_bridge.hh"

namespace vx::vde {
namespace {

using vx::testing::bytes;
using vx::testing::frame;

config::port slot(const std::string& name, std::optional<uint16_t> number, size_t index) {
    config::port p;
    p.name = name;
    p.device = config::vde_device(index);
    p.vde = config::vde_port{"", true, number};
    return p;
}

template <class Pred>
bool eventually(Pred pred) {
    for (int i = 0; i < 400; ++i) { // pred is called until true, and once more never (it may consume)
        if (pred()) {
            return true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return false;
}

class vde_switch_test : public ::testing::Test {
protected:
    void SetUp() override {
        vx::testing::start_eal();
        dir = std::filesystem::temp_directory_path() / ("vxvde-test-" + std::to_string(::getpid()));
        std::filesystem::remove_all(dir);
        config::model m;
        m.vde_switch = config::vde_listener{dir.string(), "", "", 0600, 1};
        m.ports = {slot("numbered", 3, 0), slot("any", std::nullopt, 1)};
        m.ports[0].mtu = numbered_mtu;
        b = std::make_unique<bridge>(m, 1, vx::testing::test_pool());
        numbered = testing::start_port(config::vde_device(0));
        any = testing::start_port(config::vde_device(1));
        b->start();
    }
    void TearDown() override {
        b->stop();
        testing::stop_port(numbered);
        testing::stop_port(any);
        b.reset();
        std::filesystem::remove_all(dir);
    }
    // Sends `f` as client c; what the workers receive on the numbered port (null: nothing).
    rte_mbuf* client_sends(VDECONN* c, const bytes& f) {
        EXPECT_EQ(vde_send(c, f.data(), f.size(), 0), static_cast<ssize_t>(f.size()));
        rte_mbuf* got = nullptr;
        eventually([&] { return rte_eth_rx_burst(numbered, 0, &got, 1) != 0; });
        return got;
    }
    VDECONN* plug(const std::string& suffix) {
        std::string url = "vde://" + dir.string() + suffix;
        std::string descr = "vde_switch_test";
        return vde_open(url.data(), descr.data(), nullptr);
    }

    std::optional<uint16_t> numbered_mtu; // set before SetUp by a fixture that needs it
    std::filesystem::path dir;
    std::unique_ptr<bridge> b;
    uint16_t numbered = 0;
    uint16_t any = 0;
};

TEST_F(vde_switch_test, the_sockets_have_the_configured_mode) {
    struct stat st {};
    ASSERT_EQ(::stat((dir / "ctl").c_str(), &st), 0);
    EXPECT_TRUE(S_ISSOCK(st.st_mode));
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    ASSERT_EQ(::stat(dir.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u);
}

TEST_F(vde_switch_test, a_client_gets_the_port_it_asks_for_and_frames_cross_both_ways) {
    VDECONN* c = plug("[3]");
    ASSERT_NE(c, nullptr) << "vde_open refused: " << std::strerror(errno);
    ASSERT_TRUE(eventually([&] { return b->clients() == 1; }));
    // libvdeplug adds who the client is to the description it is given.
    EXPECT_TRUE(b->state_of(0)->at("peer").get<std::string>().starts_with("vde_switch_test user=")) << b->state_of(0)->dump();
    EXPECT_EQ(b->state_of(1)->at("peer"), "");

    const bytes in = frame("ff:ff:ff:ff:ff:ff", "02:00:00:00:00:03");
    rte_mbuf* got = client_sends(c, in);
    ASSERT_NE(got, nullptr) << b->state_of(0)->dump();
    EXPECT_EQ(vx::testing::mbuf_bytes(got), in);
    rte_pktmbuf_free(got);

    const bytes out = frame("02:00:00:00:00:03", "02:00:00:00:00:09", {}, 0x0800, 1400);
    testing::worker_sends(numbered, out);
    bytes buf(2000);
    ASSERT_EQ(vde_recv(c, buf.data(), buf.size(), 0), static_cast<ssize_t>(out.size()));
    buf.resize(out.size());
    EXPECT_EQ(buf, out);

    EXPECT_EQ(plug("[3]"), nullptr) << "port 3 is taken";
    VDECONN* other = plug("");
    ASSERT_NE(other, nullptr) << "a client asking for no port gets a default one";
    ASSERT_TRUE(eventually([&] { return b->clients() == 2; }));
    EXPECT_EQ(plug(""), nullptr) << "no free port is left";

    vde_close(c);
    ASSERT_TRUE(eventually([&] { return b->clients() == 1; })) << "a client that leaves frees its port";
    EXPECT_EQ(b->state_of(0)->at("peer"), "");
    c = plug("[3]");
    ASSERT_NE(c, nullptr) << "the port is free again";
    ASSERT_TRUE(eventually([&] { return b->clients() == 2; }));
    vde_close(c);
    vde_close(other);
    ASSERT_TRUE(eventually([&] { return b->clients() == 0; }));
    // Our data sockets go with their clients: only ctl is left in the directory.
    size_t files = 0;
    for ([[maybe_unused]] const auto& f : std::filesystem::directory_iterator(dir)) {
        ++files;
    }
    EXPECT_EQ(files, 1u);
}

// The fabric flushes the MACs learned on a port whose client left (take_departed, called by
// its control thread): each departure is reported once, for its own port only.
TEST_F(vde_switch_test, a_client_that_leaves_is_reported_once_for_its_port) {
    std::vector<size_t> departed;
    const auto take = [&] {
        b->take_departed([&](size_t port) { departed.push_back(port); });
        return !departed.empty();
    };
    VDECONN* stays = plug("[3]");
    VDECONN* leaves = plug("");
    ASSERT_NE(stays, nullptr);
    ASSERT_NE(leaves, nullptr);
    ASSERT_TRUE(eventually([&] { return b->clients() == 2; }));
    EXPECT_FALSE(take()) << "nobody left yet";
    vde_close(leaves);
    ASSERT_TRUE(eventually(take)) << "the port of the client that left is reported";
    EXPECT_EQ(departed, std::vector<size_t>{1});
    departed.clear();
    EXPECT_FALSE(take()) << "a departure is reported once";
    vde_close(stays);
    ASSERT_TRUE(eventually(take));
    EXPECT_EQ(departed, std::vector<size_t>{0});
}

TEST_F(vde_switch_test, a_client_sending_garbage_is_refused_and_costs_nothing_else) {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, (dir / "ctl").c_str(), sizeof(a.sun_path) - 1);
    ASSERT_EQ(::connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof(a)), 0);
    const std::string junk(300, 'x');
    ASSERT_EQ(::write(fd, junk.data(), junk.size()), static_cast<ssize_t>(junk.size()));
    char c = 0;
    // Closed with our bytes unread: EOF or a reset, never an answer.
    EXPECT_LE(::read(fd, &c, 1), 0) << "the switch closes the connection";
    ::close(fd);
    EXPECT_EQ(b->clients(), 0u);
    VDECONN* good = plug("");
    ASSERT_NE(good, nullptr) << "the switch still serves";
    vde_close(good);
}

// The running ports with the numbered one's MTU changed, as a runtime change would have them.
config::model with_numbered_mtu(uint16_t mtu) {
    config::model next;
    next.ports = {slot("numbered", 3, 0), slot("any", std::nullopt, 1)};
    next.ports[0].mtu = mtu;
    return next;
}

TEST_F(vde_switch_test, a_runtime_mtu_longer_than_the_port_buffers_is_refused) {
    EXPECT_NO_THROW(b->check_mtus(with_numbered_mtu(2000)));
    try {
        b->check_mtus(with_numbered_mtu(9000));
        ADD_FAILURE() << "mtu 9000 on a port of 2048-byte buffers was accepted";
    } catch (const std::runtime_error& e) {
        EXPECT_STREQ(e.what(), "port 'numbered': mtu 9000 takes frames of up to 9022 bytes, longer than the port's VDE "
                               "buffers (made at start for up to 2047): a restart with the new mtu is needed; nothing "
                               "changed");
    }
}

// A chain of buffers of the test pool holding `frame`, as a flooded jumbo frame's copy is.
rte_mbuf* chain_of(const bytes& frame, size_t segment) {
    rte_mbuf* head = nullptr;
    for (size_t at = 0; at < frame.size(); at += segment) {
        const size_t len = std::min(segment, frame.size() - at);
        rte_mbuf* m = vx::testing::make_mbuf(bytes(frame.begin() + at, frame.begin() + at + len));
        if (head == nullptr) {
            head = m;
        } else {
            EXPECT_EQ(rte_pktmbuf_chain(head, m), 0);
        }
    }
    return head;
}

class vde_switch_jumbo_test : public vde_switch_test {
protected:
    void SetUp() override {
        numbered_mtu = 9000;
        vde_switch_test::SetUp();
    }
};

TEST_F(vde_switch_jumbo_test, a_jumbo_port_takes_and_sends_whole_9014_byte_frames_and_counts_longer_ones) {
    VDECONN* c = plug("[3]");
    ASSERT_NE(c, nullptr) << "vde_open refused: " << std::strerror(errno);
    ASSERT_TRUE(eventually([&] { return b->clients() == 1; }));

    const bytes in = frame("ff:ff:ff:ff:ff:ff", "02:00:00:00:00:03", {}, 0x0800, 9000);
    rte_mbuf* got = client_sends(c, in);
    ASSERT_NE(got, nullptr) << b->state_of(0)->dump();
    EXPECT_EQ(got->nb_segs, 1) << "one segment: the workers read the headers in the first";
    EXPECT_NE(got->pool, vx::testing::test_pool()) << "the switch's pool has 2048-byte buffers";
    EXPECT_EQ(vx::testing::mbuf_bytes(got), in);
    rte_pktmbuf_free(got);

    const bytes longer = frame("ff:ff:ff:ff:ff:ff", "02:00:00:00:00:03", {}, 0x0800, 9100);
    ASSERT_EQ(vde_send(c, longer.data(), longer.size(), 0), static_cast<ssize_t>(longer.size()));
    ASSERT_TRUE(eventually([&] { return b->state_of(0)->at("counters").at("in_oversize") == 1; }))
        << b->state_of(0)->dump();
    EXPECT_EQ(rte_eth_rx_burst(numbered, 0, &got, 1), 0);

    const bytes out = frame("02:00:00:00:00:03", "02:00:00:00:00:09", {}, 0x0800, 9000);
    rte_mbuf* chain = chain_of(out, 2000);
    ASSERT_EQ(chain->nb_segs, 5);
    ASSERT_EQ(rte_eth_tx_burst(numbered, 0, &chain, 1), 1);
    bytes buf(10000);
    ASSERT_EQ(vde_recv(c, buf.data(), buf.size(), 0), static_cast<ssize_t>(out.size()));
    buf.resize(out.size());
    EXPECT_EQ(buf, out) << "the chain leaves as one datagram";
    vde_close(c);

    EXPECT_NO_THROW(b->check_mtus(with_numbered_mtu(9000)));
    EXPECT_THROW(b->check_mtus(with_numbered_mtu(9100)), std::runtime_error) << "the jumbo buffers hold 9022 bytes";
}

} // namespace
} // namespace vx::vde
