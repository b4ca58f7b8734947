// Discovery against a real simulator on loopback (its Gamma /events and /markets), a server that
// answers HTML like Cloudflare, and a port where nothing listens; selection and the discovery
// files with hand-built markets.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <simdjson.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "codecs/gzip_stream.hpp"
#include "codecs/polymarket_gamma.hpp"
#include "codecs/sha256.hpp"
#include "io/net/http_client.hpp"
#include "io/record/polymarket_discovery.hpp"
#include "io/sim/gamma_catalogue.hpp"
#include "io/sim/server.hpp"
#include "tests/support/loopback.hpp"
#include "tests/support/sim_server.hpp"
#include "tests/support/temp_dir.hpp"

namespace booktape {
namespace {

using namespace std::chrono_literals;
namespace pm = polymarket;

// Nothing subscribes to the simulators here, so they generate nothing and their Gamma listing
// stays put (rolls happen only while generating).
using testing::Sim;
using testing::dead_port;
using testing::listen_loopback;

void inject_gamma_429(SimServer& sim, std::uint64_t count) {
  FaultSpec f;
  f.kind = "gamma_429";
  f.count = count;
  std::string error;
  EXPECT_TRUE(sim.inject(f, error)) << error;
}

SimServerOptions sim_options(int lanes) {
  SimServerOptions o;
  o.market.seed = 5;
  o.market.lanes = lanes;
  o.rate = 0;
  return o;
}

// What the simulator lists on Gamma, fetched directly: the reference discovery must agree with.
std::map<std::string, pm::DiscoveredMarket> listed(const std::string& url) {
  HttpClientOptions o;
  o.base_url = url;
  HttpClient http(o);
  const HttpResponse r = http.get("/markets?limit=1000");
  EXPECT_EQ(r.status, 200);
  std::vector<pm::DiscoveredMarket> ms;
  std::size_t skipped = 0;
  std::string error;
  EXPECT_TRUE(pm::parse_gamma(r.body, ms, skipped, error)) << error;
  std::map<std::string, pm::DiscoveredMarket> by_condition;
  for (auto& m : ms) by_condition[m.condition_id] = m;
  return by_condition;
}

// A loopback listener that never accepts: connections complete in the kernel's backlog, requests
// are sent, and no answer ever comes (a hung server).
class SilentServer {
 public:
  SilentServer() : fd_(listen_loopback(port_)) {}
  ~SilentServer() { ::close(fd_); }
  SilentServer(const SilentServer&) = delete;
  SilentServer& operator=(const SilentServer&) = delete;
  [[nodiscard]] std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  std::uint16_t port_ = 0;  // before fd_: listen_loopback sets it while fd_ is initialised
  int fd_ = -1;
};

// Answers requests with fixed HTTP responses in turn (the last one again once they run out) and
// closes each connection: Gamma behind a Cloudflare page, or a listing page by page. Keeps the
// request lines it saw.
class CannedServer {
 public:
  explicit CannedServer(std::string response)
      : CannedServer(std::vector<std::string>{std::move(response)}) {}
  explicit CannedServer(std::vector<std::string> responses)
      : responses_(std::move(responses)), fd_(listen_loopback(port_)) {
    thread_ = std::thread([this] { serve(); });
  }
  ~CannedServer() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  [[nodiscard]] std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  [[nodiscard]] std::vector<std::string> requests() {
    const std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }

 private:
  void serve() {
    std::size_t next = 0;
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) continue;
      std::string request;
      char buf[4096];
      while (request.find("\r\n\r\n") == std::string::npos) {
        const ssize_t n = ::read(c, buf, sizeof buf);
        if (n <= 0) break;
        request.append(buf, static_cast<std::size_t>(n));
      }
      {
        const std::lock_guard<std::mutex> lock(mu_);
        requests_.push_back(request.substr(0, request.find("\r\n")));
      }
      const std::string& response = responses_[std::min(next++, responses_.size() - 1)];
      EXPECT_GT(::write(c, response.data(), response.size()), 0);
      ::close(c);
    }
  }

  std::vector<std::string> responses_;
  std::uint16_t port_ = 0;  // before fd_: listen_loopback sets it while fd_ is initialised
  int fd_ = -1;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::vector<std::string> requests_;
  std::thread thread_;
};

std::string http_response(int status, const std::string& type, const std::string& body) {
  return "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Type: " + type +
         "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" +
         body;
}

// ------------------------------------------------------------------------ discover() --------

