// SPDX-License-Identifier: MIT
#pragma once

// How config/load.cc reads YAML: a mapping key by key (map_reader), every problem collected
// with its source, line, column and key path (error_sink). Used by the loader only.

#include <yaml-cpp/yaml.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <charconv>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace vx::config {

// Where errors go: every message carries the source name and the node's line and column.
class error_sink {
public:
    explicit error_sink(std::string_view source) : _source(source) {}

    void at(const YAML::Node& node, const std::string& path, const std::string& what) {
        const auto mark = node.Mark();
        _errors.push_back(fmt::format("{}:{}:{}: {}: {}", _source, mark.line + 1, mark.column + 1, path, what));
    }
    std::vector<std::string>& errors() { return _errors; }

private:
    std::string _source;
    std::vector<std::string> _errors;
};

// A decimal or 0x-hexadecimal integer scalar.
inline std::optional<int64_t> to_integer(const YAML::Node& node) {
    if (!node.IsScalar()) {
        return std::nullopt;
    }
    const std::string& s = node.Scalar();
    const bool hex = s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
    const char* first = s.data() + (hex ? 2 : 0);
    int64_t v = 0;
    const auto [end, ec] = std::from_chars(first, s.data() + s.size(), v, hex ? 16 : 10);
    if (ec != std::errc{} || end != s.data() + s.size() || s.empty()) {
        return std::nullopt;
    }
    return v;
}

// A YAML mapping read key by key. Each option is declared once, where it is read, with its
// type and range; keys nobody read are reported as unknown, with the keys allowed there.
class map_reader {
public:
    map_reader(error_sink& sink, const YAML::Node& node, std::string path)
        : _sink(sink), _node(node), _path(std::move(path)) {
        if (node.IsDefined() && !node.IsMap()) {
            _sink.at(node, _path, "expected a mapping of keys to values");
            _valid = false;
        }
    }
    map_reader(const map_reader&) = delete;
    map_reader& operator=(const map_reader&) = delete;

    ~map_reader() {
        if (!_valid || !_node.IsDefined()) {
            return;
        }
        for (const auto& kv : _node) {
            const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : "?";
            if (!_known.contains(key)) {
                _sink.at(kv.first, _path.empty() ? key : _path + "." + key,
                         fmt::format("unknown key; expected one of: {}", fmt::join(_known, ", ")));
            }
        }
    }

    // The raw node (undefined when absent); the key becomes known.
    YAML::Node child(const char* key) {
        _known.insert(key);
        return has(key) ? lookup(key) : YAML::Node(YAML::NodeType::Undefined);
    }
    bool has(const char* key) const { return _valid && _node.IsDefined() && lookup(key).IsDefined(); }
    std::string path_of(const char* key) const { return _path.empty() ? key : _path + "." + key; }
    error_sink& sink() { return _sink; }

    template <class T>
    bool integer(const char* key, T& out, int64_t min, int64_t max) {
        const YAML::Node n = child(key);
        return n ? integer_value(n, path_of(key), out, min, max) : false;
    }

    template <class T>
    bool integer_value(const YAML::Node& n, const std::string& path, T& out, int64_t min, int64_t max) {
        const auto v = to_integer(n);
        if (!v) {
            _sink.at(n, path, fmt::format("expected an integer, got '{}'", n.IsScalar() ? n.Scalar() : "a collection"));
            return false;
        }
        if (*v < min || *v > max) {
            _sink.at(n, path, fmt::format("{} is out of range ({}..{})", *v, min, max));
            return false;
        }
        out = static_cast<T>(*v);
        return true;
    }

    bool text(const char* key, std::string& out, bool required) {
        const YAML::Node n = child(key);
        if (!n) {
            if (required && _valid) {
                _sink.at(_node, path_of(key), "required key is missing");
            }
            return false;
        }
        if (!n.IsScalar() || n.Scalar().empty()) {
            _sink.at(n, path_of(key), "expected a non-empty string");
            return false;
        }
        out = n.Scalar();
        return true;
    }

    // A sequence, each item handed to `item(node, path)`.
    template <class F>
    void each(const char* key, F&& item) {
        const YAML::Node n = child(key);
        if (!n) {
            return;
        }
        if (!n.IsSequence()) {
            _sink.at(n, path_of(key), "expected a list");
            return;
        }
        for (size_t i = 0; i < n.size(); ++i) {
            item(n[i], fmt::format("{}[{}]", path_of(key), i));
        }
    }

private:
    // Through a const node: a non-const operator[] would insert the key.
    YAML::Node lookup(const char* key) const { return static_cast<const YAML::Node&>(_node)[key]; }

    error_sink& _sink;
    YAML::Node _node;
    std::string _path;
    std::set<std::string> _known;
    bool _valid = true;
};

} // namespace vx::config
