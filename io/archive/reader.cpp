#include "io/archive/reader.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <simdjson.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <optional>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

#include "codecs/gzip_member.hpp"
#include "codecs/gzip_stream.hpp"
#include "codecs/json_text.hpp"
#include "codecs/sha256.hpp"
#include "core/byte_buffer.hpp"
#include "io/archive/manifest_index.hpp"
#include "io/archive/paths.hpp"

namespace booktape {

namespace fs = std::filesystem;
namespace ond = simdjson::ondemand;

static_assert(ArchiveReader::kPadding >= simdjson::SIMDJSON_PADDING);

const char* to_string(FileFormat f) noexcept {
  switch (f) {
    case FileFormat::kUnknown: return "unknown";
    case FileFormat::kBooktape: return "booktape";
    case FileFormat::kPlainFrames: return "plain_frames";
  }
  return "?";
}

const char* to_string(ManifestCheck c) noexcept {
  switch (c) {
    case ManifestCheck::kNotChecked: return "not_checked";
    case ManifestCheck::kNotListed: return "not_listed";
    case ManifestCheck::kMatches: return "matches";
    case ManifestCheck::kMismatch: return "mismatch";
  }
  return "?";
}

namespace {

// A whole file, read-only: mapped, or (`copy`) read into memory. A file that may shrink while
// it is read (an ".open" file: the writer cuts a refused block, recovery a torn tail) is copied,
// since touching a mapped page past the new end is a SIGBUS.
class MappedFile {
 public:
  bool open(const fs::path& p, std::string& error, bool copy) {
    const int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      error = std::string("cannot open: ") + std::strerror(errno);
      return false;
    }
    struct stat st{};
    if (::fstat(fd, &st) != 0) {
      error = std::string("cannot stat: ") + std::strerror(errno);
      ::close(fd);
      return false;
    }
    size_ = static_cast<std::size_t>(st.st_size);
    if (copy) {
      const bool ok = read_all(fd, error);
      ::close(fd);
      return ok;
    }
    if (size_ > 0) {
      void* m = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
      if (m == MAP_FAILED) {
        error = std::string("cannot map: ") + std::strerror(errno);
        ::close(fd);
        return false;
      }
      ::madvise(m, size_, MADV_SEQUENTIAL);
      data_ = static_cast<const std::uint8_t*>(m);
    }
    ::close(fd);
    return true;
  }
  ~MappedFile() {
    if (data_ != nullptr && !copy_) ::munmap(const_cast<std::uint8_t*>(data_), size_);
  }
  [[nodiscard]] const std::uint8_t* data() const noexcept { return data_; }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }

 private:
  // Up to the size fstat gave (bytes appended meanwhile wait for the next replay).
  bool read_all(int fd, std::string& error) {
    copy_ = std::make_unique_for_overwrite<std::uint8_t[]>(size_ + 1);
    std::size_t got = 0;
    while (got < size_) {
      const ssize_t n = ::pread(fd, copy_.get() + got, size_ - got, static_cast<off_t>(got));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        error = std::string("cannot read: ") + std::strerror(errno);
        return false;
      }
      if (n == 0) break;  // it shrank
      got += static_cast<std::size_t>(n);
    }
    size_ = got;
    data_ = copy_.get();
    return true;
  }

  const std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
  std::unique_ptr<std::uint8_t[]> copy_;
};

bool starts_with_file_record(std::string_view line) noexcept {
  return line.starts_with("{\"record\":\"file\"");
}

// Reads a compact "frame" record positionally, in the exact layout EnvelopeEncoder writes
// (codecs/envelope.cpp). Anything unexpected returns false and the caller parses the line with
// simdjson instead, so this is only ever a shortcut, never a second definition of the format.
struct FastFrame {
  ArchiveFrame f;
  std::uint64_t declared_len = 0;
  std::string_view sha_hex, body;
  bool base64 = false;
};

