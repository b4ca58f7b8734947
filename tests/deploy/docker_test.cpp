// The Dockerfile, without a container engine (this machine has none): it lints clean with
// dockerfile-utils (the linter behind the VS Code Docker extension, pinned in deploy/check), its
// build stage runs the scripts CI runs, its runtime stage installs every Debian package the built
// binary links, and it runs as the uid deploy/k8s expects.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <vector>

#include "tests/deploy/deploy_support.hpp"

namespace booktape {
namespace {

namespace fs = std::filesystem;

testing::CommandResult lint(const fs::path& dockerfile) {
  const fs::path tool = testing::kSourceDir / "deploy/check/node_modules/.bin/dockerfile-utils";
  if (!fs::exists(tool)) {
    return {-1, "deploy/check/node_modules is missing: run scripts/install-deps.sh (npm ci)"};
  }
  return testing::run_command(testing::shell_quote(tool.string()) + " lint " +
                              testing::shell_quote(dockerfile.string()));
}

TEST(Dockerfile, LintsCleanAndTheLinterCatchesMistakes) {
  const testing::CommandResult r = lint(testing::kSourceDir / "Dockerfile");
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_EQ(r.output, "");
  // The linter can fail: a misspelt instruction and flag.
  const fs::path bad =
      fs::temp_directory_path() / ("booktape-Dockerfile-" + std::to_string(::getpid()));
  std::ofstream(bad) << testing::read_file((testing::kSourceDir / "Dockerfile").string())
                     << "RUNN true\nCOPY --frm=build /a /b\n";
  const testing::CommandResult b = lint(bad);
  fs::remove(bad);
  EXPECT_EQ(b.code, 1) << b.output;
  EXPECT_NE(b.output.find("Unknown instruction: RUNN"), std::string::npos) << b.output;
  EXPECT_NE(b.output.find("Unknown flag: frm"), std::string::npos) << b.output;
}

TEST(Dockerfile, BuildsWithTheScriptsCiRunsOnDebian12AsANonRootUser) {
  const std::string d = testing::read_file((testing::kSourceDir / "Dockerfile").string());
  EXPECT_NE(d.find("FROM debian:12 AS build\n"), std::string::npos);
  EXPECT_NE(d.find("RUN scripts/install-deps.sh && scripts/build.sh release booktape\n"),
            std::string::npos);
  EXPECT_NE(d.find("\nFROM debian:12\n"), std::string::npos);  // the runtime stage
  EXPECT_NE(d.find("\nUSER 10001:10001\n"), std::string::npos);
  // deploy/k8s runs the pods as that uid and gid.
  const std::string sts =
      testing::read_file((testing::kSourceDir / "deploy/k8s/statefulset.yaml").string());
  for (const char* k : {"runAsUser: 10001", "runAsGroup: 10001", "fsGroup: 10001"})
    EXPECT_NE(sts.find(k), std::string::npos) << k;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// The Debian packages of the shared libraries the built binary needs directly (its DT_NEEDED
// entries, found where ldd finds them; apt brings their own dependencies), as dpkg knows them
// (with or without /usr: Debian 12 has a merged /usr). A library dpkg does not know is listed
// as "<path>: unknown", and fails the test below. Computed once, with one call of each tool:
// they are slow on a busy machine.
const std::set<std::string>& linked_packages() {
  static const std::set<std::string> packages = [] {
    const std::string b = testing::shell_quote(BOOKTAPE_BINARY);
    std::map<std::string, std::string> where;  // soname -> path
    const std::regex ldd_line("^\\s*(\\S+) => (/\\S+)");
    for (const std::string& line : lines_of(testing::run_command("ldd " + b).output)) {
      std::smatch m;
      if (std::regex_search(line, m, ldd_line)) where[m[1].str()] = m[2].str();
    }
    std::vector<std::string> paths;
    const std::regex needed("\\(NEEDED\\).*\\[(.*)\\]");
    for (const std::string& line : lines_of(testing::run_command("readelf -d " + b).output)) {
      std::smatch m;
      if (std::regex_search(line, m, needed)) paths.push_back(where[m[1].str()]);
    }
    auto variants = [](const std::string& p) {
      return std::vector<std::string>{p, "/usr" + p, p.rfind("/usr/", 0) == 0 ? p.substr(4) : p};
    };
    std::string query = "dpkg -S";
    for (const std::string& p : paths)
      for (const std::string& v : variants(p)) query += " " + testing::shell_quote(v);
    std::map<std::string, std::string> owner;  // path -> package
    const std::regex dpkg_line("^([^:]+):[^:]*: (/.*)$");
    for (const std::string& line : lines_of(testing::run_command(query + " 2>/dev/null").output)) {
      std::smatch m;
      if (std::regex_search(line, m, dpkg_line)) owner[m[2].str()] = m[1].str();
    }
    std::set<std::string> out;
    for (const std::string& p : paths) {
      std::string pkg = p + ": unknown";
      for (const std::string& v : variants(p))
        if (owner.count(v) > 0) pkg = owner[v];
      out.insert(pkg);
    }
    return out;
  }();
  return packages;
}

// The packages `binary` needs that the runtime stage of `dockerfile` does not install.
std::set<std::string> missing_at_runtime(const std::string& dockerfile) {
  std::set<std::string> installed;
  const std::size_t runtime = dockerfile.find("\nFROM debian:12\n");
  if (runtime == std::string::npos) return {"(no runtime stage)"};
  const std::string stage = dockerfile.substr(runtime);
  const std::regex word("\\n +([a-z0-9][a-z0-9.+-]+) \\\\");
  for (auto it = std::sregex_iterator(stage.begin(), stage.end(), word);
       it != std::sregex_iterator(); ++it)
    installed.insert((*it)[1].str());
  // In every debian:12 image already (essential, or needed by apt itself); and the sanitizer
  // runtimes, which a sanitizer build's binary links (CI's asan pass runs this test too) and the
  // image, built from the release preset, never needs.
  const std::set<std::string> base = {"libc6",    "libgcc-s1", "libstdc++6", "zlib1g",
                                      "libasan8", "libubsan1", "libtsan2"};
  std::set<std::string> missing;
  for (const std::string& p : linked_packages())
    if (installed.count(p) == 0 && base.count(p) == 0) missing.insert(p);
  if (installed.count("rclone") == 0) missing.insert("rclone");  // the uploader in deploy/k8s
  return missing;
}

TEST(Dockerfile, TheRuntimeStageInstallsEveryLibraryTheBinaryLinks) {
  ASSERT_GE(linked_packages().size(), 5U);
  const std::string d = testing::read_file((testing::kSourceDir / "Dockerfile").string());
  EXPECT_EQ(missing_at_runtime(d), std::set<std::string>{});
  // The check can fail: without libssl3 in the list, it is missing.
  std::string without = d;
  const std::size_t at = without.find("      libssl3 \\\n");
  ASSERT_NE(at, std::string::npos);
  without.erase(at, std::string("      libssl3 \\\n").size());
  EXPECT_EQ(missing_at_runtime(without), std::set<std::string>{"libssl3"});
}

}  // namespace
}  // namespace booktape
