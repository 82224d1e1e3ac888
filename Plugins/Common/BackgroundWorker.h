#pragma once
// One thread that does a module's slow work away from Orthanc's threads:
// `tick` runs, says how long to wait before it should run again, and the
// thread sleeps that long unless Wake() comes first. A tick that throws is
// retried after a back-off that doubles from `minBackoff` to `maxBackoff`
// (Orthanc stopping, the database busy), and its message is kept for
// /bridge/system. Tests call RunOnce() on their own thread instead.
//
// Work that must run on one node only names a lease (Common/Leases.h): the
// thread then ticks only while it holds it, renews it before every tick and
// gives it up when it stops.
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "Common/Leases.h"

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

  // Ticks only while this node holds lease `name` for `ttl`. Before Start().
  void RequireLease(ILeases& leases, std::string name,
                    std::chrono::milliseconds ttl = std::chrono::milliseconds(60000));

  void Start();
  // Waits for the tick in progress, then ends the thread.
  void Stop();
  // Stop() was asked: a long tick looks between two units of work.
  bool StopRequested() const;
  // Runs the next tick now rather than at the end of its wait.
  void Wake();
  // One tick on the caller's thread; its exception is passed on.
  std::chrono::milliseconds RunOnce() { return tick_(); }

  bool Running() const;
  std::string LastError() const;  // "" after a tick that succeeded
  // False while another node holds the lease this worker needs.
  bool HoldsLease() const;
  const std::string& Name() const { return name_; }

 private:
  void Run();
  // Takes or renews the lease; false when another node has it.
  bool TakeLease();

  const std::string name_;
  const Tick tick_;
  const std::chrono::milliseconds minBackoff_;
  const std::chrono::milliseconds maxBackoff_;
  mutable std::mutex mutex_;
  std::condition_variable wakeUp_;
  bool stopping_ = false;
  bool woken_ = false;
  std::string lastError_;
  ILeases* leases_ = nullptr;
  std::string leaseName_;
  std::chrono::milliseconds leaseTtl_{60000};
  bool holdsLease_ = true;
  std::thread thread_;
};

}  // namespace HospitalBridge
