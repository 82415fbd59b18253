// SPDX-License-Identifier: MIT
#pragma once

// The daemon's control channel: a unix stream socket that speaks the protocol of
// ctl/protocol.hh (newline-delimited JSON, docs/control-protocol.md) to vxctl.
//
// Threads and who touches what:
// - The server thread owns the socket and its connections (poll over the listening socket,
//   the clients and a wake-up eventfd). It reads request lines and writes response lines;
//   it parses and checks requests there, and never touches the switch's state.
// - What a command does runs on the control thread, the learner's, between two drains of
//   the learn rings: the server hands it over through a job_inbox (a mutex the two threads
//   share, never the workers) and waits for the answer. The fdb has a single writer and its
//   deletions wait for an RCU grace period (tables/fdb.hh): running MAC commands on the
//   learner's own thread keeps both true with no new lock on any table.
// - Workers never see the control channel: nothing it does takes a lock they take.
//
// Access control is the socket file's: owner, group and mode (config::control_channel).

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/model.hh"

namespace vx::control {

// Jobs the server thread hands to the control thread, and their answers.
class job_inbox {
public:
    using job = std::function<nlohmann::json()>;

    // Server thread: runs `fn` on the control thread and returns what it returned, or
    // rethrows what it threw. Throws ctl::request_error when the inbox is closed or the
    // control thread does not answer within `timeout` (the job may still run later: it must
    // own everything it uses).
    nlohmann::json call(job fn, std::chrono::milliseconds timeout);
    // Control thread: runs the jobs waiting; returns how many ran.
    size_t run_pending();
    // No more jobs run: the waiting ones and every later call fail with "stopping".
    void close();

private:
    struct task {
        job fn;
        std::promise<nlohmann::json> answer;
    };
    std::mutex _mutex;
    std::deque<std::shared_ptr<task>> _tasks;
    std::atomic<size_t> _waiting{0}; // lets run_pending() skip the mutex when idle
    bool _closed = false;
};

// Who may use the socket, resolved against the system's users and groups.
struct socket_access {
    std::string path;
    uid_t owner = 0;
    gid_t group = 0;
    mode_t mode = 0600;
    std::string group_name; // for messages: "" when the group is the owner's own
};

// Throws std::runtime_error naming a user or group that does not exist.
socket_access resolve_access(const config::control_channel& c);

class server {
public:
    // One request line in, one response line out (both without the newline).
    using handler = std::function<std::string(std::string_view line)>;

    // Creates the socket's directory when missing, binds, sets owner, group and mode, then
    // listens and starts the server thread. Throws std::runtime_error naming the path and
    // what failed (in use by another daemon, no permission, ...).
    server(const socket_access& access, handler h);
    ~server(); // stops the thread, closes every connection and removes the socket file
    server(const server&) = delete;
    server& operator=(const server&) = delete;

    const std::string& path() const { return _path; }

private:
    struct connection;
    void loop();
    void accept_clients();
    // Reads what is there and answers complete lines; false when the connection must close.
    bool serve(connection& c);
    bool flush(connection& c);

    std::string _path;
    ino_t _inode = 0; // the socket file we made, so that we never remove another daemon's
    handler _handler;
    int _listen_fd = -1;
    int _wake_fd = -1;
    std::atomic<bool> _stopping{false};
    std::vector<std::unique_ptr<connection>> _clients;
    std::thread _thread;
};

} // namespace vx::control