TEST(Discover, SeriesModeFindsTheSimsBtcMarketsWithBothTokens) {
  Sim sim(sim_options(2));  // lane 0: btc-up-or-down-5m, lane 1: btc-up-or-down-15m
  DiscoveryOptions o;
  o.gamma_url = sim->http_url();
  const DiscoveryResult r = discover(o);  // the default five BTC series
  EXPECT_TRUE(r.errors.empty()) << r.errors.front();
  EXPECT_EQ(r.requests, 5u);  // one keyset page each: no next_cursor on any
  EXPECT_EQ(r.pages, 5u);
  ASSERT_EQ(r.raw_responses.size(), 5u);
  for (const GammaResponse& g : r.raw_responses) {
    EXPECT_EQ(g.status, 200);
    EXPECT_EQ(g.target.rfind("/events/keyset?series_slug=btc-up-or-down-", 0), 0u) << g.target;
    EXPECT_TRUE(g.target.ends_with("&closed=false&limit=500")) << g.target;
    EXPECT_EQ(g.target.find("offset"), std::string::npos);
    EXPECT_GT(g.fetched_at, 0);
  }
  EXPECT_NE(r.raw_responses[3].target.find("series_slug=btc-up-or-down-4h&"), std::string::npos);
  EXPECT_GT(r.fetched_at, 0);

  const auto reference = listed(sim->http_url());
  ASSERT_EQ(reference.size(), 4u);  // each lane: the live window and the next one
  ASSERT_EQ(r.markets.size(), 4u);
  std::map<std::string, int> per_series;
  for (const pm::DiscoveredMarket& m : r.markets) {
    ++per_series[m.series_slug];
    const auto it = reference.find(m.condition_id);
    ASSERT_NE(it, reference.end()) << m.slug;
    EXPECT_EQ(m.up_token_id, it->second.up_token_id);
    EXPECT_EQ(m.down_token_id, it->second.down_token_id);
    EXPECT_FALSE(m.up_token_id.empty());
    EXPECT_FALSE(m.down_token_id.empty());
    EXPECT_NE(m.up_token_id, m.down_token_id);
    EXPECT_EQ(m.slug, it->second.slug);
    EXPECT_GT(m.end, m.start);
    EXPECT_GT(m.start, 0);
  }
  EXPECT_EQ(per_series["btc-up-or-down-5m"], 2);
  EXPECT_EQ(per_series["btc-up-or-down-15m"], 2);
  // One of them is Protocol V2 (the simulator's second market): every asset id found is one the
  // market channel streams (the simulator's books), none the CTF ids a V2 market's clobTokenIds
  // still lists.
  bool v2_listed = false;
  for (const GammaResponse& g : r.raw_responses)
    v2_listed |= g.body.find(R"("version":"v2","positionIds":[)") != std::string::npos;
  EXPECT_TRUE(v2_listed);
  const auto books = testing::books_by_asset(sim->books_json());
  for (const pm::DiscoveredMarket& m : r.markets) {
    EXPECT_TRUE(books.count(m.up_token_id)) << m.slug;
    EXPECT_TRUE(books.count(m.down_token_id)) << m.slug;
  }

  // Asking for the same series twice finds each market once.
  o.series = {"btc-up-or-down-5m", "btc-up-or-down-5m"};
  const DiscoveryResult twice = discover(o);
  EXPECT_EQ(twice.requests, 2u);
  EXPECT_EQ(twice.markets.size(), 2u);
}

TEST(Discover, UnknownSeriesGivesNoMarketsAndNoErrorAndSlugsArePercentEncoded) {
  Sim sim(sim_options(2));
  DiscoveryOptions o;
  o.gamma_url = sim->http_url();
  o.series = {"no-such-series", "btc-up-or-down-5m&closed=true", "a b/c"};
  const DiscoveryResult r = discover(o);
  EXPECT_TRUE(r.errors.empty()) << r.errors.front();
  EXPECT_TRUE(r.markets.empty());  // '&' did not smuggle in a second parameter
  EXPECT_EQ(r.requests, 3u);
  ASSERT_EQ(r.raw_responses.size(), 3u);
  EXPECT_EQ(r.raw_responses[0].body, R"({"events":[]})");
  EXPECT_EQ(r.raw_responses[1].target.rfind(
                "/events/keyset?series_slug=btc-up-or-down-5m%26closed%3Dtrue&", 0),
            0u);
  EXPECT_EQ(r.raw_responses[2].target.rfind("/events/keyset?series_slug=a%20b%2Fc&", 0), 0u);
}

