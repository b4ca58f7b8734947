#pragma once
// The operator listener's address ("HOST:PORT"), parsed apart from the server so the config can
// check it without the server's code (the config fuzzer builds without Boost.Beast).
#include <cstdint>
#include <string>
#include <string_view>

namespace booktape {

// "HOST:PORT" or "[IPv6]:PORT" -> host and port; false if it is not that form, the port is not
// 0..65535, or the host is not an IP address or "localhost".
bool parse_listen_address(std::string_view text, std::string& host, std::uint16_t& port);
// Whether a host (as parse_listen_address gives it) is a loopback address.
bool is_loopback_host(std::string_view host);

}  // namespace booktape
