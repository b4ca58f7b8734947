// The real `booktape discover` against a real `booktape sim` child: what a user and a script see.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <simdjson.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "codecs/polymarket_gamma.hpp"
#include "codecs/sha256.hpp"
#include "io/net/http_client.hpp"
#include "io/sim/gamma_catalogue.hpp"
#include "tests/support/process.hpp"
#include "tests/support/sim_child.hpp"
#include "tests/support/temp_dir.hpp"

namespace booktape {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

using testing::SimChild;

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(DiscoverCli, JsonListsTheSimsBtcMarketsAndWritesTheFiles) {
  SimChild sim;
  ASSERT_EQ(sim.url().rfind("http://127.0.0.1:", 0), 0u) << sim.url();
  testing::TempDir dir;
  const fs::path out = dir.path() / "discovery";
  testing::Child discover(
      {BOOKTAPE_BINARY, "discover", "--gamma-url", sim.url(), "--out", out.string(), "--json"});
  const std::string json = discover.read_all(30s);
  ASSERT_EQ(discover.wait(30s), 0) << json;

  simdjson::dom::parser p;
  simdjson::dom::element doc;
  ASSERT_EQ(p.parse(json).get(doc), simdjson::SUCCESS) << json;
  EXPECT_EQ(std::string_view(doc["source"]), sim.url());
  // The live 5m and 15m windows at least (the next ones too if they start within 120 s).
  const std::uint64_t count = doc["market_count"];
  EXPECT_GE(count, 2u);
  EXPECT_LE(count, 4u);
  std::set<std::string> series;
  for (simdjson::dom::element m : doc["markets"].get_array()) {
    series.emplace(std::string_view(m["series_slug"]));
    EXPECT_EQ(std::string_view(m["up_token_id"]).size(), 77u);
    EXPECT_EQ(std::string_view(m["down_token_id"]).size(), 77u);
    EXPECT_EQ(std::string_view(m["tokens"].at(0)["outcome"]), "Up");
    EXPECT_FALSE(bool(m["closed"]));
  }
  EXPECT_EQ(series, (std::set<std::string>{"btc-up-or-down-5m", "btc-up-or-down-15m"}));

  // What was printed is what was written, and the manifest vouches for it.
  const std::string latest = read_file(out / "polymarket_btc_markets_latest.json");
  EXPECT_EQ(latest, json);
  simdjson::dom::element man;
  ASSERT_EQ(p.load((out / "polymarket_btc_markets_manifest.json").string()).get(man),
            simdjson::SUCCESS);
  EXPECT_EQ(std::string_view(man["latest_sha256"]), sha256_hex(latest));
  EXPECT_EQ(std::uint64_t(man["requests"]), 5u);  // the five default BTC series, 4-hour included
  EXPECT_EQ(std::uint64_t(man["pages"]), 5u);
  EXPECT_TRUE(fs::exists(out / std::string(std::string_view(man["raw_file"]))));
}

TEST(DiscoverCli, SeriesAndLimitNarrowTheSelectionAndTheTableIsReadable) {
  SimChild sim;
  testing::TempDir dir;
  testing::Child discover({BOOKTAPE_BINARY, "discover", "--gamma-url", sim.url(), "--out",
                           dir.path().string(), "--series", "btc-up-or-down-15m", "--json"});
  const std::string json = discover.read_all(30s);
  ASSERT_EQ(discover.wait(30s), 0) << json;
  simdjson::dom::parser p;
  simdjson::dom::element doc;
  ASSERT_EQ(p.parse(json).get(doc), simdjson::SUCCESS) << json;
  for (simdjson::dom::element m : doc["markets"].get_array()) {
    EXPECT_EQ(std::string_view(m["series_slug"]), "btc-up-or-down-15m");  // replaces the default
  }

  testing::Child table({BOOKTAPE_BINARY, "discover", "--gamma-url", sim.url(), "--out",
                        dir.path().string(), "--market-limit", "1"});
  const std::string text = table.read_all(30s);
  ASSERT_EQ(table.wait(30s), 0) << text;
  EXPECT_EQ(text.rfind("btc-updown-", 0), 0u) << text;
  EXPECT_NE(text.find("markets    1 selected of "), std::string::npos) << text;
  EXPECT_NE(text.find("polymarket_btc_markets_latest.json"), std::string::npos) << text;
  EXPECT_NE(text.find("..."), std::string::npos) << text;  // token ids abbreviated
}

// The bar: against a Gamma stand-in with the real paging rules and 25,000 markets (one in
// ten V2), --all-active finds every token id and no wrong one, and names what it skipped.
TEST(DiscoverCli, AllActiveAtTheVenuesSizeFindsEveryTokenIdAndNoWrongOne) {
  SimChild sim({"--rate", "10", "--seed", "7", "--gamma-markets", "25000"});
  testing::TempDir dir;
  const fs::path out = dir.path() / "discovery";
  const fs::path err = dir.path() / "stderr.txt";
  testing::Child discover({"/bin/sh", "-c",
                           std::string("exec '") + BOOKTAPE_BINARY + "' discover --all-active " +
                               "--gamma-url " + sim.url() + " --out '" + out.string() +
                               "' --json 2>'" + err.string() + "'"});
  const std::string json = discover.read_all(120s);
  ASSERT_EQ(discover.wait(30s), 0) << read_file(err);

  // What the simulator lists, rebuilt from its seed: the ids a correct discovery must find.
  GammaCatalogue truth(25'000, 7, 0);
  const std::map<std::string, std::string> want = truth.expected_ids();
  simdjson::dom::parser p;
  simdjson::dom::element doc;
  ASSERT_EQ(p.parse(json).get(doc), simdjson::SUCCESS);
  std::map<std::string, std::string> got;
  std::vector<std::string> streamed;  // the simulator's own rolling markets
  for (simdjson::dom::element m : doc["markets"].get_array()) {
    const std::string_view slug = m["slug"];
    for (simdjson::dom::element t : m["tokens"].get_array()) {
      const std::string id{std::string_view(t["token_id"])};
      if (slug.starts_with("sim-catalogue-")) {
        EXPECT_TRUE(got.emplace(id, std::string_view(m["condition_id"])).second) << id;
      } else {
        streamed.push_back(id);
      }
    }
  }
  EXPECT_EQ(got.size(), want.size());
  EXPECT_TRUE(got == want) << "a token id missing, wrong, or on the wrong market";
  // Each of the simulator's own ids (a V2 market among them) is one its CLOB knows a book for;
  // a V2 market's clobTokenIds (the CTF ids) would be 404.
  EXPECT_GE(streamed.size(), 4u);
  HttpClientOptions ho;
  ho.base_url = sim.url();
  HttpClient http(ho);
  for (const std::string& id : streamed) EXPECT_EQ(http.get("/book?token_id=" + id).status, 200) << id;

  // Progress and the skipped markets, by name and reason; all of them in the manifest.
  const std::string log = read_file(err);
  EXPECT_NE(log.find(" pages ("), std::string::npos) << log;
  EXPECT_NE(log.find(" hydrating (sim-catalogue-7, "), std::string::npos) << log;
  simdjson::dom::element man;
  ASSERT_EQ(p.load((out / "polymarket_btc_markets_manifest.json").string()).get(man),
            simdjson::SUCCESS);
  const auto skips = truth.expected_skips();
  std::size_t skipped = 0;
  for (std::size_t k = 0; k < skips.size(); ++k) {
    const char* reason = polymarket::to_string(static_cast<polymarket::SkipReason>(k));
    EXPECT_EQ(std::uint64_t(man["skipped_by_reason"][reason]), skips[k]) << reason;
    skipped += skips[k];
  }
  EXPECT_EQ(simdjson::dom::array(man["skipped_markets"]).size(), skipped);
  EXPECT_EQ(std::uint64_t(man["pages"]), std::uint64_t(man["requests"]));
  EXPECT_GE(std::uint64_t(man["pages"]), 243u);
}

TEST(DiscoverCli, NothingListeningExitsOneWithAHelpfulMessageAndWritesNothing) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  socklen_t len = sizeof a;
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len), 0);
  ::close(fd);  // the port is free again: nothing listens there
  const std::string url = "http://127.0.0.1:" + std::to_string(ntohs(a.sin_port));

  testing::TempDir dir;
  const fs::path out = dir.path() / "discovery";
  // Through a shell so stderr can be read too.
  testing::Child discover({"/bin/sh", "-c",
                           std::string("exec '") + BOOKTAPE_BINARY + "' discover --gamma-url " +
                               url + " --out '" + out.string() + "' 2>&1"});
  const std::string all = discover.read_all(30s);
  EXPECT_EQ(discover.wait(30s), 1) << all;
  EXPECT_NE(all.find("GET /events/keyset?series_slug=btc-up-or-down-5m"), std::string::npos) << all;
  EXPECT_NE(all.find("no markets found at " + url), std::string::npos) << all;
  EXPECT_NE(all.find("--gamma-url"), std::string::npos) << all;
  EXPECT_NE(all.find("booktape demo"), std::string::npos) << all;
  EXPECT_FALSE(fs::exists(out / "polymarket_btc_markets_latest.json"));
}

}  // namespace
}  // namespace booktape
