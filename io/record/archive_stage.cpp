#include "io/record/archive_stage.hpp"

#include <charconv>
#include <chrono>
#include <thread>
#include <vector>

#include "codecs/polymarket_classifier.hpp"
#include "core/clock.hpp"

namespace booktape {

namespace {

// Frames appended but not yet in a written block: (global sequence, read time), oldest first.
// A fixed ring: no allocation per frame. When it fills (very small frames), the block is
// written early.
class Unwritten {
 public:
  explicit Unwritten(std::size_t capacity) : items_(capacity) {}
  [[nodiscard]] bool full() const noexcept { return size_ == items_.size(); }
  // Full only while the disk refuses the block (the stage flushes first): the oldest frame's
  // latency then goes unmeasured rather than overwriting a slot still in use.
  void push(std::uint64_t seq, MonoNanos mono) noexcept {
    if (full()) {
      head_ = (head_ + 1) % items_.size();
      --size_;
    }
    items_[(head_ + size_++) % items_.size()] = Item{seq, mono};
  }
  // Records the latency of every frame up to `written` and forgets them.
  void drain(std::uint64_t written, MonoNanos now, LatencyHistogram& h) noexcept {
    while (size_ > 0 && items_[head_].seq <= written) {
      h.record(now - items_[head_].mono);
      head_ = (head_ + 1) % items_.size();
      --size_;
    }
  }

 private:
  struct Item {
    std::uint64_t seq;
    MonoNanos mono;
  };
  std::vector<Item> items_;
  std::size_t head_ = 0, size_ = 0;
};

}  // namespace

struct ArchiveStage::Impl {
  Impl(ArchiveStageOptions o, PipelineRing& r, PipelineBells& b)
      : opt(std::move(o)), ring(r), bells(b), writer(opt.writer), classifier(opt.max_frame_bytes),
        unwritten(std::size_t{1} << 16) {}

  std::size_t poll();
  void on_frame(const RecordHeader* h);
  void on_event(PipelineEvent* e);
  void publish();

