// The recorder unit's SystemCallFilter= against what the recorder really calls. systemd cannot
// run here (no systemd as PID 1), so the filter cannot be applied; instead strace records every
// system call of a real `booktape record` (recovery, discovery, websocket, REST checkpoints,
// archive, rotation, a clean stop) against a real `booktape sim`, and each must be one the
// unit's filter allows: a hardening change that would break the service fails here.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "tests/deploy/deploy_support.hpp"
#include "tests/support/sim_child.hpp"
#include "tests/support/temp_dir.hpp"

namespace booktape {
namespace {

namespace fs = std::filesystem;

// systemd's named sets (@default, @network-io, ...), each with its calls and nested sets.
std::map<std::string, std::vector<std::string>> syscall_sets() {
  const testing::CommandResult r =
      testing::run_command("systemd-analyze syscall-filter --no-pager");
  std::map<std::string, std::vector<std::string>> sets;
  std::string current;
  std::istringstream in(r.output);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("@", 0) == 0) {
      current = line;
    } else if (!current.empty() && line.rfind("    ", 0) == 0 && line[4] != '#') {
      sets[current].push_back(line.substr(4));
    } else if (line.empty()) {
      current.clear();
    }
  }
  return sets;
}

void expand(const std::map<std::string, std::vector<std::string>>& sets, const std::string& item,
            std::set<std::string>& out) {
  if (item.rfind("@", 0) != 0) {
    out.insert(item);
    return;
  }
  const auto it = sets.find(item);
  if (it == sets.end()) {
    ADD_FAILURE() << "systemd knows no set " << item;
    return;
  }
  for (const std::string& e : it->second) expand(sets, e, out);
}

// What a unit's SystemCallFilter= lines allow: the union of the allow lines minus the union
// of the deny (~) lines, as systemd combines them.
std::set<std::string> allowed_by(const std::string& unit) {
  const auto sets = syscall_sets();
  std::set<std::string> allow, deny;
  std::istringstream in(unit);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("SystemCallFilter=", 0) != 0) continue;
    std::string v = line.substr(std::string("SystemCallFilter=").size());
    const bool denying = !v.empty() && v[0] == '~';
    if (denying) v.erase(0, 1);
    std::istringstream words(v);
    for (std::string w; words >> w;) expand(sets, w, denying ? deny : allow);
  }
  std::set<std::string> out;
  for (const std::string& s : allow)
    if (deny.count(s) == 0) out.insert(s);
  return out;
}

// Every system call name in an `strace -f` log.
std::set<std::string> called(const fs::path& log) {
  std::set<std::string> out;
  const std::regex call("^\\d+\\s+(?:<\\.\\.\\. )?([a-z0-9_]+)[( ]");
  std::ifstream in(log);
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (std::regex_search(line, m, call) && m[1] != "exited" && m[1] != "killed") {
      out.insert(m[1].str());
    }
  }
  return out;
}

std::string joined(const std::set<std::string>& s) {
  std::string out;
  for (const std::string& x : s) out += (out.empty() ? "" : " ") + x;
  return out;
}

std::set<std::string> outside(const std::set<std::string>& used, const std::set<std::string>& ok) {
  std::set<std::string> out;
  for (const std::string& s : used)
    if (ok.count(s) == 0) out.insert(s);
  return out;
}

TEST(SystemdUnits, EverySystemCallOfARecorderRunIsOneTheUnitsFilterAllows) {
  const std::string unit =
      testing::read_file((testing::kSourceDir / "deploy/systemd/booktape-record.service").string());
  const std::set<std::string> allowed = allowed_by(unit);
  ASSERT_GT(allowed.size(), 200U);
  EXPECT_EQ(allowed.count("reboot"), 0U);             // ~@privileged took effect
  EXPECT_EQ(allowed.count("sched_setaffinity"), 1U);  // @resources stays, for cpus:

  testing::SimChild sim({"--rate", "500", "--seed", "9"});
  ASSERT_FALSE(sim.ws_url().empty());
  testing::TempDir dir;
  // The settings the service runs with, writing into the test's directory; a bounded run also
  // reads its files back and writes the report.
  std::string settings =
      testing::read_file((testing::kSourceDir / "config/record.vps.yaml").string());
  settings = std::regex_replace(settings, std::regex("\nout: [^\n]*"),
                                "\nout: \"" + (dir.path() / "data").string() + "\"");
  std::ofstream(dir.path() / "record.yaml") << settings;
  const fs::path log = dir.path() / "strace.log";
  // LeakSanitizer refuses to run under ptrace: off for a sanitizer build (CI's asan pass).
  const testing::CommandResult r = testing::run_command(
      "ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 strace -f -qq -o " +
      testing::shell_quote(log.string()) + " " + testing::shell_quote(BOOKTAPE_BINARY) +
      " record --config " + testing::shell_quote((dir.path() / "record.yaml").string()) +
      " --ws-url " + testing::shell_quote(sim.ws_url()) + " --gamma-url " +
      testing::shell_quote(sim.url()) + " --rest-url " + testing::shell_quote(sim.url()) +
      " --series btc-up-or-down-5m --duration-seconds 6" +
      " --rest-checkpoint-interval-seconds 1 --status log");
  ASSERT_EQ(r.code, 0) << r.output;
  const std::set<std::string> used = called(log);
  ASSERT_GT(used.size(), 30U) << joined(used);
  ASSERT_GT(used.count("connect"), 0U);  // the trace saw the network, not just the start
  EXPECT_EQ(outside(used, allowed), std::set<std::string>{})
      << "the recorder calls these, which booktape-record.service's SystemCallFilter= refuses";

  // The check can fail: without @network-io the same run is refused its sockets.
  const std::string narrower =
      std::regex_replace(unit, std::regex("SystemCallFilter=@system-service"),
                         "SystemCallFilter=@system-service\nSystemCallFilter=~@network-io");
  EXPECT_GT(outside(used, allowed_by(narrower)).count("connect"), 0U);
}

}  // namespace
}  // namespace booktape
