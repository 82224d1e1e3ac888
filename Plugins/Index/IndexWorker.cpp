#include "Index/IndexWorker.h"

#include <algorithm>

#include "Common/Log.h"
#include "Common/Time.h"

namespace HospitalBridge {
namespace {
const int64_t kRetryAfterFailureMs = 5000;
// Longer than any reconcile takes; given up as soon as it is done.
const int64_t kReconcileLeaseMs = 30 * 60 * 1000;
}  // namespace

IndexWorker::IndexWorker(StudyIndexStore& store, StudyReader& reader, int refreshDelayMs, ILeases* leases)
    : store_(store),
      reader_(reader),
      delayMs_(refreshDelayMs),
      maxWaitMs_(10LL * refreshDelayMs),
      leases_(leases),
      // Orthanc busy or stopping, the database locked: the work is kept and
      // retried after 5 s, then less often.
      worker_(
          "study index", [this] { return Tick(); }, std::chrono::milliseconds(kRetryAfterFailureMs),
          std::chrono::milliseconds(60000)) {}

IndexWorker::~IndexWorker() { Stop(); }

void IndexWorker::Start(bool reconcile) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    reconcileRequested_ = reconcileRequested_ || reconcile;
    state_ = "idle";
  }
  worker_.Start();
}

void IndexWorker::Stop() {
  worker_.Stop();
  std::lock_guard<std::mutex> lock(mutex_);
  state_ = "stopped";
}

void IndexWorker::StudyChanged(const std::string& orthancId) {
  int64_t now = Time::NowMilliseconds();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    deleted_.erase(orthancId);
    auto inserted = changed_.emplace(orthancId, Pending{now, now});
    if (!inserted.second) inserted.first->second.lastMs = now;
  }
  worker_.Wake();
}

void IndexWorker::StudyStable(const std::string& orthancId) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stable_.insert(orthancId);
  }
  StudyChanged(orthancId);
}

void IndexWorker::StudyDeleted(const std::string& orthancId) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    changed_.erase(orthancId);
    deleted_.insert(orthancId);
    stable_.erase(orthancId);
  }
  worker_.Wake();
}

void IndexWorker::RequestReconcile() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    reconcileRequested_ = true;
  }
  worker_.Wake();
}

size_t IndexWorker::QueueDepth() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return changed_.size() + deleted_.size() + inProgress_;
}

std::string IndexWorker::State() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return state_;
}

void IndexWorker::TakeDue(int64_t nowMs, bool ignoreDelay, std::set<std::string>& refresh,
                          std::set<std::string>& remove, bool& reconcile, int64_t& waitMs) {
  reconcile = reconcileRequested_;
  reconcileRequested_ = false;
  remove.swap(deleted_);
  waitMs = 60000;
  for (auto it = changed_.begin(); it != changed_.end();) {
    int64_t dueAt = std::min(it->second.lastMs + delayMs_, it->second.firstMs + maxWaitMs_);
    if (ignoreDelay || dueAt <= nowMs) {
      refresh.insert(it->first);
      it = changed_.erase(it);
    } else {
      waitMs = std::min(waitMs, dueAt - nowMs);
      ++it;
    }
  }
  inProgress_ = refresh.size() + remove.size();
}

void IndexWorker::Refresh(const std::string& orthancId, bool stable) {
  std::optional<StudyRecord> previous = store_.FindByOrthancId(orthancId);
  std::optional<StudyRecord> current = reader_.Read(orthancId, previous ? &*previous : nullptr);
  if (current) {
    // Complete once Orthanc said so, until another instance arrives.
    current->stable =
        stable || (previous && previous->stable && previous->instanceCount == current->instanceCount &&
                   previous->orthancLastUpdate == current->orthancLastUpdate);
    store_.Record(*current);
    if (onChange_) onChange_();
  } else if (previous) {
    store_.Forget(orthancId);
    if (onChange_) onChange_();
  }
}

