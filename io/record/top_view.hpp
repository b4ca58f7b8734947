#pragma once
// `booktape top`: seed 003's terminal dashboard, drawn from a recorder's GET /status
// (docs/OPERATIONS.md). This file is the part that needs no terminal: reading /status into a
// model and laying it out as lines for a given width, height and sort (plain text, or with ANSI
// colours); apps/top_command.cpp does the terminal, the keys and the refresh.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace booktape {

// A book silent this long is highlighted and listed as an alert (seed 003: ">10s without updates").
inline constexpr double kTopSilentSeconds = 10;

struct TopLatency {
  std::uint64_t count = 0, avg_ns = 0, p50_ns = 0, p95_ns = 0, max_ns = 0;
};

struct TopRow {
  std::string asset_id, market, outcome, state;
  std::optional<std::string> bid, ask;  // exact decimals; none: the side is empty
  std::optional<double> spread_bps, age_seconds;
  double updates_per_second = 0;
  std::uint32_t connection = 0;
  [[nodiscard]] bool silent() const { return age_seconds && *age_seconds > kTopSilentSeconds; }
};

struct TopConnection {
  std::uint32_t connection = 0;
  bool up = false;
  std::uint32_t assets = 0;
  std::optional<double> last_data_age_seconds;
  std::string last_close;
};

struct TopModel {
  std::string run_id, now_utc, status_line;
  std::uint64_t frames = 0, reconnects = 0, tokens = 0;
  std::uint32_t connections_up = 0, connections = 0;
  double frames_per_second = 0;
  TopLatency read_to_book, read_to_archive;
  std::map<std::string, std::uint32_t> books_by_state;
  std::vector<TopConnection> links;
  std::vector<TopRow> rows;
  std::vector<std::string> alerts;  // the recorder's last alerts, as one line each
};

// Reads a /status body; false with `error` set if it is not one.
bool parse_top_status(std::string_view json, TopModel& out, std::string& error);

enum class TopSort : std::uint8_t { kMarket, kSpread, kAge, kUpdates };
// "market", "spread", "age", "updates"; false for anything else.
bool parse_top_sort(std::string_view name, TopSort& out);
const char* to_string(TopSort s) noexcept;

struct TopLayout {
  int width = 100;
  int height = 0;  // 0: as many lines as it takes (plain output)
  TopSort sort = TopSort::kMarket;
  bool descending = false;
  bool color = false;  // ANSI colours and reverse video for silent books
  bool keys = false;   // name the keys in the title (interactive)
};

// The dashboard as lines (no line longer than `width` characters of text).
std::vector<std::string> render_top(const TopModel& m, const TopLayout& layout);

}  // namespace booktape
