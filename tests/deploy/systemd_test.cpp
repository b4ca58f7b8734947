// deploy/systemd and scripts/install-service.sh, checked by systemd's own tools: the installed
// units pass `systemd-analyze verify` (with ExecStart pointing at the built binary so verify can
// resolve it), their exposure under `systemd-analyze security --offline` stays at what
// docs/DEPLOY.md states, the install is idempotent and keeps an operator's edits, and the VPS
// config it installs is one the recorder accepts and writes only where the unit allows.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>

#include "io/record/recorder_config.hpp"
#include "tests/deploy/deploy_support.hpp"
#include "tests/support/temp_dir.hpp"

namespace booktape {
namespace {

namespace fs = std::filesystem;

const std::vector<std::string> kUnits = {"booktape-record.service", "booktape-upload.service",
                                         "booktape-upload.timer"};

testing::CommandResult install(const fs::path& root) {
  return testing::run_command(
      testing::shell_quote((testing::kSourceDir / "scripts/install-service.sh").string()) +
      " --root " + testing::shell_quote(root.string()) + " --binary " +
      testing::shell_quote(BOOKTAPE_BINARY));
}

void write(const fs::path& p, const std::string& text) {
  std::ofstream(p) << text;
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (std::size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
    s.replace(at, from.size(), to);
  return s;
}

// The installed units, copied with their binary path pointing into `root`, where the install
// put the built binary (verify checks that ExecStart is an executable file).
fs::path units_for_verify(const fs::path& root) {
  const fs::path dir = root / "verify";
  fs::create_directories(dir);
  for (const std::string& u : kUnits) {
    write(dir / u,
          replace_all(testing::read_file((root / "etc/systemd/system" / u).string()),
                      "/usr/local/bin/booktape", (root / "usr/local/bin/booktape").string()));
  }
  return dir;
}

testing::CommandResult verify(const fs::path& dir) {
  std::string cmd = "systemd-analyze verify --man=no";
  for (const std::string& u : kUnits) cmd += " " + testing::shell_quote((dir / u).string());
  return testing::run_command(cmd);
}

TEST(SystemdUnits, InstalledUnitsPassSystemdAnalyzeVerifyWithoutAWord) {
  testing::TempDir root;
  const testing::CommandResult in = install(root.path());
  ASSERT_EQ(in.code, 0) << in.output;
  const fs::path dir = units_for_verify(root.path());
  const testing::CommandResult v = verify(dir);
  EXPECT_EQ(v.code, 0) << v.output;
  EXPECT_EQ(v.output, "");  // verify's warnings (an unknown key, a bad value) exit 0 too

  // The check can fail: a misspelt setting is reported.
  write(dir / "booktape-record.service",
        replace_all(testing::read_file((dir / "booktape-record.service").string()),
                    "WatchdogSec=", "WatchdogSecs="));
  const testing::CommandResult bad = verify(dir);
  EXPECT_NE(bad.output.find("Unknown key 'WatchdogSecs'"), std::string::npos) << bad.output;
}

TEST(SystemdUnits, TheRecorderIsANotifyServiceWithAWatchdogThatAlwaysRestarts) {
  const std::string unit =
      testing::read_file((testing::kSourceDir / "deploy/systemd/booktape-record.service").string());
  for (const char* line :
       {"Type=notify", "NotifyAccess=main", "WatchdogSec=", "Restart=always",
        "ProtectSystem=strict", "ReadWritePaths=/var/lib/booktape\n", "NoNewPrivileges=yes",
        "PrivateTmp=yes", "CapabilityBoundingSet=\n", "User=booktape"}) {
    EXPECT_NE(unit.find(std::string("\n") + line), std::string::npos) << line;
  }
}

// systemd-analyze security's overall exposure (0 best .. 10 worst), offline, from the unit file.
double exposure(const fs::path& unit) {
  const testing::CommandResult r = testing::run_command(
      "systemd-analyze security --offline=true --no-pager " + testing::shell_quote(unit.string()));
  std::smatch m;
  const std::regex overall("Overall exposure level for [^:]+: ([0-9.]+)");
  if (!std::regex_search(r.output, m, overall)) {
    ADD_FAILURE() << r.output;
    return 10;
  }
  return std::stod(m[1].str());
}

TEST(SystemdUnits, ExposureUnderSystemdAnalyzeSecurityIsWhatDeployMdStates) {
  // docs/DEPLOY.md, "Hardening": 1.2 for the recorder, 1.1 for the upload, and why the rest
  // stays. A change that loosens a unit fails here first.
  EXPECT_LE(exposure(testing::kSourceDir / "deploy/systemd/booktape-record.service"), 1.2);
  EXPECT_LE(exposure(testing::kSourceDir / "deploy/systemd/booktape-upload.service"), 1.1);
  // The measure can fail: the same service without its hardening is exposed.
  testing::TempDir dir;
  write(dir.path() / "bare.service",
        "[Service]\nType=notify\nExecStart=/usr/local/bin/booktape record\n");
  EXPECT_GT(exposure(dir.path() / "bare.service"), 9.0);
}

TEST(InstallService, IsIdempotentAndKeepsTheSettingsAnOperatorEdited) {
  testing::TempDir root;
  const fs::path r = root.path();
  const testing::CommandResult first = install(r);
  ASSERT_EQ(first.code, 0) << first.output;
  EXPECT_NE(first.output.find("installed  /usr/local/bin/booktape"), std::string::npos);

  // The user and the archive directory, made by systemd-sysusers and -tmpfiles in the root.
  const std::string passwd = testing::read_file((r / "etc/passwd").string());
  std::smatch m;
  ASSERT_TRUE(
      std::regex_search(passwd, m, std::regex("\nbooktape:x:([0-9]+):|^booktape:x:([0-9]+):")))
      << passwd;
  const fs::file_status lib = fs::status(r / "var/lib/booktape");
  EXPECT_TRUE(fs::is_directory(lib));
  EXPECT_EQ(lib.permissions() & fs::perms::all,
            fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec);
  EXPECT_EQ(fs::status(r / "etc/booktape/upload.env").permissions() & fs::perms::others_read,
            fs::perms::none);
  EXPECT_EQ(testing::read_file((r / "usr/local/bin/booktape").string()),
            testing::read_file(BOOKTAPE_BINARY));

  // A second run changes nothing.
  const testing::CommandResult second = install(r);
  ASSERT_EQ(second.code, 0) << second.output;
  EXPECT_EQ(second.output.find("  installed"), std::string::npos) << second.output;
  EXPECT_NE(second.output.find("install-service: nothing to change"), std::string::npos)
      << second.output;

  // An operator's settings survive a reinstall (an upgrade); a unit edited in place does not
  // (local changes belong in `systemctl edit`, a drop-in).
  const fs::path settings = r / "etc/booktape/record.yaml";
  write(settings, testing::read_file(settings.string()) + "market_limit: 3\n");
  const fs::path unit = r / "etc/systemd/system/booktape-record.service";
  write(unit, testing::read_file(unit.string()) + "# edited\n");
  const testing::CommandResult third = install(r);
  ASSERT_EQ(third.code, 0) << third.output;
  EXPECT_NE(testing::read_file(settings.string()).find("market_limit: 3"), std::string::npos);
  EXPECT_NE(third.output.find("kept       /etc/booktape/record.yaml"), std::string::npos);
  EXPECT_EQ(testing::read_file(unit.string()).find("# edited"), std::string::npos);
}

TEST(InstallService, APrefixMovesTheBinaryAndTheUnitsFollow) {
  testing::TempDir root;
  const testing::CommandResult in = testing::run_command(
      testing::shell_quote((testing::kSourceDir / "scripts/install-service.sh").string()) +
      " --root " + testing::shell_quote(root.path().string()) +
      " --prefix /opt/booktape --binary " + testing::shell_quote(BOOKTAPE_BINARY));
  ASSERT_EQ(in.code, 0) << in.output;
  EXPECT_TRUE(fs::exists(root.path() / "opt/booktape/bin/booktape"));
  const std::string unit =
      testing::read_file((root.path() / "etc/systemd/system/booktape-record.service").string());
  EXPECT_NE(unit.find("ExecStart=/opt/booktape/bin/booktape record"), std::string::npos);
  EXPECT_EQ(unit.find("/usr/local/"), std::string::npos);
}

TEST(InstallService, BadArgumentsExit2WithTheExpectedForm) {
  const std::string script =
      testing::shell_quote((testing::kSourceDir / "scripts/install-service.sh").string());
  const struct {
    const char* args;
    int code;
    const char* says;
  } cases[] = {{"--frobnicate", 2, "expected --binary PATH"},
               {"--prefix usr/local", 2, "--prefix must be an absolute path"},
               {"--binary /nonexistent/booktape", 2, "no executable booktape"},
               {"--root", 2, "--root needs a directory"},
               {"--help", 0, "--root DIR"}};
  for (const auto& c : cases) {
    const testing::CommandResult r = testing::run_command(script + " " + c.args);
    EXPECT_EQ(r.code, c.code) << c.args << "\n" << r.output;
    EXPECT_NE(r.output.find(c.says), std::string::npos) << c.args << "\n" << r.output;
  }
}

TEST(VpsConfig, LoadsValidatesAndWritesOnlyWhereTheUnitAllows) {
  RecorderConfig c;
  load_recorder_config(testing::kSourceDir / "config/record.vps.yaml", c);
  EXPECT_EQ(validate(c), std::vector<std::string>{});
  const std::string unit =
      testing::read_file((testing::kSourceDir / "deploy/systemd/booktape-record.service").string());
  std::smatch m;
  ASSERT_TRUE(std::regex_search(unit, m, std::regex("\nReadWritePaths=([^\n]+)\n")));
  const std::string writable = m[1].str() + "/";
  EXPECT_EQ(c.out.string().rfind(writable, 0), 0U) << c.out << " is outside " << writable;
  // The upload reads the same archive.
  const std::string upload =
      testing::read_file((testing::kSourceDir / "deploy/systemd/booktape-upload.service").string());
  EXPECT_NE(upload.find("booktape upload " + c.out.string() + " --remote "), std::string::npos);
}

}  // namespace
}  // namespace booktape
