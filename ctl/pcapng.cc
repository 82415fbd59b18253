// SPDX-License-Identifier: MIT
#include "ctl/pcapng.hh"

#include <string_view>

namespace vx::ctl {

namespace {

constexpr uint32_t shb_type = 0x0a0d0d0a;
constexpr uint32_t idb_type = 0x00000001;
constexpr uint32_t epb_type = 0x00000006;
constexpr uint32_t byte_order_magic = 0x1a2b3c4d;
constexpr uint16_t linktype_ethernet = 1;
constexpr uint16_t opt_end = 0;
constexpr uint16_t opt_comment = 1;
constexpr uint16_t if_name = 2;
constexpr uint16_t if_tsresol = 9;
constexpr uint16_t epb_flags = 2;

// A block's body, in the host's byte order (the section header says which that is).
class block {
public:
    void u16(uint16_t v) { raw(&v, sizeof(v)); }
    void u32(uint32_t v) { raw(&v, sizeof(v)); }
    void u64(uint64_t v) { raw(&v, sizeof(v)); }
    void bytes(std::span<const uint8_t> b) {
        raw(b.data(), b.size());
        pad();
    }
    void option(uint16_t code, std::string_view value) {
        u16(code);
        u16(static_cast<uint16_t>(value.size()));
        bytes({reinterpret_cast<const uint8_t*>(value.data()), value.size()});
    }
    void option_u32(uint16_t code, uint32_t value) {
        u16(code);
        u16(sizeof(value));
        u32(value);
    }
    void end_options() {
        u16(opt_end);
        u16(0);
    }
    // Type, total length, body, total length again.
    void write(std::ostream& out, uint32_t type) const {
        const auto total = static_cast<uint32_t>(_body.size() + 12);
        out.write(reinterpret_cast<const char*>(&type), sizeof(type));
        out.write(reinterpret_cast<const char*>(&total), sizeof(total));
        out.write(_body.data(), static_cast<std::streamsize>(_body.size()));
        out.write(reinterpret_cast<const char*>(&total), sizeof(total));
    }

private:
    void raw(const void* p, size_t n) {
        _body.append(static_cast<const char*>(p), n);
    }
    void pad() { _body.resize((_body.size() + 3) & ~size_t{3}, '\0'); }
    std::string _body;
};

} // namespace

pcapng_writer::pcapng_writer(std::ostream& out) : _out(out) {
    block b;
    b.u32(byte_order_magic);
    b.u16(1); // version 1.0
    b.u16(0);
    b.u64(UINT64_MAX); // section length: not known
    b.option(opt_comment, "vxctl capture");
    b.end_options();
    b.write(_out, shb_type);
    _out.flush();
}

uint32_t pcapng_writer::interface_of(const std::string& port) {
    if (const auto it = _interfaces.find(port); it != _interfaces.end()) {
        return it->second;
    }
    block b;
    b.u16(linktype_ethernet);
    b.u16(0);
    b.u32(0); // snaplen: no limit
    b.option(if_name, port);
    const uint8_t nanoseconds = 9;
    b.u16(if_tsresol);
    b.u16(1);
    b.bytes({&nanoseconds, 1});
    b.end_options();
    b.write(_out, idb_type);
    const auto id = static_cast<uint32_t>(_interfaces.size());
    _interfaces.emplace(port, id);
    return id;
}

void pcapng_writer::frame(const std::string& port, uint64_t time_ns, direction d, std::span<const uint8_t> data,
                          const std::string& comment) {
    const uint32_t interface = interface_of(port);
    block b;
    b.u32(interface);
    b.u32(static_cast<uint32_t>(time_ns >> 32));
    b.u32(static_cast<uint32_t>(time_ns));
    b.u32(static_cast<uint32_t>(data.size()));
    b.u32(static_cast<uint32_t>(data.size()));
    b.bytes(data);
    b.option_u32(epb_flags, static_cast<uint32_t>(d)); // bits 0-1: 01 inbound, 10 outbound
    if (!comment.empty()) {
        b.option(opt_comment, comment);
    }
    b.end_options();
    b.write(_out, epb_type);
    _out.flush();
}

} // namespace vx::ctl
