#pragma once
// A lease is the right, for a while, to do work that must run on one node
// only: write the audit chain, forward to syslog, run retrieve jobs, scan a
// watch folder, reconcile the index. One Orthanc node holds every lease; when
// several nodes share one database, the table decides which node works and
// another takes over once a holder stops renewing (it crashed).
//
// The trade-off: a holder that stalls longer than the lease's time (a frozen
// VM) may overlap with its successor for one tick, so the work a lease guards
// must stay idempotent (it already is: cursors, unique keys).
//
// A holder that died on this very machine (same host and PID namespace, its
// process gone: Orthanc killed or crashed and restarted) is known dead, so its
// lease is taken at once instead of after its time runs out; a restarted
// router or audit writer does not sit idle for a minute.
#include <cstdint>
#include <string>

#include "Common/Clock.h"
#include "Common/Storage.h"

namespace HospitalBridge {

class ILeases {
 public:
  virtual ~ILeases() = default;
  // Takes or renews `name` for `holder` until now + `ttlMs`; false while
  // another holder's lease has not expired.
  virtual bool Acquire(const std::string& name, const std::string& holder, int64_t ttlMs) = 0;
  // Gives it up (stopping), so another node need not wait for it to expire.
  virtual void Release(const std::string& name, const std::string& holder) = 0;
};

// Leases in the plugin database's `leases` table (migration 006).
class DatabaseLeases : public ILeases {
 public:
  DatabaseLeases(IDatabase& database, const IClock& clock) : database_(database), clock_(clock) {}
  bool Acquire(const std::string& name, const std::string& holder, int64_t ttlMs) override;
  void Release(const std::string& name, const std::string& holder) override;

  // This process's holder name: host, PID namespace, process and a random
  // part, so that a restarted process never mistakes its predecessor's lease
  // for its own.
  static const std::string& ThisNode();
  // The holder name of process `pid` of this machine (tests name others).
  static std::string HolderOnThisMachine(long pid, const std::string& random);
  // Whether `holder` names a process of this machine that no longer exists.
  static bool IsDeadHereHolder(const std::string& holder);

 private:
  IDatabase& database_;
  const IClock& clock_;
};

}  // namespace HospitalBridge
