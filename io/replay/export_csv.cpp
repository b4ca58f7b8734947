#include "io/replay/export_csv.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace booktape {

namespace fs = std::filesystem;

namespace {

constexpr int kLevel = 1;  // libdeflate's fastest (~10x on these rows): export keeps up with replay

std::string tmp_name(const std::string& name) { return "." + name + ".tmp"; }

}  // namespace

CsvCompressor::CsvCompressor() : gzip_(kLevel), thread_([this] { run(); }) {}

CsvCompressor::~CsvCompressor() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

ByteBuffer CsvCompressor::submit(GzipCsvFile& file, ByteBuffer block, std::uint32_t rows) {
  std::unique_lock lock(mu_);
  jobs_.push_back(Job{&file, std::move(block), rows});
  cv_.notify_all();
  cv_.wait(lock, [this] { return jobs_.size() + busy_ <= kBlocksInFlight || stop_; });
  if (!free_.empty()) {
    ByteBuffer b = std::move(free_.back());
    free_.pop_back();
    return b;
  }
  return ByteBuffer(kBlockBytes + 4096);
}

void CsvCompressor::drain() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [this] { return jobs_.empty() && busy_ == 0; });
}

void CsvCompressor::run() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return !jobs_.empty() || stop_; });
    if (jobs_.empty()) return;  // stopping, nothing left
    Job job = std::move(jobs_.front());
    jobs_.pop_front();
    ++busy_;
    lock.unlock();
    member_.clear();
    gzip_.compress(job.block.view(), job.rows, member_);
    job.file->write_member(member_.view(), job.block.size());
    job.block.clear();
    lock.lock();
    free_.push_back(std::move(job.block));
    --busy_;
    cv_.notify_all();
  }
}

GzipCsvFile::GzipCsvFile(CsvCompressor& compressor, const fs::path& dir, std::string name,
                         std::string_view header)
    : compressor_(compressor), dir_(dir), name_(std::move(name)),
      raw_(CsvCompressor::kBlockBytes + 4096) {
  const fs::path tmp = dir_ / tmp_name(name_);
  fd_ = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd_ < 0) throw std::runtime_error("cannot create " + tmp.string() + ": " + std::strerror(errno));
  raw_.append(header);
  ++block_rows_;
}

GzipCsvFile::~GzipCsvFile() {
  if (!finished_) compressor_.drain();  // no block of ours may still be on its way
  if (fd_ >= 0) ::close(fd_);
  if (!finished_) {
    std::error_code ec;
    fs::remove(dir_ / tmp_name(name_), ec);
  }
}

void GzipCsvFile::end_row() {
  *raw_.ensure(1) = '\n';
  raw_.commit(1);
  ++rows_;
  ++block_rows_;
  if (raw_.size() >= CsvCompressor::kBlockBytes) {
    raw_ = compressor_.submit(*this, std::move(raw_), block_rows_);
    block_rows_ = 0;
  }
}

void GzipCsvFile::write_member(std::string_view member, std::uint64_t raw_bytes) {
  if (!error_.empty()) return;
  const char* p = member.data();
  std::size_t n = member.size();
  while (n > 0) {
    const ssize_t w = ::write(fd_, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      error_ = "cannot write " + (dir_ / tmp_name(name_)).string() + ": " + std::strerror(errno);
      return;
    }
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  sha_.update(member.data(), member.size());
  bytes_ += member.size();
  raw_total_ += raw_bytes;
}

void GzipCsvFile::finish() {
  if (finished_) return;
  if (raw_.size() > 0) raw_ = compressor_.submit(*this, std::move(raw_), block_rows_);
  compressor_.drain();
  const fs::path tmp = dir_ / tmp_name(name_);
  if (!error_.empty()) throw std::runtime_error(error_);
  if (::fdatasync(fd_) != 0 || ::close(fd_) != 0) {
    fd_ = -1;
    throw std::runtime_error("cannot write " + tmp.string() + ": " + std::strerror(errno));
  }
  fd_ = -1;
  if (::rename(tmp.c_str(), (dir_ / name_).c_str()) != 0)
    throw std::runtime_error("cannot rename " + tmp.string() + ": " + std::strerror(errno));
  const Sha256Digest d = sha_.finish();
  sha_hex_.assign(kSha256HexChars, '0');
  to_hex(d.data(), d.size(), sha_hex_.data());
  finished_ = true;
}

void csv_quoted(ByteBuffer& b, std::string_view s) {
  bool plain = true;
  for (const char c : s) plain &= c != ',' && c != '"' && c != '\r' && c != '\n';
  if (plain) {
    b.append(s);
    return;
  }
  b.append("\"");
  for (const char c : s) {
    if (c == '"') b.append("\"");
    *b.ensure(1) = c;
    b.commit(1);
  }
  b.append("\"");
}

void csv_u64(ByteBuffer& b, std::uint64_t v) {
  char tmp[24];
  int n = 0;
  do {
    tmp[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  char* p = b.ensure(static_cast<std::size_t>(n));
  for (int i = n - 1; i >= 0; --i) *p++ = tmp[i];
  b.commit(static_cast<std::size_t>(n));
}

void csv_i64(ByteBuffer& b, std::int64_t v) {
  if (v < 0) {
    b.append("-");
    csv_u64(b, 0 - static_cast<std::uint64_t>(v));
  } else {
    csv_u64(b, static_cast<std::uint64_t>(v));
  }
}

namespace {

// A non-negative fixed-point value in its shortest exact decimal form (no trailing zeros in the
// fraction): what format_fixed writes, on 64 bits, which a row's prices and sizes fit in (the
// 128-bit divisions of the general formatter cost more than the rest of a row).
void fixed64(ByteBuffer& b, std::uint64_t v, int decimals, std::uint64_t scale) {
  std::uint64_t whole = v / scale, frac = v % scale;
  char tmp[24];
  int n = 0;
  do {
    tmp[n++] = static_cast<char>('0' + whole % 10);
    whole /= 10;
  } while (whole != 0);
  char* p = b.ensure(static_cast<std::size_t>(n + decimals + 1));
  char* const start = p;
  for (int i = n - 1; i >= 0; --i) *p++ = tmp[i];
  if (frac != 0) {
    int digits = decimals;
    while (frac % 10 == 0) {
      frac /= 10;
      --digits;
    }
    *p++ = '.';
    for (int i = digits - 1; i >= 0; --i) {
      p[i] = static_cast<char>('0' + frac % 10);
      frac /= 10;
    }
    p += digits;
  }
  b.commit(static_cast<std::size_t>(p - start));
}

}  // namespace

void csv_price(ByteBuffer& b, Price p) {
  if (p < 0) {
    b.commit(format_fixed(b.ensure(48), p, kPriceDecimals));
    return;
  }
  fixed64(b, static_cast<std::uint64_t>(p), kPriceDecimals, static_cast<std::uint64_t>(kPriceScale));
}

void csv_size(ByteBuffer& b, Size s) {
  if (s < 0) {
    b.commit(format_fixed(b.ensure(48), s, kSizeDecimals));
    return;
  }
  fixed64(b, static_cast<std::uint64_t>(s), kSizeDecimals, static_cast<std::uint64_t>(kSizeScale));
}

}  // namespace booktape