class Cursor {
 public:
  explicit Cursor(std::string_view s) : p_(s.data()), end_(s.data() + s.size()) {}
  // Literal lengths are compile-time constants so the compare inlines to a few loads.
  template <std::size_t N>
  bool lit(const char (&l)[N]) noexcept {
    constexpr std::size_t n = N - 1;
    if (static_cast<std::size_t>(end_ - p_) < n || std::memcmp(p_, l, n) != 0) return false;
    p_ += n;
    return true;
  }
  bool skip(std::size_t n) noexcept {
    if (static_cast<std::size_t>(end_ - p_) < n) return false;
    p_ += n;
    return true;
  }
  bool u64(std::uint64_t& v) noexcept {
    const char* start = p_;
    v = 0;
    while (p_ < end_ && static_cast<unsigned>(*p_ - '0') < 10 && p_ - start < 19)
      v = v * 10 + static_cast<unsigned>(*p_++ - '0');
    return p_ != start;
  }
  // Values outside int64 return false (simdjson then reports the line), never wrap: 19 digits
  // reach 9999999999999999999, and negating -2^63 as an int64 is undefined.
  bool i64(std::int64_t& v) noexcept {
    const bool neg = p_ < end_ && *p_ == '-';
    if (neg) ++p_;
    std::uint64_t u = 0;
    if (!u64(u)) return false;
    constexpr std::uint64_t kMax = std::numeric_limits<std::int64_t>::max();
    if (u > kMax + (neg ? 1u : 0u)) return false;
    v = static_cast<std::int64_t>(neg ? 0 - u : u);  // two's complement: 0 - 2^63 is -2^63
    return true;
  }
  // A string body with no escapes, up to (not past) its closing quote.
  bool plain_string(std::string_view& out) noexcept {
    const char* q = static_cast<const char*>(std::memchr(p_, '"', static_cast<std::size_t>(end_ - p_)));
    if (q == nullptr || std::memchr(p_, '\\', static_cast<std::size_t>(q - p_)) != nullptr)
      return false;
    out = std::string_view(p_, static_cast<std::size_t>(q - p_));
    p_ = q;
    return true;
  }
  // Skips a string body that may hold escapes; stops on its closing quote.
  bool skip_string() noexcept {
    while (p_ < end_) {
      if (*p_ == '\\') {
        p_ += 2;
      } else if (*p_ == '"') {
        return true;
      } else {
        ++p_;
      }
    }
    return false;
  }
  bool skip_past(char c) noexcept {
    const char* q = static_cast<const char*>(std::memchr(p_, c, static_cast<std::size_t>(end_ - p_)));
    if (q == nullptr) return false;
    p_ = q + 1;
    return true;
  }
  [[nodiscard]] const char* pos() const noexcept { return p_; }

 private:
  const char* p_;
  const char* end_;
};

bool parse_compact_frame(std::string_view line, FastFrame& out) noexcept {
  Cursor c(line);
  ArchiveFrame& f = out.f;
  std::uint64_t u = 0;
  if (!c.lit("{\"record\":\"frame\",\"received_at_utc\":\"") || !c.skip(kUtcTextLength) ||
      !c.lit("\",\"received_at_ns\":") || !c.i64(f.received_ns) ||
      !c.lit(",\"monotonic_ns\":") || !c.i64(f.monotonic_ns) ||
      !c.lit(",\"session_id\":\"") || !c.plain_string(f.session_id) ||
      !c.lit("\",\"connection_sequence\":") || !c.u64(f.connection_sequence) ||
      !c.lit(",\"message_sequence\":") || !c.u64(f.message_sequence) ||
      !c.lit(",\"global_message_sequence\":") || !c.u64(f.global_sequence) ||
      !c.lit(",\"opcode\":\""))
    return false;
  if (c.lit("text\"")) {
    f.opcode = Opcode::kText;
  } else if (c.lit("binary\"")) {
    f.opcode = Opcode::kBinary;
  } else {
    return false;
  }
  if (!c.lit(",\"payload_length_bytes\":") || !c.u64(u) || !c.lit(",\"payload_sha256\":\""))
    return false;
  out.declared_len = u;
  out.sha_hex = std::string_view(c.pos(), std::min<std::size_t>(kSha256HexChars, line.size()));
  if (!c.skip(kSha256HexChars) || !c.lit("\",\"classified_event_types\":[") || !c.skip_past(']') ||
      !c.lit(",\"json_error\":"))
    return false;
  if (!c.lit("null")) {
    if (!c.lit("\"") || !c.skip_string() || !c.lit("\"")) return false;
  }
  if (c.lit(",\"raw_text\":\"")) {
    out.base64 = false;
  } else if (c.lit(",\"raw_base64\":\"")) {
    out.base64 = true;
  } else {
    return false;  // e.g. the full envelope: simdjson reads it
  }
  // The payload runs to the line's final `"}`; the unescaper rejects a stray quote inside.
  if (!line.ends_with("\"}")) return false;
  const char* body_end = line.data() + line.size() - 2;
  if (body_end < c.pos()) return false;
  out.body = std::string_view(c.pos(), static_cast<std::size_t>(body_end - c.pos()));
  return true;
}

}  // namespace

