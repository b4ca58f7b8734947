// `booktape top`'s layout without a terminal: what /status gives it, how rows sort (books with
// no value last), that silent books are flagged, and that lines fit the width and the height.
#include <gtest/gtest.h>

#include <string>

#include "io/record/top_view.hpp"

namespace booktape {
namespace {

TopModel model() {
  const std::string status = R"({"running":true,"run_id":"r1","now_utc":"2026-01-02T03:04:05.000Z",
    "network":{"frames":120,"disconnects":2,"live_connections":1,"shards":2},
    "frames_per_second":40.5,
    "latency":{"read_to_book":{"count":120,"avg_ns":20000,"p50_ns":18000,"p95_ns":40000,"max_ns":900000},
               "read_to_archive":{"count":120,"avg_ns":2000000,"p50_ns":1500000,"p95_ns":9000000,"max_ns":20000000}},
    "books_by_state":{"awaiting_snapshot":1,"live":2,"stale":0,"unconfirmed":0},
    "connections":[{"connection":0,"up":true,"assets":3,"last_data_age_seconds":0.2,"last_close":""},
                   {"connection":1,"up":false,"assets":1,"last_data_age_seconds":null,"last_close":"stale: no market data"}],
    "tokens":{"count":4,"listed":3,"items":[
      {"asset_id":"1","market":"m-a","outcome":"Up","state":"live","best_bid":"0.48","best_ask":"0.5",
       "spread_bps":408.16,"age_seconds":0.5,"updates_per_second":3.0,"connection":0},
      {"asset_id":"2","market":"m-a","outcome":"Down","state":"live","best_bid":"0.5","best_ask":"0.52",
       "spread_bps":392.16,"age_seconds":12.5,"updates_per_second":0.0,"connection":0},
      {"asset_id":"3","market":"m-b","outcome":"Up","state":"awaiting_snapshot","best_bid":null,
       "best_ask":null,"spread_bps":null,"age_seconds":null,"updates_per_second":0,"connection":1}]},
    "alerts":[{"rule":"bid>=0.70","market":"m-c","fired_at_utc":"2026-01-02T03:04:00Z"}]})";
  TopModel m;
  std::string error;
  EXPECT_TRUE(parse_top_status(status, m, error)) << error;
  return m;
}

std::string joined(const std::vector<std::string>& lines) {
  std::string s;
  for (const std::string& l : lines) s += l + "\n";
  return s;
}

TEST(TopView, ReadsStatusAndShowsHealthLatencyAndAlerts) {
  const TopModel m = model();
  ASSERT_EQ(m.rows.size(), 3u);
  EXPECT_EQ(m.tokens, 4u);
  EXPECT_FALSE(m.rows[2].bid.has_value());
  const std::string s = joined(render_top(m, TopLayout{}));
  EXPECT_NE(s.find("frames 120 (40/s)  connections 1/2 up, 2 reconnects\n"), std::string::npos)
      << s;
  EXPECT_NE(s.find("books  2 live, 0 stale, 0 unconfirmed, 1 awaiting a snapshot, of 4 tokens"),
            std::string::npos)
      << s;
  EXPECT_NE(s.find("read->book    avg 20.0us p50 18.0us p95 40.0us max 900.0us"), std::string::npos)
      << s;
  EXPECT_NE(s.find("#1 DOWN 1 assets (stale: no market data)"), std::string::npos) << s;
  EXPECT_NE(s.find("STALE m-a Down: no update for 12.5 s"), std::string::npos) << s;
  EXPECT_NE(s.find("ALERT 2026-01-02T03:04:00Z bid>=0.70 m-c"), std::string::npos) << s;
  EXPECT_NE(s.find("1 more tokens not sent by /status"), std::string::npos) << s;
  EXPECT_EQ(s.find('\033'), std::string::npos);
}

TEST(TopView, SortsByAKeyWithMissingValuesLastAndHighlightsSilentBooks) {
  const TopModel m = model();
  TopLayout l;
  l.sort = TopSort::kAge;
  l.descending = true;
  l.color = true;
  const std::vector<std::string> lines = render_top(m, l);
  std::vector<std::string> rows;
  for (const std::string& x : lines)
    if (x.find("m-a") != std::string::npos || x.find("m-b ") != std::string::npos)
      rows.push_back(x);
  ASSERT_EQ(rows.size(), 4u);                          // the STALE alert line, then 3 table rows
  EXPECT_NE(rows[1].find("Down"), std::string::npos);  // 12.5 s first
  EXPECT_NE(rows[1].find("\033[1;37;41m"), std::string::npos);  // and highlighted
  EXPECT_NE(rows[2].find("Up"), std::string::npos);
  EXPECT_NE(rows[3].find("m-b"), std::string::npos);  // no age: last
  TopSort s{};
  EXPECT_TRUE(parse_top_sort("updates", s));
  EXPECT_EQ(s, TopSort::kUpdates);
  EXPECT_FALSE(parse_top_sort("colour", s));
}

TEST(TopView, LinesFitTheWidthAndTheHeight) {
  TopLayout l;
  l.width = 60;
  l.height = 12;
  const std::vector<std::string> lines = render_top(model(), l);
  EXPECT_LE(lines.size(), 12u);
  for (const std::string& x : lines) EXPECT_LE(x.size(), 60u) << x;
  EXPECT_NE(joined(lines).find("more of 4 tokens"), std::string::npos) << joined(lines);
}

TEST(TopView, RefusesWhatIsNotAStatus) {
  TopModel m;
  std::string error;
  EXPECT_FALSE(parse_top_status("<html>", m, error));
  EXPECT_FALSE(parse_top_status(R"({"running":false})", m, error));
  EXPECT_NE(error.find("not running"), std::string::npos);
  EXPECT_FALSE(parse_top_status(R"({"running":true})", m, error));
}

}  // namespace
}  // namespace booktape
