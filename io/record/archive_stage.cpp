#include "io/record/archive_stage.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstring>
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
  LossSpan discarded_span;      // ... and which
  std::vector<LossRecord> discarded_losses;  // loss records that came after it
  std::string published_error;  // the writer's last_error as last published
  MonoNanos next_poll = 0;
  void finish_writer();
};

ArchiveStage::ArchiveStage(ArchiveStageOptions options, PipelineRing& ring, PipelineBells& bells)
    : impl_(std::make_unique<Impl>(std::move(options), ring, bells)) {}
ArchiveStage::~ArchiveStage() = default;

const ArchiveStageStats& ArchiveStage::stats() const noexcept { return impl_->stats; }
const std::string& ArchiveStage::run_id() const noexcept { return impl_->writer.run_id(); }
const ArchiveWriter& ArchiveStage::writer() const noexcept { return impl_->writer; }
const std::string& ArchiveStage::failure() const noexcept { return impl_->failure; }

namespace {
// The session id is derived, not carried: "<run id>-c<connection sequence>".
FrameMeta meta_of(const RecordHeader* h, const std::string& run_id, std::string& session) {
  session.assign(run_id);
  session += "-c";
  char digits[24];
  const auto end = std::to_chars(digits, digits + sizeof digits, h->connection_sequence).ptr;
  session.append(digits, end);
  FrameMeta m;
  m.received_ns = h->received_ns;
  m.monotonic_ns = h->monotonic_ns;
  m.session_id = session;
  m.connection_sequence = h->connection_sequence;
  m.message_sequence = h->message_sequence;
  m.global_sequence = h->global_sequence;
  m.opcode = h->opcode == 2 ? Opcode::kBinary : Opcode::kText;
  return m;
}
}  // namespace

void ArchiveStage::Impl::on_frame(const RecordHeader* h) {
  const char* data = reinterpret_cast<const char*>(h + 1);
  const std::string_view payload(data, h->length);
  FrameMeta m = meta_of(h, writer.run_id(), session_scratch);
  if (h->opcode == kOversizedOpcode) {
    // A frame too large to keep: its stub takes its place (rare: a cold path).
    OversizedStub stub;
    std::memcpy(&stub, data, std::min<std::size_t>(sizeof stub, h->length));
    m.opcode = stub.opcode == 2 ? Opcode::kBinary : Opcode::kText;
    if (unwritten.full()) writer.flush();
    writer.append_oversized(
        m, render_oversized_frame(m, stub.length, stub.sha256,
                                  std::string_view(stub.prefix, stub.prefix_length),
                                  opt.max_frame_bytes));
    unwritten.push(h->global_sequence, h->monotonic_ns);
    return;
  }
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
    case PipelineEvent::Kind::kLoss: writer.note_loss(e->loss); break;
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
  stats.pending_bytes.store(writer.pending_bytes(), std::memory_order_relaxed);
  stats.pending_frames.store(writer.pending_frames(), std::memory_order_relaxed);
  stats.oversized_frames.store(w.oversized_frames, std::memory_order_relaxed);
  stats.loss_records.store(w.loss_records, std::memory_order_relaxed);
  stats.files_vanished.store(w.files_vanished, std::memory_order_relaxed);
  stats.drop_runs.store(w.drop_runs, std::memory_order_relaxed);
  const LossSpan& d = writer.dropping();
  stats.dropping_frames.store(d.frames(), std::memory_order_relaxed);
  stats.dropping_first.store(d.first_global(), std::memory_order_relaxed);
  stats.dropping_last.store(d.last_global(), std::memory_order_relaxed);
  stats.last_errno.store(w.last_errno, std::memory_order_relaxed);
  if (w.last_error != published_error) {  // rare: a new error
    published_error = w.last_error;
    stats.set_last_error(published_error);
  }
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
      std::string session;
      const std::size_t work = consume_records(
          im.ring, im.bells, kArchiveConsumer, 256,
          [&](const RecordHeader* h) {
            ++im.discarded;
            const FrameMeta m = meta_of(h, im.writer.run_id(), session);
            im.discarded_span.add_frame(m.received_ns, m.global_sequence, m.connection_sequence,
                                        m.message_sequence, m.session_id);
          },
          [&](PipelineEvent* ev) {
            if (ev->kind == PipelineEvent::Kind::kLoss) im.discarded_losses.push_back(ev->loss);
          });
      im.publish();
      if (done(work)) break;
      idle.idle(work);
    }
  }
  im.finish_writer();
  im.unwritten.drain(im.writer.last_written_sequence(), monotonic_now(), im.stats.read_to_archive);
  im.publish();
  im.stats.sleeps.store(idle.sleeps(), std::memory_order_relaxed);
}

void ArchiveStage::Impl::finish_writer() {
  // A disk that is still refusing gets a few more seconds; then the space reserved for the end
  // of the run is given back and the seal tried again; only then is what it refused named in a
  // loss record (abandon): never lost silently.
  const auto retry_close = [&](double seconds) {
    writer.close();
    for (int i = 0; i < static_cast<int>(seconds * 10) && !writer.closed(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      writer.close();
    }
  };
  retry_close(opt.close_retry_seconds);
  if (!writer.closed() && opt.reserve != nullptr) {
    stats.reserve_released.store(opt.reserve->release(), std::memory_order_relaxed);
    retry_close(1.5);  // a refused write waits a second before its retry
  }
  if (!writer.closed()) writer.abandon();
  stats.unwritten_losses.store(writer.unwritten_losses().size(), std::memory_order_relaxed);
  if (discarded_span.empty() && discarded_losses.empty()) return;
  // The stage broke (failure): its writer is closed, so a fresh one names what was discarded.
  if (opt.reserve != nullptr) {
    stats.reserve_released.fetch_add(opt.reserve->release(), std::memory_order_relaxed);
  }
  try {
    ArchiveWriter last(opt.writer);
    if (!discarded_span.empty()) {
      last.note_loss(discarded_span.to_record(writer.run_id(), LossReason::kWriteError,
                                              realtime_now(), "the archive stage failed: " + failure));
    }
    for (LossRecord& r : discarded_losses) last.note_loss(std::move(r));
    last.close();
    if (!last.closed()) last.abandon();
    stats.unwritten_losses.fetch_add(last.unwritten_losses().size(), std::memory_order_relaxed);
  } catch (const std::exception&) {
    // Nothing more to try: the run stays marked unclean and the next start says so.
    stats.unwritten_losses.fetch_add(1, std::memory_order_relaxed);
  }
}

}  // namespace booktape