TEST(Discover, AllActiveFollowsTheCursorAndReturnsEveryOpenMarketOnce) {
  Sim sim(sim_options(3));  // 3 lanes x (live + next) = 6 open markets
  const auto reference = listed(sim->http_url());
  ASSERT_EQ(reference.size(), 6u);
  DiscoveryOptions o;
  o.gamma_url = sim->http_url();
  o.all_active = true;
  o.markets_page_size = 2;
  std::vector<std::size_t> progress;
  o.progress = [&](const DiscoveryProgress& p) { progress.push_back(p.markets); };
  const DiscoveryResult r = discover(o);
  EXPECT_TRUE(r.errors.empty()) << r.errors.front();
  EXPECT_EQ(r.requests, 3u);  // 2 + 2 + 2; the third page has no next_cursor
  EXPECT_EQ(r.pages, 3u);
  EXPECT_EQ(progress, (std::vector<std::size_t>{2, 4, 6}));
  ASSERT_EQ(r.raw_responses.size(), 3u);
  EXPECT_EQ(r.raw_responses[0].target, "/markets/keyset?active=true&closed=false&limit=2");
  EXPECT_NE(r.raw_responses[1].target.find("&limit=2&after_cursor="), std::string::npos);
  for (const GammaResponse& g : r.raw_responses) EXPECT_EQ(g.target.find("offset"), std::string::npos);
  ASSERT_EQ(r.markets.size(), 6u);
  std::set<std::string> seen;
  for (const auto& m : r.markets) {
    EXPECT_TRUE(seen.insert(m.condition_id).second) << m.slug;
    ASSERT_TRUE(reference.count(m.condition_id)) << m.slug;
    EXPECT_EQ(m.token_ids, reference.at(m.condition_id).token_ids);
  }

  // The venue's cap: asking for more than 100 asks for 100.
  o.markets_page_size = 500;
  const DiscoveryResult capped = discover(o);
  EXPECT_EQ(capped.raw_responses.at(0).target, "/markets/keyset?active=true&closed=false&limit=100");
  EXPECT_EQ(capped.markets.size(), 6u);

  // max_pages stops early and says so.
  o.markets_page_size = 2;
  o.max_pages = 2;
  const DiscoveryResult truncated = discover(o);
  EXPECT_EQ(truncated.requests, 2u);
  EXPECT_EQ(truncated.markets.size(), 4u);
  ASSERT_EQ(truncated.errors.size(), 1u);
  EXPECT_NE(truncated.errors[0].find("max_pages"), std::string::npos) << truncated.errors[0];
}

std::string market_json(const std::string& id) {
  return R"({"id":")" + id + R"(","slug":"m)" + id + R"(","conditionId":"0x)" + id +
         R"(","version":"v1","clobTokenIds":"[\")" + id + R"(1\", \")" + id +
         R"(2\"]","outcomes":"[\"Yes\", \"No\"]"})";
}

std::string markets_page(const std::vector<std::string>& ids, const std::string& cursor) {
  std::string body = R"({"markets":[)";
  for (std::size_t i = 0; i < ids.size(); ++i) body += (i ? "," : "") + market_json(ids[i]);
  body += "]";
  if (!cursor.empty()) body += R"(,"next_cursor":")" + cursor + '"';
  return body + "}";
}

TEST(Discover, NeverTakesAShortOrEmptyPageForTheEndOnlyAnAbsentCursor) {
  CannedServer gamma({http_response(200, "application/json", markets_page({"1"}, "c1")),
                      http_response(200, "application/json", markets_page({}, "c2")),
                      http_response(200, "application/json", markets_page({"2", "3"}, ""))});
  DiscoveryOptions o;
  o.gamma_url = gamma.url();
  o.all_active = true;
  const DiscoveryResult r = discover(o);
  EXPECT_TRUE(r.errors.empty()) << r.errors.front();
  EXPECT_EQ(r.requests, 3u);
  EXPECT_EQ(r.markets.size(), 3u);
  const auto requests = gamma.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0], "GET /markets/keyset?active=true&closed=false&limit=100 HTTP/1.1");
  EXPECT_EQ(requests[1], "GET /markets/keyset?active=true&closed=false&limit=100&after_cursor=c1 HTTP/1.1");
  EXPECT_EQ(requests[2], "GET /markets/keyset?active=true&closed=false&limit=100&after_cursor=c2 HTTP/1.1");
}

TEST(Discover, ACursorThatRepeatsOrAListingThatDoesNotAdvanceStops) {
  {
    CannedServer gamma({http_response(200, "application/json", markets_page({"1"}, "same")),
                        http_response(200, "application/json", markets_page({"2"}, "same"))});
    DiscoveryOptions o;
    o.gamma_url = gamma.url();
    o.all_active = true;
    const DiscoveryResult r = discover(o);
    EXPECT_EQ(r.requests, 2u);
    EXPECT_EQ(r.markets.size(), 2u);  // what was listed is kept
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_NE(r.errors[0].find("next_cursor repeated"), std::string::npos) << r.errors[0];
  }
  {
    // A server that ignores the cursor (a client sending `cursor=` instead of `after_cursor=`
    // met one: the first page again, with a fresh cursor each time).
    CannedServer gamma({http_response(200, "application/json", markets_page({"1", "2"}, "a")),
                        http_response(200, "application/json", markets_page({"1", "2"}, "b"))});
    DiscoveryOptions o;
    o.gamma_url = gamma.url();
    o.all_active = true;
    const DiscoveryResult r = discover(o);
    EXPECT_EQ(r.requests, 2u);
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_NE(r.errors[0].find("does not advance"), std::string::npos) << r.errors[0];
  }
}

