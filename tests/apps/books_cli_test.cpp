// `booktape books` on the table of a real `booktape record --shm` run against `booktape sim`,
// all three real processes.
#include <gtest/gtest.h>
#include <simdjson.h>
#include <sys/mman.h>

#include <csignal>
#include <string>
#include <thread>

#include "tests/io/consumers/consumer_test_support.hpp"
#include "tests/support/process.hpp"
#include "tests/support/recorder_run.hpp"
#include "tests/support/sim_child.hpp"
#include "tests/support/temp_dir.hpp"

namespace booktape {
namespace {

using namespace std::chrono_literals;

struct Outcome {
  int code = -1;
  std::string out;
};

Outcome books(std::vector<std::string> args) {
  args.insert(args.begin(), {BOOKTAPE_BINARY, "books"});
  testing::Child c(args);
  Outcome o;
  o.out = c.read_all(20s);
  o.code = c.wait(5s);
  return o;
}

TEST(BooksCli, ShowsEveryTokenOneTokensLevelsAndTheRedisJsonOfALiveTable) {
  testing::SimChild sim({"--rate", "200", "--seed", "3"});
  testing::TempDir dir;
  const std::string name = testing::unique_shm_name("cli");
  testing::Child rec({BOOKTAPE_BINARY, "record", "--ws-url", sim.ws_url(), "--rest-url", sim.url(),
                      "--gamma-url", sim.url(), "--out", (dir.path() / "data").string(), "--shm",
                      name, "--status", "off", "--rest-checkpoint-interval-seconds", "0"});
  Outcome o;
  ASSERT_TRUE(testing::eventually([&] {
    o = books({"--shm", name});
    return o.code == 0 && o.out.find(" live ") != std::string::npos;
  }, 15s)) << o.out;
  EXPECT_NE(o.out.find("running; "), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("asset "), std::string::npos) << o.out;

  o = books({"--shm", name, "--json"});
  ASSERT_EQ(o.code, 0);
  simdjson::dom::parser p;
  std::string asset;
  std::size_t lines = 0;
  for (std::size_t at = 0, nl; (nl = o.out.find('\n', at)) != std::string::npos; at = nl + 1, ++lines) {
    simdjson::dom::element e = p.parse(o.out.substr(at, nl - at));
    asset = std::string(std::string_view(e["asset_id"]));
    EXPECT_TRUE(std::string_view(e["market"]).starts_with("0x"));
    EXPECT_FALSE(simdjson::dom::array(e["bids"]).size() == 0 && simdjson::dom::array(e["asks"]).size() == 0);
  }
  EXPECT_GE(lines, 4u);

  o = books({"--shm", name, "--asset", asset});
  EXPECT_EQ(o.code, 0);
  EXPECT_NE(o.out.find("asset   " + asset), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("bid size"), std::string::npos) << o.out;
  o = books({"--shm", name, "--asset", "123"});
  EXPECT_EQ(o.code, 1);

  rec.signal(SIGTERM);
  EXPECT_EQ(rec.wait(20s), 0);
  o = books({"--shm", name});
  EXPECT_EQ(o.code, 0);
  EXPECT_NE(o.out.find("exited (these are its last books)"), std::string::npos) << o.out;
  ::shm_unlink(("/" + name).c_str());
  o = books({"--shm", name});
  EXPECT_EQ(o.code, 1);
}

}  // namespace
}  // namespace booktape
