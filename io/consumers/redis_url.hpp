#pragma once
// Where the Redis fan-out goes: `--redis` / `redis_url`.
//   redis://[[user]:password@]host[:port][/db]     TCP (port 6379, db 0 by default)
//   unix:///path/to/redis.sock[?db=N]              a local socket
// The password may instead come from REDIS_PASSWORD. It is a secret: never logged or written
// (redact_redis_url() is what messages and manifests show).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace booktape {

inline constexpr const char* kRedisUrlForm =
    "redis://[[user]:password@]host[:port][/db] or unix:///path/to/redis.sock[?db=N]";

struct RedisEndpoint {
  std::string host;  // TCP host (IPv6 without brackets); empty for a unix socket
  std::uint16_t port = 6379;
  std::string unix_path;  // absolute path of a unix socket; empty for TCP
  int db = 0;
  std::string username;                     // Redis 6 ACL user; empty: the default user
  std::string password;                     // secret; empty: no AUTH
  [[nodiscard]] std::string where() const;  // "host:port" or the socket path, for messages
};

// nullopt and `why` (what is wrong, to be followed by kRedisUrlForm) for a malformed URL.
std::optional<RedisEndpoint> parse_redis_url(std::string_view url, std::string* why = nullptr);

// The URL with its password replaced by "***" (also for text that does not parse).
std::string redact_redis_url(std::string_view url);

}  // namespace booktape
