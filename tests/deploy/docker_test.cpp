// The Dockerfile, without a container engine (this machine has none): it lints clean with
// dockerfile-utils (the linter behind the VS Code Docker extension, pinned in deploy/check), its
// build stage runs the scripts CI runs, its runtime stage installs every Debian package the built
// binary links, and it runs as the uid deploy/k8s expects.
#include <gtest/gtest.h>

#include <filesystem>
#include <regex>
#include <set>
#include <sstream>

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

// The Debian packages of the shared libraries `binary` needs directly (its DT_NEEDED entries,
// found where ldd finds them; apt brings their own dependencies), as dpkg knows them. A path
// dpkg does not know is printed as is, and fails the test below.
std::set<std::string> linked_packages(const std::string& binary) {
  const std::string b = testing::shell_quote(binary);
  const testing::CommandResult r =
      testing::run_command("for so in $(readelf -d " + b +
                           " | sed -n 's/.*(NEEDED).*\\[\\(.*\\)\\]/\\1/p'); do"
                           "  p=$(ldd " +
                           b +
                           " | awk -v so=\"$so\" '$1 == so { print $3 }');"
                           "  dpkg -S \"$p\" 2>/dev/null || dpkg -S \"/usr$p\" 2>/dev/null ||"
                           "  dpkg -S \"${p#/usr}\" 2>/dev/null || echo \"$p: unknown\";"
                           " done | cut -d: -f1 | sort -u");
  std::set<std::string> out;
  std::istringstream in(r.output);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.insert(line);
  return out;
}

// The packages `binary` needs that the runtime stage of `dockerfile` does not install.
std::set<std::string> missing_at_runtime(const std::string& dockerfile, const std::string& binary) {
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
  for (const std::string& p : linked_packages(binary))
    if (installed.count(p) == 0 && base.count(p) == 0) missing.insert(p);
  if (installed.count("rclone") == 0) missing.insert("rclone");  // the uploader in deploy/k8s
  return missing;
}

TEST(Dockerfile, TheRuntimeStageInstallsEveryLibraryTheBinaryLinks) {
  ASSERT_GE(linked_packages(BOOKTAPE_BINARY).size(), 5U);
  const std::string d = testing::read_file((testing::kSourceDir / "Dockerfile").string());
  EXPECT_EQ(missing_at_runtime(d, BOOKTAPE_BINARY), std::set<std::string>{});
  // The check can fail: without libssl3 in the list, it is missing.
  std::string without = d;
  const std::size_t at = without.find("      libssl3 \\\n");
  ASSERT_NE(at, std::string::npos);
  without.erase(at, std::string("      libssl3 \\\n").size());
  EXPECT_EQ(missing_at_runtime(without, BOOKTAPE_BINARY), std::set<std::string>{"libssl3"});
}

}  // namespace
}  // namespace booktape
