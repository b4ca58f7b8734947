// The real `booktape sim` and `booktape demo` binaries: what a user and a script see.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <cstdio>
#include <fstream>

#include "io/net/ws_client.hpp"
#include "io/sim/truth.hpp"
#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

namespace booktape {
namespace {

using namespace std::chrono_literals;

TEST(SimCli, PrintsWhereItListensStreamsFramesAndWritesTheTruthWhenDone) {
  testing::TempDir dir;
  const std::string truth = (dir.path() / "truth.json").string();
  const std::string books = (dir.path() / "books.json").string();
  testing::Child sim({BOOKTAPE_BINARY, "sim", "--frames", "500", "--rate", "0", "--seed", "3",
                      "--truth", truth, "--truth-books", books, "--linger-seconds", "0.2"});
  ASSERT_TRUE(sim.started());
  const std::string ready = sim.read_line(10s);
  simdjson::dom::parser p;
  simdjson::dom::element e;
  ASSERT_EQ(p.parse(ready).get(e), simdjson::SUCCESS) << "first stdout line: " << ready;
  const std::string url{std::string_view(e["ws_url"])};
  EXPECT_EQ(url.rfind("ws://127.0.0.1:", 0), 0u);

  WsClientOptions o;
  o.url = url;
  WsClient client(o);
  client.connect();
  client.send_text("{\"assets_ids\":[],\"type\":\"market\"}");  // starts the generator
  client.send_text("PING");
  PayloadChain chain;
  std::uint64_t frames = 0;
  WsMessage m;
  try {
    while (client.read(m, 5'000ms)) {
      chain.add(m.data);
      ++frames;
    }
  } catch (const WsError&) {
    // the simulator exits after its frames and the linger: the connection ends
  }
  EXPECT_EQ(sim.wait(10s), 0);

  simdjson::dom::element t;
  ASSERT_EQ(p.load(truth).get(t), simdjson::SUCCESS);
  EXPECT_EQ(std::uint64_t(t["frames_generated"]), 500u);
  EXPECT_EQ(std::uint64_t(t["seed"]), 3u);
  simdjson::dom::element c = t["connections"].at(0);
  // Subscribed to nothing: the only frame was the PONG.
  EXPECT_EQ(std::uint64_t(c["frames"]), frames);
  EXPECT_EQ(std::uint64_t(c["control_frames"]), 1u);
  EXPECT_EQ(std::string_view(c["payload_chain_sha256"]), chain.hex());
  std::ifstream b(books);
  std::string text((std::istreambuf_iterator<char>(b)), {});
  EXPECT_EQ(text.rfind("[\n{\"asset_id\":", 0), 0u);
}

TEST(SimCli, SigtermStopsItCleanlyAndBadArgumentsAreRefused) {
  testing::Child sim({BOOKTAPE_BINARY, "sim", "--rate", "10"});
  ASSERT_FALSE(sim.read_line(10s).empty());
  sim.signal(SIGTERM);
  EXPECT_EQ(sim.wait(10s), 0);

  testing::Child bad({BOOKTAPE_BINARY, "sim", "--fault", "drop"});
  EXPECT_EQ(bad.wait(10s), 2);
  testing::Child levels({BOOKTAPE_BINARY, "sim", "--levels", "60:10"});
  EXPECT_EQ(levels.wait(10s), 2);
  testing::Child ticks({BOOKTAPE_BINARY, "sim", "--tick-snapshots", "101"});
  EXPECT_EQ(ticks.wait(10s), 2);
  testing::Child port({BOOKTAPE_BINARY, "sim", "--bind", "not-an-address"});
  EXPECT_EQ(port.wait(10s), 1);
}

TEST(DemoCli, RecordsReplaysAndMatchesTheTruth) {
  testing::TempDir dir;
  const std::string out = (dir.path() / "demo").string();
  testing::Child demo({BOOKTAPE_BINARY, "demo", "--out", out, "--frames", "3000", "--rate", "20000"});
  const std::string all = demo.read_all(60s);
  EXPECT_EQ(demo.wait(30s), 0) << all;
  EXPECT_NE(all.find("demo OK"), std::string::npos) << all;
  EXPECT_NE(all.find("0 divergences"), std::string::npos) << all;
  EXPECT_TRUE(std::filesystem::exists(std::filesystem::path(out) / "manifests" /
                                      "polymarket_ws_raw.manifest.jsonl"));
}

}  // namespace
}  // namespace booktape