struct ArchiveReader::Impl {
  explicit Impl(const Options& o) : opt(o) {}

  // Handles one complete line; `readable` bytes may be read from line.data().
  bool on_line(std::string_view line, std::size_t readable, ArchiveVisitor& v, FileReport& r);
  bool is_frame_in_other_layout(std::string_view line, std::size_t readable);
  bool on_envelope_line(std::string_view line, std::size_t readable, ArchiveVisitor& v,
                        FileReport& r);
  // Completes a frame whose payload is in `payload` and hands it to the visitor.
  bool deliver(ArchiveFrame& f, std::uint64_t declared_len, std::string_view sha_hex,
               ArchiveVisitor& v, FileReport& r);
  // Splits a chunk (with kPadding readable bytes after it) into lines; a trailing partial line
  // is left in `carry` when `carry_tail` is set.
  bool on_chunk(const char* data, std::size_t size, ArchiveVisitor& v, FileReport& r,
                std::size_t& consumed);
  bool read_booktape_members(const MappedFile& m, ArchiveVisitor& v, FileReport& r);
  bool read_stream(const MappedFile& m, ArchiveVisitor& v, FileReport& r);
  // The offset of the next member at or after `from` that passes every check (header, CRC,
  // length), or the file's size if there is none.
  std::size_t next_valid_member(const MappedFile& m, std::size_t from);
  // Compares a closed file with its manifest entry; `whole` when every line was read.
  void check_manifest(const std::filesystem::path& path, const MappedFile& m, bool whole,
                      FileReport& r);
  const ManifestIndex& manifest_for(const std::filesystem::path& file, std::string_view path);

  Options opt;
  GzipMemberReader members;
  ByteBuffer block;     // a decompressed member
  ByteBuffer carry;     // stream mode: bytes of lines not yet complete
  ByteBuffer payload;   // an unescaped raw_text / decoded raw_base64, padded
  std::string scratch;  // base64 decode target
  std::string run_id;
  ond::parser parser;
  Sha256 sha;
  bool stopped = false;
  ByteBuffer probe;  // a candidate member inflated while looking past a damaged one
  // Manifests read so far, by manifest file: a replay of a data root reads each once (and again
  // only when a file is not listed and the manifest has grown meanwhile).
  std::unordered_map<std::string, ManifestIndex> manifests;
};

namespace {

void add_span(FileReport& r, std::uint64_t offset, std::uint64_t bytes, std::uint64_t rows,
              std::string reason) {
  if (r.corrupt_spans.empty()) r.error = reason;
  r.corrupt = true;
  r.corrupt_bytes += bytes;
  r.corrupt_rows += rows;
  r.corrupt_spans.push_back(CorruptSpan{offset, bytes, rows, std::move(reason)});
  if (r.corrupt_spans.size() > 1) {
    r.error = r.corrupt_spans.front().reason + " (and " +
              std::to_string(r.corrupt_spans.size() - 1) + " more damaged span(s))";
  }
}

}  // namespace

ArchiveReader::ArchiveReader() : ArchiveReader(Options{}) {}
ArchiveReader::ArchiveReader(const Options& options) : impl_(std::make_unique<Impl>(options)) {}
ArchiveReader::~ArchiveReader() = default;

