#include "Common/PluginState.h"

namespace HospitalBridge {

std::string GetPluginState(Transaction& transaction, const std::string& key) {
  Statement select(transaction, "SELECT value FROM plugin_state WHERE key = ?");
  select.Bind(1, key);
  return select.Step() ? select.ColumnText(0) : "";
}

void SetPluginState(Transaction& transaction, const std::string& key, const std::string& value) {
  Statement upsert(
      transaction,
      "INSERT INTO plugin_state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = ?");
  upsert.Bind(1, key).Bind(2, value).Bind(3, value).Run();
}

std::string GetPluginState(IDatabase& database, const std::string& key) {
  Transaction transaction(database, TransactionMode::kRead);
  return GetPluginState(transaction, key);
}

void SetPluginState(IDatabase& database, const std::string& key, const std::string& value) {
  Transaction transaction(database, TransactionMode::kWrite);
  SetPluginState(transaction, key, value);
  transaction.Commit();
}

}  // namespace HospitalBridge
