#pragma once
// What flows between the recorder's threads (docs/RECORD.md, "Pipeline").
//
//   network thread --FrameRing (frames + session events)--> book stage    (consumer 0)
//                                                      \--> archive stage (consumer 1)
//
// Frames are copied once, into the ring. Session events (a connection opened, changed its
// subscription, closed) travel in the same ring, so both stages see them in exactly the order
// they happened relative to the frames. An event's data is a heap object (events are rare: no
// per-frame allocation) read by both consumers; the last one to finish frees it.
#include <atomic>
#include <cstdint>
#include <string>

#include "codecs/envelope.hpp"
#include "codecs/sha256.hpp"
#include "core/frame_ring.hpp"
#include "core/wait_strategy.hpp"
#include "io/archive/loss_record.hpp"

namespace booktape {

inline constexpr std::size_t kStageCount = 2;
inline constexpr std::size_t kBookConsumer = 0;
inline constexpr std::size_t kArchiveConsumer = 1;
using PipelineRing = FrameRing<kStageCount>;

// Who wakes whom: the network thread rings `data` after publishing; a stage rings `space` after
// releasing records, which wakes the network thread only if it is parked on a full ring (so a
// stage that fell behind gets the whole core instead of a spinning producer beside it).
struct PipelineBells {
  Doorbell data;
  Doorbell space;
};

struct PipelineEvent {
  enum class Kind : std::uint8_t {
    kSessionOpen,          // a websocket connection is up and subscribed to `session.assets_ids`
    kSessionSubscription,  // its subscription is now `session.assets_ids` (after operations)
    kSessionClose,         // it ended, for `reason`; its tokens' books are stale until resynced
    kLoss,                 // the network stage names what it could not read (`loss`)
  };
  Kind kind = Kind::kSessionOpen;
  std::uint32_t shard = 0;
  UnixNanos at = 0;
  SessionInfo session;
  std::string reason;
  bool tokens_dropped = false;  // a close because its plan emptied: no reconnect will carry them
  LossRecord loss;              // kLoss only
  std::atomic<int> readers{static_cast<int>(kStageCount)};
};

// Frame records carry the websocket opcode (1 text, 2 binary), or this: the stub of a frame over
// max_frame_bytes that the network stage read through without keeping it (its payload is an
// OversizedStub). It has its message and global sequence numbers like any frame.
inline constexpr std::uint8_t kOversizedOpcode = 3;

struct OversizedStub {
  static constexpr std::size_t kPrefixBytes = 64;
  std::uint64_t length = 0;   // the frame's payload bytes
  Sha256Digest sha256{};      // of all of them, computed as they streamed by
  std::uint8_t opcode = 1;    // the frame's own: 1 text, 2 binary
  std::uint8_t prefix_length = 0;
  char prefix[kPrefixBytes]{};  // its first bytes
};

// The close reason of a connection whose every token was dropped (the markets rolled off).
inline constexpr const char* kNoAssetsLeftReason = "no assets left to record";

// A consumer is done with the event carried by a control record.
inline void release_event(PipelineEvent* e) noexcept {
  if (e->readers.fetch_sub(1, std::memory_order_acq_rel) == 1) delete e;
}

inline PipelineEvent* event_of(const RecordHeader* h) noexcept {
  return reinterpret_cast<PipelineEvent*>(static_cast<std::uintptr_t>(h->aux));
}

// One consumer's turn at the ring: up to `max` records in order, frames to on_frame(header),
// session events to on_event(event) (then released). Each record is released at once, and the
// network thread woken if it waits for room. Returns how many records it took.
template <class OnFrame, class OnEvent>
std::size_t consume_records(PipelineRing& ring, PipelineBells& bells, std::size_t consumer,
                            std::size_t max, OnFrame on_frame, OnEvent on_event) {
  std::size_t n = 0;
  for (; n < max; ++n) {
    const RecordHeader* h = ring.peek(consumer);
    if (h == nullptr) break;
    if (h->type == RecordType::kFrame) {
      on_frame(h);
    } else {
      PipelineEvent* e = event_of(h);
      on_event(e);
      release_event(e);
    }
    ring.release(consumer, h);
    bells.space.ring();  // a fence and a load, unless the network thread waits for room
  }
  return n;
}

}  // namespace booktape
