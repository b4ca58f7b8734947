// Alert rules: the grammar, the values they read from a top of book, and the edge, hysteresis
// and cooldown that keep a flickering book from storming.
#include <gtest/gtest.h>

#include "io/consumers/alert_rules.hpp"

namespace booktape {
namespace {

AlertRule rule(const char* text) {
  std::string why;
  const auto r = parse_alert_rule(text, &why);
  EXPECT_TRUE(r) << text << ": " << why;
  return r.value_or(AlertRule{});
}

shm::Top top(std::int32_t bid, std::int32_t ask, std::int32_t last = shm::kNoPrice) {
  shm::Top t;
  t.best_bid = bid;
  t.best_ask = ask;
  t.best_bid_size = t.best_ask_size = 1'000'000;
  t.last_trade_price = last;
  t.received_ns = 1'000'000'000;
  return t;
}

TEST(AlertRules, TheIssuesGrammarParsesExactly) {
  EXPECT_EQ(rule("bid>=0.70").threshold, 14'000);  // price x2, 1e-4 units
  EXPECT_EQ(rule(" ask <= .3 ").op, AlertOp::kLe);
  EXPECT_EQ(rule(" ask <= .3 ").text, "ask<=.3");
  EXPECT_EQ(rule("mid>=0.5").metric, AlertMetric::kMid);
  EXPECT_EQ(rule("displayed>0.7").op, AlertOp::kGt);
  EXPECT_EQ(rule("spread_bps>500").threshold, 50'000);  // bps x100
  EXPECT_EQ(rule("spread_bps>12.5").threshold, 1'250);
  EXPECT_EQ(rule("stale>10s").threshold, 10'000'000'000);
  EXPECT_EQ(rule("stale>500ms").threshold, 500'000'000);
  EXPECT_EQ(rule("stale>=2m").threshold, 120'000'000'000);
  EXPECT_EQ(rule("disconnects>=3").threshold, 3);
}

TEST(AlertRules, RulesOutsideTheGrammarSayWhy) {
  for (const char* bad :
       {"", "bid", "bid=0.7", "bid>=1.5", "bid>=0.70001", "bid>=-0.1", "volume>3", "stale>10",
        "stale<10s", "stale>0s", "disconnects>=0", "disconnects<=3", "spread_bps>x", "ask<=0.3x"}) {
    std::string why;
    EXPECT_FALSE(parse_alert_rule(bad, &why)) << bad;
    EXPECT_FALSE(why.empty()) << bad;
  }
}

TEST(AlertRules, ValuesComeFromTheTopOfBookByTheBookQueriesRules) {
  EXPECT_EQ(alert_value(rule("bid>=0.7"), top(7000, 7200), 0), 14'000);
  EXPECT_EQ(alert_value(rule("ask<=0.3"), top(7000, 7200), 0), 14'400);
  EXPECT_EQ(alert_value(rule("mid>=0.7"), top(7000, 7100), 0), 14'100);  // 0.705, exact
  EXPECT_EQ(format_alert_value(rule("mid>=0.7"), 14'100), "0.705");
  // spread 0.02 at mid 0.71 -> 281.69 bps
  EXPECT_EQ(alert_value(rule("spread_bps>100"), top(7000, 7200), 0), 28'169);
  // Displayed: the midpoint, or the last trade when the spread is over 0.10.
  EXPECT_EQ(alert_value(rule("displayed>=0.5"), top(3000, 9000, 6500), 0), 13'000);
  EXPECT_EQ(alert_value(rule("displayed>=0.5"), top(6000, 6400, 6500), 0), 12'400);
  EXPECT_FALSE(alert_value(rule("bid>=0.7"), top(shm::kNoPrice, 7200), 0));
  EXPECT_FALSE(alert_value(rule("mid>=0.7"), top(7000, shm::kNoPrice), 0));
  EXPECT_EQ(alert_value(rule("stale>10s"), top(1, 2), 12'000'000'000), 11'000'000'000);
}

TEST(AlertRules, AFlickerAroundTheThresholdFiresOnceUntilClearedAndCooledDown) {
  const AlertRule r = rule("bid>=0.70");
  AlertEdge e;
  const std::int64_t cool = 60'000'000'000;
  EXPECT_FALSE(e.update(r, 2 * 6900, 0, cool));
  EXPECT_TRUE(e.update(r, 2 * 7000, 1, cool));   // crossed: fires
  EXPECT_FALSE(e.update(r, 2 * 6995, 2, cool));  // inside the one-cent band: not cleared
  EXPECT_FALSE(e.update(r, 2 * 7010, 3, cool));  // flicker: quiet
  EXPECT_FALSE(e.update(r, 2 * 6800, 4, cool));  // cleared, but cooling down
  EXPECT_FALSE(e.update(r, 2 * 7100, 5, cool));
  EXPECT_FALSE(e.update(r, 2 * 6800, cool + 10, cool));  // cleared and cooled: re-armed
  EXPECT_TRUE(e.update(r, 2 * 7100, cool + 11, cool));   // a new crossing fires
  // Without clearing, the cooldown alone does not re-arm it.
  AlertEdge held;
  EXPECT_TRUE(held.update(r, 2 * 7500, 0, 0));
  EXPECT_FALSE(held.update(r, 2 * 7500, cool * 10, 0));
}

TEST(AlertRules, DownwardRulesAndStaleAndDisconnectsReArmTheirOwnWay) {
  const AlertRule ask = rule("ask<=0.30");
  AlertEdge a;
  EXPECT_TRUE(a.update(ask, 2 * 3000, 0, 0));
  EXPECT_FALSE(a.update(ask, 2 * 3050, 1, 0));  // within the band
  EXPECT_FALSE(a.update(ask, 2 * 3200, 2, 0));  // cleared, re-armed, not below
  EXPECT_TRUE(a.update(ask, 2 * 2900, 3, 0));

  const AlertRule stale = rule("stale>10s");
  AlertEdge s;
  EXPECT_TRUE(s.update(stale, 11'000'000'000, 0, 0));
  EXPECT_FALSE(s.update(stale, 12'000'000'000, 1, 0));
  EXPECT_FALSE(s.update(stale, 1'000, 2, 0));  // a fresh update re-arms
  EXPECT_TRUE(s.update(stale, 10'500'000'000, 3, 0));

  const AlertRule d = rule("disconnects>=3");
  AlertEdge n;
  EXPECT_FALSE(n.update(d, 2, 0, 0));
  EXPECT_TRUE(n.update(d, 3, 1, 0));
  EXPECT_FALSE(n.update(d, 7, 2, 0));  // still failing: one alert
  EXPECT_FALSE(n.update(d, 0, 3, 0));  // a connect succeeded
  EXPECT_TRUE(n.update(d, 3, 4, 0));
}

}  // namespace
}  // namespace booktape