// Our writer puts "record" first, compact; a line rewritten by another tool (spaces, keys
// reordered) is still a frame if its "record" says so. Only lines that fail the fast prefix
// check come here, and those are records (a few per file) or foreign layouts.
bool ArchiveReader::Impl::is_frame_in_other_layout(std::string_view line, std::size_t readable) {
  if (line.starts_with("{\"record\":\"")) return false;  // ours: a record of another kind
  ond::document doc;
  std::string_view kind;
  return parser.iterate(line.data(), line.size(), readable).get(doc) == simdjson::SUCCESS &&
         doc["record"].get_string().get(kind) == simdjson::SUCCESS && kind == "frame";
}

bool ArchiveReader::Impl::on_line(std::string_view line, std::size_t readable, ArchiveVisitor& v,
                                  FileReport& r) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (r.format == FileFormat::kUnknown) {
    if (line.starts_with("\xEF\xBB\xBF")) {  // a BOM some editors write
      line.remove_prefix(3);
      readable -= 3;  // counted from the line's start
    }
    if (line.empty()) return true;
    r.format = starts_with_file_record(line) ? FileFormat::kBooktape : FileFormat::kPlainFrames;
  }
  ++r.lines;
  if (r.format == FileFormat::kPlainFrames) {
    // Blank lines (spaces and tabs too) separate nothing; they are not frames.
    if (line.find_first_not_of(" \t") == std::string_view::npos) return true;
    ArchiveFrame f;
    f.data = line.data();
    f.size = line.size();
    f.readable = readable;
    ++r.frames;
    return v.on_frame(f);
  }
  return on_envelope_line(line, readable, v, r);
}

bool ArchiveReader::Impl::on_envelope_line(std::string_view line, std::size_t readable,
                                           ArchiveVisitor& v, FileReport& r) {
  if (!line.starts_with("{\"record\":\"frame\"") && !is_frame_in_other_layout(line, readable)) {
    if (line.starts_with("{\"record\":")) {
      ++r.records;
      if (starts_with_file_record(line)) {
        // Pull the run id out of the file record for sequence checks downstream.
        ond::document doc;
        std::string_view id;
        if (parser.iterate(line.data(), line.size(), readable).get(doc) == simdjson::SUCCESS &&
            doc["run_id"].get_string().get(id) == simdjson::SUCCESS) {
          run_id.assign(id);
          r.run_id = run_id;
        }
      }
      v.on_record(line);
    } else if (!line.empty()) {
      ++r.bad_lines;
    }
    return true;
  }

  // Fast path: our own compact layout, payload unescaped 64 bytes at a time.
  FastFrame fast;
  if (parse_compact_frame(line, fast)) {
    payload.clear();
    bool decoded = false;
    if (!fast.base64) {
      char* p = payload.ensure(fast.body.size() + 2 * kPadding);
      if (char* e = json_unescape_simple(p, fast.body)) {
        payload.commit_to(e);
        decoded = true;
      }
    } else {
      scratch.clear();
      if (base64_decode(fast.body, scratch)) {
        payload.append(scratch);
        decoded = true;
      }
    }
    if (decoded) return deliver(fast.f, fast.declared_len, fast.sha_hex, v, r);
  }

  ArchiveFrame f;
  std::uint64_t declared_len = 0;
  std::string_view sha_hex, raw_text, raw_b64;
  bool have_text = false, have_b64 = false;
  ond::document doc;
  ond::object obj;
  auto bad = [&r]() {
    ++r.bad_lines;
    return true;
  };
  if (parser.iterate(line.data(), line.size(), readable).get(doc) ||
      doc.get_object().get(obj))
    return bad();
  for (auto field_result : obj) {
    if (field_result.error()) return bad();
    ond::field& field = field_result.value_unsafe();
    const char* k = field.key().raw();
    ond::value& val = field.value();
    simdjson::error_code e = simdjson::SUCCESS;
    switch (k[0]) {
      case 'r':
        if (std::memcmp(k, "received_at_ns\"", 15) == 0) {
          e = val.get_int64().get(f.received_ns);
        } else if (std::memcmp(k, "raw_text\"", 9) == 0) {
          e = val.get_string().get(raw_text);
          have_text = !e;
        } else if (std::memcmp(k, "raw_base64\"", 11) == 0) {
          e = val.get_string().get(raw_b64);
          have_b64 = !e;
        }
        break;
      case 'm':
        if (std::memcmp(k, "monotonic_ns\"", 13) == 0) e = val.get_int64().get(f.monotonic_ns);
        else if (std::memcmp(k, "message_sequence\"", 17) == 0)
          e = val.get_uint64().get(f.message_sequence);
        break;
      case 's':
        if (std::memcmp(k, "session_id\"", 11) == 0) e = val.get_string().get(f.session_id);
        break;
      case 'c':
        if (std::memcmp(k, "connection_sequence\"", 20) == 0)
          e = val.get_uint64().get(f.connection_sequence);
        break;
      case 'g':
        if (std::memcmp(k, "global_message_sequence\"", 24) == 0)
          e = val.get_uint64().get(f.global_sequence);
        break;
      case 'o':
        if (std::memcmp(k, "opcode\"", 7) == 0) {
          std::string_view op;
          e = val.get_string().get(op);
          if (!e && op == "binary") f.opcode = Opcode::kBinary;
        }
        break;
      case 'p':
        if (std::memcmp(k, "payload_length_bytes\"", 21) == 0) {
          e = val.get_uint64().get(declared_len);
        } else if (opt.verify_sha256 && std::memcmp(k, "payload_sha256\"", 15) == 0) {
          // Taken as its raw token, never unescaped: a checksum that is not a plain string is a
          // mismatch, not a bad line, so verifying never changes which frames are read (without
          // it the field is skipped unparsed, and a failed get_string() would end the line).
          std::string_view raw = val.raw_json_token();  // may end in whitespace
          while (!raw.empty() && (raw.back() == ' ' || raw.back() == '\t' || raw.back() == '\r' ||
                                  raw.back() == '\n'))
            raw.remove_suffix(1);
          sha_hex = raw.size() == kSha256HexChars + 2 && raw.front() == '"' && raw.back() == '"'
                        ? raw.substr(1, kSha256HexChars)
                        : std::string_view();
        }
        break;
      default:
        break;
    }
    if (e) return bad();
  }
  if (!have_text && !have_b64) return bad();

  // The session id and the payload live in the parser's string buffer until the next parse,
  // which happens only after the visitor returns; the payload is copied to get padding.
  payload.clear();
  if (have_text) {
    char* p = payload.ensure(raw_text.size() + kPadding);
    std::memcpy(p, raw_text.data(), raw_text.size());
    payload.commit(raw_text.size());
  } else {
    scratch.clear();
    if (!base64_decode(raw_b64, scratch)) return bad();
    payload.append(scratch);
  }
  return deliver(f, declared_len, sha_hex, v, r);
}

