#pragma once
// Small facts the plugin keeps between runs (table plugin_state): when the
// index was last reconciled, how far the syslog forwarder got, ...
#include <string>

#include "Common/Database.h"

namespace HospitalBridge {

std::string GetPluginState(Database& database, const std::string& key);  // "" when absent
void SetPluginState(Database& database, const std::string& key, const std::string& value);

}  // namespace HospitalBridge
