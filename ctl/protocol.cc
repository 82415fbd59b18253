// SPDX-License-Identifier: MIT
#include "ctl/protocol.hh"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace vx::ctl {

namespace {

using nlohmann::json;

std::string type_of(const json& j) {
    return j.is_null() ? "null" : j.type_name();
}

} // namespace

request parse_request(std::string_view line) {
    const json j = json::parse(line, nullptr, false);
    if (j.is_discarded()) {
        throw request_error("malformed request: not valid JSON (one JSON object per line)");
    }
    if (!j.is_object()) {
        throw request_error(fmt::format("malformed request: expected a JSON object, got {}", type_of(j)));
    }
    request r;
    r.id = j.value("id", json());
    for (const auto& [key, value] : j.items()) {
        if (key != "cmd" && key != "args" && key != "id") {
            throw request_error(fmt::format("malformed request: unknown key '{}' (expected cmd, args, id)", key));
        }
    }
    const auto cmd = j.find("cmd");
    if (cmd == j.end() || !cmd->is_string() || cmd->get<std::string>().empty()) {
        throw request_error("malformed request: \"cmd\" must be a non-empty string");
    }
    r.cmd = cmd->get<std::string>();
    if (const auto args = j.find("args"); args != j.end() && !args->is_null()) {
        if (!args->is_object()) {
            throw request_error(fmt::format("malformed request: \"args\" must be an object, got {}", type_of(*args)));
        }
        r.args = *args;
    }
    return r;
}

std::string encode(const request& r) {
    json j{{"cmd", r.cmd}, {"args", r.args}};
    if (!r.id.is_null()) {
        j["id"] = r.id;
    }
    return j.dump();
}

// Responses are dumped with replacement of invalid UTF-8, so that a port name or device
// string the daemon echoes back can never make the encoder throw.
std::string ok_response(const json& result, const json& id) {
    json j{{"ok", true}, {"result", result}};
    if (!id.is_null()) {
        j["id"] = id;
    }
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string error_response(std::string_view message, const json& id) {
    json j{{"ok", false}, {"error", message}};
    if (!id.is_null()) {
        j["id"] = id;
    }
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

response parse_response(std::string_view line) {
    const json j = json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("ok") || !j["ok"].is_boolean()) {
        throw request_error("the daemon's answer is not a response (expected {\"ok\": ...})");
    }
    response r;
    r.ok = j["ok"].get<bool>();
    r.id = j.value("id", json());
    if (r.ok) {
        r.result = j.value("result", json());
    } else {
        r.error = j.value("error", std::string("the daemon gave no reason"));
    }
    return r;
}

arg_reader::arg_reader(std::string cmd, const json& args) : _cmd(std::move(cmd)), _args(args) {}

const json* arg_reader::find(const char* key) {
    _known.insert(key);
    const auto it = _args.find(key);
    return it == _args.end() || it->is_null() ? nullptr : &*it;
}

void arg_reader::fail(const char* key, std::string_view what) const {
    throw request_error(fmt::format("{}: {}: {}", _cmd, key, what));
}

std::optional<int64_t> arg_reader::integer(const char* key, int64_t min, int64_t max) {
    const json* v = find(key);
    if (v == nullptr) {
        return std::nullopt;
    }
    if (!v->is_number_integer()) {
        fail(key, fmt::format("expected an integer, got {}", v->dump()));
    }
    // An unsigned JSON number above INT64_MAX is out of every range we take.
    const bool too_big = v->is_number_unsigned() && v->get<uint64_t>() > uint64_t{INT64_MAX};
    const int64_t n = too_big ? INT64_MAX : v->get<int64_t>();
    if (too_big || n < min || n > max) {
        fail(key, fmt::format("{} is out of range ({}..{})", v->dump(), min, max));
    }
    return n;
}

int64_t arg_reader::required_integer(const char* key, int64_t min, int64_t max) {
    const auto n = integer(key, min, max);
    if (!n) {
        fail(key, "required argument is missing");
    }
    return *n;
}

std::optional<std::string> arg_reader::text(const char* key) {
    const json* v = find(key);
    if (v == nullptr) {
        return std::nullopt;
    }
    if (!v->is_string() || v->get<std::string>().empty()) {
        fail(key, fmt::format("expected a non-empty string, got {}", v->dump()));
    }
    return v->get<std::string>();
}

std::string arg_reader::required_text(const char* key) {
    auto s = text(key);
    if (!s) {
        fail(key, "required argument is missing");
    }
    return *s;
}

const json& arg_reader::required_object(const char* key) {
    const json* v = object(key);
    if (v == nullptr) {
        fail(key, "required argument is missing");
    }
    return *v;
}

const json* arg_reader::object(const char* key) {
    const json* v = find(key);
    if (v != nullptr && (!v->is_object() || v->empty())) {
        fail(key, fmt::format("expected a non-empty object, got {}", v->dump()));
    }
    return v;
}

bool arg_reader::flag(const char* key) {
    const json* v = find(key);
    if (v == nullptr) {
        return false;
    }
    if (!v->is_boolean()) {
        fail(key, fmt::format("expected true or false, got {}", v->dump()));
    }
    return v->get<bool>();
}

void arg_reader::done() const {
    for (const auto& [key, value] : _args.items()) {
        if (!_known.contains(key)) {
            if (_known.empty()) {
                throw request_error(fmt::format("{}: unknown argument '{}'; this command takes none", _cmd, key));
            }
            throw request_error(fmt::format("{}: unknown argument '{}'; expected one of: {}", _cmd, key,
                                            fmt::join(_known, ", ")));
        }
    }
}

} // namespace vx::ctl