bool ArchiveReader::Impl::deliver(ArchiveFrame& f, std::uint64_t declared_len,
                                  std::string_view sha_hex, ArchiveVisitor& v, FileReport& r) {
  std::memset(payload.ensure(kPadding), 0, kPadding);
  f.has_envelope = true;
  f.run_id = run_id;
  f.data = payload.data();
  f.size = payload.size();
  f.readable = payload.size() + kPadding;
  if (declared_len != f.size) ++r.length_mismatches;
  if (opt.verify_sha256) {
    char hex[kSha256HexChars];
    sha.hex_digest(f.payload(), hex);
    if (sha_hex != std::string_view(hex, kSha256HexChars)) ++r.sha_mismatches;
  }
  ++r.frames;
  return v.on_frame(f);
}

bool ArchiveReader::Impl::on_chunk(const char* data, std::size_t size, ArchiveVisitor& v,
                                   FileReport& r, std::size_t& consumed) {
  const char* p = data;
  const char* const end = data + size;
  while (p < end) {
    const auto* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<std::size_t>(end - p)));
    if (nl == nullptr) break;
    const std::size_t readable = static_cast<std::size_t>(end - p) + kPadding;
    if (!on_line(std::string_view(p, static_cast<std::size_t>(nl - p)), readable, v, r)) {
      consumed = static_cast<std::size_t>(nl + 1 - data);
      return false;
    }
    p = nl + 1;
  }
  consumed = static_cast<std::size_t>(p - data);
  return true;
}

