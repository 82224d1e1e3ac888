#pragma once
// Small facts the plugin keeps between runs (table plugin_state): when the
// index was last reconciled, how far a consumer of the audit trail got, ...
#include <string>

#include "Common/Storage.h"

namespace HospitalBridge {

std::string GetPluginState(IDatabase& database, const std::string& key);  // "" when absent
void SetPluginState(IDatabase& database, const std::string& key, const std::string& value);
// The same inside the caller's transaction.
std::string GetPluginState(Transaction& transaction, const std::string& key);
void SetPluginState(Transaction& transaction, const std::string& key, const std::string& value);

}  // namespace HospitalBridge
