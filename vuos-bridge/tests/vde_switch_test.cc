// SPDX-License-Identifier: MIT
// vxswitchd's VDE switch served to real libvdeplug clients: vde_open("vde:///dir[N]") in this
// process, answered by the bridge's I/O thread. A client is bound to the port it asks for or
// to a free default port, frames cross both ways, a second client for a busy port and a
// client sending garbage are refused, and a client that leaves frees its port. A port with a
// jumbo MTU takes and sends whole 9014-byte frames, in buffers longer than the switch's pool's.
// Ports and the switch's socket come and go while the I/O thread runs (publish()): a client
// of a port removed is disconnected and its data socket removed, a port added again gets new
// names and takes clients, what libvdeplug or the buffers refuse leaves nothing behind, and the
// thread runs only while there is something to serve.
extern "C" { // libvdeplug.h declares C functions without saying so
#include <libvdeplug.h>
}
#include <poll.h>
#include <rte_bus_vdev.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <thread>
#include <vector>

#include "config/model.hh"
#include "vde_ports.hh"
#include "vuos-bridge/vde_bridge.hh"
#include "vuos-bridge/vde_request.hh"

namespace vx::vde {
namespace {

using vx::testing::bytes;
using vx::testing::frame;

config::port slot(const std::string& name, std::optional<uint16_t> number) {
    config::port p;
    p.name = name;
    p.device = config::vde_device(name);
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
        m.vde_switch = config::vde_listener{dir.string(), "", "", 0600, 1};
        m.ports = {slot("numbered", 3), slot("any", std::nullopt)};
        m.ports[0].mtu = numbered_mtu;
        b = std::make_unique<bridge>(m, 1, vx::testing::test_pool());
        numbered = testing::start_port(b->add(0, m.ports[0]));
        any = testing::start_port(b->add(1, m.ports[1]));
        b->prepare_listener(*m.vde_switch);
        b->publish(m);
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

    // The files in the switch's directory.
    std::vector<std::string> files() const {
        std::vector<std::string> out;
        for (const auto& f : std::filesystem::directory_iterator(dir)) {
            out.push_back(f.path().filename());
        }
        return out;
    }

    std::optional<uint16_t> numbered_mtu; // set before SetUp by a fixture that needs it
    config::model m;                      // what the bridge serves, by slot
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
    EXPECT_EQ(files(), std::vector<std::string>{"ctl"});
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

// A client as libvdeplug's would be if killed after its handshake's request, before it unlinks
// its data socket: it binds `client_path`, asks for port 3, reads the answer and leaves.
void killed_client(const std::filesystem::path& ctl, const std::filesystem::path& client_path) {
    const int data = ::socket(AF_UNIX, SOCK_DGRAM, 0);
    sockaddr_un mine{};
    mine.sun_family = AF_UNIX;
    std::strncpy(mine.sun_path, client_path.c_str(), sizeof(mine.sun_path) - 1);
    ASSERT_EQ(::bind(data, reinterpret_cast<const sockaddr*>(&mine), sizeof(mine)), 0);
    const int stream = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, ctl.c_str(), sizeof(a.sun_path) - 1);
    ASSERT_EQ(::connect(stream, reinterpret_cast<const sockaddr*>(&a), sizeof(a)), 0);
    const std::string req = encode_request(3u << 8, client_path, "killed");
    ASSERT_EQ(::write(stream, req.data(), req.size()), static_cast<ssize_t>(req.size()));
    sockaddr_un answer{};
    EXPECT_EQ(::read(stream, &answer, sizeof(answer)), static_cast<ssize_t>(sizeof(answer)));
    ::close(stream);
    ::close(data);
}

TEST_F(vde_switch_test, a_killed_clients_data_socket_is_removed_from_the_directory_only) {
    const auto inside = dir / ".4242-00000";
    killed_client(dir / "ctl", inside);
    ASSERT_TRUE(eventually([&] { return b->clients() == 0 && !std::filesystem::exists(inside); }))
        << "the client's socket, left in the switch's directory, goes with the client";
    // A client socket elsewhere is the client's business.
    const auto outside = dir.parent_path() / fmt::format("vxvde-test-client-{}", ::getpid());
    std::filesystem::remove(outside);
    killed_client(dir / "ctl", outside);
    EXPECT_TRUE(eventually([&] { return b->clients() == 0; }));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_TRUE(std::filesystem::exists(outside)) << "a socket outside the directory stays";
    std::filesystem::remove(outside);
}

// The running ports with the numbered one's MTU changed, as a runtime change would have them.
config::model with_numbered_mtu(uint16_t mtu) {
    config::model next;
    next.ports = {slot("numbered", 3), slot("any", std::nullopt)};
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

// Whether the switch closed the stream `fd` (EOF, or a reset) within 2 s.
bool closed_by_switch(int fd) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 2000) != 1) {
        return false;
    }
    char byte = 0;
    return ::read(p.fd, &byte, 1) <= 0;
}

