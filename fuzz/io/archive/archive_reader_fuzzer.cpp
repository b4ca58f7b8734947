// Fuzzes the archive reader: the input is one archive file, read under a closed booktape name and
// then under its ".open" name (a file a crash left behind), as `booktape replay` would. The reader
// decides the format from the content (an ".open" name is always booktape's members), so any
// bytes must give a report, never a crash, and the report must agree with itself, with what the
// visitor saw and with the other name's report.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/fuzz_support.hpp"
#include "io/archive/paths.hpp"
#include "io/archive/reader.hpp"

namespace {

using namespace booktape;

// Counts what it is handed and touches every byte it may read (ASan checks the `readable` promise).
struct Visitor final : ArchiveVisitor {
  bool on_frame(const ArchiveFrame& f) override {
    BOOKTAPE_FUZZ_CHECK(f.data != nullptr || f.size == 0);
    BOOKTAPE_FUZZ_CHECK(f.readable >= f.size + ArchiveReader::kPadding);
    unsigned sum = 0;
    for (std::size_t i = 0; i < f.readable; ++i) sum += static_cast<unsigned char>(f.data[i]);
    checksum += sum;
    ++frames;
    if (f.has_envelope) ++enveloped;
    return true;
  }
  void on_record(std::string_view line) override {
    BOOKTAPE_FUZZ_CHECK(line.starts_with("{\"record\":"));
    ++records;
  }
  std::uint64_t frames = 0, enveloped = 0, records = 0, checksum = 0;
};

void check_report(const FileReport& r, const Visitor& v, std::string_view bytes) {
  BOOKTAPE_FUZZ_CHECK(r.bytes == bytes.size());
  BOOKTAPE_FUZZ_CHECK(r.gzip == (bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0x1f &&
                                 static_cast<unsigned char>(bytes[1]) == 0x8b));
  BOOKTAPE_FUZZ_CHECK(!r.booktape_members || r.gzip);
  BOOKTAPE_FUZZ_CHECK(r.frames == v.frames && r.records == v.records);
  // Envelopes exist only in booktape files; plain frame files have no records.
  BOOKTAPE_FUZZ_CHECK(v.enveloped == (r.format == FileFormat::kBooktape ? r.frames : 0));
  if (r.format == FileFormat::kPlainFrames) BOOKTAPE_FUZZ_CHECK(r.records == 0);
  if (r.format == FileFormat::kUnknown) BOOKTAPE_FUZZ_CHECK(r.lines == 0 && r.frames == 0);
  // Every frame, record and bad line is a line, except one bad line per member whose block does
  // not end in a newline.
  BOOKTAPE_FUZZ_CHECK(r.frames + r.records <= r.lines);
  BOOKTAPE_FUZZ_CHECK(r.frames + r.records + r.bad_lines <= r.lines + r.members);
  BOOKTAPE_FUZZ_CHECK(r.length_mismatches <= r.frames && r.sha_mismatches <= r.frames);
  BOOKTAPE_FUZZ_CHECK(r.torn_tail_bytes + r.corrupt_bytes <= r.bytes);
  BOOKTAPE_FUZZ_CHECK(r.members == 0 || r.gzip);
  // Damaged spans: in file order, apart, inside the file, adding up, each with a reason; a
  // closed file's cut-short end is its last span.
  BOOKTAPE_FUZZ_CHECK(r.corrupt == !r.corrupt_spans.empty());
  std::uint64_t end = 0, sum = 0, rows = 0;
  for (const CorruptSpan& c : r.corrupt_spans) {
    BOOKTAPE_FUZZ_CHECK(c.offset >= end && c.bytes > 0 && !c.reason.empty());
    end = c.offset + c.bytes;
    sum += c.bytes;
    rows += c.rows;
  }
  BOOKTAPE_FUZZ_CHECK(end <= r.bytes && sum == r.corrupt_bytes && rows == r.corrupt_rows);
  if (r.cut_short_bytes > 0) {
    BOOKTAPE_FUZZ_CHECK(!r.open_file && r.corrupt_spans.back().bytes == r.cut_short_bytes &&
                        end == r.bytes);
  }
  // Outside a data root there is no manifest to check against.
  BOOKTAPE_FUZZ_CHECK(r.manifest == ManifestCheck::kNotChecked && !r.damaged() == !r.corrupt);
  // Stopping early or skipping always says why.
  if (r.corrupt || r.torn_tail_bytes > 0) BOOKTAPE_FUZZ_CHECK(!r.error.empty());
}

// Printed before a failed comparison, so a finding says which counts differ.
void print(const char* what, const FileReport& r) {
  std::fprintf(stderr,
               "%s: format=%s members=%llu lines=%llu frames=%llu records=%llu bad_lines=%llu "
               "length_mismatches=%llu sha_mismatches=%llu torn=%llu cut_short=%llu spans=%zu "
               "corrupt=%d error=%s\n",
               what, to_string(r.format), static_cast<unsigned long long>(r.members),
               static_cast<unsigned long long>(r.lines), static_cast<unsigned long long>(r.frames),
               static_cast<unsigned long long>(r.records),
               static_cast<unsigned long long>(r.bad_lines),
               static_cast<unsigned long long>(r.length_mismatches),
               static_cast<unsigned long long>(r.sha_mismatches),
               static_cast<unsigned long long>(r.torn_tail_bytes),
               static_cast<unsigned long long>(r.cut_short_bytes), r.corrupt_spans.size(),
               r.corrupt ? 1 : 0,
               r.error.c_str());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const booktape::fuzz::ScratchDir dir;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const std::string closed = "booktape-fuzz.jsonl.gz";

  // Closed name, every payload's sha256 recomputed.
  const std::filesystem::path closed_path = dir.write(closed, bytes);
  ArchiveReader verifying(ArchiveReader::Options{.verify_sha256 = true});
  Visitor v1;
  FileReport r1;
  BOOKTAPE_FUZZ_CHECK(verifying.read_file(closed_path, v1, r1));
  BOOKTAPE_FUZZ_CHECK(!r1.open_file);
  check_report(r1, v1, bytes);

  // The same bytes as a ".open" file, without verification: the same frames, lines and damage.
  const std::filesystem::path open_path = dir.path() / open_name(closed);
  std::filesystem::rename(closed_path, open_path);
  ArchiveReader plain;
  Visitor v2;
  FileReport r2;
  BOOKTAPE_FUZZ_CHECK(plain.read_file(open_path, v2, r2));
  BOOKTAPE_FUZZ_CHECK(r2.open_file);
  check_report(r2, v2, bytes);
  BOOKTAPE_FUZZ_CHECK(r2.sha_mismatches == 0);
  if (!(r1.gzip && r1.booktape_members)) {
    // Only booktape writes ".open" files, as its own members: other bytes under that name are
    // a first member cut short, never a plain frame file.
    BOOKTAPE_FUZZ_CHECK(r2.format == FileFormat::kUnknown && r2.frames == 0 && r2.lines == 0);
    BOOKTAPE_FUZZ_CHECK(r2.torn_tail_bytes == bytes.size());
    std::filesystem::remove(open_path);
    return 0;
  }
  // The same damage, except that a last member cut short is a torn tail under the ".open" name
  // (a crash) and damage under the closed name (a closed file is never torn).
  BOOKTAPE_FUZZ_CHECK(r1.torn_tail_bytes == 0 && r2.cut_short_bytes == 0);
  std::vector<CorruptSpan> spans1 = r1.corrupt_spans;
  if (r1.cut_short_bytes > 0) spans1.pop_back();
  bool same_spans = spans1.size() == r2.corrupt_spans.size();
  for (std::size_t i = 0; same_spans && i < spans1.size(); ++i) {
    same_spans = spans1[i].offset == r2.corrupt_spans[i].offset &&
                 spans1[i].bytes == r2.corrupt_spans[i].bytes &&
                 spans1[i].rows == r2.corrupt_spans[i].rows;
  }
  const bool same =
      r1.format == r2.format && r1.booktape_members == r2.booktape_members &&
      r1.frames == r2.frames && r1.lines == r2.lines && r1.records == r2.records &&
      r1.bad_lines == r2.bad_lines && r1.members == r2.members &&
      r1.length_mismatches == r2.length_mismatches && r1.cut_short_bytes == r2.torn_tail_bytes &&
      same_spans && r1.run_id == r2.run_id && v1.checksum == v2.checksum;
  if (!same) {
    print("verifying, closed name", r1);
    print("not verifying, .open name", r2);
  }
  BOOKTAPE_FUZZ_CHECK(same);
  std::filesystem::remove(open_path);
  return 0;
}
