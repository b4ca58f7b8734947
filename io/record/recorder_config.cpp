#include "io/record/recorder_config.hpp"

#include <sched.h>

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <concepts>
#include <cstring>
#include <fstream>
#include <functional>
#include <limits>
#include <iterator>
#include <set>
#include <sstream>
#include <string_view>
#include <type_traits>
#include <utility>

#include "io/consumers/alert_rules.hpp"
#include "io/consumers/book_table.hpp"
#include "io/consumers/redis_url.hpp"
#include "core/did_you_mean.hpp"
#include "io/net/listen_address.hpp"
#include "io/net/url.hpp"

namespace booktape {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t kKiB = 1024;
constexpr std::size_t kMiB = kKiB * 1024;
// Every seconds setting is later turned into int64 nanoseconds; 1e9 s (~31 years) keeps that
// conversion far from overflow and still allows any real run length.
constexpr double kMaxSeconds = 1e9;

bool all_digits(std::string_view s) {
  return !s.empty() &&
         std::all_of(s.begin(), s.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
}

bool parse_envelope_mode(std::string_view s, EnvelopeMode& out) {
  if (s == "compact")
    out = EnvelopeMode::kCompact;
  else if (s == "full")
    out = EnvelopeMode::kFull;
  else
    return false;
  return true;
}

bool is_status(std::string_view s) {
  return s == "auto" || s == "line" || s == "log" || s == "off";
}

bool has_scheme(const std::string& url, std::string_view a, std::string_view b) {
  const std::optional<Url> u = parse_url(url);
  return u && (u->scheme == a || u->scheme == b);
}

constexpr const char* kShmNameForm =
    "empty, or a name of 1-200 letters, digits, '.', '_' or '-' (the file /dev/shm/<name>)";
bool valid_shm_name(const std::string& s) {
  return s.size() <= 200 && s != "." && s != ".." &&
         std::all_of(s.begin(), s.end(), [](char ch) {
           return std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '_' || ch == '-';
         });
}

// ---- YAML text of values (to_yaml and messages) ---------------------------------------------

// Strings are always double-quoted so that no YAML reader takes "off" or "1e3" for something else.
std::string show_value(const std::string& s) {
  std::string out = "\"";
  for (const char ch : s) {
    const auto u = static_cast<unsigned char>(ch);
    if (ch == '"' || ch == '\\') {
      out += '\\';
      out += ch;
    } else if (ch == '\n') {
      out += "\\n";
    } else if (ch == '\t') {
      out += "\\t";
    } else if (u < 0x20 || u == 0x7f) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 0xf];
    } else {
      out += ch;
    }
  }
  out += '"';
  return out;
}
std::string show_value(const fs::path& p) {
  return show_value(p.string());
}
std::string show_value(bool b) {
  return b ? "true" : "false";
}
template <std::integral T>
std::string show_value(T v) {
  return std::to_string(v);
}
// Fixed notation in its shortest exact form: reads back to the same double, and every YAML
// reader takes "0.25" or "60" for a number (not always so for "1e+09").
std::string show_value(double v) {
  char buf[512];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed);
  if (ec != std::errc()) return std::to_string(v);
  return std::string(buf, end);
}
std::string show_value(EnvelopeMode m) {
  return to_string(m);
}
std::string show_value(FsyncPolicy p) {
  return to_string(p);
}
std::string show_value(WaitMode m) {
  return to_string(m);
}
std::string show_value(MarketShard m) {
  return show_value(to_string(m));
}
template <class T>
std::string show_value(const std::vector<T>& v) {
  std::string out = "[";
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i > 0) out += ", ";
    out += show_value(v[i]);
  }
  out += ']';
  return out;
}

// ---- YAML nodes to values (type only; ranges are the fields' rules) ---------------------------

// Numbers and booleans must be plain scalars: a quoted "5" is a string, and saying so catches
// a config that was generated with the wrong types.
bool plain_scalar(const YAML::Node& n) {
  return n.IsScalar() && n.Tag() != "!";
}

