#include "io/net/listen_address.hpp"

#include <boost/asio/ip/address.hpp>

#include <charconv>

namespace booktape {

namespace asio = boost::asio;

bool parse_listen_address(std::string_view text, std::string& host, std::uint16_t& port) {
  std::string_view h, p;
  if (!text.empty() && text.front() == '[') {
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return false;
    h = text.substr(1, close - 1);
    p = text.substr(close + 2);
  } else {
    const std::size_t colon = text.rfind(':');
    if (colon == std::string_view::npos || text.find(':') != colon) return false;
    h = text.substr(0, colon);
    p = text.substr(colon + 1);
  }
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), value);
  if (p.empty() || ec != std::errc() || end != p.data() + p.size() || value > 65535) return false;
  if (h != "localhost") {
    boost::system::error_code bad;
    (void)asio::ip::make_address(std::string(h), bad);
    if (bad) return false;
  }
  host = std::string(h);
  port = static_cast<std::uint16_t>(value);
  return true;
}

bool is_loopback_host(std::string_view host) {
  if (host == "localhost") return true;
  boost::system::error_code ec;
  const asio::ip::address a = asio::ip::make_address(std::string(host), ec);
  return !ec && a.is_loopback();
}

}  // namespace booktape
