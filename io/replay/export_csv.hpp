#pragma once
// The files `booktape export` writes: gzip CSV (one gzip member per ~1 MiB of rows, libdeflate;
// every gzip reader and pandas read a multi-member file whole), written under a hidden
// temporary name and renamed when complete, with its sha256 and row count for the export's
// manifest; and the row pieces (decimal prices and sizes, CSV text) formatted straight into the
// row buffer, no allocation per row.
//
// Compressing is about as much work as replaying and formatting the rows, so it runs on a
// thread of its own (CsvCompressor): the replaying thread hands over 1 MiB blocks and goes on.
// Blocks of one file are written in the order handed over; at most kBlocksInFlight wait, so a
// slow disk holds the replay back instead of filling memory.
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "codecs/gzip_member.hpp"
#include "codecs/sha256.hpp"
#include "core/byte_buffer.hpp"
#include "core/fixed_point.hpp"

namespace booktape {

class GzipCsvFile;

class CsvCompressor {
 public:
  static constexpr std::size_t kBlockBytes = std::size_t{1} << 20;
  static constexpr std::size_t kBlocksInFlight = 4;

  CsvCompressor();
  ~CsvCompressor();  // finishes what was handed over, then stops the thread
  CsvCompressor(const CsvCompressor&) = delete;
  CsvCompressor& operator=(const CsvCompressor&) = delete;

  // Hands `block` (raw CSV, `rows` lines) over to be compressed and appended to `file`, and
  // gives back an empty buffer to fill next (waits while kBlocksInFlight are pending).
  ByteBuffer submit(GzipCsvFile& file, ByteBuffer block, std::uint32_t rows);
  // Waits until every block handed over is written.
  void drain();

 private:
  struct Job {
    GzipCsvFile* file;
    ByteBuffer block;
    std::uint32_t rows;
  };
  void run();

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> jobs_;
  std::vector<ByteBuffer> free_;
  std::size_t busy_ = 0;  // jobs taken but not finished
  bool stop_ = false;
  GzipMemberWriter gzip_;
  ByteBuffer member_;
  std::thread thread_;
};

class GzipCsvFile {
 public:
  // Creates `<dir>/.<name>.tmp` and starts with `header` (ending in '\n'). Throws
  // std::runtime_error naming the file when it cannot be created.
  GzipCsvFile(CsvCompressor& compressor, const std::filesystem::path& dir, std::string name,
              std::string_view header);
  ~GzipCsvFile();  // an unfinished file is removed
  GzipCsvFile(const GzipCsvFile&) = delete;
  GzipCsvFile& operator=(const GzipCsvFile&) = delete;

  // The row being written: append to it, then end_row().
  ByteBuffer& row() noexcept { return raw_; }
  void end_row();
  // Writes the rest and renames the file to its name; throws std::runtime_error on an I/O error.
  void finish();

  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  [[nodiscard]] std::uint64_t rows() const noexcept { return rows_; }
  // After finish():
  [[nodiscard]] std::uint64_t bytes() const noexcept { return bytes_; }
  [[nodiscard]] std::uint64_t raw_bytes() const noexcept { return raw_total_; }
  [[nodiscard]] const std::string& sha256() const noexcept { return sha_hex_; }
  std::int64_t first_local_us = 0, last_local_us = 0;  // set by the writer of the rows

 private:
  friend class CsvCompressor;
  // On the compressor's thread: one compressed block.
  void write_member(std::string_view member, std::uint64_t raw_bytes);

  CsvCompressor& compressor_;
  std::filesystem::path dir_;
  std::string name_;
  int fd_ = -1;
  ByteBuffer raw_;  // rows not yet handed over
  std::uint32_t block_rows_ = 0;
  std::uint64_t rows_ = 0;
  // Written by the compressor's thread; read after drain().
  Sha256 sha_;
  std::uint64_t bytes_ = 0, raw_total_ = 0;
  std::string error_;
  std::string sha_hex_;
  bool finished_ = false;
};

// Row pieces. Each appends to `b`.
inline void csv_text(ByteBuffer& b, std::string_view s) { b.append(s); }
void csv_quoted(ByteBuffer& b, std::string_view s);  // quotes only when needed (RFC 4180)
void csv_u64(ByteBuffer& b, std::uint64_t v);
void csv_i64(ByteBuffer& b, std::int64_t v);
void csv_price(ByteBuffer& b, Price p);  // exact decimal, shortest form: "0.48", "1"
void csv_size(ByteBuffer& b, Size s);    // "219.217767", "100"
inline void csv_comma(ByteBuffer& b) {
  *b.ensure(1) = ',';
  b.commit(1);
}

}  // namespace booktape