TEST(Discover, A429IsRetriedAfterABackoffAndCountedAndGivenUpAfterTheRetries) {
  Sim sim(sim_options(2));
  inject_gamma_429(sim.get(), 2);
  DiscoveryOptions o;
  o.gamma_url = sim->http_url();
  o.all_active = true;
  o.backoff_initial = 20ms;
  const DiscoveryResult r = discover(o);
  EXPECT_TRUE(r.errors.empty()) << r.errors.front();
  EXPECT_EQ(r.throttled, 2u);
  EXPECT_EQ(r.requests, 3u);  // 429, 429, the page
  ASSERT_EQ(r.raw_responses.size(), 3u);  // the refusals are kept too
  EXPECT_EQ(r.raw_responses[0].status, 429);
  EXPECT_EQ(r.raw_responses[2].status, 200);
  EXPECT_EQ(r.markets.size(), 4u);

  inject_gamma_429(sim.get(), 10);
  o.max_retries = 2;
  const DiscoveryResult gave_up = discover(o);
  EXPECT_EQ(gave_up.requests, 3u);
  EXPECT_TRUE(gave_up.markets.empty());
  ASSERT_EQ(gave_up.errors.size(), 1u);
  EXPECT_NE(gave_up.errors[0].find("HTTP 429 after 2 retries"), std::string::npos)
      << gave_up.errors[0];
}

TEST(Discover, RequestsArePacedUnderTheRateLimit) {
  // Two requests in any 10 s: the third waits for the window, and a stop ends the wait.
  Sim sim(sim_options(2));
  std::atomic<bool> cancel{false};
  DiscoveryOptions o;
  o.gamma_url = sim->http_url();
  o.all_active = true;
  o.markets_page_size = 1;
  o.requests_per_10s = 2;
  o.cancel = &cancel;
  std::thread stopper([&] {
    std::this_thread::sleep_for(300ms);
    cancel.store(true);
  });
  const DiscoveryResult r = discover(o);
  stopper.join();
  EXPECT_EQ(r.requests, 2u);
  EXPECT_EQ(r.markets.size(), 2u);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_NE(r.errors[0].find("cancelled while pacing"), std::string::npos) << r.errors[0];
}

