#pragma once
// /bridge/audit, /bridge/audit/verify, /bridge/audit/export and the
// per-patient access report.
#include <functional>

#include "Audit/AuditExport.h"
#include "Audit/AuditStore.h"
#include "Common/Router.h"

namespace HospitalBridge {

struct AuditRoutesContext {
  AuditStore& store;
  AuditSource source;
  // Flushes queued events so a query right after an action sees it.
  std::function<void()> flush;
  // Whether a registry patient exists (for the access report).
  std::function<Json::Value(const std::string& patientId)> patientSummary;
};

void RegisterAuditRoutes(Router& router, AuditRoutesContext context);

// "2026-11-22" or "2026-11-22T10:00:00[.123][Z]" → Unix milliseconds (UTC).
// A bare date as an upper bound means the end of that day.
bool ParseAuditTime(const std::string& text, bool upperBound, int64_t& milliseconds);

}  // namespace HospitalBridge