template <std::integral T>
bool parse_value(const YAML::Node& n, T& out) {
  if (!plain_scalar(n)) return false;
  const std::string& s = n.Scalar();
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size();
}
bool parse_value(const YAML::Node& n, double& out) {
  if (!plain_scalar(n)) return false;
  const std::string& s = n.Scalar();
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size() && std::isfinite(out);
}
bool parse_value(const YAML::Node& n, bool& out) {
  if (!plain_scalar(n)) return false;
  const std::string& s = n.Scalar();
  // YAML 1.2 booleans only: yes/no/on/off are YAML 1.1 and famously surprising.
  if (s == "true" || s == "True" || s == "TRUE")
    out = true;
  else if (s == "false" || s == "False" || s == "FALSE")
    out = false;
  else
    return false;
  return true;
}
// `key:` with nothing after it is YAML's null; for a string or a list it reads as empty, which is
// how people write "not set".
bool parse_value(const YAML::Node& n, std::string& out) {
  if (n.IsNull()) {
    out.clear();
    return true;
  }
  if (!n.IsScalar()) return false;
  out = n.Scalar();
  return true;
}
bool parse_value(const YAML::Node& n, fs::path& out) {
  std::string s;
  if (!parse_value(n, s)) return false;
  out = s;
  return true;
}
template <class T>
bool parse_value(const YAML::Node& n, std::vector<T>& out) {
  out.clear();
  if (n.IsNull()) return true;
  if (!n.IsSequence()) return false;
  for (const YAML::Node& item : n) {
    if (item.IsNull()) return false;  // "- " with nothing: a mistake, not an empty entry
    T v{};
    if (!parse_value(item, v)) return false;
    out.push_back(std::move(v));
  }
  return true;
}
bool parse_value(const YAML::Node& n, EnvelopeMode& out) {
  return n.IsScalar() && parse_envelope_mode(n.Scalar(), out);
}
bool parse_value(const YAML::Node& n, FsyncPolicy& out) {
  return n.IsScalar() && parse_fsync_policy(n.Scalar(), out);
}
bool parse_value(const YAML::Node& n, WaitMode& out) {
  return n.IsScalar() && parse_wait_mode(n.Scalar(), out);
}
bool parse_value(const YAML::Node& n, MarketShard& out) {
  if (!n.IsScalar()) return false;
  const auto s = parse_market_shard(n.Scalar());
  if (s) out = *s;
  return s.has_value();
}

// ---- the settings -------------------------------------------------------------------------

// One setting: its key, what a valid value is, and how to read, check and write it. The loader,
// validate() and to_yaml() all walk the same table, so they cannot disagree about a key.
struct Field {
  std::string key;
  std::string expect;  // completes "<key>: expected ..." and "<key> must be ..."
  std::function<bool(const YAML::Node&, RecorderConfig&)> read;  // false: not `expect`
  std::function<bool(const RecorderConfig&)> valid;
  std::function<std::string(const RecorderConfig&)> show;
};

template <class T>
Field field(
    std::string key, T RecorderConfig::*member, std::string expect,
    std::function<bool(const T&)> ok = [](const T&) { return true; }) {
  Field f;
  f.key = std::move(key);
  f.expect = std::move(expect);
  f.read = [member, ok](const YAML::Node& n, RecorderConfig& c) {
    T v{};
    if (!parse_value(n, v) || !ok(v)) return false;
    c.*member = std::move(v);
    return true;
  };
  f.valid = [member, ok](const RecorderConfig& c) { return ok(c.*member); };
  f.show = [member](const RecorderConfig& c) { return show_value(c.*member); };
  return f;
}

template <class T>
Field integer(std::string key, T RecorderConfig::*member, T lo, T hi, std::string expect) {
  return field<T>(std::move(key), member, std::move(expect),
                  [lo, hi](const T& v) { return v >= lo && v <= hi; });
}

// `zero_ok`: 0 is meaningful (off, immediately, forever); otherwise the value must be positive.
Field seconds(std::string key, double RecorderConfig::*member, bool zero_ok) {
  std::string expect = zero_ok ? "a number of seconds >= 0" : "a number of seconds > 0";
  expect += " (at most 1e9)";
  return field<double>(std::move(key), member, std::move(expect), [zero_ok](const double& v) {
    return (zero_ok ? v >= 0 : v > 0) && v <= kMaxSeconds;
  });
}

