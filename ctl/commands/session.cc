// SPDX-License-Identifier: MIT
// The read loop that capture and trace share: ask for what the daemon has, a few times a
// second, until the session is done or the user presses Ctrl-C (then stop it cleanly).

#include <csignal>
#include <thread>

#include "ctl/commands/commands.hh"

namespace vx::ctl {

namespace {

volatile std::sig_atomic_t interrupted = 0;

void on_interrupt(int) {
    interrupted = 1;
}

} // namespace

std::optional<nlohmann::json> follow_session(context& ctx, const std::string& group, uint32_t session,
                                             const std::function<size_t(const nlohmann::json&)>& take) {
    interrupted = 0;
    std::signal(SIGINT, on_interrupt);
    std::signal(SIGTERM, on_interrupt);
    while (!interrupted) {
        const auto r = ctx.call(group + ".read", {{"session", session}});
        if (!r) {
            return std::nullopt;
        }
        const size_t n = take(*r);
        if ((*r)["done"] == true) {
            return r;
        }
        if (n == 0) {
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    }
    return ctx.call(group + ".stop", {{"session", session}});
}

} // namespace vx::ctl
