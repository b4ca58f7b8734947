// What the real binary does with arguments it cannot use: exit code 2 and a message that says
// what is wrong, at once (never a loop, a hang or a run that fails later); and URLs that carry
// a key are never written out with it.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "codecs/gzip_stream.hpp"
#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

namespace booktape {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

struct Outcome {
  int code = -1;
  std::string output;  // stdout and stderr
};

// `booktape ARGS` with stderr folded into stdout; killed if it is not done in 20 s.
Outcome run(const std::vector<std::string>& args) {
  std::string cmd = std::string("exec '") + BOOKTAPE_BINARY + "'";
  for (const std::string& a : args) cmd += " '" + a + "'";
  testing::Child c({"/bin/sh", "-c", cmd + " 2>&1"});
  Outcome o;
  o.output = c.read_all(20s);
  o.code = c.wait(1s);
  return o;
}

TEST(BadArguments, ExitWithTwoAndSayWhat) {
  testing::TempDir dir;
  const fs::path file = dir.path() / "a-file";
  std::ofstream(file) << "x";
  const struct {
    std::vector<std::string> args;
    const char* says;
  } cases[] = {
      {{"bogus"}, "unknown command 'bogus'"},
      {{"record", "--bogus"}, "--bogus"},
      {{"record", "--gzip-level", "abc"}, "--gzip-level"},
      {{"replay"}, "paths is required"},
      {{"replay", dir.path().string(), "--asset", ""}, "--asset needs a token id"},
      {{"replay", dir.path().string(), "--asset", "1", "--at", ""}, "--at needs a time"},
      {{"sim", "--markets", "0"}, "--markets"},  // looped forever, deaf to SIGTERM
      {{"sim", "--fault", "dorp@0.5"}, "unknown fault 'dorp'"},
      {{"sim", "--fault", "drop@nan"}, "bad fault time"},
      {{"sim", "--speed", "10x"}, "--speed"},
      {{"sim", "--pace", "random"}, "--pace is steady or poisson"},
      {{"sim", "--pace", "poisson", "--rate", "0"}, "--pace poisson needs --rate above 0"},
      {{"sim", "--pace", "poisson", "--burst", "10"}, "no --burst"},
      {{"sim", "--window-seconds", "0.5"}, "--window-seconds"},
      {{"sim", "--tls", "--cert", file.string()}, "--cert and --key go together"},
      {{"sim", "--cert", file.string(), "--key", file.string()}, "need --tls"},
      {{"demo", "--markets", "0"}, "--markets"},
      {{"demo", "--frames", "0"}, "--frames"},
      {{"record", "--asset", "1", "--out", file.string()}, "is not a directory"},
      {{"record", "--asset", "1", "--rest-checkpoint-interval-seconds", "0.001"},
       "rest_checkpoint_interval_seconds"},
      {{"record", "--asset", "1", "--cpus", "0,0,1023"}, "CPU 1023 is not available"},
      {{"record", "--asset", "1", "--assets-file", dir.path().string()}, "is not a file"},
      {{"record", "--asset", "1", "--alert", "volume>3"}, "unknown metric in 'volume>3'"},
      {{"record", "--asset", "1", "--alert", "bid>=1.5"}, "a rule is METRIC OP VALUE"},
      {{"record", "--asset", "1", "--redis", "http://localhost"}, "redis_url must be empty, or redis://"},
      {{"record", "--asset", "1", "--alert-webhook", "ftp://x"}, "alert_webhook must be"},
      {{"record", "--asset", "1", "--alert-command", " "}, "--alert-command: expected a command"},
      {{"record", "--asset", "1", "--shm", "a/b"}, "shm must be empty, or a name"},
      {{"books"}, "--shm is required"},
      {{"books", "--shm", "x", "--asset", ""}, "--asset needs a token id"},
      // A mistyped flag gets what it was probably meant to be, as a config key does.
      {{"record", "--outt", "x"}, "--outt: did you mean --out?"},
      {{"record", "--status-intervl-seconds", "1"},
       "--status-intervl-seconds: did you mean --status-interval-seconds?"},
      {{"replay", dir.path().string(), "--jsno"}, "--jsno: did you mean --json?"},
      // Credentials in a URL are refused for what they are.
      {{"record", "--asset", "1", "--ws-url", "wss://user:pw@example.com/ws/market"},
       "ws_url carries a user or password"},
      {{"record", "--asset", "1", "--rest-url", "https://u@example.com"},
       "rest_url carries a user or password"},
  };
  for (const auto& c : cases) {
    std::string shown;
    for (const std::string& a : c.args) shown += a + " ";
    SCOPED_TRACE(shown);
    const Outcome o = run(c.args);
    EXPECT_EQ(o.code, 2) << o.output;
    EXPECT_NE(o.output.find(c.says), std::string::npos) << o.output;
  }
  EXPECT_EQ(run({"--help"}).code, 0);
  EXPECT_EQ(run({"--version"}).code, 0);
}

// Everything under `root` as text, gzip files inflated.
std::string everything_under(const fs::path& root) {
  std::string all;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    if (!e.is_regular_file()) continue;
    std::ifstream in(e.path(), std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), {});
    if (bytes.size() >= 2 && bytes[0] == '\x1f' && bytes[1] == '\x8b') {
      inflate_gzip(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size(),
                   [&](std::string_view chunk) {
                     all.append(chunk);
                     return true;
                   });
    } else {
      all += bytes;
    }
  }
  return all;
}

TEST(BadArguments, AKeyInAUrlIsNeitherLoggedNorArchived) {
  testing::TempDir dir;
  const fs::path out = dir.path() / "data";
  // Nothing listens on port 1: the run fails to connect, logs, and writes its manifest.
  const Outcome o = run({"record", "--ws-url", "ws://127.0.0.1:1/ws/market?apikey=WSSECRET",
                         "--rest-url", "http://127.0.0.1:1/?key=RESTSECRET", "--asset", "1",
                         "--duration-seconds", "1", "--rest-checkpoint-interval-seconds", "0.2",
                         "--redis", "redis://:REDISSECRET@127.0.0.1:1/0", "--alert",
                         "disconnects>=1", "--alert-webhook",
                         "http://127.0.0.1:1/botHOOKSECRET/sendMessage", "--status", "log",
                         "--out", out.string()});
  EXPECT_EQ(o.code, 1) << o.output;  // the gate: nothing recorded
  EXPECT_NE(o.output.find("apikey=***"), std::string::npos) << o.output;
  const std::string written = everything_under(out);
  EXPECT_NE(written.find("apikey=***"), std::string::npos);  // the manifest's config
  // Redis is down too: a warning, and the run goes on (and retries).
  EXPECT_NE(o.output.find("redis: cannot connect to 127.0.0.1:1"), std::string::npos) << o.output;
  EXPECT_NE(written.find("redis://:***@127.0.0.1:1/0"), std::string::npos);
  for (const char* secret : {"WSSECRET", "RESTSECRET", "REDISSECRET", "HOOKSECRET"}) {
    EXPECT_EQ(o.output.find(secret), std::string::npos) << o.output;
    EXPECT_EQ(written.find(secret), std::string::npos) << secret;
  }
}

}  // namespace
}  // namespace booktape