size_t ethdevs() {
    return rte_eth_dev_count_total();
}

// What add() says when it refuses `p` in slot 2; "" when it took it.
std::string refusal(bridge& b, const config::port& p) {
    try {
        b.add(2, p);
    } catch (const std::runtime_error& e) {
        return e.what();
    }
    return "";
}

TEST_F(vde_switch_test, a_port_added_while_the_thread_runs_takes_a_client_and_its_removal_disconnects_it) {
    const size_t before = ethdevs();
    m.ports.push_back(slot("late", 5));
    const std::string device = b->add(2, m.ports[2]);
    EXPECT_EQ(device.rfind("net_ring_vde", 0), 0u) << device;
    EXPECT_EQ(ethdevs(), before + 1);
    const uint16_t late = testing::start_port(device);
    VDECONN* early = plug("[5]");
    ASSERT_NE(early, nullptr);
    ASSERT_TRUE(eventually([&] { return b->clients() == 1; }));
    EXPECT_EQ(b->state_of(2)->at("peer"), "")
        << "not served before publish(): the client got the port without a number";
    EXPECT_NE(b->state_of(1)->at("peer"), "");
    vde_close(early);
    ASSERT_TRUE(eventually([&] { return b->clients() == 0; }));
    b->publish(m);
    VDECONN* c = plug("[5]");
    ASSERT_NE(c, nullptr) << "vde_open refused: " << std::strerror(errno);
    ASSERT_TRUE(eventually([&] { return b->clients() == 1; }));
    EXPECT_NE(b->state_of(2)->at("peer"), "");
    const bytes in = frame("ff:ff:ff:ff:ff:ff", "02:00:00:00:00:05");
    ASSERT_EQ(vde_send(c, in.data(), in.size(), 0), static_cast<ssize_t>(in.size()));
    rte_mbuf* got = nullptr;
    ASSERT_TRUE(eventually([&] { return rte_eth_rx_burst(late, 0, &got, 1) != 0; }));
    EXPECT_EQ(vx::testing::mbuf_bytes(got), in);
    rte_pktmbuf_free(got);
    EXPECT_EQ(files().size(), 2u) << "ctl and our data socket for the client";

    // Removed as the fabric removes a port: the roster without it, then its ethdev, then it.
    m.ports[2] = config::port{};
    b->publish(m);
    EXPECT_EQ(b->clients(), 0u) << "the client is released when publish() returns";
    EXPECT_TRUE(closed_by_switch(vde_ctlfd(c))) << "the client sees its control stream closed, as with vde_switch";
    EXPECT_EQ(files(), std::vector<std::string>{"ctl"}) << "our data socket's file is removed";
    EXPECT_THROW(b->add(2, slot("again", 5)), std::logic_error) << "the slot is taken until discard()";
    testing::stop_port(late);
    b->discard(2);
    EXPECT_EQ(ethdevs(), before) << "the ring ethdev and its device are gone";
    uint16_t id = 0;
    EXPECT_NE(rte_eth_dev_get_port_by_name(device.c_str(), &id), 0);
    EXPECT_EQ(rte_vdev_uninit(device.c_str()), -ENOENT) << "its device is off the vdev bus";
    EXPECT_FALSE(b->state_of(2));
    vde_close(c);

    // The slot again: a port of new names, which clients reach.
    m.ports[2] = slot("again", 5);
    const std::string again = b->add(2, m.ports[2]);
    EXPECT_NE(again, device);
    const uint16_t port = testing::start_port(again);
    b->publish(m);
    c = plug("[5]");
    ASSERT_NE(c, nullptr) << "vde_open refused: " << std::strerror(errno);
    ASSERT_TRUE(eventually([&] { return b->clients() == 1; }));
    vde_close(c);
    ASSERT_TRUE(eventually([&] { return b->clients() == 0; }));
    m.ports.pop_back();
    b->publish(m);
    testing::stop_port(port);
    b->discard(2);
    EXPECT_EQ(ethdevs(), before);
}

