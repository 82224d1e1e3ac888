#include "Common/PluginState.h"

namespace HospitalBridge {

std::string GetPluginState(Database& database, const std::string& key) {
  auto lock = database.Lock();
  Statement select(database, "SELECT value FROM plugin_state WHERE key = ?");
  select.Bind(1, key);
  return select.Step() ? select.ColumnText(0) : "";
}

void SetPluginState(Database& database, const std::string& key, const std::string& value) {
  auto lock = database.Lock();
  Statement upsert(
      database,
      "INSERT INTO plugin_state (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = ?2");
  upsert.Bind(1, key).Bind(2, value).Run();
}

}  // namespace HospitalBridge
