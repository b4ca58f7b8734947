#pragma once
// Space kept back for the end of a run: `booktape record` allocates a file under the archive
// root at start (<root>/.booktape-reserve, `reserve_bytes`), and gives that space back to the
// file system when the disk refuses its last blocks at the stop. The seal of those blocks, the
// loss records for what still does not fit, the manifests and the run report then have room,
// even on a disk that filled up during the run (docs/RECORD.md, "A full disk").
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <string>

namespace booktape {

class SpaceReserve {
 public:
  static constexpr const char* kFileName = ".booktape-reserve";

  // Allocates up to `bytes` (posix_fallocate; on a disk with less room, halves the size down to
  // 64 KiB and keeps what it got). bytes == 0 reserves nothing.
  SpaceReserve(const std::filesystem::path& root, std::uint64_t bytes);
  ~SpaceReserve();  // releases
  SpaceReserve(const SpaceReserve&) = delete;
  SpaceReserve& operator=(const SpaceReserve&) = delete;

  [[nodiscard]] std::uint64_t reserved() const noexcept { return reserved_; }
  // Why less than asked was reserved ("" if all of it).
  [[nodiscard]] const std::string& shortfall() const noexcept { return shortfall_; }
  // Gives the space back (removes the file). Any thread, once; returns the bytes freed (0 after
  // the first call).
  std::uint64_t release() noexcept;
  [[nodiscard]] bool released() const noexcept { return released_.load(); }

 private:
  std::filesystem::path path_;
  std::uint64_t reserved_ = 0;
  std::string shortfall_;
  std::atomic<bool> released_{false};
};

}  // namespace booktape
