// The operator surfaces through the real binaries: `booktape record --http` beside a
// `booktape sim` child, and `booktape top` in a real tmux pane (keys sent with send-keys, the
// screen read with capture-pane), as plain periodic text into a pipe, and against nothing.
// Bad listener settings exit 2 naming the setting.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/apps/cli_run.hpp"
#include "tests/support/loopback.hpp"
#include "tests/support/process.hpp"
#include "tests/support/recorder_run.hpp"
#include "tests/support/shell.hpp"
#include "tests/support/sim_child.hpp"
#include "tests/support/temp_dir.hpp"

namespace booktape {
namespace {

using namespace std::chrono_literals;
using testing::eventually;
using testing::SimChild;
namespace fs = std::filesystem;

// `booktape record` against `sim` with its listener on `port`; its log goes to the test log.
testing::Child record_with_listener(const SimChild& sim, const fs::path& out, std::uint16_t port) {
  const std::string cmd = std::string("exec '") + BOOKTAPE_BINARY + "' record --ws-url '" +
                          sim.ws_url() + "' --rest-url '" + sim.url() + "' --gamma-url '" +
                          sim.url() + "' --out '" + out.string() +
                          "' --status off --rest-checkpoint-interval-seconds 0 --http 127.0.0.1:" +
                          std::to_string(port) + " >&2";
  return testing::Child({"/bin/sh", "-c", cmd});
}

// A tmux server of the test's own (its own socket), killed at the end.
class Tmux {
 public:
  Tmux() : socket_("booktape-test-" + std::to_string(::getpid())) {}
  ~Tmux() { (void)run("kill-server 2>/dev/null"); }
  Tmux(const Tmux&) = delete;
  Tmux& operator=(const Tmux&) = delete;
  testing::ShellResult run(const std::string& args) {
    return testing::shell("tmux -L " + socket_ + " " + args);
  }
  std::string screen(bool escapes = false) {
    return run(std::string("capture-pane -p ") + (escapes ? "-e " : "") + "-t top").out;
  }
  bool alive() { return run("has-session -t top 2>/dev/null").status == 0; }

 private:
  std::string socket_;
};

// The SPREAD column (the 6th from the right) of the table rows on a screen.
std::vector<double> spreads(const std::string& screen) {
  std::vector<double> out;
  std::istringstream in(screen);
  bool table = false;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("MARKET", 0) == 0) {
      table = true;
      continue;
    }
    if (!table || line.find(" live ") == std::string::npos) continue;
    std::vector<std::string> words;
    std::istringstream w(line);
    for (std::string x; w >> x;) words.push_back(x);
    if (words.size() >= 8 && words[words.size() - 3] != "-")
      out.push_back(std::stod(words[words.size() - 3]));
  }
  return out;
}

TEST(TopCli, DrawsTheDashboardInATmuxPaneSortsOnKeysHighlightsSilentBooksAndQuitsOnQ) {
  ASSERT_EQ(testing::missing_tool("tmux", "tmux"), "");
  testing::TempDir dir;
  // A finite stream: its books go silent once it ends, and top must say so after 10 s.
  SimChild sim({"--rate", "400", "--seed", "9", "--frames", "2000", "--linger-seconds", "600"});
  const std::uint16_t port = testing::dead_port();
  testing::Child rec = record_with_listener(sim, dir.path() / "data", port);

  Tmux tmux;
  ASSERT_EQ(tmux.run("new-session -d -s top -x 120 -y 30 \"'" + std::string(BOOKTAPE_BINARY) +
                     "' top --http 127.0.0.1:" + std::to_string(port) + "\"")
                .status,
            0);
  std::string screen;
  ASSERT_TRUE(eventually(
      [&] {
        screen = tmux.screen();
        return screen.find("MARKET") != std::string::npos && spreads(screen).size() >= 4;
      },
      30s))
      << screen;
  EXPECT_NE(screen.find("connections  #0 up"), std::string::npos) << screen;
  EXPECT_NE(screen.find("latency read->book"), std::string::npos) << screen;
  EXPECT_NE(screen.find("btc-updown-"), std::string::npos) << screen;
  EXPECT_NE(screen.find("sort: market"), std::string::npos) << screen;

  // 's' sorts by spread, 'r' reverses it.
  ASSERT_EQ(tmux.run("send-keys -t top s").status, 0);
  ASSERT_TRUE(eventually(
      [&] {
        screen = tmux.screen();
        return screen.find("sort: spread") != std::string::npos;
      },
      10s))
      << screen;
  std::vector<double> s = spreads(screen);
  EXPECT_TRUE(std::is_sorted(s.begin(), s.end())) << screen;
  ASSERT_EQ(tmux.run("send-keys -t top r").status, 0);
  ASSERT_TRUE(eventually(
      [&] {
        screen = tmux.screen();
        return screen.find("sort: spread (desc)") != std::string::npos;
      },
      10s))
      << screen;
  s = spreads(screen);
  EXPECT_TRUE(std::is_sorted(s.rbegin(), s.rend())) << screen;

  // The stream has ended: after 10 s of silence each book is flagged, in red.
  ASSERT_TRUE(eventually(
      [&] {
        screen = tmux.screen(true);
        return screen.find("STALE btc-updown-") != std::string::npos;
      },
      60s))
      << screen;
  // tmux re-encodes the colours: a red background (SGR 41) on the rows, however spelled.
  EXPECT_TRUE(screen.find("\033[41m") != std::string::npos ||
              screen.find(";41m") != std::string::npos)
      << "no highlighted row:\n"
      << screen;

  ASSERT_EQ(tmux.run("send-keys -t top q").status, 0);
  EXPECT_TRUE(eventually([&] { return !tmux.alive(); }, 10s)) << "q did not quit";
  rec.signal(SIGINT);
  EXPECT_EQ(rec.wait(30s), 0);
}