std::size_t ArchiveReader::Impl::next_valid_member(const MappedFile& m, std::size_t from) {
  const std::uint8_t* const d = m.data();
  const std::size_t n = m.size();
  for (std::size_t pos = from; pos + kGzipMemberHeaderBytes <= n; ++pos) {
    const void* hit = std::memchr(d + pos, 0x1f, n - pos);
    if (hit == nullptr) break;
    pos = static_cast<std::size_t>(static_cast<const std::uint8_t*>(hit) - d);
    if (pos + kGzipMemberHeaderBytes > n) break;
    if (d[pos + 1] != 0x8b || d[pos + 2] != 8 || (d[pos + 3] & 0x04) == 0) continue;
    MemberHeader h;
    if (members.inflate(d + pos, n - pos, h, probe) == MemberStatus::kOk) return pos;
  }
  return n;
}

bool ArchiveReader::Impl::read_booktape_members(const MappedFile& m, ArchiveVisitor& v,
                                                FileReport& r) {
  std::size_t off = 0;
  while (off < m.size()) {
    MemberHeader h;
    const MemberStatus s = members.inflate(m.data() + off, m.size() - off, h, block);
    if (s != MemberStatus::kOk) {
      // The header may be intact even when the body is not: then it says how many rows the
      // member held, and where the next one starts.
      MemberHeader claimed;
      const bool header_ok =
          parse_member_header(m.data() + off, m.size() - off, claimed) == MemberStatus::kOk;
      std::size_t next = m.size();
      if (header_ok && s != MemberStatus::kTruncated && claimed.member_bytes < m.size() - off) {
        next = next_valid_member(m, off + claimed.member_bytes);
        if (next != off + claimed.member_bytes) next = next_valid_member(m, off + 1);
      } else {
        next = next_valid_member(m, off + 1);
      }
      const bool one_member = header_ok && next == off + claimed.member_bytes;
      if (s == MemberStatus::kTruncated && next == m.size()) {
        const std::uint64_t rows = header_ok ? claimed.rows : 0;
        if (r.open_file) {
          // A crash cut the writer off inside this member: everything before it is intact.
          r.torn_tail_bytes = m.size() - off;
          r.torn_tail_rows = rows;
          if (r.error.empty()) r.error = "torn tail: the last gzip member is incomplete";
          return true;
        }
        // A closed file was sealed whole (recovery cuts a torn tail off before the rename), so
        // a member cut short here means the file lost its end.
        r.cut_short_bytes = m.size() - off;
        add_span(r, off, m.size() - off, rows,
                 "cut short: the file ends inside the gzip member at byte " + std::to_string(off) +
                     " (a closed file is never torn)");
        return true;
      }
      add_span(r, off, next - off, one_member ? claimed.rows : 0,
               std::string("gzip member at byte ") + std::to_string(off) + ": " + to_string(s) +
                   (next < m.size() ? "; read on from the next valid member at byte " +
                                          std::to_string(next)
                                    : std::string("; no valid member after it")));
      off = next;
      continue;
    }
    ++r.members;
    r.raw_bytes += block.size();
    off += h.member_bytes;
    std::memset(block.ensure(kPadding), 0, kPadding);
    std::size_t consumed = 0;
    if (!on_chunk(block.data(), block.size(), v, r, consumed)) return false;
    if (consumed != block.size()) ++r.bad_lines;  // a block must end with a newline
  }
  return true;
}

const ManifestIndex& ArchiveReader::Impl::manifest_for(const fs::path& file,
                                                       std::string_view path) {
  const std::string key = file.string();
  auto it = manifests.find(key);
  if (it == manifests.end()) {
    it = manifests.emplace(key, ManifestIndex::load(file)).first;
  } else if (it->second.find(path) == nullptr) {
    std::error_code ec;
    const std::uintmax_t size = fs::file_size(file, ec);
    if (!ec && size != it->second.file_bytes()) it->second = ManifestIndex::load(file);
  }
  return it->second;
}

