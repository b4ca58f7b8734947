#include "io/archive/space_reserve.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace booktape {

SpaceReserve::SpaceReserve(const std::filesystem::path& root, std::uint64_t bytes)
    : path_(root / kFileName) {
  if (bytes == 0) {
    ::unlink(path_.c_str());  // one left by a run that asked for it
    released_ = true;
    return;
  }
  const int fd = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    shortfall_ = "cannot create " + path_.string() + ": " + std::strerror(errno);
    released_ = true;
    return;
  }
  // Start from nothing (a crashed run may have left one): what this run holds is what it got.
  if (::ftruncate(fd, 0) != 0) shortfall_ = std::strerror(errno);
  constexpr std::uint64_t kSmallest = 64 << 10;
  for (std::uint64_t want = bytes; want >= kSmallest || want == bytes; want /= 2) {
    const int err = ::posix_fallocate(fd, 0, static_cast<off_t>(want));
    if (err == 0) {
      reserved_ = want;
      break;
    }
    if (shortfall_.empty() || want == bytes) {
      shortfall_ = "could not reserve " + std::to_string(want) + " bytes in " + path_.string() +
                   ": " + std::strerror(err);
    }
    if (::ftruncate(fd, 0) != 0) break;  // give back what a partial allocation took
    if (want < kSmallest * 2) break;
  }
  ::close(fd);
  if (reserved_ == bytes) shortfall_.clear();
  if (reserved_ == 0) {
    ::unlink(path_.c_str());
    released_ = true;
  }
}

SpaceReserve::~SpaceReserve() { (void)release(); }

std::uint64_t SpaceReserve::release() noexcept {
  if (released_.exchange(true)) return 0;
  ::unlink(path_.c_str());
  return reserved_;
}

}  // namespace booktape
