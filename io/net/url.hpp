#pragma once
// ws://, wss://, http:// and https:// URLs: what a client needs to connect.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace booktape {

struct Url {
  std::string scheme;  // ws, wss, http, https
  std::string host;    // without brackets for IPv6
  std::uint16_t port = 0;
  std::string target;  // path and query, "/" at least
  [[nodiscard]] bool tls() const noexcept { return scheme == "wss" || scheme == "https"; }
  [[nodiscard]] std::string host_port() const;  // for the Host header
};

// nullopt when the scheme is not one of the four, the host is empty, or the port is bad.
std::optional<Url> parse_url(std::string_view text);

// The URL as it may be logged or archived: query values and any user:password@ replaced by
// "***" (a venue key passed as ?apikey=... must not reach a log line or a manifest).
std::string redact_url(std::string_view url);

// The webhook URL as messages and manifests may show it: scheme://host[:port] and "/***" for
// any path or query (a bot token usually sits in the path: /bot<token>/sendMessage).
std::string redact_webhook_url(std::string_view url);

}  // namespace booktape