Field url(std::string key, std::string RecorderConfig::*member, std::string_view a,
          std::string_view b) {
  const std::string article = a.front() == 'h' ? "an " : "a ";
  std::string expect = article + std::string(a) + ":// or " + std::string(b) + ":// URL";
  return field<std::string>(std::move(key), member, std::move(expect),
                            [a, b](const std::string& v) { return has_scheme(v, a, b); });
}

Field path(std::string key, fs::path RecorderConfig::*member) {
  return field<fs::path>(std::move(key), member, "a path (a string; empty: not set)");
}

const std::vector<Field>& fields() {
  using C = RecorderConfig;
  static const std::vector<Field> kFields = [] {
    std::vector<Field> f;
    f.push_back(url("ws_url", &C::ws_url, "ws", "wss"));
    f.push_back(url("rest_url", &C::rest_url, "http", "https"));
    f.push_back(url("gamma_url", &C::gamma_url, "http", "https"));
    f.push_back(path("ca_file", &C::ca_file));

    f.push_back(field<std::vector<std::string>>(
        "assets", &C::assets, "a list of token ids (decimal digits)",
        [](const std::vector<std::string>& v) {
          return std::all_of(v.begin(), v.end(), all_digits);
        }));
    f.push_back(path("assets_file", &C::assets_file));
    f.push_back(field<bool>("all_active", &C::all_active, "true or false"));
    f.push_back(field<std::vector<std::string>>(
        "series", &C::series, "a list of series slugs (non-empty strings)",
        [](const std::vector<std::string>& v) {
          return std::none_of(v.begin(), v.end(), [](const std::string& s) { return s.empty(); });
        }));
    f.push_back(integer<int>("market_limit", &C::market_limit, 0, std::numeric_limits<int>::max(),
                             "an integer >= 0 (0: no limit)"));
    f.push_back(seconds("discovery_interval_seconds", &C::discovery_interval_seconds, false));
    f.push_back(seconds("subscribe_lead_seconds", &C::subscribe_lead_seconds, true));
    f.push_back(seconds("drop_after_end_seconds", &C::drop_after_end_seconds, true));

    f.push_back(integer<int>("assets_per_connection", &C::assets_per_connection, 1, 500,
                             "an integer between 1 and 500"));
    f.push_back(seconds("connect_stagger_seconds", &C::connect_stagger_seconds, true));
    f.push_back(seconds("ping_interval_seconds", &C::ping_interval_seconds, false));
    f.push_back(seconds("pong_timeout_seconds", &C::pong_timeout_seconds, false));
    f.push_back(seconds("stale_connection_seconds", &C::stale_connection_seconds, false));
    f.push_back(seconds("token_silent_seconds", &C::token_silent_seconds, false));
    f.push_back(seconds("initial_book_timeout_seconds", &C::initial_book_timeout_seconds, false));
    f.push_back(seconds("backoff_initial_seconds", &C::backoff_initial_seconds, false));
    f.push_back(seconds("backoff_max_seconds", &C::backoff_max_seconds, false));
    f.push_back(seconds("backoff_reset_after_seconds", &C::backoff_reset_after_seconds, false));
    // The cap keeps 4 * max_frame_bytes (the ring rule) far from overflow.
    f.push_back(integer<std::size_t>("max_frame_bytes", &C::max_frame_bytes, 1,
                                     std::size_t{1} << 30,
                                     "a byte count between 1 and 1073741824 (1 GiB)"));

    f.push_back(
        seconds("rest_checkpoint_interval_seconds", &C::rest_checkpoint_interval_seconds, true));
    f.push_back(integer<int>("rest_batch", &C::rest_batch, 1, 500, "an integer between 1 and 500"));

    f.push_back(field<fs::path>("out", &C::out, "a non-empty path",
                                [](const fs::path& p) { return !p.empty(); }));
    f.push_back(path("manifest_dir", &C::manifest_dir));
    f.push_back(field<EnvelopeMode>("envelope", &C::envelope, "compact or full"));
    f.push_back(integer<int>("gzip_level", &C::gzip_level, 0, 12, "an integer between 0 and 12"));
    f.push_back(integer<std::size_t>("block_bytes", &C::block_bytes, 4 * kKiB, 512 * kMiB,
                                     "a byte count between 4096 (4 KiB) and 536870912 (512 MiB)"));
    f.push_back(seconds("block_max_age_seconds", &C::block_max_age_seconds, false));
    f.push_back(integer<std::uint64_t>("max_file_bytes", &C::max_file_bytes, 1,
                                       std::numeric_limits<std::uint64_t>::max(),
                                       "a byte count > 0"));
    f.push_back(field<FsyncPolicy>("fsync", &C::fsync, "one of none, close, interval, block"));
    f.push_back(seconds("fsync_interval_seconds", &C::fsync_interval_seconds, false));

    f.push_back(field<std::vector<int>>(
        "cpus", &C::cpus,
        "a list of 3 cpu numbers between 0 and 1023 (network, book, archive), or [] for no pinning",
        [](const std::vector<int>& v) {
          return (v.empty() || v.size() == 3) &&
                 std::all_of(v.begin(), v.end(), [](int cpu) { return cpu >= 0 && cpu <= 1023; });
        }));
    f.push_back(field<WaitMode>("wait", &C::wait, "busy-spin or spin-then-park"));
    f.push_back(integer<std::uint32_t>("spin_max_us", &C::spin_max_us, 2, 1'000'000,
                                       "an integer between 2 and 1000000 (microseconds)"));
    f.push_back(
        field<std::size_t>("ring_bytes", &C::ring_bytes, "a power of two >= 1048576 (1 MiB)",
                           [](const std::size_t& v) { return v >= kMiB && (v & (v - 1)) == 0; }));

    f.push_back(seconds("duration_seconds", &C::duration_seconds, true));
    f.push_back(field<std::string>("status", &C::status, "one of auto, line, log, off",
                                   [](const std::string& s) { return is_status(s); }));
    f.push_back(seconds("status_interval_seconds", &C::status_interval_seconds, false));

    f.push_back(field<std::string>(
        "http_listen", &C::http_listen,
        "HOST:PORT with an IP address or localhost (e.g. 127.0.0.1:9464), or empty for off",
        [](const std::string& v) {
          std::string host;
          std::uint16_t port = 0;
          return v.empty() || parse_listen_address(v, host, port);
        }));
    f.push_back(field<bool>("http_public", &C::http_public, "true or false"));
    // Live consumers (docs/CONSUMERS.md); their checks live in io/record/live_consumers.cpp.
    f.push_back(field<std::string>("shm", &C::shm, kShmNameForm, valid_shm_name));
    f.push_back(field<std::string>("redis_url", &C::redis_url, std::string("empty, or ") + kRedisUrlForm,
                                   [](const std::string& v) { return v.empty() || parse_redis_url(v); }));
    f.push_back(seconds("redis_ttl_seconds", &C::redis_ttl_seconds, false));
    f.push_back(integer<std::uint32_t>("consumer_depth", &C::consumer_depth, 1, BookTable::kMaxDepth,
                                       "an integer between 1 and 1000 (levels per side)"));
    f.push_back(integer<std::uint32_t>("consumer_slots", &C::consumer_slots, 1, BookTable::kMaxSlots,
                                       "an integer between 1 and 4194304 (tokens)"));
    // Each rule is checked in validate(), which can say which one is wrong and why.
    f.push_back(field<std::vector<std::string>>("alerts", &C::alerts, "a list of alert rules"));
    f.push_back(field<std::string>("alert_webhook", &C::alert_webhook,
                                   "empty, or an http:// or https:// URL",
                                   [](const std::string& v) { return v.empty() || has_scheme(v, "http", "https"); }));
    f.push_back(field<std::vector<std::string>>(
        "alert_command", &C::alert_command, "a list: the program, then its arguments (no shell)",
        [](const std::vector<std::string>& v) { return v.empty() || !v.front().empty(); }));
    f.push_back(seconds("alert_cooldown_seconds", &C::alert_cooldown_seconds, true));
    f.push_back(seconds("alert_timeout_seconds", &C::alert_timeout_seconds, false));
    f.push_back(field<bool>("books_only", &C::books_only, "true or false"));
    f.push_back(field<MarketShard>("shard", &C::shard, kMarketShardForm));
    f.push_back(integer<int>("replica", &C::replica, 0, kMaxReplica,
                             "an integer between 0 and 99"));
    f.push_back(integer<std::uint64_t>("reserve_bytes", &C::reserve_bytes, 0,
                                       std::uint64_t{1} << 40,
                                       "a byte count between 0 (none) and 1099511627776 (1 TiB)"));
    f.push_back(integer<std::size_t>("max_pending_bytes", &C::max_pending_bytes, 64 * kKiB,
                                     std::size_t{1} << 40,
                                     "a byte count between 65536 (64 KiB) and 1099511627776 (1 TiB)"));
    f.push_back(seconds("stop_grace_seconds", &C::stop_grace_seconds, true));
    f.push_back(field<double>("disk_warn_free_percent", &C::disk_warn_free_percent,
                              "a percentage between 0 and 100",
                              [](const double& v) { return v >= 0 && v <= 100; }));
    f.push_back(integer<std::uint64_t>("disk_warn_free_bytes", &C::disk_warn_free_bytes, 0,
                                       std::numeric_limits<std::uint64_t>::max(),
                                       "a byte count >= 0 (0: no byte threshold)"));
    return f;
  }();
  return kFields;
}

