#include "Reports/ChangeFeed.h"

#include <algorithm>

namespace HospitalBridge {

ChangeFeed::ChangeFeed(int maxWaiting, std::function<int64_t()> latest)
    : maxWaiting_(maxWaiting), latest_(std::move(latest)) {}

ChangeFeed::Slot::~Slot() {
  if (feed_ == nullptr) return;
  std::lock_guard<std::mutex> lock(feed_->mutex_);
  feed_->waiting_--;
}

ChangeFeed::Slot ChangeFeed::TryEnter() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (waiting_ >= maxWaiting_ || stopping_) {
    refused_++;
    return Slot(nullptr);
  }
  waiting_++;
  return Slot(this);
}

int64_t ChangeFeed::WaitAfter(int64_t seq, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    // The database is the truth (another node may have written); this
    // node's own commits wake the wait at once.
    const int64_t latest = latest_();
    std::unique_lock<std::mutex> lock(mutex_);
    known_ = std::max(known_, latest);
    if (known_ > seq || stopping_) return known_;
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return known_;
    const auto slice = std::min<std::chrono::steady_clock::duration>(deadline - now, std::chrono::seconds(1));
    changed_.wait_for(lock, slice, [this, seq] { return known_ > seq || stopping_; });
  }
}

void ChangeFeed::Notify(int64_t seq) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    known_ = std::max(known_, seq);
  }
  changed_.notify_all();
}

void ChangeFeed::Stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
}

int ChangeFeed::Waiting() {
  std::lock_guard<std::mutex> lock(mutex_);
  return waiting_;
}

int64_t ChangeFeed::Refused() {
  std::lock_guard<std::mutex> lock(mutex_);
  return refused_;
}

}  // namespace HospitalBridge
