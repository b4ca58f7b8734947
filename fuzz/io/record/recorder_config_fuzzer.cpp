// Fuzzes the `booktape record` config loader: the input is a YAML file. load_recorder_config
// documents one failure, ConfigError, and that a file with errors changes nothing; any other
// exception escapes and libFuzzer reports it. A file that loads must survive validate() and
// round-trip through to_yaml() (tests/io: EveryKeyRoundTripsThroughToYaml).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/fuzz_support.hpp"
#include "io/record/recorder_config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace booktape;
  static const fuzz::ScratchDir dir;
  static const std::string kDefaults = to_yaml(RecorderConfig{});

  RecorderConfig c;
  try {
    load_recorder_config(dir.write("record.yaml", {reinterpret_cast<const char*>(data), size}), c);
  } catch (const ConfigError& e) {
    BOOKTAPE_FUZZ_CHECK(std::string_view(e.what()).starts_with(dir.path().string()));
    BOOKTAPE_FUZZ_CHECK(to_yaml(c) == kDefaults);  // nothing applied
    return 0;
  }
  (void)validate(c);
  const std::string yaml = to_yaml(c);
  RecorderConfig again;
  load_recorder_config(dir.write("again.yaml", yaml), again);  // must not throw
  BOOKTAPE_FUZZ_CHECK(to_yaml(again) == yaml);
  return 0;
}