const Field* find_field(std::string_view key) {
  for (const Field& f : fields())
    if (f.key == key) return &f;
  return nullptr;
}

// A typo is usually a letter or two off, or the flag's spelling (dashes) of the key.
std::string suggestion(std::string_view key) {
  std::string underscored(key);
  std::replace(underscored.begin(), underscored.end(), '-', '_');
  std::vector<std::string> keys;
  for (const Field& f : fields()) keys.push_back(f.key);
  const std::string best = closest_name(underscored, keys);
  return best.empty() ? std::string() : " (did you mean " + best + "?)";
}

std::string describe(const YAML::Node& n) {
  if (!n.IsDefined() || n.IsNull()) return "nothing";
  if (n.IsSequence()) return "a list";
  if (n.IsMap()) return "a mapping";
  std::string s = n.Scalar();
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return (n.Tag() == "!" ? "the quoted string " : "") + show_value(s);
}

std::string join(const std::vector<std::string>& lines, std::string_view prefix) {
  std::string out;
  for (const std::string& l : lines) {
    if (!out.empty()) out += '\n';
    out += prefix;
    out += l;
  }
  return out;
}

}  // namespace

namespace {

// A YAML event handler that does nothing: for counting documents.
class IgnoreEvents final : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

}  // namespace

void load_recorder_config(const fs::path& file, RecorderConfig& out) {
  const std::string name = file.string();
  std::error_code ec;
  if (!fs::exists(file, ec)) throw ConfigError(name + ": no such config file");
  if (fs::is_directory(file, ec)) throw ConfigError(name + ": is a directory, not a config file");
  std::ifstream in(file, std::ios::binary);
  if (!in) throw ConfigError(name + ": cannot open: " + std::strerror(errno));

  const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  YAML::Node root;
  try {
    // Documents are counted first, stopping at two: YAML::LoadAll of Debian 12's yaml-cpp 0.7
    // loops forever on some broken input (jbeder/yaml-cpp#1040; found by
    // fuzz/recorder_config_fuzzer), where HandleNextDocument keeps saying there is another.
    std::istringstream count_in(text);
    YAML::Parser parser(count_in);
    IgnoreEvents ignore;
    int documents = 0;
    while (documents < 2 && parser.HandleNextDocument(ignore)) ++documents;
    if (documents > 1) throw ConfigError(name + ": expected one YAML document, found more");
    if (documents == 0) return;  // an empty file: every default stays
    root = YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    throw ConfigError(name + ":" + std::to_string(e.mark.line + 1) + ":" +
                      std::to_string(e.mark.column + 1) + ": YAML syntax error: " + e.msg);
  } catch (const YAML::Exception& e) {
    throw ConfigError(name + ": cannot read YAML: " + e.what());
  }
  if (root.IsNull()) return;  // a document of only comments: every default stays

  // A null value (`key:` and nothing) is marked where the next token starts, often the next
  // line: its key's line is the one to show.
  const auto where = [&name](const YAML::Node& n, const YAML::Node& fallback) {
    const YAML::Mark m = n.IsNull() || n.Mark().is_null() ? fallback.Mark() : n.Mark();
    return name + ":" + (m.is_null() ? std::string("?") : std::to_string(m.line + 1)) + ": ";
  };
  if (!root.IsMap()) {
    throw ConfigError(where(root, root) + "expected a mapping of settings (key: value), found " +
                      describe(root));
  }

  // Applied to a copy so that a file with errors changes nothing.
  RecorderConfig c = out;
  std::vector<std::string> errors;
  std::set<std::string> seen;
  for (const auto& kv : root) {
    const YAML::Node& k = kv.first;
    const YAML::Node& v = kv.second;
    if (!k.IsScalar()) {
      errors.push_back(where(k, v) + "expected a setting name, found " + describe(k));
      continue;
    }
    const std::string& key = k.Scalar();
    const Field* f = find_field(key);
    if (f == nullptr) {
      errors.push_back(where(k, v) + key + ": unknown setting" + suggestion(key));
      continue;
    }
    if (!seen.insert(key).second) {
      errors.push_back(where(k, v) + key + ": set more than once");
      continue;
    }
    if (!f->read(v, c)) {
      errors.push_back(where(v, k) + key + ": expected " + f->expect + ", found " + describe(v));
    }
  }
  if (!errors.empty()) throw ConfigError(join(errors, ""));
  out = std::move(c);
}

