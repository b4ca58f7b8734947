// ConnectionTracker on archives written by the real writer: a connection closed by a record, one
// left open by a killed run (it lasts to that run's last frame), the runs in archive order, and
// the tokens the session records described.
#include <gtest/gtest.h>

#include "io/archive/connections.hpp"
#include "io/archive/reader.hpp"
#include "tests/support/archive_files.hpp"
#include "tests/support/stream_gen.hpp"
#include "tests/support/temp_dir.hpp"

namespace booktape {
namespace {

namespace fs = std::filesystem;
using testing::FrameWriter;
using testing::TempDir;

constexpr UnixNanos kT0 = 1'763'703'252'000'000'000;
constexpr UnixNanos kMs = 1'000'000;

class Feed final : public ArchiveVisitor {
 public:
  explicit Feed(ConnectionTracker& t) : t_(t) {}
  bool on_frame(const ArchiveFrame& f) override {
    if (f.has_envelope) t_.on_frame(f.run_id, f.received_ns);
    return true;
  }
  void on_record(std::string_view line) override { t_.on_record(line); }

 private:
  ConnectionTracker& t_;
};

TEST(ConnectionTracker, AKilledRunsConnectionLastsToItsLastFrameAndAClosedOneToItsRecord) {
  TempDir dir;
  testing::StreamGen gen(2, 1);
  {  // run a: killed (no close record) after its frame at 40 ms
    ArchiveWriterOptions o;
    o.root = dir.path();
    o.run_id = "20251121T053412Z-0000000a";
    ArchiveWriter w(o);
    FrameWriter fw(w, o.run_id + "-c1", 1);
    fw.open(kT0);
    fw.write(gen.snapshot(0), kT0 + 10 * kMs);
    fw.write(gen.price_change(), kT0 + 40 * kMs);
    w.close();
  }
  {  // run b: a connection lost to the network at 2 s
    ArchiveWriterOptions o;
    o.root = dir.path();
    o.run_id = "20251121T053413Z-0000000b";
    ArchiveWriter w(o);
    FrameWriter fw(w, o.run_id + "-c1", 1);
    fw.open(kT0 + 1'000 * kMs, {"3"});
    fw.write(gen.snapshot(0), kT0 + 1'010 * kMs);
    w.close_session(fw.session(), kT0 + 2'000 * kMs, "network error");
    w.close();
  }
  ConnectionTracker t;
  Feed feed(t);
  ArchiveReader reader;
  std::vector<std::string> errors;
  for (const fs::path& f : ArchiveReader::expand({dir.path()}, errors)) {
    FileReport r;
    ASSERT_TRUE(reader.read_file(f, feed, r)) << f;
  }
  const std::vector<Connection> c = t.connections();
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].run_id, "20251121T053412Z-0000000a");
  EXPECT_FALSE(c[0].closed);
  EXPECT_EQ(c[0].open, kT0);
  EXPECT_EQ(c[0].close, kT0 + 40 * kMs);
  EXPECT_EQ(c[1].run_id, "20251121T053413Z-0000000b");
  EXPECT_TRUE(c[1].closed);
  EXPECT_EQ(c[1].open, kT0 + 1'000 * kMs);
  EXPECT_EQ(c[1].close, kT0 + 2'000 * kMs);
  EXPECT_EQ(c[1].reason, "network error");
  ASSERT_EQ(t.runs().size(), 2u);
  EXPECT_EQ(t.runs()[0].first, "20251121T053412Z-0000000a");
  EXPECT_EQ(t.runs()[1].first, "20251121T053413Z-0000000b");
  EXPECT_EQ(t.assets(), (std::set<std::string>{"1", "2", "3"}));
  ASSERT_TRUE(t.tokens().contains("3"));
  EXPECT_EQ(t.tokens().at("3").market_slug, "btc-updown-5m-1773307200");
}

TEST(ConnectionTracker, UnionOfJoinsOverlappingAndTouchingIntervals) {
  const std::vector<TimeInterval> u = union_of({{5, 9}, {0, 2}, {2, 3}, {8, 12}, {20, 21}});
  ASSERT_EQ(u.size(), 3u);
  EXPECT_EQ(u[0].from, 0);
  EXPECT_EQ(u[0].to, 3);
  EXPECT_EQ(u[1].from, 5);
  EXPECT_EQ(u[1].to, 12);
  EXPECT_EQ(u[2].from, 20);
  EXPECT_EQ(u[2].to, 21);
}

TEST(ConnectionTracker, ForeignOrBrokenRecordLinesAreIgnored) {
  ConnectionTracker t;
  t.on_record("{\"record\":\"session\",");
  t.on_record("{\"record\":\"loss\",\"reason\":\"crash\"}");
  t.on_record("not json");
  t.on_record("{\"record\":\"session\",\"event\":\"close\",\"session_id\":\"x\",\"at_ns\":5}");
  EXPECT_TRUE(t.connections().empty());  // a close whose open was never seen is no connection
  EXPECT_TRUE(t.runs().empty());
}

}  // namespace
}  // namespace booktape
