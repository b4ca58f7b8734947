#pragma once
// Shared by the libFuzzer targets: a failed invariant aborts (libFuzzer keeps the input as a
// crash), and a private scratch directory for targets that need their input in a file.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

namespace booktape::fuzz {

// Not assert(): the fuzz build is RelWithDebInfo, where NDEBUG would silence it.
#define BOOKTAPE_FUZZ_CHECK(cond)                                                     \
  do {                                                                                \
    if (!(cond)) {                                                                    \
      std::fprintf(stderr, "fuzz invariant failed: %s (%s:%d)\n", #cond, __FILE__,   \
                   __LINE__);                                                         \
      std::abort();                                                                   \
    }                                                                                 \
  } while (0)

// One directory per process under $TMPDIR (scripts/fuzz.sh points it at its own temp dir),
// removed at exit; parallel fuzzing jobs therefore never share files.
class ScratchDir {
 public:
  ScratchDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "booktape-fuzz-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) {
      std::perror("mkdtemp");
      std::abort();
    }
    path_ = tmpl;
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

  // Replaces `name` in the directory with exactly `bytes`.
  std::filesystem::path write(const std::string& name, std::string_view bytes) const {
    const std::filesystem::path p = path_ / name;
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.close();
    BOOKTAPE_FUZZ_CHECK(out.good() && "scratch file written (is $TMPDIR full?)");
    return p;
  }

 private:
  std::filesystem::path path_;
};

// Calls `frame(text)` for each '\n'-separated piece of a fuzz input (the frame targets' format:
// one frame a line), the empty ones included.
template <class Frame>
void for_each_line(std::string_view input, Frame frame) {
  std::size_t pos = 0;
  while (pos <= input.size()) {
    std::size_t nl = input.find('\n', pos);
    if (nl == std::string_view::npos) nl = input.size();
    frame(input.substr(pos, nl - pos));
    pos = nl + 1;
  }
}

}  // namespace booktape::fuzz