void IndexWorker::Reconcile() {
  const std::string node = DatabaseLeases::ThisNode();
  if (leases_ != nullptr && !leases_->Acquire("reconcile", node, kReconcileLeaseMs)) {
    Log::Info("study index: another node is reconciling with Orthanc");
    return;
  }
  struct GiveUp {
    ILeases* leases;
    const std::string& node;
    ~GiveUp() {
      try {
        if (leases != nullptr) leases->Release("reconcile", node);
      } catch (const std::exception&) {  // it expires by itself
      }
    }
  } giveUp{leases_, node};
  int64_t started = Time::NowMilliseconds();
  std::vector<ListedStudy> inOrthanc = reader_.ListAll();
  std::map<std::string, std::string> indexed = store_.LastUpdates();
  size_t added = 0;
  size_t removed = 0;
  std::set<std::string> seen;
  std::set<std::string> notStable;
  for (const std::string& id : store_.NotStable()) notStable.insert(id);
  for (const ListedStudy& study : inOrthanc) {
    seen.insert(study.orthancId);
    auto found = indexed.find(study.orthancId);
    // Changed while the plugin was away, or indexed before it was complete
    // (Orthanc forgets at a restart which studies it still waited on, and
    // will not say StableStudy for them again).
    if (found == indexed.end() || found->second != study.lastUpdate ||
        (notStable.count(study.orthancId) > 0 && study.stable)) {
      Refresh(study.orthancId, study.stable);
      added++;
    }
  }
  for (const auto& entry : indexed) {
    if (seen.count(entry.first) == 0) {
      store_.Forget(entry.first);
      if (onChange_) onChange_();
      removed++;
    }
  }
  store_.SetState("last_reconcile", std::to_string(Time::NowSeconds()));
  Log::Info("study index reconciled with Orthanc in " + std::to_string(Time::NowMilliseconds() - started) +
            " ms: " + std::to_string(inOrthanc.size()) + " studies, " + std::to_string(added) +
            " (re)indexed, " + std::to_string(removed) + " removed");
}

std::chrono::milliseconds IndexWorker::Tick() {
  std::set<std::string> refresh;
  std::set<std::string> remove;
  bool reconcile = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    int64_t waitMs = 0;
    TakeDue(Time::NowMilliseconds(), false, refresh, remove, reconcile, waitMs);
    if (!reconcile && refresh.empty() && remove.empty()) {
      state_ = "idle";
      return std::chrono::milliseconds(waitMs);
    }
    state_ = reconcile ? "reconciling" : "indexing";
  }
  std::set<std::string> done;
  try {
    if (reconcile) Reconcile();
    for (const std::string& id : remove) {
      store_.Forget(id);
      if (onChange_) onChange_();
    }
    for (const std::string& id : refresh) {
      bool stable = false;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        stable = stable_.count(id) > 0;
      }
      Refresh(id, stable);
      // Only once written: a failed refresh keeps the study's "stable".
      if (stable) TakeStable(id);
      done.insert(id);
    }
  } catch (const std::exception&) {
    // Keep what is left and let the worker retry after its back-off.
    std::lock_guard<std::mutex> lock(mutex_);
    const int64_t retryAt = Time::NowMilliseconds() + kRetryAfterFailureMs - delayMs_;
    for (const std::string& id : refresh) {
      if (done.count(id) == 0) changed_.emplace(id, Pending{retryAt, retryAt});
    }
    deleted_.insert(remove.begin(), remove.end());
    reconcileRequested_ = reconcileRequested_ || reconcile;
    inProgress_ = 0;
    state_ = "idle";
    throw;
  }
  std::lock_guard<std::mutex> lock(mutex_);
  inProgress_ = 0;
  // Look again at once: more may have come due meanwhile.
  return std::chrono::milliseconds(0);
}

void IndexWorker::DrainForTests() {
  std::set<std::string> refresh;
  std::set<std::string> remove;
  bool reconcile = false;
  int64_t waitMs = 0;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    TakeDue(Time::NowMilliseconds(), true, refresh, remove, reconcile, waitMs);
  }
  if (reconcile) Reconcile();
  for (const std::string& id : remove) store_.Forget(id);
  for (const std::string& id : refresh) Refresh(id, TakeStable(id));
  std::lock_guard<std::mutex> lock(mutex_);
  inProgress_ = 0;
}

bool IndexWorker::TakeStable(const std::string& orthancId) {
  std::lock_guard<std::mutex> lock(mutex_);
  return stable_.erase(orthancId) > 0;
}

}  // namespace HospitalBridge