void ArchiveReader::Impl::check_manifest(const fs::path& path, const MappedFile& m, bool whole,
                                         FileReport& r) {
  const std::optional<ArchiveLocation> loc = locate_archive_file(path);
  if (!loc) return;
  const fs::path file = manifest_path(loc->root / "manifests", loc->venue, loc->stream);
  const ManifestEntry* e = manifest_for(file, loc->manifest_path).find(loc->manifest_path);
  if (e == nullptr) {
    r.manifest = ManifestCheck::kNotListed;
    return;
  }
  r.manifest_bytes = e->bytes;
  r.manifest_rows = e->rows;
  r.manifest_members = e->members;
  r.manifest_sha256 = e->sha256;
  std::string problem;
  auto add = [&problem](const std::string& p) {
    if (!problem.empty()) problem += "; ";
    problem += p;
  };
  if (m.size() < e->bytes) {
    add("cut short: " + std::to_string(m.size()) + " of the " + std::to_string(e->bytes) +
        " bytes its manifest entry lists");
  } else if (m.size() > e->bytes) {
    add(std::to_string(m.size()) + " bytes, " + std::to_string(m.size() - e->bytes) +
        " more than its manifest entry lists");
  } else {
    char hex[kSha256HexChars];
    sha.hex_digest(std::string_view(reinterpret_cast<const char*>(m.data()), m.size()), hex);
    if (std::string_view(hex, kSha256HexChars) != e->sha256)
      add("sha256 differs from its manifest entry");
  }
  if (whole) {
    if (r.lines < e->rows) r.missing_rows = e->rows - r.lines;
    if (r.lines != e->rows) {
      add(std::to_string(r.lines) + " of the " + std::to_string(e->rows) + " rows read" +
          (r.missing_rows > 0 ? " (" + std::to_string(r.missing_rows) + " missing)" : ""));
    }
    if (r.members != e->members) {
      add(std::to_string(r.members) + " of the " + std::to_string(e->members) +
          " gzip members read");
    }
  }
  r.manifest = problem.empty() ? ManifestCheck::kMatches : ManifestCheck::kMismatch;
  r.manifest_problem = std::move(problem);
  if (r.manifest == ManifestCheck::kMismatch && r.error.empty()) r.error = r.manifest_problem;
}

bool ArchiveReader::Impl::read_stream(const MappedFile& m, ArchiveVisitor& v, FileReport& r) {
  carry.clear();
  bool keep_going = true;
  auto feed = [&](std::string_view chunk) {
    r.raw_bytes += chunk.size();
    carry.append(chunk);
    std::memset(carry.ensure(kPadding), 0, kPadding);
    std::size_t consumed = 0;
    keep_going = on_chunk(carry.data(), carry.size(), v, r, consumed);
    // Keep the incomplete last line for the next chunk.
    const std::size_t rest = carry.size() - consumed;
    std::memmove(carry.data(), carry.data() + consumed, rest);
    carry.resize_down(rest);
    return keep_going;
  };
  if (r.gzip) {
    const InflateOutcome o = inflate_gzip(m.data(), m.size(), feed);
    r.members = o.members;
    if (o.status == InflateOutcome::Status::kCorrupt) {
      // Another writer's gzip has no member lengths to find the next member by: the rest of
      // the file is the damaged span.
      add_span(r, o.consumed, m.size() - o.consumed, 0, o.message);
    } else if (o.status != InflateOutcome::Status::kOk) {
      r.torn_tail_bytes = m.size() - o.consumed;  // another recorder's file, cut short
      r.error = o.message;
    }
  } else {
    constexpr std::size_t kChunk = std::size_t{1} << 20;
    for (std::size_t off = 0; off < m.size() && keep_going; off += kChunk) {
      const std::size_t n = std::min(kChunk, m.size() - off);
      feed(std::string_view(reinterpret_cast<const char*>(m.data() + off), n));
    }
  }
  if (keep_going && !carry.empty()) {
    // A last line without a newline: complete for a plain file, torn for a gzip one that
    // stopped early (it is still delivered: the bytes are what they are).
    std::memset(carry.ensure(kPadding), 0, kPadding);
    keep_going = on_line(carry.view(), carry.size() + kPadding, v, r);
    carry.clear();
  }
  return keep_going;
}

