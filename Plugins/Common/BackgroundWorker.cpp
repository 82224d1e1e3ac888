#include "Common/BackgroundWorker.h"

#include <algorithm>

#include "Common/Log.h"

namespace HospitalBridge {

BackgroundWorker::BackgroundWorker(std::string name, Tick tick, std::chrono::milliseconds minBackoff,
                                   std::chrono::milliseconds maxBackoff)
    : name_(std::move(name)), tick_(std::move(tick)), minBackoff_(minBackoff), maxBackoff_(maxBackoff) {}

BackgroundWorker::~BackgroundWorker() { Stop(); }

void BackgroundWorker::Start() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread(&BackgroundWorker::Run, this);
}

void BackgroundWorker::RequireLease(ILeases& leases, std::string name, std::chrono::milliseconds ttl) {
  leases_ = &leases;
  leaseName_ = std::move(name);
  leaseTtl_ = ttl;
}

void BackgroundWorker::Stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wakeUp_.notify_all();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) {
    thread_.join();
    if (leases_ != nullptr) {
      try {
        leases_->Release(leaseName_, DatabaseLeases::ThisNode());
      } catch (const std::exception& e) {
        Log::Warning(name_ + ": could not give up its lease: " + e.what());
      }
    }
  }
}

bool BackgroundWorker::StopRequested() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stopping_;
}

bool BackgroundWorker::HoldsLease() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return holdsLease_;
}

bool BackgroundWorker::TakeLease() {
  if (leases_ == nullptr) return true;
  const bool held = leases_->Acquire(leaseName_, DatabaseLeases::ThisNode(), leaseTtl_.count());
  std::lock_guard<std::mutex> lock(mutex_);
  if (held != holdsLease_) {
    Log::Info(name_ + (held ? ": this node does the work now" : ": another node does the work"));
  }
  holdsLease_ = held;
  return held;
}

void BackgroundWorker::Wake() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    woken_ = true;
  }
  wakeUp_.notify_all();
}

bool BackgroundWorker::Running() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return thread_.joinable() && !stopping_;
}

std::string BackgroundWorker::LastError() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return lastError_;
}

void BackgroundWorker::Run() {
  std::chrono::milliseconds backoff = minBackoff_;
  while (true) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stopping_) return;
      woken_ = false;
    }
    std::chrono::milliseconds wait;
    std::string error;
    try {
      if (TakeLease()) {
        wait = tick_();
        // Back before the lease runs out, so it stays with this node.
        if (leases_ != nullptr) wait = std::min(wait, leaseTtl_ / 3);
      } else {
        wait = leaseTtl_ / 3;
      }
      backoff = minBackoff_;
    } catch (const std::exception& e) {
      error = e.what();
      wait = backoff;
      backoff = std::min(backoff * 2, maxBackoff_);
    }
    std::unique_lock<std::mutex> lock(mutex_);
    if (!error.empty() && error != lastError_) {
      Log::Warning(name_ + ": will retry in " + std::to_string(wait.count()) + " ms: " + error);
    } else if (error.empty() && !lastError_.empty()) {
      Log::Info(name_ + ": working again");
    }
    lastError_ = error;
    wakeUp_.wait_for(lock, wait, [this] { return stopping_ || woken_; });
  }
}

}  // namespace HospitalBridge