TEST(TopCli, PrintsPlainPeriodicViewsWhenStdoutIsNotATerminal) {
  testing::TempDir dir;
  SimChild sim({"--rate", "200", "--seed", "4"});
  const std::uint16_t port = testing::dead_port();
  testing::Child rec = record_with_listener(sim, dir.path() / "data", port);
  ASSERT_TRUE(eventually(
      [&] {
        return testing::booktape("top --http 127.0.0.1:" + std::to_string(port) + " -n 1")
                   .out.find(" live ") != std::string::npos;
      },
      30s));
  const testing::CliResult r =
      testing::booktape("top --http 127.0.0.1:" + std::to_string(port) + " -n 2 --interval 0.5");
  EXPECT_EQ(r.status, 0);
  std::size_t views = 0;
  for (std::size_t at = r.out.find("booktape top "); at != std::string::npos;
       at = r.out.find("booktape top ", at + 1)) {
    ++views;
  }
  EXPECT_EQ(views, 2u) << r.out;
  EXPECT_EQ(r.out.find('\033'), std::string::npos) << "escape codes in plain output";
  EXPECT_NE(r.out.find("MARKET"), std::string::npos);
  rec.signal(SIGINT);
  EXPECT_EQ(rec.wait(30s), 0);
}

TEST(TopCli, SaysWhenNoRecorderAnswersAndRefusesBadFlags) {
  const std::uint16_t nobody = testing::dead_port();
  testing::CliResult r =
      testing::booktape("top --http 127.0.0.1:" + std::to_string(nobody) + " -n 1");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("cannot read http://127.0.0.1:" + std::to_string(nobody) + "/status"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(testing::booktape("top --http nowhere -n 1 2>/dev/null").status, 2);
  EXPECT_EQ(testing::booktape("top --sort colour -n 1 2>/dev/null").status, 2);
  EXPECT_EQ(testing::booktape("top --interval 0 -n 1 2>/dev/null").status, 2);
}

// `booktape record ARGS` with stderr into the captured output.
testing::CliResult record_cli(const std::string& args) {
  return testing::booktape("record " + args + " 2>&1");
}

TEST(RecordHttpCli, APortInUseOrABadAddressExits2NamingTheSetting) {
  testing::TempDir dir;
  SimChild sim({"--rate", "50", "--seed", "2"});
  const std::string venue = "--ws-url " + sim.ws_url() + " --rest-url " + sim.url() +
                            " --gamma-url " + sim.url() + " --out " +
                            (dir.path() / "data").string() + " --duration-seconds 5 ";
  std::uint16_t port = 0;
  const int held = testing::listen_loopback(port);
  testing::CliResult r = record_cli(venue + "--http 127.0.0.1:" + std::to_string(port));
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("http_listen (--http): cannot listen on 127.0.0.1:" + std::to_string(port)),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("in use"), std::string::npos) << r.out;
  ::close(held);

  r = record_cli(venue + "--http 127.0.0.1");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("http_listen must be HOST:PORT"), std::string::npos) << r.out;
  r = record_cli(venue + "--http 0.0.0.0:" + std::to_string(testing::dead_port()));
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("--http-public"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(dir.path() / "data"));
}

}  // namespace
}  // namespace booktape