namespace {

// Whether `inner` is `outer` or below it, after resolving ".." and symbolic links (as far as
// the paths exist) against the working directory.
bool is_within(const fs::path& inner, const fs::path& outer) {
  std::error_code ec;
  const fs::path a = fs::weakly_canonical(fs::absolute(inner, ec), ec);
  const fs::path b = fs::weakly_canonical(fs::absolute(outer, ec), ec);
  if (ec) return false;
  auto ai = a.begin();
  for (auto bi = b.begin(); bi != b.end(); ++bi, ++ai) {
    if (bi->empty()) continue;  // a trailing separator
    if (ai == a.end() || *ai != *bi) return false;
  }
  return true;
}

}  // namespace

std::vector<std::string> validate(const RecorderConfig& c) {
  std::vector<std::string> problems;
  const RecorderConfig shown = with_urls_redacted(c);  // a message must not carry a key
  // A user or password in a URL: said as such (not "must be a ws:// URL", which it is).
  std::set<std::string> with_credentials;
  for (const auto& [key, url] : {std::pair<const char*, const std::string*>{"ws_url", &c.ws_url},
                                 {"rest_url", &c.rest_url}, {"gamma_url", &c.gamma_url}}) {
    const std::size_t scheme = url->find("://");
    if (scheme == std::string::npos) continue;
    const std::string_view rest = std::string_view(*url).substr(scheme + 3);
    if (rest.substr(0, rest.find_first_of("/?#")).find('@') == std::string_view::npos) continue;
    with_credentials.insert(key);
    problems.push_back(std::string(key) + " carries a user or password (user:password@host): " +
                       "booktape refuses credentials in URLs (the venue's public endpoints need "
                       "none, and a URL goes into logs, session records and manifests); remove "
                       "them.");
  }
  for (const Field& f : fields()) {
    if (f.valid(c) || with_credentials.count(f.key) > 0) continue;
    std::string value = f.show(shown);
    if (value.size() > 60) value = value.substr(0, 57) + "...";
    problems.push_back(f.key + " must be " + f.expect + " (it is " + value + ").");
  }

  // Rules between settings.
  const std::size_t frame = c.max_frame_bytes;
  if (frame <= (std::size_t{1} << 30)) {  // larger: already reported above
    const std::size_t need = 4 * frame + 64 * kKiB;
    if (c.ring_bytes < need) {
      problems.push_back("ring_bytes must be at least 4 * max_frame_bytes + 64 KiB (" +
                         std::to_string(need) + ") so that the largest frames fit; it is " +
                         std::to_string(c.ring_bytes) + ".");
    }
  }
  if (c.all_active && (!c.assets.empty() || !c.assets_file.empty())) {
    problems.push_back(
        "all_active excludes assets and assets_file: record either every active market or the "
        "listed tokens.");
  }
  if (c.shard.sharded() && (!c.assets.empty() || !c.assets_file.empty())) {
    problems.push_back(
        "shard splits the markets discovery finds; assets and assets_file are not sharded "
        "(give each recorder its own list instead).");
  }
  if (c.assets.empty() && c.assets_file.empty() && !c.all_active && c.series.empty()) {
    problems.push_back(
        "series is empty and no assets, assets_file or all_active is set: there is nothing to "
        "record.");
  }
  if (!c.assets_file.empty()) {
    std::error_code ec;
    if (!fs::is_regular_file(c.assets_file, ec)) {
      problems.push_back("assets_file " + c.assets_file.string() +
                         (fs::exists(c.assets_file, ec) ? " is not a file." : " does not exist."));
    } else {
      try {
        if (read_assets_file(c.assets_file).empty())
          problems.push_back("assets_file " + c.assets_file.string() + " lists no token ids.");
      } catch (const ConfigError& e) {
        problems.push_back(std::string("assets_file: ") + e.what() + ".");
      }
    }
  }
  if (!c.ca_file.empty()) {
    std::error_code ec;
    if (!fs::is_regular_file(c.ca_file, ec))
      problems.push_back("ca_file " + c.ca_file.string() +
                         (fs::exists(c.ca_file, ec) ? " is not a file." : " does not exist."));
  }
  const bool cpus_in_range = c.cpus.size() == 3 && std::all_of(c.cpus.begin(), c.cpus.end(), [](int x) {
    return x >= 0 && x <= 1023;
  });
  if (cpus_in_range) {
    // Pinning to a CPU this process may not run on fails only once the threads start.
    cpu_set_t allowed;
    CPU_ZERO(&allowed);
    if (::sched_getaffinity(0, sizeof allowed, &allowed) == 0) {
      for (const int cpu : c.cpus) {
        if (cpu >= 0 && cpu < CPU_SETSIZE && !CPU_ISSET(static_cast<std::size_t>(cpu), &allowed)) {
          problems.push_back("cpus: CPU " + std::to_string(cpu) + " is not available to this "
                             "process (it may use " + std::to_string(CPU_COUNT(&allowed)) +
                             " CPUs; see `nproc` and `taskset -p $$`).");
        }
      }
    }
  }
  if (!c.out.empty()) {
    std::error_code ec;
    if (fs::exists(c.out, ec) && !fs::is_directory(c.out, ec))
      problems.push_back("out " + c.out.string() + " exists and is not a directory.");
  }
  if (!c.manifest_dir.empty() && !c.out.empty() && !is_within(c.manifest_dir, c.out)) {
    problems.push_back("manifest_dir " + c.manifest_dir.string() + " is outside out (" +
                       c.out.string() + "): everything a run writes stays under its archive root.");
  }
  if (c.backoff_initial_seconds > c.backoff_max_seconds) {
    problems.push_back("backoff_initial_seconds (" + show_value(c.backoff_initial_seconds) +
                       ") must not exceed backoff_max_seconds (" +
                       show_value(c.backoff_max_seconds) + ").");
  }
  // Otherwise a healthy connection would time out between two pings.
  if (c.pong_timeout_seconds <= c.ping_interval_seconds) {
    problems.push_back("pong_timeout_seconds (" + show_value(c.pong_timeout_seconds) +
                       ") must be longer than ping_interval_seconds (" +
                       show_value(c.ping_interval_seconds) + ").");
  }
  // Floors against floods: a PING, a reconnect or a resubscription every few milliseconds.
  // (Values the field itself rejects, zero or negative, are reported there already.)
  const struct {
    const char* key;
    double value, floor;
  } floors[] = {{"ping_interval_seconds", c.ping_interval_seconds, 0.1},
                {"stale_connection_seconds", c.stale_connection_seconds, 0.5},
                {"token_silent_seconds", c.token_silent_seconds, 0.5},
                {"initial_book_timeout_seconds", c.initial_book_timeout_seconds, 0.5},
                {"rest_checkpoint_interval_seconds", c.rest_checkpoint_interval_seconds, 0.1},
                {"discovery_interval_seconds", c.discovery_interval_seconds, 0.1},
                {"status_interval_seconds", c.status_interval_seconds, 0.1}};
  for (const auto& f : floors) {
    if (f.value > 0 && f.value < f.floor) {
      problems.push_back(std::string(f.key) + " (" + show_value(f.value) + ") must be at least " +
                         show_value(f.floor) + " s.");
    }
  }
  // The operator listener answers anyone who can reach it: beyond this host only when asked.
  std::string http_host;
  std::uint16_t http_port = 0;
  if (!c.http_listen.empty() && parse_listen_address(c.http_listen, http_host, http_port) &&
      !is_loopback_host(http_host) && !c.http_public) {
    problems.push_back("http_listen " + c.http_listen +
                       " is not a loopback address: the operator listener has no "
                       "authentication, so serving it beyond this host needs http_public: true "
                       "(--http-public); or use 127.0.0.1:PORT.");
  }
  for (const std::string& rule : c.alerts) {
    std::string why;
    if (!parse_alert_rule(rule, &why)) problems.push_back("alerts: " + why + "; " + kAlertGrammar + ".");
  }
  // Each connection starts this much after the previous one: an hour is already a long queue.
  if (c.connect_stagger_seconds > 3600 && c.connect_stagger_seconds <= kMaxSeconds) {
    problems.push_back("connect_stagger_seconds (" + show_value(c.connect_stagger_seconds) +
                       ") must be at most 3600 s.");
  }
  return problems;
}

