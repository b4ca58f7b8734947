#include "io/consumers/redis_url.hpp"

#include <charconv>

namespace booktape {

namespace {

bool parse_int(std::string_view s, int lo, int hi, int& out) {
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return !s.empty() && ec == std::errc() && end == s.data() + s.size() && out >= lo && out <= hi;
}

std::optional<RedisEndpoint> fail(std::string* why, std::string text) {
  if (why != nullptr) *why = std::move(text);
  return std::nullopt;
}

constexpr int kMaxDb = 1'000'000;  // Redis' own limit is its `databases` setting (16 by default)

}  // namespace

std::string RedisEndpoint::where() const {
  if (!unix_path.empty()) return unix_path;
  return (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
         std::to_string(port);
}

std::optional<RedisEndpoint> parse_redis_url(std::string_view url, std::string* why) {
  RedisEndpoint e;
  if (url.starts_with("unix://")) {
    std::string_view rest = url.substr(7);
    const std::size_t q = rest.find('?');
    const std::string_view path = rest.substr(0, q);
    if (path.empty() || path.front() != '/')
      return fail(why, "a unix socket needs an absolute path");
    e.unix_path = std::string(path);
    if (q != std::string_view::npos) {
      const std::string_view query = rest.substr(q + 1);
      if (!query.starts_with("db=") || !parse_int(query.substr(3), 0, kMaxDb, e.db))
        return fail(why, "the only query is db=N (a database number)");
    }
    return e;
  }
  if (url.starts_with("rediss://"))
    return fail(why,
                "rediss:// (TLS) is not supported (hiredis 0.14 has no TLS); use a local "
                "redis or a TLS tunnel");
  if (!url.starts_with("redis://")) return fail(why, "expected redis:// or unix://");
  std::string_view rest = url.substr(8);
  const std::size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  if (slash != std::string_view::npos) {
    const std::string_view db = rest.substr(slash + 1);
    if (!db.empty() && !parse_int(db, 0, kMaxDb, e.db))
      return fail(why, "the path must be a database number (/0, /1, ...)");
  }
  const std::size_t at = authority.rfind('@');
  if (at != std::string_view::npos) {
    const std::string_view user_info = authority.substr(0, at);
    authority = authority.substr(at + 1);
    const std::size_t colon = user_info.find(':');
    if (colon == std::string_view::npos) return fail(why, "credentials are [user]:password@");
    e.username = std::string(user_info.substr(0, colon));
    e.password = std::string(user_info.substr(colon + 1));
  }
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return fail(why, "an IPv6 host needs its closing ]");
    e.host = std::string(authority.substr(1, close - 1));
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') return fail(why, "expected :port after the IPv6 host");
      port = authority.substr(close + 2);
    }
  } else {
    const std::size_t colon = authority.rfind(':');
    e.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (e.host.empty()) return fail(why, "no host");
  if (!port.empty()) {
    int p = 0;
    if (!parse_int(port, 1, 65535, p)) return fail(why, "the port must be 1..65535");
    e.port = static_cast<std::uint16_t>(p);
  }
  return e;
}

std::string redact_redis_url(std::string_view url) {
  const std::size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return std::string(url);
  const std::size_t host_at = scheme + 3;
  const std::size_t end = std::min(url.find('/', host_at), url.size());
  const std::size_t at = url.substr(0, end).rfind('@');
  if (at == std::string_view::npos || at < host_at) return std::string(url);
  const std::size_t colon = url.substr(host_at, at - host_at).find(':');
  const std::string user =
      colon == std::string_view::npos ? std::string() : std::string(url.substr(host_at, colon));
  return std::string(url.substr(0, host_at)) + user + ":***@" + std::string(url.substr(at + 1));
}

}  // namespace booktape
