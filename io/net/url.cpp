#include "io/net/url.hpp"

#include <algorithm>
#include <charconv>

namespace booktape {

std::string Url::host_port() const {
  const bool default_port = ((scheme == "ws" || scheme == "http") && port == 80) ||
                            ((scheme == "wss" || scheme == "https") && port == 443);
  const std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return default_port ? h : h + ":" + std::to_string(port);
}

std::optional<Url> parse_url(std::string_view text) {
  Url u;
  const std::size_t sep = text.find("://");
  if (sep == std::string_view::npos) return std::nullopt;
  u.scheme = std::string(text.substr(0, sep));
  if (u.scheme != "ws" && u.scheme != "wss" && u.scheme != "http" && u.scheme != "https")
    return std::nullopt;
  std::string_view rest = text.substr(sep + 3);
  const std::size_t slash = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, slash);
  u.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  if (u.target.front() == '?') u.target.insert(0, "/");
  if (authority.find('@') != std::string_view::npos) return std::nullopt;  // no credentials in URLs
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {  // [::1]:443
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    u.host = std::string(authority.substr(1, close - 1));
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') return std::nullopt;
      port = authority.substr(close + 2);
    }
  } else {
    const std::size_t colon = authority.rfind(':');
    u.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (u.host.empty()) return std::nullopt;
  if (port.empty()) {
    u.port = u.tls() ? 443 : 80;
  } else {
    unsigned p = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
    if (ec != std::errc() || end != port.data() + port.size() || p == 0 || p > 65535)
      return std::nullopt;
    u.port = static_cast<std::uint16_t>(p);
  }
  return u;
}

std::string redact_url(std::string_view url) {
  std::string out;
  const std::size_t sep = url.find("://");
  const std::size_t host_at = sep == std::string_view::npos ? 0 : sep + 3;
  const std::size_t auth_end = std::min(url.find_first_of("/?#", host_at), url.size());
  const std::size_t at = url.substr(0, auth_end).rfind('@');
  if (at != std::string_view::npos && at >= host_at) {
    out.append(url.substr(0, host_at)).append("***");
    url.remove_prefix(at);  // from the '@'
  } else {
    out.append(url.substr(0, auth_end));
    url.remove_prefix(auth_end);
  }
  const std::size_t q = url.find('?');
  if (q == std::string_view::npos) return out.append(url);
  out.append(url.substr(0, q + 1));
  std::string_view query = url.substr(q + 1);
  const std::size_t hash = query.find('#');
  if (hash != std::string_view::npos) query = query.substr(0, hash);
  bool first = true;
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const std::size_t eq = pair.find('=');
    if (!first) out += '&';
    first = false;
    out.append(pair.substr(0, eq));
    if (eq != std::string_view::npos) out += "=***";
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return out;
}

std::string redact_webhook_url(std::string_view url) {
  const std::optional<Url> u = parse_url(url);
  if (!u) return url.empty() ? std::string() : std::string("***");
  return u->scheme + "://" + u->host_port() + (u->target == "/" ? "/" : "/***");
}

}  // namespace booktape