TEST(Discover, AllActiveAtTheVenuesSizeFindsEveryTokenIdAndNoWrongOne) {
  // 25,000 markets on Gamma (one in ten V2, some hydrating, some unusable) beside the 4 the
  // simulator streams.
  SimServerOptions so = sim_options(2);
  so.gamma_markets = 25'000;
  Sim sim(so);
  GammaCatalogue truth(25'000, so.market.seed, realtime_now());  // the same catalogue
  const auto streamed = testing::books_by_asset(sim->books_json());
  DiscoveryOptions o;
  o.gamma_url = sim->http_url();
  o.all_active = true;

  const auto check = [&](const DiscoveryResult& r) {
    EXPECT_TRUE(r.errors.empty()) << r.errors.front();
    const std::map<std::string, std::string> want = truth.expected_ids();
    std::map<std::string, std::string> got;
    for (const pm::DiscoveredMarket& m : r.markets) {
      for (const std::string& id : m.token_ids) {
        if (streamed.count(id)) continue;  // one of the simulator's own markets
        EXPECT_TRUE(got.emplace(id, m.condition_id).second) << id;
      }
    }
    EXPECT_EQ(got.size(), want.size());
    EXPECT_TRUE(got == want) << "a token id missing, wrong, or on the wrong market";
    EXPECT_EQ(r.skipped_by_reason(), truth.expected_skips());
    // The simulator's own 4 markets, V2 included, by the ids the market channel streams.
    EXPECT_EQ(r.markets.size(), want.size() / 2 + 4);
  };
  const DiscoveryResult first = discover(o);
  check(first);
  const std::size_t open = 25'000 - 25'000 / 37 + 4;
  EXPECT_EQ(first.pages, (open + 99) / 100);
  EXPECT_EQ(first.requests, first.pages);
  EXPECT_GT(truth.expected_skips()[static_cast<std::size_t>(pm::SkipReason::kHydrating)], 200u);

  // The markets that were hydrating have their ids now: the next discovery finds them.
  std::vector<const pm::GammaMarket*> all;
  for (const pm::GammaMarket& m : truth.markets()) all.push_back(&m);
  truth.listed(all);
  const DiscoveryResult second = discover(o);
  check(second);
  EXPECT_EQ(second.skipped_by_reason()[static_cast<std::size_t>(pm::SkipReason::kHydrating)], 0u);
}

TEST(Discover, TheFourHourSeriesIsFollowedByDefaultWithItsWindowFromGamma) {
  EXPECT_NE(std::find(DiscoveryOptions{}.series.begin(), DiscoveryOptions{}.series.end(),
                      "btc-up-or-down-4h"),
            DiscoveryOptions{}.series.end());
  // A 4-hour window as Gamma lists it: btc-updown-4h-<start>, start on the 14,400 s grid.
  constexpr std::int64_t kStart = 1'796'673'600;  // 2026-12-07T20:00:00Z
  ASSERT_EQ(kStart % 14'400, 0);
  pm::GammaEvent e;
  e.id = "7001";
  e.slug = "btc-updown-4h-" + std::to_string(kStart);
  e.series_slug = "btc-up-or-down-4h";
  pm::GammaMarket m;
  m.id = "8001";
  m.slug = e.slug;
  m.condition_id = "0x4h";
  m.question = "Bitcoin Up or Down - December 7, 3PM-7PM ET";
  m.start_date = (kStart - 86'400) * kNanosPerSecond;  // listed a day ahead
  m.event_start_time = kStart * kNanosPerSecond;
  m.end_date = (kStart + 4 * 3'600) * kNanosPerSecond;
  m.outcomes = {"Up", "Down"};
  m.clob_token_ids = {"41", "42"};
  e.markets = {m};
  const pm::GammaEvent* rows[] = {&e};
  const std::string page = pm::render_events_page(rows, "");
  const std::string empty = pm::render_events_page({}, "");
  // Only the 4-hour series lists it (the default series are asked in order: 5m, 15m, hourly, 4h).
  CannedServer gamma({http_response(200, "application/json", empty),
                      http_response(200, "application/json", empty),
                      http_response(200, "application/json", empty),
                      http_response(200, "application/json", page),
                      http_response(200, "application/json", empty)});
  DiscoveryOptions o;
  o.gamma_url = gamma.url();
  const DiscoveryResult r = discover(o);
  EXPECT_TRUE(r.errors.empty()) << r.errors.front();
  ASSERT_EQ(gamma.requests().size(), 5u);
  EXPECT_EQ(gamma.requests()[3],
            "GET /events/keyset?series_slug=btc-up-or-down-4h&closed=false&limit=500 HTTP/1.1");
  ASSERT_EQ(r.markets.size(), 1u);
  const pm::DiscoveredMarket& d = r.markets[0];
  EXPECT_EQ(d.series_slug, "btc-up-or-down-4h");
  // The window is eventStartTime .. endDate (not startDate, when it was listed): 4 hours.
  EXPECT_EQ(d.start, kStart * kNanosPerSecond);
  EXPECT_EQ(d.end - d.start, 4 * kNanosPerHour);
  EXPECT_EQ(format_utc(d.start), "2026-12-07T20:00:00.000000000Z");
  EXPECT_EQ(format_utc(d.end), "2026-12-08T00:00:00.000000000Z");
  EXPECT_EQ(d.up_token_id, "41");
  // Subscribed from 120 s before it opens until it ends; not after.
  const std::int64_t lead = 120 * kNanosPerSecond;
  EXPECT_TRUE(select_markets(r.markets, d.start - lead - 1, lead, 0).empty());
  EXPECT_EQ(select_markets(r.markets, d.start - lead, lead, 0).size(), 1u);
  EXPECT_EQ(select_markets(r.markets, d.start + 3 * kNanosPerHour, lead, 0).size(), 1u);
  EXPECT_TRUE(select_markets(r.markets, d.end, lead, 0).empty());
}

TEST(Discover, NothingListeningGivesErrorLinesAndNoCrash) {
  DiscoveryOptions o;
  o.gamma_url = "http://127.0.0.1:" + std::to_string(dead_port());
  o.timeout = 2'000ms;
  const DiscoveryResult r = discover(o);
  EXPECT_TRUE(r.markets.empty());
  EXPECT_TRUE(r.raw_responses.empty());
  ASSERT_FALSE(r.errors.empty());
  EXPECT_EQ(r.errors[0].rfind("GET /events/keyset?series_slug=btc-up-or-down-5m: ", 0), 0u)
      << r.errors[0];
  // Two transport failures in a row: the remaining series are not tried (and it says so).
  EXPECT_EQ(r.requests, 2u);
  EXPECT_NE(r.errors.back().find("giving up"), std::string::npos) << r.errors.back();

  o.gamma_url = "not a url";
  const DiscoveryResult bad = discover(o);
  EXPECT_TRUE(bad.markets.empty());
  ASSERT_EQ(bad.errors.size(), 1u);
  EXPECT_NE(bad.errors[0].find("not a url"), std::string::npos) << bad.errors[0];
}

TEST(Discover, AStopAbandonsARequestTheServerNeverAnswers) {
  // A recorder stopping while Gamma hangs: the request gives up on the cancel flag, long
  // before its timeout, and says why.
  SilentServer hung;
  std::atomic<bool> cancel{false};
  DiscoveryOptions o;
  o.gamma_url = hung.url();
  o.series = {"btc-up-or-down-5m"};
  o.timeout = 60'000ms;
  o.cancel = &cancel;
  std::thread stopper([&] {
    std::this_thread::sleep_for(200ms);
    cancel.store(true);
  });
  const DiscoveryResult r = discover(o);
  stopper.join();
  EXPECT_TRUE(r.markets.empty());
  ASSERT_FALSE(r.errors.empty());
  EXPECT_NE(r.errors[0].find("cancelled"), std::string::npos) << r.errors[0];
}

TEST(Discover, HtmlErrorPagesAndGammaErrorsBecomeErrorLines) {
  const std::string page = "<!DOCTYPE html>\n<html><head><title>Just a moment...</title></head>";
  {
    CannedServer cf(http_response(403, "text/html", page));
    DiscoveryOptions o;
    o.gamma_url = cf.url();
    o.series = {"btc-up-or-down-5m"};
    const DiscoveryResult r = discover(o);
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_EQ(
        r.errors[0].rfind("GET /events/keyset?series_slug=btc-up-or-down-5m: HTTP 403 (<!DOCTYPE",
                          0),
        0u)
        << r.errors[0];
    ASSERT_EQ(r.raw_responses.size(), 1u);  // kept as received, error or not
    EXPECT_EQ(r.raw_responses[0].body, page);
    EXPECT_EQ(r.raw_responses[0].status, 403);
  }
  {
    CannedServer cf(http_response(200, "text/html", page));  // HTML with a 200
    DiscoveryOptions o;
    o.gamma_url = cf.url();
    o.series = {"btc-up-or-down-5m", "btc-up-or-down-15m"};
    const DiscoveryResult r = discover(o);
    ASSERT_EQ(r.errors.size(), 2u);
    EXPECT_NE(r.errors[0].find("not JSON"), std::string::npos) << r.errors[0];
    EXPECT_EQ(r.raw_responses.size(), 2u);
  }
  {
    CannedServer gamma(http_response(422, "application/json",
                                     "{\"type\":\"validation error\",\"error\":\"bad limit\"}"));
    DiscoveryOptions o;
    o.gamma_url = gamma.url();
    o.all_active = true;
    const DiscoveryResult r = discover(o);
    ASSERT_EQ(r.errors.size(), 1u);  // the first page failed: no truncation line on top
    EXPECT_NE(r.errors[0].find("HTTP 422"), std::string::npos) << r.errors[0];
    EXPECT_EQ(r.requests, 1u);
  }
}

// -------------------------------------------------------------------- select_markets() -------

constexpr UnixNanos kNow = 1'773'307'200 * kNanosPerSecond;
constexpr std::int64_t kSec = kNanosPerSecond;

pm::DiscoveredMarket market(const std::string& slug, UnixNanos start, UnixNanos end) {
  pm::DiscoveredMarket m;
  m.slug = slug;
  m.condition_id = "0x" + slug;
  m.market_id = "1";
  m.question = "Bitcoin Up or Down?";
  m.series_slug = "btc-up-or-down-5m";
  m.outcomes = {"Up", "Down"};
  m.token_ids = {"11" + slug, "22" + slug};
  m.up_token_id = m.token_ids[0];
  m.down_token_id = m.token_ids[1];
  m.start = start;
  m.end = end;
  m.active = true;
  m.accepting_orders = true;
  m.tick = 100;
  return m;
}

std::vector<std::string> slugs(const std::vector<pm::DiscoveredMarket>& ms) {
  std::vector<std::string> out;
  for (const auto& m : ms) out.push_back(m.slug);
  return out;
}

TEST(DiscoverSelect, KeepsLiveAndImminentWindowsSortedByEnd) {
  std::vector<pm::DiscoveredMarket> ms;
  ms.push_back(market("later", kNow + 200 * kSec, kNow + 500 * kSec));  // starts past the lead
  ms.push_back(market("next", kNow + 120 * kSec, kNow + 420 * kSec));   // starts at now + lead
  ms.push_back(market("live", kNow - 180 * kSec, kNow + 120 * kSec));
  ms.push_back(market("ended", kNow - 300 * kSec, kNow));  // end <= now: over
  ms.push_back(market("closed", kNow - 100 * kSec, kNow + 200 * kSec));
  ms.back().closed = true;
  ms.push_back(market("no-down", kNow - 100 * kSec, kNow + 200 * kSec));
  ms.back().down_token_id.clear();
  ms.push_back(market("aa-live", kNow - 100 * kSec, kNow + 120 * kSec));  // same end as "live"

  EXPECT_EQ(slugs(select_markets(ms, kNow, 120 * kSec, 0)),
            (std::vector<std::string>{"aa-live", "live", "next"}));
  EXPECT_EQ(slugs(select_markets(ms, kNow, 119 * kSec, 0)),
            (std::vector<std::string>{"aa-live", "live"}));
  EXPECT_EQ(slugs(select_markets(ms, kNow, 120 * kSec, 2)),
            (std::vector<std::string>{"aa-live", "live"}));
  // all_active: any tokens will do.
  EXPECT_EQ(slugs(select_markets(ms, kNow, 0, 0, /*require_up_down=*/false)),
            (std::vector<std::string>{"aa-live", "live", "no-down"}));
}

TEST(DiscoverSelect, UnknownTimesAreNotHeldAgainstAMarketAndSortLast) {
  std::vector<pm::DiscoveredMarket> ms;
  ms.push_back(market("no-end", kNow - 10 * kSec, 0));
  ms.push_back(market("no-start", 0, kNow + 10 * kSec));
  ms.push_back(market("no-tokens", kNow - 10 * kSec, kNow + 10 * kSec));
  ms.back().token_ids.clear();
  ms.back().outcomes.clear();
  EXPECT_EQ(slugs(select_markets(ms, kNow, 0, 0, false)),
            (std::vector<std::string>{"no-start", "no-end"}));
}

// --------------------------------------------------------------------- discovery_json() ------

TEST(DiscoverJson, HasTheSeedsNormalisedFieldsInEndOrder) {
  DiscoveryResult r;
  r.fetched_at = kNow + 123'456'789;
  r.markets.push_back(market("b", kNow + 300 * kSec, kNow + 600 * kSec));
  r.markets.push_back(market("a", kNow, kNow + 300 * kSec));
  r.markets.back().question = "Quote \" and \\ and\nnewline";
  r.markets.back().tick = 10;
  r.markets.push_back(market("c", 0, kNow + 600 * kSec));
  r.markets.back().series_slug.clear();
  r.markets.back().tick = 0;
  const std::string text = discovery_json(r, "https://gamma-api.polymarket.com");

  simdjson::dom::parser p;
  simdjson::dom::element doc;
  ASSERT_EQ(p.parse(text).get(doc), simdjson::SUCCESS) << text;
  EXPECT_EQ(std::string_view(doc["fetched_at_utc"]), "2026-03-12T09:20:00.123456789Z");
  EXPECT_EQ(std::string_view(doc["source"]), "https://gamma-api.polymarket.com");
  EXPECT_EQ(std::uint64_t(doc["market_count"]), 3u);
  simdjson::dom::array markets = doc["markets"];
  ASSERT_EQ(markets.size(), 3u);
  std::vector<std::string> order;
  for (simdjson::dom::element m : markets) order.emplace_back(std::string_view(m["slug"]));
  EXPECT_EQ(order, (std::vector<std::string>{"a", "b", "c"}));  // end, then slug

  simdjson::dom::element a = markets.at(0);
  EXPECT_EQ(std::string_view(a["question"]), "Quote \" and \\ and\nnewline");
  EXPECT_EQ(std::string_view(a["condition_id"]), "0xa");
  EXPECT_EQ(std::string_view(a["market_id"]), "1");
  EXPECT_EQ(std::string_view(a["series_slug"]), "btc-up-or-down-5m");
  EXPECT_EQ(std::string_view(a["outcomes"].at(1)), "Down");
  EXPECT_EQ(std::string_view(a["tokens"].at(0)["token_id"]), "11a");
  EXPECT_EQ(std::string_view(a["tokens"].at(0)["outcome"]), "Up");
  EXPECT_EQ(std::string_view(a["tokens"].at(1)["token_id"]), "22a");
  EXPECT_EQ(std::string_view(a["up_token_id"]), "11a");
  EXPECT_EQ(std::string_view(a["down_token_id"]), "22a");
  EXPECT_EQ(std::string_view(a["start_time_utc"]), "2026-03-12T09:20:00.000000000Z");
  EXPECT_EQ(std::string_view(a["end_time_utc"]), "2026-03-12T09:25:00.000000000Z");
  EXPECT_TRUE(bool(a["active"]));
  EXPECT_FALSE(bool(a["closed"]));
  EXPECT_TRUE(bool(a["accepting_orders"]));
  EXPECT_EQ(std::string_view(a["tick_size"]), "0.001");
  EXPECT_EQ(std::string_view(markets.at(1)["tick_size"]), "0.01");

  simdjson::dom::element c = markets.at(2);  // unknowns are null, not "" or "0"
  EXPECT_TRUE(c["start_time_utc"].is_null());
  EXPECT_TRUE(c["series_slug"].is_null());
  EXPECT_TRUE(c["tick_size"].is_null());

  DiscoveryResult empty;
  ASSERT_EQ(p.parse(discovery_json(empty, "x")).get(doc), simdjson::SUCCESS);
  EXPECT_EQ(std::uint64_t(doc["market_count"]), 0u);
}

// --------------------------------------------------------------------- write_discovery() -----

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(DiscoverWrite, WritesLatestManifestAndRawResponses) {
  testing::TempDir tmp;
  const std::filesystem::path dir = tmp.path() / "data" / "discovery";
  DiscoveryResult r;
  r.fetched_at = kNow;
  r.requests = 3;
  r.markets.push_back(market("a", kNow, kNow + 300 * kSec));
  r.errors.push_back("GET /events?series_slug=x: HTTP 429");
  const std::vector<std::string> bodies = {"[{\"id\":\"1\"}]", "<html>\n\"quoted\"\t\x01</html>",
                                           ""};
  for (std::size_t i = 0; i < bodies.size(); ++i) {
    GammaResponse g;
    g.target = "/events?series_slug=s" + std::to_string(i);
    g.status = i == 1 ? 429 : 200;
    g.fetched_at = kNow + static_cast<UnixNanos>(i);
    g.body = bodies[i];
    r.raw_responses.push_back(g);
  }

  const std::filesystem::path latest = write_discovery(r, "http://127.0.0.1:1", dir);
  EXPECT_EQ(latest, dir / "polymarket_btc_markets_latest.json");
  const std::string latest_text = read_file(latest);
  EXPECT_EQ(latest_text, discovery_json(r, "http://127.0.0.1:1"));
  simdjson::dom::parser p;
  simdjson::dom::element doc;
  ASSERT_EQ(p.parse(latest_text).get(doc), simdjson::SUCCESS);
  EXPECT_EQ(std::uint64_t(doc["market_count"]), 1u);

  simdjson::dom::element man;
  ASSERT_EQ(p.load((dir / "polymarket_btc_markets_manifest.json").string()).get(man),
            simdjson::SUCCESS);
  EXPECT_EQ(std::string_view(man["latest_sha256"]), sha256_hex(latest_text));
  EXPECT_EQ(std::uint64_t(man["latest_bytes"]), latest_text.size());
  EXPECT_EQ(std::uint64_t(man["requests"]), 3u);
  EXPECT_EQ(std::uint64_t(man["markets"]), 1u);
  EXPECT_EQ(std::string_view(man["errors"].at(0)), "GET /events?series_slug=x: HTTP 429");
  EXPECT_EQ(std::string_view(man["fetched_at_utc"]), "2026-03-12T09:20:00.000000000Z");
  const std::string raw_name{std::string_view(man["raw_file"])};
  EXPECT_EQ(raw_name, "raw/gamma_20260312T092000Z.jsonl.gz");
  EXPECT_EQ(std::uint64_t(man["raw_responses"]), 3u);

  const std::string gz = read_file(dir / raw_name);
  EXPECT_EQ(std::string_view(man["raw_sha256"]), sha256_hex(gz));
  std::string jsonl;
  const InflateOutcome inflated = inflate_gzip(reinterpret_cast<const std::uint8_t*>(gz.data()),
                                               gz.size(), [&](std::string_view chunk) {
                                                 jsonl.append(chunk);
                                                 return true;
                                               });
  ASSERT_EQ(inflated.status, InflateOutcome::Status::kOk);
  EXPECT_EQ(inflated.members, 1u);
  std::vector<std::string> lines;
  for (std::size_t pos = 0; pos < jsonl.size();) {
    const std::size_t nl = jsonl.find('\n', pos);
    ASSERT_NE(nl, std::string::npos);
    lines.push_back(jsonl.substr(pos, nl - pos));
    pos = nl + 1;
  }
  ASSERT_EQ(lines.size(), bodies.size());
  for (std::size_t i = 0; i < lines.size(); ++i) {
    simdjson::dom::element line;
    ASSERT_EQ(p.parse(lines[i]).get(line), simdjson::SUCCESS) << lines[i];
    EXPECT_EQ(std::uint64_t(line["request_index"]), i);
    EXPECT_EQ(std::string_view(line["body"]), bodies[i]);  // byte for byte
    EXPECT_EQ(std::int64_t(line["status"]), i == 1 ? 429 : 200);
    EXPECT_EQ(std::string_view(line["url"]),
              "http://127.0.0.1:1/events?series_slug=s" + std::to_string(i));
    EXPECT_EQ(std::string_view(line["fetched_at_utc"]).substr(0, 19), "2026-03-12T09:20:00");
  }

  // A second run in the same second keeps the first run's raw file; no temporaries remain.
  r.markets.push_back(market("b", kNow, kNow + 600 * kSec));
  write_discovery(r, "http://127.0.0.1:1", dir);
  EXPECT_TRUE(std::filesystem::exists(dir / "raw" / "gamma_20260312T092000Z.jsonl.gz"));
  EXPECT_TRUE(std::filesystem::exists(dir / "raw" / "gamma_20260312T092000Z-2.jsonl.gz"));
  ASSERT_EQ(p.parse(read_file(latest)).get(doc), simdjson::SUCCESS);
  EXPECT_EQ(std::uint64_t(doc["market_count"]), 2u);
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    EXPECT_NE(e.path().filename().string()[0], '.') << e.path();
  }
}

}  // namespace
}  // namespace booktape
