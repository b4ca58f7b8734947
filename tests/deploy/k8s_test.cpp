// deploy/k8s, validated offline (no cluster here, and kubectl's --validate needs one): every
// document against the Kubernetes API's schemas and types, plus booktape's consistency rules
// (deploy/check/k8s.mjs, pinned npm packages installed by scripts/install-deps.sh). Each rule is
// shown to fail on a manifest broken for it. The ConfigMap's settings are ones the recorder
// accepts, and the container's flags are the recorder's.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "io/record/recorder_config.hpp"
#include "tests/deploy/deploy_support.hpp"
#include "tests/support/temp_dir.hpp"

namespace booktape {
namespace {

namespace fs = std::filesystem;

const fs::path kManifests = testing::kSourceDir / "deploy/k8s";

testing::CommandResult validate(const std::vector<fs::path>& dirs) {
  const fs::path tool = testing::kSourceDir / "deploy/check/k8s.mjs";
  if (!fs::exists(testing::kSourceDir / "deploy/check/node_modules/kubernetes-models")) {
    return {-1, "deploy/check/node_modules is missing: run scripts/install-deps.sh (npm ci)"};
  }
  std::string cmd = "node " + testing::shell_quote(tool.string());
  for (const fs::path& d : dirs) cmd += " " + testing::shell_quote(d.string());
  return testing::run_command(cmd);
}

TEST(K8sManifests, ValidateOfflineAgainstTheApiSchemasTypesAndOurRules) {
  const testing::CommandResult r = validate({kManifests});
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("k8s-validate: 4 documents in 5 files, 0 problems"), std::string::npos)
      << r.output;
}

// A copy of deploy/k8s with one text replaced in statefulset.yaml, and what the validator must
// say about it.
struct Broken {
  const char* name;
  const char* from;
  const char* to;
  const char* expected;
};

TEST(K8sManifests, EachCheckRefusesAManifestBrokenForIt) {
  const Broken cases[] = {
      // The schema alone lets an unknown key through; the type check does not.
      {"misspelt_key", "          livenessProbe:", "          livenesProbe:",
       "'\"livenesProbe\"' does not exist in type 'IContainer'"},
      {"wrong_type", "containerPort: 9464", "containerPort: \"9464\"",
       "containerPort must be integer"},
      {"missing_required", "        - name: record\n          image:", "        - image:",
       "must have required property name"},
      {"shards_not_replicas", "  replicas: 3", "  replicas: 4",
       "SHARD_COUNT 3 differs from replicas 4"},
      {"unknown_variable", "$(SHARD_INDEX)/$(SHARD_COUNT)", "$(SHARD_INDEX)/$(SHARDS)",
       "$(SHARDS) is not an env var of the container"},
      {"mount_without_volume", "            - name: config\n              mountPath",
       "            - name: settings\n              mountPath",
       "volumeMount settings: no such volume"},
      {"probe_on_undeclared_port", "              port: http\n            periodSeconds: 20",
       "              port: metrics\n            periodSeconds: 20",
       "livenessProbe port metrics is not a port of the container"},
      {"selector_mismatch", "      labels:\n        app.kubernetes.io/name: booktape\n",
       "      labels:\n        app.kubernetes.io/name: booktapes\n",
       "selector does not match the pod labels"}};
  // One run over every broken set (one type check for all of them: it takes seconds).
  testing::TempDir dir;
  std::vector<fs::path> sets;
  for (const Broken& b : cases) {
    const fs::path set = dir.path() / b.name;
    fs::create_directories(set);
    for (const auto& e : fs::directory_iterator(kManifests))
      if (e.path().extension() == ".yaml") fs::copy_file(e.path(), set / e.path().filename());
    std::string text = testing::read_file((set / "statefulset.yaml").string());
    const std::size_t at = text.find(b.from);
    ASSERT_NE(at, std::string::npos) << b.name << ": " << b.from;
    text.replace(at, std::string(b.from).size(), b.to);
    std::ofstream(set / "statefulset.yaml") << text;
    sets.push_back(set);
  }
  const testing::CommandResult r = validate(sets);
  EXPECT_EQ(r.code, 1) << r.output;
  for (const Broken& b : cases) {
    // The message, on a line about this set's files.
    const std::string prefix = (dir.path() / b.name).string() + "/";
    bool said = false;
    std::istringstream lines(r.output);
    for (std::string line; std::getline(lines, line);)
      said = said || (line.rfind(prefix, 0) == 0 && line.find(b.expected) != std::string::npos);
    EXPECT_TRUE(said) << b.name << ": expected '" << b.expected << "' in\n" << r.output;
  }
}

YAML::Node statefulset() {
  return YAML::LoadFile((kManifests / "statefulset.yaml").string());
}

YAML::Node container(const std::string& name) {
  for (const YAML::Node& c : statefulset()["spec"]["template"]["spec"]["containers"])
    if (c["name"].as<std::string>() == name) return c;
  return {};
}

TEST(K8sManifests, TheConfigMapHoldsSettingsTheRecorderAccepts) {
  const YAML::Node cm = YAML::LoadFile((kManifests / "configmap.yaml").string());
  testing::TempDir dir;
  const fs::path file = dir.path() / "record.yaml";
  std::ofstream(file) << cm["data"]["record.yaml"].as<std::string>();
  RecorderConfig c;
  load_recorder_config(file, c);
  EXPECT_EQ(validate(c), std::vector<std::string>{});
  EXPECT_TRUE(c.all_active);  // shards split the whole venue
  // The archive is on the claim's mount.
  std::string mount;
  for (const YAML::Node& m : container("record")["volumeMounts"])
    if (m["name"].as<std::string>() == "archive") mount = m["mountPath"].as<std::string>();
  ASSERT_FALSE(mount.empty());
  EXPECT_EQ(c.out.string().rfind(mount + "/", 0), 0U) << c.out << " is not under " << mount;
}

TEST(K8sManifests, TheRecorderFlagsAreTheRecordersOrNamedAsComing) {
  // Every flag must be a flag of `booktape record` (none is left to come).
  const std::set<std::string> coming = {};
  const testing::CommandResult help =
      testing::run_command(testing::shell_quote(BOOKTAPE_BINARY) + " record --help");
  ASSERT_EQ(help.code, 0) << help.output;
  const YAML::Node args = container("record")["args"];
  ASSERT_TRUE(args.IsSequence());
  EXPECT_EQ(args[0].as<std::string>(), "record");
  for (const YAML::Node& a : args) {
    const std::string s = a.as<std::string>();
    if (s.rfind("--", 0) != 0 || coming.count(s) > 0) continue;
    EXPECT_NE(help.output.find("  " + s + " "), std::string::npos) << s << " is not a record flag";
  }
  // The shard comes from the pod's ordinal.
  bool ordinal = false;
  for (const YAML::Node& e : container("record")["env"])
    if (e["name"].as<std::string>() == "SHARD_INDEX")
      ordinal = e["valueFrom"]["fieldRef"]["fieldPath"].as<std::string>() ==
                "metadata.labels['apps.kubernetes.io/pod-index']";
  EXPECT_TRUE(ordinal);
}

}  // namespace
}  // namespace booktape
