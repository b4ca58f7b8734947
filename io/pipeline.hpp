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
#include "core/frame_ring.hpp"
#include "core/wait_strategy.hpp"

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
  };
  Kind kind = Kind::kSessionOpen;
  std::uint32_t shard = 0;
  UnixNanos at = 0;
  SessionInfo session;
  std::string reason;
  std::atomic<int> readers{static_cast<int>(kStageCount)};
};

// A consumer is done with the event carried by a control record.
inline void release_event(PipelineEvent* e) noexcept {
  if (e->readers.fetch_sub(1, std::memory_order_acq_rel) == 1) delete e;
}

inline PipelineEvent* event_of(const RecordHeader* h) noexcept {
  return reinterpret_cast<PipelineEvent*>(static_cast<std::uintptr_t>(h->aux));
}

}  // namespace booktape
