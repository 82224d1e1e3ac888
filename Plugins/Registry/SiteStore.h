#pragma once
// The hospitals this site knows, in the plugin's database.
#include <json/json.h>

#include <optional>
#include <string>
#include <vector>

#include "Common/Storage.h"

namespace HospitalBridge {

struct Site {
  std::string id;
  std::string name;
  std::string address;
  std::string phone;
  std::string email;
  std::string orthancPeer;  // name in Orthanc's "OrthancPeers"; "" when not reachable
  int64_t createdAt = 0;
  int64_t updatedAt = 0;

  Json::Value ToJson(bool local) const;
};

class SiteStore {
 public:
  explicit SiteStore(IDatabase& database) : database_(database) {}

  void Insert(const Site& site);  // DomainError (conflict) when the id exists
  void Update(const Site& site);
  bool Remove(const std::string& id);
  std::optional<Site> Find(const std::string& id);
  std::vector<Site> List();

 private:
  static std::optional<Site> Find(Transaction& transaction, const std::string& id);
  IDatabase& database_;
};

}  // namespace HospitalBridge