TEST_F(vde_switch_test, a_served_port_is_not_discarded) {
    EXPECT_THROW(b->discard(0), std::logic_error);
    EXPECT_TRUE(b->state_of(0)) << "still there";
}

TEST_F(vde_switch_test, the_thread_runs_while_there_is_something_to_serve_and_the_socket_goes_with_its_section) {
    EXPECT_TRUE(b->running());
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0); // a client that never sends its request
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, (dir / "ctl").c_str(), sizeof(a.sun_path) - 1);
    ASSERT_EQ(::connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof(a)), 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(20)); // accepted: a pending handshake
    config::model none;
    none.ports = {config::port{}, config::port{}}; // both slots vacant, no section
    b->publish(none);
    EXPECT_FALSE(b->running()) << "nothing to serve: the thread is stopped";
    EXPECT_TRUE(files().empty()) << "ctl is closed and removed";
    EXPECT_TRUE(closed_by_switch(fd)) << "the pending handshake was closed";
    ::close(fd);
    EXPECT_EQ(plug(""), nullptr);

    b->prepare_listener(*m.vde_switch);
    b->publish(m);
    EXPECT_TRUE(b->running());
    VDECONN* c = plug("");
    ASSERT_NE(c, nullptr) << "served again: " << std::strerror(errno);
    ASSERT_TRUE(eventually([&] { return b->clients() == 1; }));
    vde_close(c);
}

TEST_F(vde_switch_test, a_url_libvdeplug_refuses_and_frames_no_buffer_holds_leave_nothing_behind) {
    const size_t before = ethdevs();
    config::port u;
    u.name = "u";
    u.vde = config::vde_port{"vde://" + (dir / "nosuch").string(), false, std::nullopt};
    EXPECT_EQ(
        refusal(*b, u),
        fmt::format("port 'u': libvdeplug cannot open 'vde://{}/nosuch': No such file or directory", dir.string()));
    EXPECT_EQ(ethdevs(), before);
    EXPECT_FALSE(b->state_of(2));
    config::port j = slot("j", std::nullopt);
    j.mtu = 9000;
    EXPECT_EQ(refusal(*b, j),
              "port 'j': mtu 9000 takes frames of up to 9022 bytes, longer than the packet pool's buffers hold (2047): "
              "buffers for longer frames are made when the switch starts, for the VDE ports its file has (a restart "
              "with this port in the file), or give the port mtu 2025 or less; nothing changed");
    EXPECT_EQ(ethdevs(), before);
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

TEST_F(vde_switch_jumbo_test, the_jumbo_buffers_take_no_more_ports_than_they_were_made_for) {
    config::port j = slot("j", std::nullopt);
    j.mtu = 9000;
    const std::string said = refusal(*b, j);
    EXPECT_NE(said.find(", and the VDE ports' own buffers (up to 9022 bytes, for 1 port(s), 1 in use) cannot take it"),
              std::string::npos)
        << "a second jumbo port on buffers made for one: " << said;
    j.mtu = 2000;
    const uint16_t port = testing::start_port(b->add(2, j)); // the switch's pool holds these
    testing::stop_port(port);
    b->discard(2);
}

} // namespace
} // namespace vx::vde
