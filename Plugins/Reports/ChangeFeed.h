#pragma once
// Live updates of the reading queue by long polling: Orthanc 1.10's SDK has
// no WebSocket, so a page asks "anything after change N?" and the request
// waits until there is, or until the wait ends. Changes are numbered in the
// database (report_changes), so a browser that reconnects with its last
// number misses nothing, and a change made by another node sharing the
// database is seen within a second.
//
// A waiting request holds one of Orthanc's HTTP threads (HttpThreadsCount,
// 50 by default): at most `maxWaiting` may wait at once; the next one is
// answered at once with "busy" and polls instead.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>

namespace HospitalBridge {

class ChangeFeed {
 public:
  // `latest` reads the newest change number from the database.
  ChangeFeed(int maxWaiting, std::function<int64_t()> latest);

  // A place among the waiting requests, given back when it goes.
  class Slot {
   public:
    explicit Slot(ChangeFeed* feed) : feed_(feed) {}
    Slot(Slot&& other) noexcept : feed_(other.feed_) { other.feed_ = nullptr; }
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;
    Slot& operator=(Slot&&) = delete;
    ~Slot();
    bool Granted() const { return feed_ != nullptr; }

   private:
    ChangeFeed* feed_;
  };
  // Not granted when `maxWaiting` requests wait already.
  Slot TryEnter();

  // Waits (holding a granted slot) until the newest change is after `seq`,
  // the timeout passes or the feed stops; returns the newest change number.
  int64_t WaitAfter(int64_t seq, std::chrono::milliseconds timeout);
  // A change was committed on this node.
  void Notify(int64_t seq);
  // Orthanc is stopping: every waiting request returns now.
  void Stop();

  int Waiting();
  int MaxWaiting() const { return maxWaiting_; }
  int64_t Refused();

 private:
  const int maxWaiting_;
  std::function<int64_t()> latest_;
  std::mutex mutex_;
  std::condition_variable changed_;
  int waiting_ = 0;
  int64_t known_ = 0;
  int64_t refused_ = 0;
  bool stopping_ = false;
};

}  // namespace HospitalBridge
