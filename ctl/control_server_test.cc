// SPDX-License-Identifier: MIT
// The control socket server and its inbox, with a stand-in handler: framing, limits,
// permissions, stale and busy sockets, and the client's view of them.
#include "daemon/control_server.hh"

#include <grp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "ctl/client.hh"
#include "ctl/protocol.hh"

namespace vx::control {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class temp_dir {
public:
    temp_dir() {
        std::string tmpl = (fs::temp_directory_path() / "vxctl-test.XXXXXX").string();
        _path = ::mkdtemp(tmpl.data());
    }
    ~temp_dir() { fs::remove_all(_path); }
    const fs::path& path() const { return _path; }

private:
    fs::path _path;
};

socket_access access_at(const fs::path& p, mode_t mode = 0600) {
    socket_access a;
    a.path = p.string();
    a.owner = geteuid();
    a.group = getegid();
    a.mode = mode;
    return a;
}

// Answers {"echo": line}, or throws on "boom".
std::string echo(std::string_view line) {
    if (line == "boom") {
        throw std::runtime_error("stand-in failure");
    }
    return ctl::ok_response({{"echo", line}});
}

int connect_to(const fs::path& p) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, p.c_str(), sizeof(addr.sun_path) - 1);
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    EXPECT_EQ(::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)), 0) << std::strerror(errno);
    timeval tv{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    return fd;
}

void send_all(int fd, const std::string& data) {
    for (size_t sent = 0; sent < data.size();) {
        const ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
        ASSERT_GT(n, 0) << std::strerror(errno);
        sent += static_cast<size_t>(n);
    }
}

// Reads until `lines` newlines have come, or the peer closes; returns what came.
std::string read_lines(int fd, int lines) {
    std::string got;
    char buf[4096];
    while (std::count(got.begin(), got.end(), '\n') < lines) {
        const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
        if (n <= 0) {
            break;
        }
        got.append(buf, static_cast<size_t>(n));
    }
    return got;
}

bool peer_closed(int fd) {
    char c;
    return ::recv(fd, &c, 1, 0) == 0;
}

TEST(control_server, answers_each_line_in_order) {
    temp_dir d;
    server s(access_at(d.path() / "ctl.sock"), echo);
    const int fd = connect_to(s.path());
    send_all(fd, "one\ntwo\r\n\n   \nthree\n");
    const auto got = read_lines(fd, 3);
    EXPECT_EQ(got, ctl::ok_response({{"echo", "one"}}) + "\n" + ctl::ok_response({{"echo", "two"}}) + "\n" +
                       ctl::ok_response({{"echo", "three"}}) + "\n")
        << "blank lines are skipped, CRLF is accepted";
    send_all(fd, "fo");
    send_all(fd, "ur\n");
    EXPECT_EQ(read_lines(fd, 1), ctl::ok_response({{"echo", "four"}}) + "\n") << "a line split over two writes";
    send_all(fd, "boom\n");
    EXPECT_EQ(ctl::parse_response(read_lines(fd, 1)).error, "internal error: stand-in failure");
    send_all(fd, "five\n");
    EXPECT_EQ(read_lines(fd, 1), ctl::ok_response({{"echo", "five"}}) + "\n") << "the connection survives";
    ::close(fd);
}

TEST(control_server, closes_a_connection_whose_line_never_ends) {
    temp_dir d;
    server s(access_at(d.path() / "ctl.sock"), echo);
    const int fd = connect_to(s.path());
    const std::string huge(ctl::max_request_bytes + 10, 'x');
    std::thread writer([&] { ::send(fd, huge.data(), huge.size(), MSG_NOSIGNAL); });
    const auto r = ctl::parse_response(read_lines(fd, 1));
    writer.join();
    EXPECT_FALSE(r.ok);
    EXPECT_NE(r.error.find("request longer than 1048576 bytes"), std::string::npos) << r.error;
    EXPECT_TRUE(peer_closed(fd));
    ::close(fd);
    const int again = connect_to(s.path());
    send_all(again, "hello\n");
    EXPECT_EQ(read_lines(again, 1), ctl::ok_response({{"echo", "hello"}}) + "\n");
    ::close(again);
}

TEST(control_server, survives_clients_that_leave_without_reading) {
    temp_dir d;
    server s(access_at(d.path() / "ctl.sock"), echo);
    for (int i = 0; i < 20; ++i) {
        const int fd = connect_to(s.path());
        send_all(fd, "a\nb\nc\n");
        ::close(fd); // answers then go to a closed peer: no SIGPIPE may kill us
    }
    const int fd = connect_to(s.path());
    send_all(fd, "still\n");
    EXPECT_EQ(read_lines(fd, 1), ctl::ok_response({{"echo", "still"}}) + "\n");
    ::close(fd);
}