RecorderConfig with_urls_redacted(RecorderConfig c) {
  c.ws_url = redact_url(c.ws_url);
  c.rest_url = redact_url(c.rest_url);
  c.gamma_url = redact_url(c.gamma_url);
  c.redis_url = redact_redis_url(c.redis_url);
  c.alert_webhook = redact_webhook_url(c.alert_webhook);
  return c;
}

std::string to_yaml(const RecorderConfig& c) {
  std::string out;
  for (const Field& f : fields()) {
    out += f.key;
    out += ": ";
    out += f.show(c);
    out += '\n';
  }
  return out;
}

std::vector<std::string> read_assets_file(const fs::path& file) {
  const std::string name = file.string();
  std::error_code ec;
  if (fs::is_directory(file, ec)) throw ConfigError(name + ": is a directory, not an assets file");
  std::ifstream in(file, std::ios::binary);
  if (!in) throw ConfigError(name + ": cannot open: " + std::strerror(errno));
  std::vector<std::string> ids;
  std::set<std::string, std::less<>> seen;
  std::string line;
  for (std::size_t number = 1; std::getline(in, line); ++number) {
    std::string_view s = line;
    s = s.substr(0, s.find('#'));
    const std::size_t first = s.find_first_not_of(" \t\r\f\v");
    if (first == std::string_view::npos) continue;
    s = s.substr(first, s.find_last_not_of(" \t\r\f\v") - first + 1);
    if (!all_digits(s)) {
      std::string shown(s.substr(0, 60));
      throw ConfigError(name + ":" + std::to_string(number) + ": " + show_value(shown) +
                        " is not a token id (Polymarket token ids are decimal digits)");
    }
    if (seen.insert(std::string(s)).second) ids.emplace_back(s);
  }
  if (in.bad()) throw ConfigError(name + ": read error: " + std::strerror(errno));
  return ids;
}

}  // namespace booktape
