// The Python reader that docs/CONSUMERS.md shows, taken from the doc as written and run with
// the system's python3 against a live table (one the test writes while Python reads).
#include <gtest/gtest.h>
#include <sys/mman.h>

#include <atomic>
#include <fstream>
#include <sstream>
#include <thread>

#include "io/consumers/book_table.hpp"
#include "tests/io/consumers/consumer_test_support.hpp"
#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

namespace booktape {
namespace {

using namespace std::chrono_literals;

constexpr const char* kPython = "/usr/bin/python3";

// The first ```python block after the "### Python (mmap, struct)" heading.
std::string documented_reader() {
  std::ifstream in(std::string(BOOKTAPE_SOURCE_DIR) + "/docs/CONSUMERS.md");
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string doc = ss.str();
  const std::size_t heading = doc.find("### Python (mmap, struct)");
  if (heading == std::string::npos) return {};
  const std::size_t start = doc.find("```python\n", heading);
  const std::size_t end = doc.find("\n```", start + 10);
  if (start == std::string::npos || end == std::string::npos) return {};
  return doc.substr(start + 10, end - start - 10 + 1);
}

TEST(PythonReader, TheDocumentedReaderReadsALiveTable) {
  ASSERT_EQ(::access(kPython, X_OK), 0) << kPython << " is missing: run scripts/install-deps.sh";
  const std::string script = documented_reader();
  ASSERT_FALSE(script.empty()) << "no reader in docs/CONSUMERS.md";
  testing::TempDir dir;
  const std::string path = (dir.path() / "booktape_books.py").string();
  std::ofstream(path) << script;

  const std::string name = testing::unique_shm_name("python");
  BookTableOptions o;
  o.shm_name = name;
  o.slots = 8;
  BookTable table(o);
  table.assign(0, "7132", "0xabc");
  table.write_book(0, testing::book_of({{200'000'000, 5000}, {1, 4900}}, {{150'500'000, 5100}}), 7,
                   TradeMark{});
  table.assign(1, "42", "0xdef");
  TokenBook stale = testing::book_of({}, {{1'000'000, 9990}});
  stale.state = BookState::kStale;
  table.write_book(1, stale, 8, TradeMark{});

  {
    testing::Child py({kPython, path, name});
    const std::string out = py.read_all(20s);
    EXPECT_EQ(py.wait(10s), 0);
    EXPECT_EQ(out,
              "7132 live bid 0.5000 x 200.000000 ask 0.5100 x 150.500000 update 1\n"
              "42 stale bid - ask 0.9990 x 1.000000 update 1\n");
  }
  {
    testing::Child py({kPython, path, name, "42"});
    EXPECT_EQ(py.read_all(20s), "42 stale bid - ask 0.9990 x 1.000000 update 1\n");
    EXPECT_EQ(py.wait(10s), 0);
  }

  // While the writer rewrites slot 0 as fast as it can, every copy Python keeps is whole: its
  // bid and ask sizes are written from one number each time, so they must match.
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (std::int64_t n = 1; !stop.load(std::memory_order_relaxed); ++n) {
      table.write_book(0, testing::book_of({{n, 5000}}, {{n, 5100}}), n, TradeMark{});
    }
  });
  // Imported as a module (beside it), so its command-line part does not run.
  const std::string check =
      "import sys\nfrom booktape_books import BookTable\n"
      "t = BookTable(sys.argv[1])\n"
      "bad = 0\n"
      "for _ in range(20000):\n"
      "    b = t.read(0)\n"
      "    bad += b['best_bid_size'] != b['best_ask_size'] or b['bids'][0][1] != b['asks'][0][1]\n"
      "print('torn', bad)\n";
  std::ofstream(dir.path() / "check.py") << check;
  testing::Child py({kPython, (dir.path() / "check.py").string(), name});
  const std::string out = py.read_all(60s);
  stop = true;
  writer.join();
  EXPECT_EQ(py.wait(10s), 0);
  EXPECT_NE(out.find("torn 0\n"), std::string::npos) << out;
  ::shm_unlink(("/" + name).c_str());
}

}  // namespace
}  // namespace booktape