TEST(control_server, socket_and_directory_permissions) {
    temp_dir d;
    const auto dir = d.path() / "run";
    {
        server s(access_at(dir / "ctl.sock", 0640), echo);
        struct stat st {};
        ASSERT_EQ(::stat(s.path().c_str(), &st), 0);
        EXPECT_TRUE(S_ISSOCK(st.st_mode));
        EXPECT_EQ(st.st_mode & 07777, 0640u);
        ASSERT_EQ(::stat(dir.c_str(), &st), 0);
        EXPECT_EQ(st.st_mode & 07777, 0750u) << "the group may enter the directory it may use the socket in";
    }
    EXPECT_FALSE(fs::exists(dir / "ctl.sock")) << "the socket file goes with the server";
    fs::remove(dir);
    server s(access_at(dir / "ctl.sock", 0600), echo);
    struct stat st {};
    ASSERT_EQ(::stat(dir.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0700u);
    ASSERT_EQ(::stat(s.path().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0600u);
}

TEST(control_server, replaces_a_stale_socket_and_refuses_a_live_one) {
    temp_dir d;
    const auto path = d.path() / "ctl.sock";
    {
        // A socket file nobody listens on, as a killed daemon leaves it.
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
        const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
        ASSERT_EQ(::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)), 0);
        ::close(fd);
    }
    server s(access_at(path), echo);
    try {
        server second(access_at(path), echo);
        FAIL() << "a second server took a live socket";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("another vxswitchd is serving it"), std::string::npos) << e.what();
    }
    const int fd = connect_to(path);
    send_all(fd, "first\n");
    EXPECT_EQ(read_lines(fd, 1), ctl::ok_response({{"echo", "first"}}) + "\n") << "the first server still serves";
    ::close(fd);

    const auto file = d.path() / "plain";
    std::ofstream(file) << "x";
    EXPECT_THROW(server(access_at(file), echo), std::runtime_error) << "a plain file is never removed";
    EXPECT_TRUE(fs::exists(file));
}

TEST(control_server, resolves_users_groups_and_default_modes) {
    const bool has_vxswitch_group = ::getgrnam("vxswitch") != nullptr;
    const auto defaults = resolve_access({});
    EXPECT_EQ(defaults.path, "/run/vxswitch/vxswitchd.sock");
    EXPECT_EQ(defaults.owner, geteuid());
    EXPECT_EQ(defaults.mode, has_vxswitch_group ? 0660u : 0600u) << "root only, unless a vxswitch group exists";
    if (!has_vxswitch_group) {
        EXPECT_EQ(defaults.group, getegid());
    }
    config::control_channel c;
    c.group = "nogroup";
    c.owner = "nobody";
    const auto shared = resolve_access(c);
    EXPECT_EQ(shared.mode, 0660u) << "a named group gets read and write";
    EXPECT_EQ(shared.group, ::getgrnam("nogroup")->gr_gid);
    EXPECT_EQ(shared.owner, 65534u);
    c.mode = 0600;
    EXPECT_EQ(resolve_access(c).mode, 0600u);
    c.owner = "1234";
    EXPECT_EQ(resolve_access(c).owner, 1234u);
    c.group = "no-such-group-vx";
    EXPECT_THROW(resolve_access(c), std::runtime_error);
    c.group = "";
    c.owner = "no-such-user-vx";
    EXPECT_THROW(resolve_access(c), std::runtime_error);
}

TEST(control_client, talks_to_the_server_and_explains_failures) {
    temp_dir d;
    server s(access_at(d.path() / "ctl.sock"), [](std::string_view line) {
        const auto r = ctl::parse_request(line);
        return ctl::ok_response({{"cmd", r.cmd}, {"args", r.args}}, r.id);
    });
    ctl::client c(s.path(), std::chrono::seconds(5));
    const auto r = c.call({"mac.show", {{"vlan", 3}}, 9});
    EXPECT_TRUE(r.ok);
    EXPECT_EQ(r.result["cmd"], "mac.show");
    EXPECT_EQ(r.result["args"]["vlan"], 3);
    EXPECT_EQ(r.id, 9);
    EXPECT_TRUE(c.call({"again", json::object(), nullptr}).ok) << "one connection, several requests";
    try {
        ctl::client none((d.path() / "absent.sock").string(), std::chrono::seconds(1));
        FAIL();
    } catch (const ctl::connection_error& e) {
        EXPECT_NE(std::string(e.what()).find("no socket at"), std::string::npos) << e.what();
    }
}

TEST(job_inbox, runs_jobs_on_the_thread_that_drains_it) {
    job_inbox inbox;
    std::atomic<bool> done{false};
    std::thread::id ran_on;
    std::thread caller([&] {
        const auto r = inbox.call(
            [&] {
                ran_on = std::this_thread::get_id();
                return json(42);
            },
            std::chrono::seconds(5));
        EXPECT_EQ(r, 42);
        EXPECT_THROW(inbox.call([]() -> json { throw ctl::request_error("refused"); }, std::chrono::seconds(5)),
                     ctl::request_error);
        done = true;
    });
    while (!done) {
        inbox.run_pending();
        std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
    caller.join();
    EXPECT_EQ(ran_on, std::this_thread::get_id());
}

TEST(job_inbox, times_out_and_closes) {
    job_inbox inbox;
    EXPECT_THROW(inbox.call([] { return json(1); }, std::chrono::milliseconds(20)), ctl::request_error);
    std::thread waiter([&] {
        try {
            inbox.call([] { return json(1); }, std::chrono::seconds(10));
            ADD_FAILURE() << "a closed inbox answered";
        } catch (const ctl::request_error& e) {
            EXPECT_STREQ(e.what(), "the daemon is stopping");
        }
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    inbox.close();
    waiter.join();
    EXPECT_EQ(inbox.run_pending(), 0u);
    EXPECT_THROW(inbox.call([] { return json(1); }, std::chrono::seconds(1)), ctl::request_error);
}

} // namespace
} // namespace vx::control
