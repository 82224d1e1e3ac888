#pragma once
// One thread that does a module's slow work away from Orthanc's threads:
// `tick` runs, says how long to wait before it should run again, and the
// thread sleeps that long unless Wake() comes first. A tick that throws is
// retried after a back-off that doubles from `minBackoff` to `maxBackoff`
// (Orthanc stopping, the database busy), and its message is kept for
// /bridge/system. Tests call RunOnce() on their own thread instead.
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace HospitalBridge {

class BackgroundWorker {
 public:
  using Tick = std::function<std::chrono::milliseconds()>;

  BackgroundWorker(std::string name, Tick tick,
                   std::chrono::milliseconds minBackoff = std::chrono::milliseconds(1000),
                   std::chrono::milliseconds maxBackoff = std::chrono::milliseconds(60000));
  ~BackgroundWorker();
  BackgroundWorker(const BackgroundWorker&) = delete;
  BackgroundWorker& operator=(const BackgroundWorker&) = delete;

  void Start();
  // Waits for the tick in progress, then ends the thread.
  void Stop();
  // Runs the next tick now rather than at the end of its wait.
  void Wake();
  // One tick on the caller's thread; its exception is passed on.
  std::chrono::milliseconds RunOnce() { return tick_(); }

  bool Running() const;
  std::string LastError() const;  // "" after a tick that succeeded
  const std::string& Name() const { return name_; }

 private:
  void Run();

  const std::string name_;
  const Tick tick_;
  const std::chrono::milliseconds minBackoff_;
  const std::chrono::milliseconds maxBackoff_;
  mutable std::mutex mutex_;
  std::condition_variable wakeUp_;
  bool stopping_ = false;
  bool woken_ = false;
  std::string lastError_;
  std::thread thread_;
};

}  // namespace HospitalBridge