  ArchiveStageOptions opt;
  PipelineRing& ring;
  PipelineBells& bells;
  ArchiveStageStats stats;
  ArchiveWriter writer;
  polymarket::Classifier classifier;
  Unwritten unwritten;
  std::string session_scratch;  // reused: the session id of the current frame
  std::string failure;          // why the stage stopped writing (set before stats.failed)
  std::uint64_t discarded = 0;  // frames taken off the ring after that, never written
  MonoNanos next_poll = 0;
};

ArchiveStage::ArchiveStage(ArchiveStageOptions options, PipelineRing& ring, PipelineBells& bells)
    : impl_(std::make_unique<Impl>(std::move(options), ring, bells)) {}
ArchiveStage::~ArchiveStage() = default;

const ArchiveStageStats& ArchiveStage::stats() const noexcept { return impl_->stats; }
const std::string& ArchiveStage::run_id() const noexcept { return impl_->writer.run_id(); }
const ArchiveWriter& ArchiveStage::writer() const noexcept { return impl_->writer; }
const std::string& ArchiveStage::failure() const noexcept { return impl_->failure; }

void ArchiveStage::Impl::on_frame(const RecordHeader* h) {
  const char* data = reinterpret_cast<const char*>(h + 1);
  const std::string_view payload(data, h->length);
  // The session id is derived, not carried: "<run id>-c<connection sequence>".
  session_scratch.assign(writer.run_id());
  session_scratch += "-c";
  char digits[24];
  const auto end = std::to_chars(digits, digits + sizeof digits, h->connection_sequence).ptr;
  session_scratch.append(digits, end);
  FrameMeta m;
  m.received_ns = h->received_ns;
  m.monotonic_ns = h->monotonic_ns;
  m.session_id = session_scratch;
  m.connection_sequence = h->connection_sequence;
  m.message_sequence = h->message_sequence;
  m.global_sequence = h->global_sequence;
  m.opcode = h->opcode == 2 ? Opcode::kBinary : Opcode::kText;
  const polymarket::Classification c =
      m.opcode == Opcode::kBinary
          ? polymarket::Classifier::binary()
          : classifier.classify(data, h->length, h->length + PipelineRing::kPayloadPadding);
  if (unwritten.full()) writer.flush();
  writer.append(m, payload, c);
  unwritten.push(h->global_sequence, h->monotonic_ns);
}

void ArchiveStage::Impl::on_event(PipelineEvent* e) {
  stats.sessions.fetch_add(1, std::memory_order_relaxed);
  switch (e->kind) {
    case PipelineEvent::Kind::kSessionOpen: writer.open_session(e->session, e->at); break;
    case PipelineEvent::Kind::kSessionSubscription: writer.update_session(e->session, e->at); break;
    case PipelineEvent::Kind::kSessionClose:
      writer.close_session(e->session.session_id, e->at, e->reason);
      break;
  }
}

void ArchiveStage::Impl::publish() {
  const ArchiveWriterStats& w = writer.stats();
  stats.blocks.store(w.blocks, std::memory_order_relaxed);
  stats.files_closed.store(w.files_closed, std::memory_order_relaxed);
  stats.bytes_written.store(w.bytes_written, std::memory_order_relaxed);
  stats.raw_bytes.store(w.raw_bytes, std::memory_order_relaxed);
  stats.write_errors.store(w.write_errors, std::memory_order_relaxed);
  stats.frames_dropped.store(w.frames_dropped + discarded, std::memory_order_relaxed);
  stats.fsyncs.store(w.fsyncs, std::memory_order_relaxed);
  stats.fsync_ns.store(static_cast<std::uint64_t>(w.fsync_ns_total), std::memory_order_relaxed);
  stats.fsync_errors.store(w.fsync_errors, std::memory_order_relaxed);
  stats.write_failing.store(w.write_failing, std::memory_order_relaxed);
}

std::size_t ArchiveStage::Impl::poll() {
  const std::size_t work = consume_records(
      ring, bells, kArchiveConsumer, 256,
      [this](const RecordHeader* h) {
        on_frame(h);
        stats.frames.fetch_add(1, std::memory_order_relaxed);
      },
      [this](PipelineEvent* e) { on_event(e); });
  const MonoNanos now = monotonic_now();
  if (work == 0 || now >= next_poll) {
    // Age-closes blocks, seals past hours, fsyncs on interval, retries failed writes.
    writer.poll(now, realtime_now());
    next_poll = now + 5'000'000;
    publish();
  }
  unwritten.drain(writer.last_written_sequence(), monotonic_now(), stats.read_to_archive);
  return work;
}

void ArchiveStage::run(const std::atomic<bool>& producer_done) {
  Impl& im = *impl_;
  // Never spins: the archive's latency is its block age (200 ms by default), so a millisecond
  // of sleep costs nothing, while spinning would take a core from the network and book threads.
  SleepStrategy idle;
  const auto done = [&](std::size_t work) {
    return work == 0 && producer_done.load(std::memory_order_acquire) &&
           im.ring.peek(kArchiveConsumer) == nullptr;
  };
  try {
    for (;;) {
      const std::size_t work = im.poll();
      if (done(work)) break;
      idle.idle(work);
    }
  } catch (const std::exception& e) {
    // Nothing expected throws here (write failures are counted and retried), but a stage that
    // died silently would leave the network thread waiting on a full ring: say why, count the
    // unwritten block and every later frame as dropped, and keep the ring moving until the
    // recorder (which watches `failed`) has stopped.
    im.failure = e.what();
    im.writer.abandon();
    im.stats.failed.store(true, std::memory_order_release);
    for (;;) {
      const std::size_t work = consume_records(
          im.ring, im.bells, kArchiveConsumer, 256,
          [&](const RecordHeader*) { ++im.discarded; }, [](PipelineEvent*) {});
      im.publish();
      if (done(work)) break;
      idle.idle(work);
    }
  }
  // A disk that is still refusing gets a few more seconds, then what it refused is counted as
  // dropped: never lost silently.
  im.writer.close();
  for (int retry = 0; retry < 50 && !im.writer.closed(); ++retry) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    im.writer.close();
  }
  if (!im.writer.closed()) im.writer.abandon();
  im.unwritten.drain(im.writer.last_written_sequence(), monotonic_now(), im.stats.read_to_archive);
  im.publish();
  im.stats.sleeps.store(idle.sleeps(), std::memory_order_relaxed);
}

}  // namespace booktape