bool ArchiveReader::read_file(const fs::path& path, ArchiveVisitor& visitor, FileReport& report) {
  Impl& im = *impl_;
  report = FileReport{};
  report.path = path;
  report.open_file = is_open_name(path.filename().string());
  im.run_id.clear();
  MappedFile m;
  if (!m.open(path, report.error, report.open_file)) {
    report.corrupt = true;
    report.unreadable = true;
    return true;
  }
  report.bytes = m.size();
  report.gzip = m.size() >= 2 && m.data()[0] == 0x1f && m.data()[1] == 0x8b;
  if (report.gzip) {
    MemberHeader h;
    report.booktape_members =
        parse_member_header(m.data(), m.size(), h) != MemberStatus::kForeign;
  }
  if (report.open_file && !(report.gzip && report.booktape_members)) {
    // Only booktape writes ".open" files, always as our members: anything else is the start of
    // one cut short (recovery treats it the same), not a plain frame file.
    if (m.size() > 0) {
      report.torn_tail_bytes = m.size();
      report.error = "torn tail: the first gzip member is incomplete";
    }
    return true;
  }
  const bool whole = report.gzip && report.booktape_members
                         ? im.read_booktape_members(m, visitor, report)
                         : im.read_stream(m, visitor, report);
  if (im.opt.check_manifest && !report.open_file) im.check_manifest(path, m, whole, report);
  return whole;
}

std::vector<fs::path> ArchiveReader::expand(const std::vector<fs::path>& in,
                                            std::vector<std::string>& errors) {
  std::vector<fs::path> files;
  auto wanted = [](const fs::path& p) {
    const std::string name = p.filename().string();
    if (is_open_name(name)) return true;
    // Hidden files are temporaries or other tools' metadata (macOS "._x.jsonl.gz").
    if (name.starts_with('.') || name.ends_with(".manifest.jsonl")) return false;
    return name.ends_with(".jsonl") || name.ends_with(".jsonl.gz");
  };
  for (const fs::path& p : in) {
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      std::vector<fs::path> found;
      for (auto it = fs::recursive_directory_iterator(p, ec); !ec && it != fs::end(it);
           it.increment(ec)) {
        // A data root's discovery/ holds Gamma's answers, not websocket frames.
        if (it->is_directory(ec) && it->path().filename() == "discovery") {
          it.disable_recursion_pending();
          continue;
        }
        if (it->is_regular_file(ec) && wanted(it->path())) found.push_back(it->path());
      }
      if (ec) errors.push_back(p.string() + ": " + ec.message());
      std::sort(found.begin(), found.end());  // plain frame files: by path
      files.insert(files.end(), found.begin(), found.end());
    } else if (fs::is_regular_file(p, ec)) {
      files.push_back(p);
    } else {
      errors.push_back(p.string() + ": no such file or directory");
    }
  }
  // The same file given twice (a directory and a folder inside it) is read once.
  std::vector<fs::path> unique;
  std::unordered_set<std::string> seen;
  for (const fs::path& f : files) {
    std::error_code ec;
    fs::path canon = fs::weakly_canonical(f, ec);
    if (!seen.insert(ec ? f.string() : canon.string()).second) continue;
    unique.push_back(f);
  }
  // Receive order: booktape archive files by run (run ids start with their start time), then
  // by file sequence, which a wall clock step cannot reorder the way it reorders hour folders;
  // they come first. Plain frame files keep the order given.
  struct Keyed {
    std::optional<ArchiveName> name;
    std::size_t index;
  };
  std::vector<Keyed> keyed;
  keyed.reserve(unique.size());
  for (std::size_t i = 0; i < unique.size(); ++i)
    keyed.push_back({parse_archive_file_name(closed_name_of(unique[i].filename().string())), i});
  std::stable_sort(keyed.begin(), keyed.end(), [](const Keyed& a, const Keyed& b) {
    if (a.name.has_value() != b.name.has_value()) return a.name.has_value();
    if (!a.name) return false;
    return std::tie(a.name->run_id, a.name->venue_stream, a.name->sequence) <
           std::tie(b.name->run_id, b.name->venue_stream, b.name->sequence);
  });
  std::vector<fs::path> out;
  out.reserve(keyed.size());
  for (const Keyed& k : keyed) out.push_back(std::move(unique[k.index]));
  return out;
}

}  // namespace booktape
